"""A finance login: 财务结算 in the sidebar (and only for finance), the inbox badge in the status bar showing the
department's unread notices; the bank-connected desk inside the main window."""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtWidgets import QPushButton

from desktop_his.services.container import Services
from desktop_his.services.enums import Role
from desktop_his.views.finance.desk import FinanceDesk
from tests.gui import wait_ops
from tests.services.finance.finfix import add_locks, credit_visit, finance_world
from tests.views.test_main_window import make_window, sidebar_keys


def test_finance_login_sees_the_desk_and_the_badge(qtbot, sqlite_bank_services: Services) -> None:  # noqa: ANN001
    services = sqlite_bank_services
    cashier, finance, slot_id = finance_world(services)
    visit = credit_visit(services, cashier, "陈静", slot_id)
    lock_id = add_locks(services, visit, [3000])[0]
    assert services.deduction.run(finance, services.clock.today()).deducted == 2
    services.sandbox.admin.advance(days=1)
    services.clock.advance(timedelta(days=1))
    services.sandbox.admin.set_merchant(reserve_fen=0, has_reserve=True)
    assert services.credit.return_credit(cashier, lock_id, 3000, "退费").status == "queued"  # 该居民退款失败
    window = make_window(qtbot, services, Role.FINANCE)
    assert sidebar_keys(window) == ["finance"]
    desk = window.open_workstation("finance")
    wait_ops(qtbot)
    assert isinstance(desk, FinanceDesk) and desk.queue_model.rowCount() == 1
    badge = window.findChild(QPushButton, "status_inbox")
    qtbot.waitUntil(lambda: badge.text() == "消息 1", timeout=5000)
    window.resize(1280, 760)
    desk.tabs.setCurrentIndex(1)
    wait_ops(qtbot)
    window.grab().save("/tmp/finance-main-window.png")
