"""财务结算 workstation against the bank sandbox (pytest-qt): the deduction run with its progress and counts, the
deadline alert, the refund queue with the merchant balance and manual retry, reconciliation with export, the
day-end report printed to PDF and exported, the inbox; every documented object name exists."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from openpyxl import load_workbook
from PySide6.QtCore import QTime
from sqlalchemy import select, update

from desktop_his.services.container import Services
from desktop_his.services.models import BankJournal, CreditLock
from desktop_his.views.finance.desk import FinanceDesk
from desktop_his.views.inbox import InboxBadge
from tests.gui import screenshot, wait_ops
from tests.services.finance.finfix import T, add_locks, bank_deductions, credit_visit, finance_world
from tests.views.test_ui_automation_doc import SECTIONS, missing

SHOTS = "/tmp"


@pytest.fixture
def world(sqlite_bank_services: Services):  # noqa: ANN201
    services = sqlite_bank_services
    cashier, finance, slot_id = finance_world(services)
    visit = credit_visit(services, cashier, "陈静", slot_id)
    add_locks(services, visit, [2350, 1200, 800, 4600], actual={0: 2000})
    credit_visit(services, cashier, "张伟", slot_id)
    return services, cashier, finance


def make_desk(qtbot, services: Services, actor) -> FinanceDesk:  # noqa: ANN001
    desk = FinanceDesk(services, actor)
    qtbot.addWidget(desk)
    desk.resize(1100, 640)
    desk.show()
    wait_ops(qtbot)
    return desk


def test_deduction_refund_queue_reconciliation_report(qtbot, world, tmp_path) -> None:  # noqa: ANN001
    services, cashier, finance = world
    desk = make_desk(qtbot, services, finance)
    assert missing(desk, SECTIONS["FinanceDesk"]) == []
    assert "待扣款 6 笔 ¥106.00" in desk.counts.text() and not desk.alert.isVisible()
    desk.grab().save(f"{SHOTS}/finance-settle-before.png")
    qtbot.mouseClick(desk.settle_button, qtbot_left())
    wait_ops(qtbot)
    wait_ops(qtbot)
    assert desk.progress.value() == desk.progress.maximum() == 6
    assert "成功 6 笔 ¥106.00" in desk.settle_message.text()
    assert "已扣款 6 笔 ¥106.00" in desk.counts.text() and "待扣款 0 笔" in desk.counts.text()
    assert set(bank_deductions(services).values()) == {1}
    desk.grab().save(f"{SHOTS}/finance-settle.png")
    screenshot(desk, "finance-settle")

    # T+1: the reserve is empty, a refund waits in the queue
    services.sandbox.admin.advance(days=1)
    services.clock.advance(timedelta(days=1))
    services.sandbox.admin.set_merchant(reserve_fen=0, has_reserve=True)
    with services.db.reader() as s:
        lock_id = s.execute(select(CreditLock.id).where(CreditLock.purpose == "order")).scalars().first()
    assert services.credit.return_credit(cashier, lock_id, 1500, "退费").status == "queued"
    desk.tabs.setCurrentIndex(1)
    desk.refresh_queue()
    wait_ops(qtbot)
    assert desk.queue_model.rowCount() == 1 and desk.retry_button.isEnabled()
    desk.refresh_balance()
    wait_ops(qtbot)
    assert "不足以支付队首退款 ¥15.00" in desk.balance.text()
    qtbot.mouseClick(desk.retry_button, qtbot_left())
    wait_ops(qtbot)
    assert "仍未成功" in desk.refund_message.text()
    desk.grab().save(f"{SHOTS}/finance-refunds.png")
    services.sandbox.admin.set_merchant(reserve_fen=50_000)
    qtbot.mouseClick(desk.retry_button, qtbot_left())
    wait_ops(qtbot)
    wait_ops(qtbot)
    assert "退款队列已清空" in desk.refund_message.text() and desk.queue_model.rowCount() == 0
    assert "不足" not in desk.balance.text()

    # reconciliation of day T, with one amount disagreeing
    with services.db.session() as s:
        jid = s.execute(select(BankJournal.id).where(BankJournal.op == "deduct")).scalars().first()
        s.execute(update(BankJournal).where(BankJournal.id == jid).values(amount_fen=BankJournal.amount_fen + 5))
    desk.tabs.setCurrentIndex(2)
    desk.recon_date.setDate(desk.settle_date.date())
    qtbot.mouseClick(desk.recon_button, qtbot_left())
    wait_ops(qtbot)
    wait_ops(qtbot)
    assert "金额不符 1 笔" in desk.recon_summary.text() and desk.items_model.rowCount() == 1
    assert desk.runs_model.rowCount() == 1
    desk.export_recon("xlsx", tmp_path / "r.xlsx")
    desk.export_recon("csv", tmp_path / "r.csv")
    wait_ops(qtbot)
    assert load_workbook(tmp_path / "r.xlsx")["差异明细"].max_row == 2
    assert "金额不符" in (tmp_path / "r.csv").read_text(encoding="utf-8-sig")
    desk.grab().save(f"{SHOTS}/finance-recon.png")

    # day-end report of day T
    desk.tabs.setCurrentIndex(3)
    desk.report_date.setDate(desk.settle_date.date())
    qtbot.mouseClick(desk.report_button, qtbot_left())
    wait_ops(qtbot)
    assert any(row[0] == "全院合计" and row[1] == "小计" for row in desk.report_model.rows())
    pdf = desk.print_report(tmp_path / "day.pdf")
    assert pdf is not None and pdf.read_bytes()[:4] == b"%PDF"
    desk.export_report("xlsx", tmp_path / "d.xlsx")
    wait_ops(qtbot)
    assert (tmp_path / "d.xlsx").exists()
    desk.grab().save(f"{SHOTS}/finance-report.png")

    # the inbox: the cashier's department was told 该居民退款失败
    desk.tabs.setCurrentIndex(4)
    desk.inbox.refresh()
    wait_ops(qtbot)
    assert any(n.title == "该居民退款失败" for n in desk.inbox.model.rows())
    desk.grab().save(f"{SHOTS}/finance-inbox.png")


def test_deadline_alert_and_the_cashiers_badge(qtbot, world) -> None:  # noqa: ANN001
    services, cashier, finance = world
    services.clock.set(datetime.combine(T, time(23, 10)))
    desk = make_desk(qtbot, services, finance)
    assert desk.alert.isVisible() and "6 笔锁定未扣款" in desk.alert.text()
    desk.grab().save(f"{SHOTS}/finance-alert.png")
    desk.warn_at.setTime(QTime(23, 30))  # a later warning time: not due yet at 23:10
    desk.save_warning_time()
    wait_ops(qtbot)
    wait_ops(qtbot)
    assert not desk.alert.isVisible() and services.deduction.warning_time() == time(23, 30)
    badge = InboxBadge(services, cashier)
    qtbot.addWidget(badge)
    wait_ops(qtbot)
    assert badge.text() == "消息"
    services.sandbox.admin.advance(days=1)
    services.clock.set(datetime.combine(T + timedelta(days=1), time(9, 0)))
    assert services.deduction.run(finance, T).expired_unsent == 6
    desk.refresh_status()
    wait_ops(qtbot)
    assert desk.released_model.rowCount() == 6 and not desk.alert.isVisible()
    dialog = badge.open_inbox()
    wait_ops(qtbot)
    assert missing(dialog, [n for n in SECTIONS["InboxDialog"] if n != "status_inbox"]) == []
    assert badge.objectName() == "status_inbox"


def test_without_the_bank_the_report_still_works(qtbot, sqlite_services: Services) -> None:  # noqa: ANN001
    from desktop_his.services.enums import Role
    from tests.factories import actor_for, make_staff

    with sqlite_services.db.session() as s:
        finance = actor_for(make_staff(s, Role.FINANCE))
    desk = make_desk(qtbot, sqlite_services, finance)
    assert desk.bank_problem.isVisible() and not desk.settle_button.isEnabled()
    desk.run_report()
    wait_ops(qtbot)
    assert desk.print_button.isEnabled()


def qtbot_left():  # noqa: ANN201
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton
