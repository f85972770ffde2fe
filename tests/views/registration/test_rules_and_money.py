"""Rule violations (each its own message, nothing saved), 退号 per table 1 (before deduction: the lock is
cancelled; after: refunded; DCBS0004PL0974: queued and said plainly), 补打, switching to credit, 停诊, the
cashier's side of orders, check-in and a new patient from the keyboard."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QListWidget, QPushButton
from sqlalchemy import select

from desktop_his.services import texts
from desktop_his.services.container import Services
from desktop_his.services.enums import FeeStatus, LockStatus, Period, RefundStatus, Role
from desktop_his.services.models import CreditLock, Department, Patient, Refund, Slot
from tests import factories as f
from tests.gui import screenshot, type_text, wait_ops
from tests.views.registration.regwinfix import (
    T,
    fkey,
    make_world,
    open_window,
    pdf_text,
    wait_dialog,
    wait_printed,
)


def choose(qtbot, window, name: str) -> None:  # noqa: ANN001
    search = window.findChild(QLineEdit, "reg_patient_search")
    search.setFocus()
    search.clear()
    qtbot.keyClicks(search, f.DEMO_PEOPLE[name][2])
    qtbot.keyClick(search, Qt.Key.Key_Return)
    wait_ops(qtbot)
    assert window.patient is not None and window.patient.name == name


def register_to(qtbot, window, initials: str) -> None:  # noqa: ANN001
    doctor = window.findChild(QLineEdit, "reg_doctor_search")
    doctor.setFocus()
    doctor.clear()
    qtbot.keyClicks(doctor, initials)
    qtbot.keyClick(doctor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.slots._shown == initials and not window.slots._enter_waiting)
    wait_ops(qtbot)


def signed_and_locked(qtbot, window, world, name: str, initials: str = "lm") -> int:  # noqa: ANN001
    choose(qtbot, window, name)
    register_to(qtbot, window, initials)
    popup = wait_dialog(qtbot, window, "credit_confirm_dialog")
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    wait_printed(qtbot, window)
    return window.last_visit.id


# --------------------------------------------------------------------------------------------- rules


def _prior(world, name: str, slot_key: str) -> None:  # noqa: ANN001
    with world.services.db.session() as s:
        patient = f.make_demo_patient(s, name)
        f.make_visit(s, patient, s.get(Slot, world.slots[slot_key]), status="registered")


def _extra_departments(world, count: int) -> list[int]:  # noqa: ANN001
    out = []
    with world.services.db.session() as s:
        for i in range(count):
            dept = f.make_department(s, f"外{i}科")
            doctor = f.make_doctor(s, dept, f"医生甲{i}")
            out.append(f.make_slot(s, doctor, T, Period.AFTERNOON).id)
    return out


CASES = {
    "department_sex": ("张伟", "zm", lambda w: None),
    "department_age": ("张伟", "qd", lambda w: None),
    "one_per_doctor": ("张伟", "lm", lambda w: _prior(w, "张伟", "lm")),
    "blacklisted": ("张伟", "lm", lambda w: _blacklist(w, "张伟")),
}


def _blacklist(world, name: str) -> None:  # noqa: ANN001
    with world.services.db.session() as s:
        patient = f.make_demo_patient(s, name)
        patient.noshow_count, patient.blacklisted_until = 3, T + timedelta(days=60)


@pytest.mark.parametrize("code", list(CASES))
def test_each_rule_violation_has_its_own_message_and_saves_nothing(qtbot, sqlite_bank_services: Services,
                                                                   code: str) -> None:
    world = make_world(sqlite_bank_services)
    name, initials, prepare = CASES[code]
    prepare(world)
    patient_id = world.patient(name)
    before = len(world.visits(patient_id))
    window = open_window(qtbot, world)
    choose(qtbot, window, name)
    register_to(qtbot, window, initials)
    expected = world.services.registration.check_rules(world.cashier, patient_id, world.slots[initials])
    assert code in [v.code for v in expected]
    shown = window.findChild(QListWidget, "reg_violations")
    assert shown.isVisible()
    assert [shown.item(i).text() for i in range(shown.count())] == [v.message for v in expected]
    assert len(world.visits(patient_id)) == before  # nothing saved
    if code == "department_sex":
        screenshot(window, "registration-rules")


def test_day_and_month_limits(qtbot, sqlite_bank_services: Services) -> None:  # noqa: ANN001
    world = make_world(sqlite_bank_services)
    slots = _extra_departments(world, 2)
    patient_id = world.patient("李娜")
    with world.services.db.session() as s:
        patient = s.get(Patient, patient_id)
        for slot_id in slots:
            f.make_visit(s, patient, s.get(Slot, slot_id), status="registered")
    window = open_window(qtbot, world)
    choose(qtbot, window, "李娜")
    register_to(qtbot, window, "lm")
    shown = window.findChild(QListWidget, "reg_violations")
    messages = [shown.item(i).text() for i in range(shown.count())]
    expected = world.services.registration.check_rules(world.cashier, patient_id, world.slots["lm"])
    assert [v.code for v in expected] == ["max_per_day"] and messages == [expected[0].message]
    # nine this month on other days → the month limit
    with world.services.db.session() as s:
        patient = s.get(Patient, patient_id)
        doctor = f.make_doctor(s, s.get(Department, s.get(Slot, world.slots["lm"]).department_id), "孙八")
        for day in range(1, 8):
            f.make_visit(s, patient, f.make_slot(s, doctor, date(2026, 11, day)), status="seen")
    codes = [v.code for v in world.services.registration.check_rules(world.cashier, patient_id, world.slots["lm+1"])]
    assert "max_per_month" in codes
    register_to(qtbot, window, "lm")
    window.slots.table.selectRow(window.slots.model.find(lambda s: s.id == world.slots["lm+1"]))
    window.register(window.slots.selected_slot())
    wait_ops(qtbot)
    messages = [shown.item(i).text() for i in range(shown.count())]
    month = next(v for v in world.services.registration.check_rules(world.cashier, patient_id, world.slots["lm+1"])
                 if v.code == "max_per_month")
    assert month.message in messages


# ------------------------------------------------------------------------------------------ cancelling


def test_cancel_before_deduction_cancels_the_lock(qtbot, sqlite_bank_services: Services) -> None:  # noqa: ANN001
    world = make_world(sqlite_bank_services)
    before = world.available("张伟")
    window = open_window(qtbot, world)
    visit_id = signed_and_locked(qtbot, window, world, "张伟")
    assert world.available("张伟") == before - 1000
    window.findChild(QPushButton, "reg_cancel").click()
    dialog = wait_dialog(qtbot, window, "cancel_dialog")
    assert "取消锁定" in dialog.findChild(QLabel, "cancel_money").text()
    screenshot(dialog, "registration-cancel")
    qtbot.keyClick(dialog.findChild(QLineEdit, "cancel_reason"), Qt.Key.Key_Return)
    wait_ops(qtbot)
    visit = next(v for v in world.visits() if v.id == visit_id)
    assert visit.status == "cancelled" and visit.fee_status == FeeStatus.CANCELLED
    assert world.available("张伟") == before
    with world.services.db.reader() as s:
        assert s.scalars(select(CreditLock.status)).one() == LockStatus.CANCELLED
    assert "已退号" in window.findChild(QLabel, "reg_message").text()


def _deduct(world, visit_id: int) -> None:  # noqa: ANN001
    finance = f.actor_for(_finance(world))
    with world.services.db.session() as s:
        lock = s.scalars(select(CreditLock).where(CreditLock.visit_id == visit_id)).one()
        journal_id = world.services.credit.start_deduction(s, lock, actor=finance, business_date=T)
    assert world.services.bank.execute(journal_id).ok


def _finance(world):  # noqa: ANN001, ANN202
    with world.services.db.session() as s:
        return f.make_staff(s, Role.FINANCE)


def test_cancel_after_deduction_refunds(qtbot, sqlite_bank_services: Services) -> None:  # noqa: ANN001
    world = make_world(sqlite_bank_services)
    window = open_window(qtbot, world)
    visit_id = signed_and_locked(qtbot, window, world, "张伟")
    _deduct(world, visit_id)
    window.load_history()
    wait_ops(qtbot)
    window.findChild(QPushButton, "reg_cancel").click()
    dialog = wait_dialog(qtbot, window, "cancel_dialog")
    assert "银行退款" in dialog.findChild(QLabel, "cancel_money").text()
    dialog.findChild(QPushButton, "cancel_confirm").click()
    wait_ops(qtbot)
    visit = next(v for v in world.visits() if v.id == visit_id)
    assert visit.status == "cancelled" and visit.fee_status == FeeStatus.REFUNDED
    with world.services.db.reader() as s:
        assert s.scalars(select(Refund.method)).one() == "bank_refund"


def test_refund_the_bank_queues_is_told_plainly(qtbot, sqlite_bank_services: Services, msgs) -> None:  # noqa: ANN001
    world = make_world(sqlite_bank_services)
    window = open_window(qtbot, world)
    visit_id = signed_and_locked(qtbot, window, world, "张伟")
    _deduct(world, visit_id)
    world.services.sandbox.admin.add_fault("refund", "error", code="DCBS0004PL0974", count=1)
    window.load_history()
    wait_ops(qtbot)
    window.findChild(QPushButton, "reg_cancel").click()
    dialog = wait_dialog(qtbot, window, "cancel_dialog")
    dialog.findChild(QPushButton, "cancel_confirm").click()
    wait_ops(qtbot)
    assert any("退款队列" in t for t in msgs.texts("warning"))
    assert "退款队列" in window.findChild(QLabel, "reg_message").text()
    with world.services.db.reader() as s:
        assert s.scalars(select(Refund.status)).one() == RefundStatus.QUEUED
    assert next(v for v in world.visits() if v.id == visit_id).status == "cancelled"


def test_cash_registration_cancels_with_a_recorded_refund(qtbot, sqlite_bank_services: Services) -> None:  # noqa: ANN001
    world = make_world(sqlite_bank_services)
    window = open_window(qtbot, world)
    choose(qtbot, window, "刘洋")
    register_to(qtbot, window, "lm")
    pay = wait_dialog(qtbot, window, "payment_dialog")
    qtbot.keyClicks(pay.findChild(QLineEdit, "payment_cash_received"), "10")
    qtbot.keyClick(pay.findChild(QLineEdit, "payment_cash_received"), Qt.Key.Key_Return)
    wait_printed(qtbot, window)
    window.findChild(QPushButton, "reg_cancel").click()
    dialog = wait_dialog(qtbot, window, "cancel_dialog")
    assert "现金¥10.00（原渠道退还）" in dialog.findChild(QLabel, "cancel_money").text()
    dialog.findChild(QPushButton, "cancel_confirm").click()
    wait_ops(qtbot)
    with world.services.db.reader() as s:
        refund = s.scalars(select(Refund)).one()
        assert (refund.method, refund.channel, refund.amount_fen) == ("recorded", "cash", 1000)


def test_advance_booking_past_its_deadline_cannot_be_cancelled(qtbot, sqlite_bank_services: Services) -> None:  # noqa: ANN001
    world = make_world(sqlite_bank_services)
    window = open_window(qtbot, world)
    choose(qtbot, window, "张伟")
    register_to(qtbot, window, "lm")  # today's slot first …
    popup = wait_dialog(qtbot, window, "credit_confirm_dialog")
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    wait_printed(qtbot, window)
    window.slots.table.selectRow(window.slots.model.find(lambda s: s.id == world.slots["lm+1"]))
    window.register(window.slots.selected_slot())
    popup = wait_dialog(qtbot, window, "credit_confirm_dialog")
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.last_visit.visit_date == T + timedelta(days=1), timeout=10_000)
    wait_ops(qtbot)
    world.services.clock.advance(timedelta(hours=15, minutes=30))  # 00:30 of the visit day
    window.load_history()
    wait_ops(qtbot)
    window.history_table.selectRow(window.history.find(lambda v: v.visit_date == T + timedelta(days=1)))
    window.findChild(QPushButton, "reg_cancel").click()
    dialog = wait_dialog(qtbot, window, "cancel_dialog")
    assert "已过退号截止时间" in dialog.findChild(QLabel, "cancel_verdict").text()
    assert not dialog.findChild(QPushButton, "cancel_confirm").isEnabled()


# ------------------------------------------------------------------------------------ reprint, switch


def test_reprint_is_marked_buda(qtbot, sqlite_bank_services: Services) -> None:  # noqa: ANN001
    world = make_world(sqlite_bank_services)
    window = open_window(qtbot, world)
    visit_id = signed_and_locked(qtbot, window, world, "张伟")
    first = window.last_print.path
    assert "补打" not in pdf_text(first)
    window.history_table.selectRow(window.history.find(lambda v: v.id == visit_id))
    fkey(qtbot, window, Qt.Key.Key_F9)
    qtbot.waitUntil(lambda: window.last_print.path != first, timeout=10_000)
    wait_ops(qtbot)
    text = pdf_text(window.last_print.path)
    assert "补打" in text and texts.SLIP_MARK_CREDIT in text
    assert window.history.row(window.history.find(lambda v: v.id == visit_id)).reprint_count == 1
    assert "slip.reprinted" in world.audit_actions()


def test_switch_to_credit_before_the_doctor_sees_the_patient(qtbot, sqlite_bank_services: Services) -> None:  # noqa: ANN001
    world = make_world(sqlite_bank_services)
    patient_id = world.patient("孙丽")
    window = open_window(qtbot, world)
    choose(qtbot, window, "孙丽")
    register_to(qtbot, window, "lm")
    qtbot.keyClick(wait_dialog(qtbot, window, "credit_confirm_dialog"), Qt.Key.Key_Escape)
    qtbot.keyClick(wait_dialog(qtbot, window, "payment_dialog"), Qt.Key.Key_Escape)  # leaves it unpaid
    wait_ops(qtbot)
    assert "尚未缴纳" in window.findChild(QLabel, "reg_message").text()
    assert world.visits(patient_id)[0].fee_status == FeeStatus.UNPAID
    switch = window.findChild(QPushButton, "reg_switch_credit")
    assert switch.isEnabled()
    fkey(qtbot, window, Qt.Key.Key_F7)
    popup = wait_dialog(qtbot, window, "credit_confirm_dialog")
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "改用" in window.findChild(QLabel, "reg_message").text(), timeout=10_000)
    visit = world.visits(patient_id)[0]
    assert visit.credit and visit.fee_status == FeeStatus.LOCKED


# ---------------------------------------------------------------------------------------- 停诊, orders


def test_suspension_refunds_and_lists_patients_to_phone(qtbot, sqlite_bank_services: Services) -> None:  # noqa: ANN001
    world = make_world(sqlite_bank_services, Role.CASHIER, Role.ADMIN)
    window = open_window(qtbot, world)
    signed_and_locked(qtbot, window, world, "张伟")
    choose(qtbot, window, "刘洋")
    register_to(qtbot, window, "lm")
    qtbot.keyClick(wait_dialog(qtbot, window, "payment_dialog"), Qt.Key.Key_Escape)  # unpaid
    wait_ops(qtbot)
    window.slots.table.selectRow(window.slots.model.find(lambda s: s.id == world.slots["lm"]))
    window.findChild(QPushButton, "reg_suspend").click()
    dialog = wait_dialog(qtbot, window, "suspend_dialog")
    type_text(dialog.findChild(QLineEdit, "suspend_reason"), "医生外出会诊")
    dialog.findChild(QPushButton, "suspend_confirm").click()
    wait_ops(qtbot)
    screenshot(dialog, "registration-suspend")
    table = dialog.model
    assert sorted(table.row(i).visit.patient_name for i in range(table.rowCount())) == ["刘洋", "张伟"]
    assert all(v.status == "cancelled" for v in world.visits())
    with world.services.db.reader() as s:
        assert s.scalars(select(CreditLock.status)).one() == LockStatus.CANCELLED
        assert s.get(Slot, world.slots["lm"]).suspended


def test_orders_not_covered_by_credit_are_paid_at_the_window(qtbot, sqlite_bank_services: Services) -> None:  # noqa: ANN001
    from desktop_his.services.orders import OrderLine, OrderService

    world = make_world(sqlite_bank_services)
    with world.services.db.session() as s:
        patient = f.make_demo_patient(s, "刘洋")
        slot = s.get(Slot, world.slots["lm"])
        visit = f.make_visit(s, patient, slot, status="checked_in")
        item = f.make_catalog_item(s, "血常规", price_fen=2500)
        doctor = f.doctor_actor(s.get(type(slot.doctor), slot.doctor_id))
        ids = visit.id, item.id
    orders = OrderService(world.services.db, world.services.clock)
    draft = orders.create_draft(doctor, ids[0], [OrderLine(ids[1], 1)])
    orders.submit(doctor, draft.id)
    window = open_window(qtbot, world)
    choose(qtbot, window, "刘洋")
    fkey(qtbot, window, Qt.Key.Key_F10)
    dialog = wait_dialog(qtbot, window, "orders_dialog")
    wait_ops(qtbot)
    assert dialog.unpaid.rowCount() == 1 and "¥25.00" in dialog.windowTitle()
    dialog.findChild(QPushButton, "orders_pay").click()
    pay = wait_dialog(qtbot, window, "payment_dialog")
    qtbot.keyClicks(pay.findChild(QLineEdit, "payment_cash_received"), "30")
    qtbot.keyClick(pay.findChild(QLineEdit, "payment_cash_received"), Qt.Key.Key_Return)
    wait_ops(qtbot)
    qtbot.waitUntil(lambda: dialog.unpaid.rowCount() == 0, timeout=5000)
    assert "已收费" in dialog.findChild(QLabel, "orders_message").text()


def test_check_in_and_new_patient_with_guardian_errors(qtbot, sqlite_bank_services: Services) -> None:  # noqa: ANN001
    world = make_world(sqlite_bank_services)
    window = open_window(qtbot, world)
    search = window.findChild(QLineEdit, "reg_patient_search")
    search.setFocus()
    number = f.resident_id(date(2020, 5, 1), "M") if hasattr(f, "resident_id") else "510104202005010018"
    qtbot.keyClicks(search, number)
    qtbot.keyClick(search, Qt.Key.Key_Return)
    dialog = wait_dialog(qtbot, window, "patient_dialog")
    assert dialog.findChild(QLineEdit, "patient_id_number").text() == number
    type_text(dialog.findChild(QLineEdit, "patient_name"), "王小宝")
    dialog.findChild(QPushButton, "patient_save").click()
    wait_ops(qtbot)
    assert "监护人" in dialog.findChild(QLabel, "patient_guardian_name_error").text()
    screenshot(dialog, "registration-new-patient")
    type_text(dialog.findChild(QLineEdit, "patient_guardian_name"), "王大宝")
    dialog.findChild(QComboBox, "patient_guardian_id_type").setCurrentIndex(1)
    qtbot.keyClicks(dialog.findChild(QLineEdit, "patient_guardian_id_number"), "510104198503121232")
    qtbot.keyClicks(dialog.findChild(QLineEdit, "patient_guardian_phone"), "13912345678")
    dialog.findChild(QComboBox, "patient_guardian_relation").setCurrentText("父亲")
    dialog.findChild(QPushButton, "patient_save").click()
    wait_ops(qtbot)
    assert window.patient is not None and window.patient.name == "王小宝"
    assert window.patient.guardian_name == "王大宝"
    register_to(qtbot, window, "ek")  # 儿科 for a child
    pay = wait_dialog(qtbot, window, "payment_dialog")  # not known to the bank: unsigned
    qtbot.keyClicks(pay.findChild(QLineEdit, "payment_cash_received"), "6")
    qtbot.keyClick(pay.findChild(QLineEdit, "payment_cash_received"), Qt.Key.Key_Return)
    wait_printed(qtbot, window)
    fkey(qtbot, window, Qt.Key.Key_F6)
    wait_ops(qtbot)
    assert window.history.row(0).status == "checked_in"
    assert "已取号" in window.findChild(QLabel, "reg_message").text()
