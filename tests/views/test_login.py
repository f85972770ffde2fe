"""Login window: disabled until the database is ready, wrong password at the field, lock-out, success;
the app controller shows the main window, forces a password change, and returns to login after logout."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from desktop_his.app import AppController, Backend
from desktop_his.dialogs.login import ChangePasswordDialog, LoginDialog
from desktop_his.services.container import Services
from desktop_his.services.enums import Role
from tests.gui import screenshot, wait_ops
from tests.helpers import add_staff


@pytest.fixture
def login(qtbot, sqlite_services: Services) -> LoginDialog:  # noqa: ANN001
    dialog = LoginDialog(hospital_name="演示医院", workstation="WS-1", demo=True)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def type_and_submit(qtbot, dialog: LoginDialog, username: str, password: str) -> None:  # noqa: ANN001
    dialog.username.setText(username)
    dialog.password.setText(password)
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    wait_ops(qtbot)


def test_login_waits_for_the_backend(qtbot, login: LoginDialog, sqlite_services: Services) -> None:  # noqa: ANN001
    assert not login.login_button.isEnabled()
    assert login.findChild(QLabel, "login_status").text() == "正在连接数据库…"
    assert "admin（admin123）" in login.findChild(QLabel, "login_demo_hint").text()
    login.set_backend(sqlite_services, hospital_name="成都市演示医院")
    assert login.login_button.isEnabled()
    assert login.findChild(QLabel, "login_hospital").text() == "成都市演示医院"
    screenshot(login, "login")


def test_wrong_password_message_at_the_field(qtbot, login: LoginDialog, sqlite_services: Services) -> None:  # noqa: ANN001
    add_staff(sqlite_services, "cashier1", Role.CASHIER, password="right123")
    login.set_backend(sqlite_services)
    with qtbot.assertNotEmitted(login.logged_in):
        type_and_submit(qtbot, login, "cashier1", "wrong123")
    assert login.errors.message("password").startswith("用户名或密码错误")
    assert login.findChild(QLabel, "login_password_error").isVisible()
    assert login.password.text() == ""  # cleared for the next try
    qtbot.keyClicks(login.password, "x")
    assert login.errors.message("password") == ""


def test_lockout_after_five_failures(qtbot, login: LoginDialog, sqlite_services: Services) -> None:  # noqa: ANN001
    add_staff(sqlite_services, "nurse1", Role.IMMUNIZATION, password="right123")
    login.set_backend(sqlite_services)
    for _ in range(5):
        type_and_submit(qtbot, login, "nurse1", "wrong123")
    assert "连续 5 次密码错误" in login.errors.message("password")
    with qtbot.assertNotEmitted(login.logged_in):
        type_and_submit(qtbot, login, "nurse1", "right123")
    assert "账号已锁定" in login.errors.message("password")


def test_success_emits_the_actor(qtbot, login: LoginDialog, sqlite_services: Services) -> None:  # noqa: ANN001
    add_staff(sqlite_services, "admin", Role.ADMIN, password="admin123", full_name="周建平")
    login.set_backend(sqlite_services)
    with qtbot.waitSignal(login.logged_in, timeout=5000) as signal:
        type_and_submit(qtbot, login, "admin", "admin123")
    assert signal.args[0].actor.username == "admin" and signal.args[0].actor.roles == {Role.ADMIN}


def test_controller_login_main_window_logout(qtbot, sqlite_services: Services) -> None:  # noqa: ANN001
    add_staff(sqlite_services, "admin", Role.ADMIN, password="admin123", full_name="周建平")
    controller = AppController(sqlite_services.settings, backend=Backend(sqlite_services, "演示医院"))
    qtbot.addWidget(controller.login)
    controller.start()
    type_and_submit(qtbot, controller.login, "admin", "admin123")
    window = controller.main_window
    assert window is not None and window.isVisible() and not controller.login.isVisible()
    assert window.windowTitle().endswith("演示模式")
    window.logout()
    wait_ops(qtbot)
    assert controller.main_window is None and controller.login.isVisible()


def test_forced_password_change(qtbot, sqlite_services: Services, monkeypatch) -> None:  # noqa: ANN001
    add_staff(sqlite_services, "newbie", Role.CASHIER, password="temp1234", must_change=True)
    result = sqlite_services.auth.login("newbie", "temp1234", workstation="WS")
    dialog = ChangePasswordDialog(sqlite_services, result.actor, forced=True)
    qtbot.addWidget(dialog)
    dialog.old.setText("temp1234")
    dialog.new.setText("better123")
    dialog.confirm.setText("better124")
    dialog.submit()
    assert dialog.errors.message("confirm") == "两次输入的新密码不一致"
    dialog.confirm.setText("better123")
    dialog.new.setText("short")
    dialog.confirm.setText("short")
    dialog.submit()
    wait_ops(qtbot)
    assert "至少 8 位" in dialog.errors.message("new_password")
    dialog.new.setText("better123")
    dialog.confirm.setText("better123")
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        dialog.submit()
    assert not sqlite_services.auth.login("newbie", "better123", workstation="WS").must_change_password
