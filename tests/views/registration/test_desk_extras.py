"""The simulated card reader (F2), working without a bank connection, the per-workstation printer choice and the
day-end no-show button."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QLabel, QLineEdit, QPushButton

from desktop_his.printing.settings import load_printer_settings
from desktop_his.services import ids
from desktop_his.services.container import Services
from desktop_his.services.enums import FeeStatus, Role
from desktop_his.services.errors import ValidationError
from desktop_his.services.idcard import load_reader_setting
from desktop_his.services.models import Slot
from tests import factories as f
from tests.gui import type_text, wait_ops
from tests.views.registration.regwinfix import T, fkey, make_world, open_window, wait_dialog, wait_printed


def test_f2_reads_the_simulated_card_in_demo_mode(qtbot, sqlite_bank_services: Services) -> None:  # noqa: ANN001
    world = make_world(sqlite_bank_services)
    assert world.services.demo_mode  # no bank URL configured: demo mode, the simulated reader
    window = open_window(qtbot, world)
    fkey(qtbot, window, Qt.Key.Key_F2)
    qtbot.waitUntil(lambda: window.patient is not None, timeout=5000)
    assert window.patient.name == "张伟"  # the first demo card
    assert "5101**********1232" in window.findChild(QLabel, "reg_patient_info").text()
    assert window.findChild(QLineEdit, "reg_patient_search").text() == ""  # the full number does not linger


def test_without_a_bank_the_fee_is_taken_another_way(qtbot, sqlite_services: Services) -> None:  # noqa: ANN001
    world = make_world(sqlite_services)
    sqlite_services.bank_problem = "未配置商户密钥"
    window = open_window(qtbot, world)
    search = window.findChild(QLineEdit, "reg_patient_search")
    qtbot.keyClicks(search, f.DEMO_PEOPLE["张伟"][2])
    qtbot.keyClick(search, Qt.Key.Key_Return)
    wait_ops(qtbot)
    assert "未配置商户密钥" in window.findChild(QLabel, "reg_sign_status").text()
    doctor = window.findChild(QLineEdit, "reg_doctor_search")
    qtbot.keyClicks(doctor, "nk")
    qtbot.keyClick(doctor, Qt.Key.Key_Return)
    pay = wait_dialog(qtbot, window, "payment_dialog")
    assert "“信用就医”暂不可用" in pay.findChild(QLabel, "payment_note").text()
    qtbot.keyClick(pay, Qt.Key.Key_5)  # 医保
    reference = pay.findChild(QLineEdit, "payment_reference")
    qtbot.keyClicks(reference, "YB2026112300001")
    qtbot.keyClick(reference, Qt.Key.Key_Return)
    wait_printed(qtbot, window)
    assert world.visits()[0].fee_status == FeeStatus.PAID
    assert not window.findChild(QPushButton, "reg_switch_credit").isEnabled()


def test_printer_choice_is_per_workstation_and_checked(qtbot, sqlite_bank_services: Services, tmp_path) -> None:  # noqa: ANN001
    world = make_world(sqlite_bank_services)
    window = open_window(qtbot, world)
    window.findChild(QPushButton, "reg_printer_settings").click()
    dialog = wait_dialog(qtbot, window, "printer_dialog")
    wait_ops(qtbot)
    kind = dialog.findChild(QComboBox, "printer_kind")
    kind.setCurrentIndex(kind.findData("escpos_network"))
    dialog.findChild(QPushButton, "printer_save").click()
    wait_ops(qtbot)
    assert "IP地址" in dialog.findChild(QLabel, "printer_host_error").text()  # at the field, nothing saved
    kind.setCurrentIndex(kind.findData("pdf"))
    layout = dialog.findChild(QComboBox, "printer_layout")
    layout.setCurrentIndex(layout.findData("A5"))
    dialog.findChild(QLineEdit, "printer_pdf_folder").setText(str(tmp_path / "a5"))
    reader = dialog.findChild(QComboBox, "printer_reader_kind")
    assert reader.currentData() == "simulated"  # demo mode's default
    reader.setCurrentIndex(reader.findData("wedge"))
    dialog.findChild(QPushButton, "printer_save").click()
    wait_ops(qtbot)
    assert dialog.result() == QDialog.DialogCode.Accepted
    with world.services.db.reader() as s:
        chosen = load_printer_settings(s, "WS-TEST", "registration")
        assert (chosen.kind, chosen.layout, chosen.pdf_folder) == ("pdf", "A5", str(tmp_path / "a5"))
        assert load_printer_settings(s, "WS-OTHER", "registration").layout == "80mm"  # another PC: its own
        assert load_reader_setting(s, "WS-TEST", demo=True)["kind"] == "wedge"
    assert window.patients.reader is None
    window.print_slip(world.services.registration.register(world.cashier, world.patient("刘洋"),
                                                             world.slots["lm"]).id)
    wait_printed(qtbot, window)
    assert window.last_print.path.parent == tmp_path / "a5"


def test_day_end_no_show_button(qtbot, sqlite_bank_services: Services) -> None:  # noqa: ANN001
    world = make_world(sqlite_bank_services, Role.CASHIER, Role.ADMIN)
    with world.services.db.session() as s:
        patient = f.make_demo_patient(s, "刘洋")
        yesterday = f.make_slot(s, s.get(Slot, world.slots["lm"]).doctor, T - timedelta(days=1))
        f.make_visit(s, patient, yesterday, status="registered")
    window = open_window(qtbot, world)
    button = window.findChild(QPushButton, "reg_noshow")
    assert button.isVisible()
    button.click()
    dialog = wait_dialog(qtbot, window, "noshow_dialog")
    dialog.findChild(QDialogButtonBox, "noshow_buttons").button(QDialogButtonBox.StandardButton.Ok).click()
    wait_ops(qtbot)
    assert "记爽约 1 人次" in window.findChild(QLabel, "reg_message").text()
    assert world.visits()[0].status == "no_show"


def test_cashier_alone_sees_no_suspend_or_day_end(qtbot, sqlite_bank_services: Services) -> None:  # noqa: ANN001
    world = make_world(sqlite_bank_services)
    window = open_window(qtbot, world)
    assert not window.findChild(QPushButton, "reg_noshow").isVisible()
    assert not window.findChild(QPushButton, "reg_suspend").isVisible()


@pytest.mark.parametrize(("id_type", "number"), [
    ("01", "510104198503121233"),  # 居民身份证, wrong check digit
    ("02", "H1234"),  # 港澳居民来往内地通行证, too short
    ("03", "ABC"),  # 台湾居民来往大陆通行证
    ("04", "护照123"),  # 护照
])
def test_new_patient_id_errors_at_the_field(qtbot, sqlite_services: Services, id_type: str, number: str) -> None:  # noqa: ANN001
    world = make_world(sqlite_services)
    window = open_window(qtbot, world)
    window.patients.new_patient()
    dialog = wait_dialog(qtbot, window, "patient_dialog")
    type_text(dialog.findChild(QLineEdit, "patient_name"), "测试")
    combo = dialog.findChild(QComboBox, "patient_id_type")
    combo.setCurrentIndex(combo.findData(id_type))
    type_text(dialog.findChild(QLineEdit, "patient_id_number"), number)
    dialog.findChild(QPushButton, "patient_save").click()
    wait_ops(qtbot)
    with pytest.raises(ValidationError) as expected:
        ids.parse_id(id_type, number, today=T)
    assert dialog.findChild(QLabel, "patient_id_number_error").text() == expected.value.message
    assert dialog.isVisible() and window.patient is None  # nothing saved
