"""The other administration pages: staff (roles, temporary password, reset, disable), price list, hospital
name and registration rules (field messages), bank connection (keyring refusal at the key field)."""

from __future__ import annotations

import keyring
import pytest
from PySide6.QtCore import Qt

from desktop_his.services import secrets
from desktop_his.services.container import Services
from desktop_his.services.enums import Role
from desktop_his.views.admin.bank import BankPage
from desktop_his.views.admin.catalog import CatalogPage
from desktop_his.views.admin.hospital import HospitalPage
from desktop_his.views.admin.staff import StaffPage
from tests.gui import type_text, wait_ops
from tests.helpers import add_staff


@pytest.fixture
def admin(sqlite_services: Services):  # noqa: ANN201
    return add_staff(sqlite_services, "admin", Role.ADMIN, password="admin123", full_name="周建平")


def show(qtbot, page):  # noqa: ANN001, ANN201
    qtbot.addWidget(page)
    page.show()
    wait_ops(qtbot)
    return page


def test_staff_create_with_roles_reset_and_disable(qtbot, sqlite_services: Services, admin, msgs,  # noqa: ANN001
                                                   qtmodeltester) -> None:  # noqa: ANN001
    page = show(qtbot, StaffPage(sqlite_services, admin))
    type_text(page.username, "nurse2")
    type_text(page.full_name, "杨二")
    page.save()
    wait_ops(qtbot)
    assert page.errors.message("roles") == "请至少选择一个角色"
    page.role_checks[Role.IMMUNIZATION].setChecked(True)
    page.role_checks[Role.CASHIER].setChecked(True)
    assert page.errors.message("roles") == ""  # cleared as soon as a box is ticked
    page.save()
    wait_ops(qtbot)
    [info] = msgs.texts("info")
    temporary = info.split("临时密码：")[1].split("\n")[0]
    result = sqlite_services.auth.login("nurse2", temporary, workstation="WS")
    assert result.must_change_password and result.actor.roles == {Role.IMMUNIZATION, Role.CASHIER}
    assert page.editing.username == "nurse2" and page.username.isReadOnly()
    qtmodeltester.check(page.proxy)
    page.reset_password()
    wait_ops(qtbot)
    assert "临时密码" in msgs.texts("info")[-1] and msgs.texts("confirm")
    page.toggle_active()
    wait_ops(qtbot)
    assert not page.editing.active and page.toggle_button.text() == "启用"
    msgs.answer = False
    page.reset_password()  # declined: nothing happens
    wait_ops(qtbot)
    assert len(msgs.texts("info")) == 2


def test_catalog_price_in_fen_and_kind_filter(qtbot, sqlite_services: Services, admin, qtmodeltester) -> None:  # noqa: ANN001
    page = show(qtbot, CatalogPage(sqlite_services, admin))
    type_text(page.code, "JY001")
    type_text(page.name, "血常规")
    page.kind.setCurrentIndex(page.kind.findData("lab"))
    type_text(page.price, "25.5")
    page.save()
    wait_ops(qtbot)
    [row] = page.model.rows()
    assert (row.price_fen, row.pinyin, row.kind) == (2550, "xcg", "lab")
    page.kind_filter.setCurrentIndex(page.kind_filter.findData("drug"))
    assert page.proxy.rowCount() == 0
    page.kind_filter.setCurrentIndex(page.kind_filter.findData("lab"))
    assert page.proxy.rowCount() == 1
    qtmodeltester.check(page.proxy)
    page.new()
    type_text(page.code, "JY002")
    type_text(page.name, "尿常规")
    page.save()
    wait_ops(qtbot)
    assert page.errors.message("price") == "请输入金额"
    assert len(page.model.rows()) == 1


def test_rules_messages_at_the_field(qtbot, sqlite_services: Services, admin) -> None:  # noqa: ANN001
    page = show(qtbot, HospitalPage(sqlite_services, admin))
    assert page.name.text() == "演示医院" and page.inputs["booking_days_ahead"].value() == 7
    page.inputs["booking_days_ahead"].setValue(120)
    page.save_rules()
    wait_ops(qtbot)
    assert page.rule_errors.message("booking_days_ahead") == "可预约天数应在 0–90 之间"
    assert sqlite_services.hospital.rules().booking_days_ahead == 7
    page.inputs["booking_days_ahead"].setValue(14)
    page.inputs["cancel_time"].setText("25:00")
    page.save_rules()
    wait_ops(qtbot)
    assert page.rule_errors.message("cancel_time") == "退号截止时间格式应为 HH:MM"
    page.inputs["cancel_time"].setText("20:00")
    qtbot.keyClick(page.inputs["cancel_time"], Qt.Key.Key_Return)
    wait_ops(qtbot)
    assert page.rules_message.text() == "挂号规则已保存"
    assert sqlite_services.hospital.rules().booking_days_ahead == 14
    page.name.setText("成都市第一人民医院")
    page.save_name()
    wait_ops(qtbot)
    assert sqlite_services.hospital.hospital_name() == "成都市第一人民医院"


def test_bank_keys_refused_on_a_plaintext_keyring(qtbot, sqlite_services: Services, admin) -> None:  # noqa: ANN001
    class PlaintextKeyring(secrets.MemoryKeyring):
        pass

    PlaintextKeyring.__module__ = "keyrings.alt.file"
    page = show(qtbot, BankPage(sqlite_services, admin))
    assert "演示模式" in page.state.text()
    previous = keyring.get_keyring()
    keyring.set_keyring(PlaintextKeyring())
    try:
        type_text(page.merchant_key, "00112233445566778899aabbccddeeff")
        page.save()
        wait_ops(qtbot)
        assert "明文" in page.errors.message("merchant_key")
    finally:
        keyring.set_keyring(previous)
    page.save()
    wait_ops(qtbot)
    assert page.errors.shown() == {} and "已保存" in page.state.text()
    assert secrets.load_secret(secrets.BANK_MERCHANT_KEY) == "00112233445566778899aabbccddeeff"


def test_keyboard_new_escape_and_no_double_submit(qtbot, sqlite_services: Services, admin) -> None:  # noqa: ANN001
    from sqlalchemy import func, select

    from desktop_his.services.models import Department
    from desktop_his.views.admin.departments import DepartmentsPage

    page = show(qtbot, DepartmentsPage(sqlite_services, admin))
    page.activateWindow()
    qtbot.waitActive(page)
    type_text(page.code, "NK")
    type_text(page.name, "内科")
    qtbot.keyClick(page.name, Qt.Key.Key_Return)
    qtbot.keyClick(page.name, Qt.Key.Key_Return)  # a second Enter while the first save runs: ignored
    wait_ops(qtbot)
    with sqlite_services.db.reader() as s:
        assert s.execute(select(func.count()).select_from(Department)).scalar_one() == 1
    assert page.editing.name == "内科"
    assert page.errors.shown() == {} and page.errors.general_message() == ""  # no "已存在" from a 2nd save
    type_text(page.name, "（改）")
    qtbot.keyClick(page.name, Qt.Key.Key_Escape)  # Esc: back to the stored record
    assert page.name.text() == "内科"
    qtbot.keyClick(page.table, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)  # Ctrl+N: a new record
    assert page.editing is None and page.code.text() == "" and page.form_box.title() == "新建科室"
