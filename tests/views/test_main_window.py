"""Main window: workstations by role (and refusal in the service even when a view is reached), status bar,
idle lock that keeps the work underneath, unlock with the same user's password, logout."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit, QListWidget, QWidget
from sqlalchemy import func, select

from desktop_his.services.container import Services
from desktop_his.services.enums import Role
from desktop_his.services.models import AuditRecord, Department
from desktop_his.services.permissions import Action
from desktop_his.views import registry
from desktop_his.views.admin.departments import DepartmentsPage
from desktop_his.views.main_window import MainWindow
from tests.gui import screenshot, wait_ops
from tests.helpers import add_staff

ADMIN_KEYS = ["staff", "departments", "doctors", "schedules", "slots", "catalog", "hospital", "bank"]


def make_window(qtbot, services: Services, *roles: Role, idle_ms: int = 0, **kw) -> MainWindow:  # noqa: ANN001, ANN003
    actor = add_staff(services, "user", *roles, password="right123", full_name="周建平")
    window = MainWindow(services, actor, hospital_name="演示医院", idle_timeout_ms=idle_ms, **kw)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    wait_ops(qtbot)
    return window


def sidebar_keys(window: MainWindow) -> list[str]:
    sidebar = window.findChild(QListWidget, "workstation_list")
    return [sidebar.item(i).data(Qt.ItemDataRole.UserRole) for i in range(sidebar.count())
            if sidebar.item(i).data(Qt.ItemDataRole.UserRole)]


def test_admin_sees_every_administration_view(qtbot, sqlite_services: Services) -> None:  # noqa: ANN001
    window = make_window(qtbot, sqlite_services, Role.ADMIN)
    assert sidebar_keys(window) == ADMIN_KEYS
    for key in ADMIN_KEYS:
        assert window.open_workstation(key).isVisible()
        wait_ops(qtbot)
    status = {name: window.findChild(QLabel, name).text()
              for name in ("status_user", "status_roles", "status_workstation", "status_demo")}
    assert status == {"status_user": "周建平（user）", "status_roles": "系统管理员",
                      "status_workstation": "工作站：WS-TEST", "status_demo": "演示模式"}
    assert window.windowTitle() == "信用就医 医院工作站 — 演示医院 — 演示模式"


def test_other_roles_do_not_see_administration(qtbot, sqlite_services: Services) -> None:  # noqa: ANN001
    window = make_window(qtbot, sqlite_services, Role.CASHIER)
    assert sidebar_keys(window) == []
    assert "暂无可用的工作站" in window.findChild(QLabel, "no_workstation").text()


def test_entries_follow_their_action(qtbot, sqlite_services: Services) -> None:  # noqa: ANN001
    def factory(_services, _actor, parent):  # noqa: ANN001, ANN202
        return QLabel("挂号收费", parent)

    entries = registry.WORKSTATIONS + [registry.Workstation("registration", "挂号收费", Action.REGISTER, factory, "门诊")]
    window = make_window(qtbot, sqlite_services, Role.CASHIER, entries=entries)  # (finance now has 财务结算)
    assert sidebar_keys(window) == ["registration"]
    assert window.findChild(QWidget, "workstation_stack").currentWidget().text() == "挂号收费"


def test_service_refuses_even_when_the_view_is_reached(qtbot, sqlite_services: Services) -> None:  # noqa: ANN001
    cashier = add_staff(sqlite_services, "cash", Role.CASHIER)
    page = DepartmentsPage(sqlite_services, cashier)
    qtbot.addWidget(page)
    wait_ops(qtbot)
    page.code.setText("NK")
    page.name.setText("内科")
    page.save()
    wait_ops(qtbot)
    assert "无权执行“科室管理”" in page.errors.general_message()  # shown on the form, under the fields
    with sqlite_services.db.reader() as s:
        assert s.execute(select(func.count()).select_from(Department)).scalar_one() == 0


def test_idle_lock_keeps_the_work_and_unlocks_with_the_password(qtbot, sqlite_services: Services) -> None:  # noqa: ANN001
    window = make_window(qtbot, sqlite_services, Role.ADMIN, idle_ms=200)
    page = window.open_workstation("departments")
    wait_ops(qtbot)
    page.name.setText("心内科（未保存）")
    qtbot.waitUntil(lambda: window.locked, timeout=5000)
    overlay = window.findChild(QWidget, "lock_overlay")
    assert overlay.isVisible() and overlay.geometry() == window.rect()
    assert not window.centralWidget().isEnabled()
    shot = window.grab().toImage()  # opaque: nothing of the work shows through, menu bar included
    assert {shot.pixelColor(x, y).name() for x, y in ((5, 5), (300, 150), (1000, 400))} == {"#2c3e50"}
    screenshot(window, "locked")
    password = window.findChild(QLineEdit, "unlock_password")
    password.setText("wrong123")
    qtbot.keyClick(password, Qt.Key.Key_Return)
    wait_ops(qtbot)
    assert window.locked and overlay.errors.message("password").startswith("用户名或密码错误")
    password.setText("right123")
    qtbot.keyClick(password, Qt.Key.Key_Return)
    wait_ops(qtbot)
    assert not window.locked and window.centralWidget().isEnabled()
    assert page.name.text() == "心内科（未保存）"  # the work underneath is intact
    with sqlite_services.db.reader() as s:
        actions = list(s.execute(select(AuditRecord.action).order_by(AuditRecord.seq)).scalars())
    assert actions == ["auth.screen_locked", "auth.unlock_failed", "auth.screen_unlocked"]
    window.idle.pause()


def test_lock_by_shortcut_and_logout_from_the_lock(qtbot, sqlite_services: Services) -> None:  # noqa: ANN001
    window = make_window(qtbot, sqlite_services, Role.ADMIN)
    window.activateWindow()
    window.lock("manual")
    assert window.locked
    with qtbot.waitSignal(window.logged_out, timeout=5000):
        qtbot.mouseClick(window.findChild(QWidget, "logout_button"), Qt.MouseButton.LeftButton)
    wait_ops(qtbot)
    with sqlite_services.db.reader() as s:
        actions = list(s.execute(select(AuditRecord.action).order_by(AuditRecord.seq)).scalars())
    assert actions == ["auth.screen_locked", "auth.logout"]
