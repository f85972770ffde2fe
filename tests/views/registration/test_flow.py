"""The registration window against the real bank sandbox: the 4-action keyboard flow, the mandated pop-up,
signed cancel → another channel, unsigned, 亲情付, a bank timeout resolved later, the printed slip."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit
from sqlalchemy import select

from desktop_his.services import texts
from desktop_his.services.container import Services
from desktop_his.services.enums import FeeStatus
from desktop_his.services.ids import mask_id_number
from desktop_his.services.models import AuditRecord, Payment
from tests import factories as f
from tests.gui import screenshot, wait_ops
from tests.views.registration.regwinfix import (
    active_dialog,
    make_world,
    open_window,
    pdf_text,
    wait_dialog,
    wait_printed,
)


def test_four_keyboard_actions_register_a_signed_patient_and_print(qtbot, sqlite_bank_services: Services) -> None:  # noqa: ANN001
    world = make_world(sqlite_bank_services)
    patient_id = world.patient("张伟")
    before = world.available("张伟")
    window = open_window(qtbot, world)
    search = window.findChild(QLineEdit, "reg_patient_search")
    search.setFocus()
    # 1. the wedge reader types the number and Enter
    qtbot.keyClicks(search, f.DEMO_PEOPLE["张伟"][2])
    qtbot.keyClick(search, Qt.Key.Key_Return)
    wait_ops(qtbot)
    assert window.patient is not None and window.patient.id == patient_id
    assert QApplication.focusWidget().objectName() == "reg_doctor_search"
    # 2. + 3. the doctor's initials, Enter
    qtbot.keyClicks(QApplication.focusWidget(), "lm")
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    popup = wait_dialog(qtbot, window, "credit_confirm_dialog")
    assert popup.findChild(QLabel, "credit_confirm_text").text() == texts.REGISTRATION_CREDIT_PROMPT
    screenshot(window, "registration-popup")
    # 4. Enter on the pop-up
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    wait_printed(qtbot, window)
    visit = world.visits(patient_id)[0]
    assert visit.credit and not visit.family_pay and visit.fee_status == FeeStatus.LOCKED
    assert world.available("张伟") == before - 1000
    text = pdf_text(window.last_print.path)
    assert texts.SLIP_MARK_CREDIT in text and mask_id_number(f.DEMO_PEOPLE["张伟"][2]) in text and "补打" not in text
    assert f.DEMO_PEOPLE["张伟"][2] not in text
    with world.services.db.reader() as s:
        audit = s.scalars(select(AuditRecord).where(AuditRecord.action == "credit.confirmed_by_patient")).one()
        assert audit.actor == "cashier1" and audit.workstation == "WS-TEST" and audit.entity_id == str(visit.id)
        assert audit.detail["patient_id"] == patient_id and audit.at is not None
        assert not s.scalars(select(Payment)).all()  # no other payment taken
