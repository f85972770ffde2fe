"""The registration window against the real bank sandbox: the 4-action keyboard flow, the mandated pop-up,
signed cancel → another channel, unsigned, 亲情付, a bank timeout resolved later, the printed slip."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QPushButton
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


def _choose_and_register(qtbot, window, world, name: str, initials: str = "lm") -> None:  # noqa: ANN001
    search = window.findChild(QLineEdit, "reg_patient_search")
    search.setFocus()
    qtbot.keyClicks(search, f.DEMO_PEOPLE[name][2])
    qtbot.keyClick(search, Qt.Key.Key_Return)
    wait_ops(qtbot)
    doctor = window.findChild(QLineEdit, "reg_doctor_search")
    qtbot.keyClicks(doctor, initials)
    qtbot.keyClick(doctor, Qt.Key.Key_Return)


def test_signed_patient_declines_and_pays_cash_with_change(qtbot, sqlite_bank_services: Services) -> None:  # noqa: ANN001
    world = make_world(sqlite_bank_services)
    patient_id = world.patient("张伟")
    window = open_window(qtbot, world)
    _choose_and_register(qtbot, window, world, "张伟")
    popup = wait_dialog(qtbot, window, "credit_confirm_dialog")
    qtbot.keyClick(popup, Qt.Key.Key_Escape)  # 取消
    pay = wait_dialog(qtbot, window, "payment_dialog")
    assert pay.findChild(QLabel, "payment_amount").text() == "¥10.00"
    assert pay.findChild(QPushButton, "payment_sign_qr") is None  # signed: no signing QR
    cash = pay.findChild(QLineEdit, "payment_cash_received")
    qtbot.keyClicks(cash, "50")
    assert pay.findChild(QLabel, "payment_change").text() == "找零 ¥40.00"
    screenshot(pay, "registration-payment")
    qtbot.keyClick(cash, Qt.Key.Key_Return)
    wait_printed(qtbot, window)
    visit = world.visits(patient_id)[0]
    assert not visit.credit and visit.fee_status == FeeStatus.PAID
    with world.services.db.reader() as s:
        payment = s.scalars(select(Payment)).one()
        assert (payment.channel, payment.cash_received_fen, payment.change_fen) == ("cash", 5000, 4000)
    text = pdf_text(window.last_print.path)
    assert "现金" in text and texts.SLIP_MARK_CREDIT not in text
    assert "credit.confirmed_by_patient" not in world.audit_actions()


def test_unsigned_patient_gets_no_popup_pays_by_wechat_and_may_see_the_signing_qr(
        qtbot, sqlite_bank_services: Services) -> None:  # noqa: ANN001
    world = make_world(sqlite_bank_services)
    patient_id = world.patient("刘洋")
    window = open_window(qtbot, world)
    _choose_and_register(qtbot, window, world, "刘洋")
    pay = wait_dialog(qtbot, window, "payment_dialog")
    assert active_dialog(window, "credit_confirm_dialog") is None
    assert "未签约" in pay.findChild(QLabel, "payment_note").text()
    assert "未签约" in window.findChild(QLabel, "reg_sign_status").text()
    pay.findChild(QPushButton, "payment_sign_qr").click()
    qr = wait_dialog(qtbot, window, "sign_qr_dialog")
    assert qr.code.payload.endswith("/sign?merchant=HIS0001") and qr.code.matrix
    screenshot(qr, "registration-sign-qr")
    qr.accept()
    pay.activateWindow()  # as a desktop does when the dialog on top closes (offscreen leaves none active)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is pay)
    qtbot.keyClick(pay, Qt.Key.Key_2)  # WeChat
    assert pay.channel().value == "wechat"
    reference = pay.findChild(QLineEdit, "payment_reference")
    qtbot.keyClicks(reference, "12345")
    qtbot.keyClick(reference, Qt.Key.Key_Return)
    wait_ops(qtbot)
    assert "微信付款码" in pay.findChild(QLabel, "payment_reference_error").text()  # at the field, in Chinese
    assert world.visits(patient_id)[0].fee_status == FeeStatus.UNPAID  # still payable
    reference.clear()
    qtbot.keyClicks(reference, "134567890123456789")
    qtbot.keyClick(reference, Qt.Key.Key_Return)
    wait_printed(qtbot, window)
    assert world.visits(patient_id)[0].fee_status == FeeStatus.PAID
    assert "微信" in pdf_text(window.last_print.path)


def test_family_member_uses_family_pay(qtbot, sqlite_bank_services: Services) -> None:  # noqa: ANN001
    world = make_world(sqlite_bank_services)
    patient_id = world.patient("李娜")
    holder_before = world.available("张伟")
    window = open_window(qtbot, world)
    _choose_and_register(qtbot, window, world, "李娜")
    popup = wait_dialog(qtbot, window, "credit_confirm_dialog")
    assert popup.findChild(QLabel, "credit_confirm_mark").text() == texts.SLIP_MARK_FAMILY
    assert popup.findChild(QLabel, "credit_confirm_text").text() == texts.REGISTRATION_CREDIT_PROMPT
    assert "亲情付" in window.findChild(QLabel, "reg_sign_status").text()
    qtbot.keyClick(popup.findChild(QPushButton, "credit_confirm_ok"), Qt.Key.Key_Return)
    wait_printed(qtbot, window)
    visit = world.visits(patient_id)[0]
    assert visit.credit and visit.family_pay and visit.fee_status == FeeStatus.LOCKED
    assert world.available("张伟") == holder_before - 1000
    text = pdf_text(window.last_print.path)
    assert texts.SLIP_MARK_FAMILY in text and mask_id_number(f.DEMO_PEOPLE["李娜"][2]) in text


def test_bank_outcome_unknown_then_resolved_in_the_background(qtbot, sqlite_bank_services: Services) -> None:  # noqa: ANN001
    world = make_world(sqlite_bank_services)
    patient_id = world.patient("陈静")
    admin = world.services.sandbox.admin
    admin.add_fault("lock", "processing", count=1)  # the bank locks, but says PROCESSING …
    admin.add_fault("after_pay_query", "processing", count=1000)  # … and keeps saying so when asked
    window = open_window(qtbot, world)
    _choose_and_register(qtbot, window, world, "陈静")
    popup = wait_dialog(qtbot, window, "credit_confirm_dialog")
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    message = window.findChild(QLabel, "reg_message")
    qtbot.waitUntil(lambda: "处理中" in message.text(), timeout=15_000)
    visit = world.visits(patient_id)[0]
    assert visit.fee_status == FeeStatus.PENDING and visit.status == "registered"  # registration intact
    assert active_dialog(window, "payment_dialog") is None and window.last_print is None
    assert not window.flow.running  # the cashier is free to serve the next patient meanwhile
    admin.clear_faults()  # the bank answers again: the window's background check settles it
    wait_printed(qtbot, window)
    visit = world.visits(patient_id)[0]
    assert visit.credit and visit.fee_status == FeeStatus.LOCKED
    assert texts.SLIP_MARK_CREDIT in pdf_text(window.last_print.path)


def test_sign_query_failure_leaves_the_registration_payable_another_way(qtbot, sqlite_bank_services: Services) -> None:  # noqa: ANN001
    world = make_world(sqlite_bank_services)
    patient_id = world.patient("张伟")
    world.services.sandbox.admin.add_fault("sign_query", "refuse", count=10)
    window = open_window(qtbot, world)
    _choose_and_register(qtbot, window, world, "张伟")
    pay = wait_dialog(qtbot, window, "payment_dialog")
    assert "签约查询未成功" in pay.findChild(QLabel, "payment_note").text()
    assert world.visits(patient_id)[0].status == "registered"
    qtbot.keyClick(pay, Qt.Key.Key_4)  # UnionPay card
    reference = pay.findChild(QLineEdit, "payment_reference")
    qtbot.keyClicks(reference, "POS123456")
    qtbot.keyClick(reference, Qt.Key.Key_Return)
    wait_printed(qtbot, window)
    assert world.visits(patient_id)[0].fee_status == FeeStatus.PAID
    assert "银联卡" in pdf_text(window.last_print.path)


def test_the_popup_text_is_spec_6_exactly(qtbot) -> None:  # noqa: ANN001
    from pathlib import Path

    from desktop_his.services.bank import SignStatus
    from desktop_his.views.registration.credit_dialog import CreditConfirmDialog

    spec = Path("/work/shared/SPEC.md")
    dialog = CreditConfirmDialog("张伟", 1000, SignStatus(True, "AG1", "holder", None, 500000, 500000))
    qtbot.addWidget(dialog)
    text = dialog.findChild(QLabel, "credit_confirm_text").text()
    assert text == "您已签约“信用就医”，请确认本次挂号费用及后续可能产生医疗费用是否使用“信用就医”额度进行支付"
    if spec.exists():
        assert f"Registration pop-up (confirm / cancel): `{text}`" in spec.read_text(encoding="utf-8")
    assert dialog.findChild(QPushButton, "credit_confirm_ok").isDefault()


def test_slow_sign_query_shows_its_wait_state_and_never_blocks(qtbot, sqlite_bank_services: Services) -> None:  # noqa: ANN001
    world = make_world(sqlite_bank_services)
    world.services.sandbox.admin.add_fault("sign_query", "delay", delay_ms=1500, count=1)
    window = open_window(qtbot, world)
    search = window.findChild(QLineEdit, "reg_patient_search")
    qtbot.keyClicks(search, f.DEMO_PEOPLE["张伟"][2])
    qtbot.keyClick(search, Qt.Key.Key_Return)
    sign = window.findChild(QLabel, "reg_sign_status")
    qtbot.waitUntil(lambda: "正在查询" in sign.text(), timeout=5000)
    doctor = window.findChild(QLineEdit, "reg_doctor_search")
    qtbot.keyClicks(doctor, "lm")  # the window answers while the bank is slow
    qtbot.keyClick(doctor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.last_visit is not None, timeout=5000)  # registered before the bank answered
    assert "正在查询" in window.findChild(QLabel, "reg_message").text()
    popup = wait_dialog(qtbot, window, "credit_confirm_dialog")  # once the answer is in
    assert "已签约" in sign.text()
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    wait_printed(qtbot, window)
