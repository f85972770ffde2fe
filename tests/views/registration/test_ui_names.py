"""Every object name docs/ui-automation.md promises for the registration window exists; the window is in the
sidebar of a cashier's login (and not of a doctor's)."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from desktop_his.services.bank import SignStatus
from desktop_his.services.container import Services
from desktop_his.services.enums import Role
from desktop_his.views.main_window import MainWindow
from desktop_his.views.registration.cancel_dialog import CancelDialog, SuspendDialog
from desktop_his.views.registration.credit_dialog import CreditConfirmDialog
from desktop_his.views.registration.orders_dialog import OrdersDialog
from desktop_his.views.registration.patient_dialog import PatientDialog
from desktop_his.views.registration.payment_dialog import PaymentDialog
from desktop_his.views.registration.printer_dialog import PrinterDialog
from desktop_his.views.registration.qr import QrDialog
from desktop_his.views.registration.window import RegistrationWindow
from tests.gui import wait_ops
from tests.helpers import add_staff
from tests.views.registration.regwinfix import make_world, open_window
from tests.views.test_ui_automation_doc import SECTIONS, missing


def test_window_and_dialogs_have_the_documented_names(qtbot, sqlite_bank_services: Services) -> None:  # noqa: ANN001
    world = make_world(sqlite_bank_services, Role.CASHIER, Role.ADMIN)
    window = open_window(qtbot, world)
    assert missing(window, SECTIONS["RegistrationWindow"]) == []
    sign = SignStatus(True, "AG1", "holder", None, 500000, 500000)
    patient = world.services.patients.get(world.cashier, world.patient("张伟"))
    visit = world.services.registration.register(world.cashier, patient.id, world.slots["lm"])
    plan = world.services.registration.prepare_cancellation(world.cashier, visit.id)
    slot = world.services.registration.available_slots(doctor_id=world.doctors["lm"])[0]
    dialogs: dict[str, QWidget] = {
        "CreditConfirmDialog": CreditConfirmDialog("张伟", 1000, sign, window),
        "PaymentDialog": PaymentDialog("挂号缴费", 1000, lambda p: None, note="说明", sign_url="http://x/sign",
                                       parent=window),
        "QrDialog": QrDialog("签约", "http://x/sign", "扫码", window),
        "PatientDialog": PatientDialog(world.services, world.cashier, parent=window),
        "CancelDialog": CancelDialog(world.services, world.cashier, plan, window),
        "SuspendDialog": SuspendDialog(world.services, world.cashier, slot, window),
        "OrdersDialog": OrdersDialog(world.services, world.cashier, patient, window),
        "PrinterDialog": PrinterDialog(world.services, world.cashier, window),
    }
    wait_ops(qtbot)
    for name, dialog in dialogs.items():
        assert missing(dialog, SECTIONS[name]) == [], name
        dialog.close()


def test_the_window_is_in_the_cashiers_sidebar(qtbot, sqlite_services: Services) -> None:  # noqa: ANN001
    cashier = add_staff(sqlite_services, "cashier9", Role.CASHIER)
    doctor = add_staff(sqlite_services, "doctor9", Role.DOCTOR)
    main = MainWindow(sqlite_services, cashier, hospital_name="演示医院", idle_timeout_ms=0)
    qtbot.addWidget(main)
    wait_ops(qtbot)
    assert "registration" in [e.key for e in main.entries]
    assert isinstance(main.view("registration"), RegistrationWindow)
    other = MainWindow(sqlite_services, doctor, hospital_name="演示医院", idle_timeout_ms=0)
    qtbot.addWidget(other)
    wait_ops(qtbot)
    assert "registration" not in [e.key for e in other.entries]
