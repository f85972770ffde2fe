"""Every object name docs/ui-automation.md promises for the admission desk exists; the desk is in the sidebar
of a 住院处 login (and only there)."""

from __future__ import annotations

import pytest

from desktop_his.services.bank import SignStatus
from desktop_his.services.container import Services
from desktop_his.services.enums import Role
from desktop_his.views.inpatient.consent_dialog import ConsentDialog
from desktop_his.views.inpatient.credit_flow import CreditAmountDialog
from desktop_his.views.inpatient.desk import AdmissionDesk
from desktop_his.views.inpatient.settlement_dialog import SettlementDialog
from desktop_his.views.main_window import MainWindow
from tests.gui import wait_ops
from tests.helpers import add_staff
from tests.views.inpatient.deskfix import make_desk_world
from tests.views.test_ui_automation_doc import SECTIONS, missing


@pytest.fixture
def desk(qtbot, sqlite_services: Services):  # noqa: ANN001, ANN201
    world = make_desk_world(sqlite_services)
    admission = world.admit("孙丽", "1")
    view = AdmissionDesk(sqlite_services, world.clerk)
    qtbot.addWidget(view)
    view.show()
    wait_ops(qtbot)
    view.select_admission(admission.id)
    wait_ops(qtbot)
    return view, world, admission


def test_desk_and_its_dialogs_have_the_documented_names(qtbot, desk) -> None:  # noqa: ANN001
    view, world, admission = desk
    assert missing(view, SECTIONS["AdmissionDesk"]) == []
    view.open_admit()
    wait_ops(qtbot)
    assert missing(view.admit_dialog, SECTIONS["AdmitDialog"]) == []
    view.open_deposit()
    assert missing(view.deposit_dialog, SECTIONS["DepositDialog"]) == []
    consent = ConsentDialog(world.services, world.clerk, admission, parent=view)
    assert missing(consent, SECTIONS["ConsentDialog"]) == []
    sign = SignStatus(True, "XYDEMO000008", "holder", None, 5_000_000, 5_000_000)
    amount = CreditAmountDialog(admission, sign, purpose="deposit", amount_fen=None, parent=view)
    assert missing(amount, SECTIONS["CreditAmountDialog"]) == []
    settlement = SettlementDialog(world.services, world.clerk, admission, view)
    wait_ops(qtbot)
    assert missing(settlement, SECTIONS["SettlementDialog"]) == []
    for dialog in (view.admit_dialog, view.deposit_dialog, consent, amount, settlement):
        dialog.close()


def test_the_desk_is_in_the_sidebar_of_the_admission_role_only(qtbot, sqlite_services: Services) -> None:  # noqa: ANN001
    clerk = add_staff(sqlite_services, "admission9", Role.ADMISSION)
    cashier = add_staff(sqlite_services, "cashier9", Role.CASHIER)
    main = MainWindow(sqlite_services, clerk, hospital_name="演示医院", idle_timeout_ms=0)
    qtbot.addWidget(main)
    wait_ops(qtbot)
    assert "inpatient" in [e.key for e in main.entries]
    assert isinstance(main.view("inpatient"), AdmissionDesk)  # the first entry opens at login
    other = MainWindow(sqlite_services, cashier, hospital_name="演示医院", idle_timeout_ms=0)
    qtbot.addWidget(other)
    wait_ops(qtbot)
    assert "inpatient" not in [e.key for e in other.entries]


def test_credit_without_a_bank_connection_says_why(qtbot, desk, msgs) -> None:  # noqa: ANN001
    view, _world, _admission = desk
    assert "暂不可用" in view.credit_button.toolTip()
    view.credit_button.click()
    wait_ops(qtbot)
    assert any("“信用就医”暂不可用" in t for t in msgs.texts("warning"))
    assert view.credit_flow.consent_dialog is None
