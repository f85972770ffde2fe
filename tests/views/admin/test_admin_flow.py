"""The issue's flow: log in as admin, create a department and a doctor with a schedule, see the slots; bad
input (empty name, duplicate department, schedule in the past) gets a Chinese message at the field and
saves nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from PySide6.QtCore import QDate, Qt
from sqlalchemy import func, select

from desktop_his.app import AppController, Backend
from desktop_his.services.container import Services
from desktop_his.services.enums import Role
from desktop_his.services.models import Department, Doctor, Schedule, Slot
from desktop_his.views.main_window import MainWindow
from tests.gui import screenshot, type_text, wait_ops
from tests.helpers import add_staff

MONDAY = date(2026, 11, 23)  # the test clock's today


def count(services: Services, model) -> int:  # noqa: ANN001
    with services.db.reader() as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.fixture
def window(qtbot, sqlite_services: Services) -> MainWindow:  # noqa: ANN001
    """Logged in as admin through the login window."""
    add_staff(sqlite_services, "admin", Role.ADMIN, password="admin123", full_name="周建平")
    controller = AppController(sqlite_services.settings, backend=Backend(sqlite_services, "演示医院"),
                               idle_timeout_ms=0)
    qtbot.addWidget(controller.login)
    controller.start()
    controller.login.username.setText("admin")
    controller.login.password.setText("admin123")
    qtbot.keyClick(controller.login.password, Qt.Key.Key_Return)
    wait_ops(qtbot)
    main = controller.main_window
    qtbot.addWidget(main)
    main.activateWindow()
    qtbot.waitActive(main)
    return main


def save_with_enter(qtbot, widget) -> None:  # noqa: ANN001
    qtbot.keyClick(widget, Qt.Key.Key_Return)
    wait_ops(qtbot)


def test_department_doctor_schedule_then_slots(qtbot, window: MainWindow, sqlite_services: Services,
                                               qtmodeltester) -> None:  # noqa: ANN001
    departments = window.open_workstation("departments")
    wait_ops(qtbot)
    type_text(departments.code, "XNK")
    type_text(departments.name, "心血管内科")
    assert departments.pinyin.text() == "xxgnk"  # filled in as the name is typed
    type_text(departments.location, "门诊楼2楼D区")
    save_with_enter(qtbot, departments.location)
    assert departments.message.text() == "已保存科室“心血管内科”"
    assert [r.name for r in departments.model.rows()] == ["心血管内科"]
    qtmodeltester.check(departments.proxy)
    screenshot(window, "admin-departments")

    doctors = window.open_workstation("doctors")
    wait_ops(qtbot)
    doctors.department.setCurrentIndex(doctors.department.findText("心血管内科"))
    type_text(doctors.name, "王建国")
    doctors.title.setCurrentText("主任医师")
    type_text(doctors.fee, "50")
    save_with_enter(qtbot, doctors.name)
    [doctor] = doctors.model.rows()
    assert (doctor.name, doctor.registration_fee_fen, doctor.department_name) == ("王建国", 5000, "心血管内科")
    qtmodeltester.check(doctors.proxy)

    schedules = window.open_workstation("schedules")
    wait_ops(qtbot)
    schedules.doctor.setCurrentIndex(schedules.doctor.findData(doctor.id))
    assert schedules.fee.fen() == 5000  # the doctor's fee is proposed
    schedules.weekday.setCurrentIndex(MONDAY.weekday())
    schedules.period.setCurrentIndex(schedules.period.findData("AM"))
    schedules.capacity.setValue(30)
    save_with_enter(qtbot, schedules.capacity)
    assert "新增 2 个号源" in schedules.message.text()
    qtmodeltester.check(schedules.proxy)
    screenshot(window, "admin-schedules")

    slots = window.open_workstation("slots")
    wait_ops(qtbot)
    qtbot.waitUntil(lambda: slots.model.rowCount() == 1)
    qtmodeltester.check(slots.model)
    today_column = 2  # after 科室, 医生
    assert slots.model.index(0, 1).data() == "王建国（主任医师）"
    assert slots.model.index(0, today_column).data() == "上午 0/30"
    assert slots.model.index(0, today_column + 7).data() == "上午 0/30"
    assert slots.model.index(0, today_column + 1).data() == ""
    assert "号源 60 个" in slots.summary.text()
    screenshot(window, "admin-slots")


def test_empty_name_message_at_the_field(qtbot, window: MainWindow, sqlite_services: Services) -> None:  # noqa: ANN001
    page = window.open_workstation("departments")
    wait_ops(qtbot)
    type_text(page.code, "NK")
    save_with_enter(qtbot, page.code)
    assert page.errors.message("name") == "请输入科室名称"
    assert page.name.hasFocus()
    assert count(sqlite_services, Department) == 0
    screenshot(window, "admin-department-error")


def test_duplicate_department_message_at_the_field(qtbot, window: MainWindow, sqlite_services: Services) -> None:  # noqa: ANN001
    page = window.open_workstation("departments")
    wait_ops(qtbot)
    for code in ("NK", "NK2"):
        page.new()
        type_text(page.code, code)
        type_text(page.name, "内科")
        save_with_enter(qtbot, page.name)
    assert page.errors.message("name") == "科室“内科”已存在"
    assert count(sqlite_services, Department) == 1


def test_schedule_in_the_past_message_at_the_field(qtbot, window: MainWindow, sqlite_services: Services) -> None:  # noqa: ANN001
    root = add_staff(sqlite_services, "root2", Role.ADMIN)
    from desktop_his.services.admin.organisation import DepartmentForm, DoctorForm

    dept = sqlite_services.organisation.create_department(root, DepartmentForm("NK", "内科"))
    sqlite_services.organisation.create_doctor(root, DoctorForm(dept.id, "李秀英", "副主任医师", fee_yuan="30"))
    page = window.open_workstation("schedules")
    wait_ops(qtbot)
    page.doctor.setCurrentIndex(1)
    yesterday = MONDAY - timedelta(days=1)
    page.valid_from.setDate(QDate(yesterday.year, yesterday.month, yesterday.day))
    save_with_enter(qtbot, page.capacity)
    assert page.errors.message("valid_from") == "生效日期不能早于今天（2026-11-23）"
    assert count(sqlite_services, Schedule) == 0 and count(sqlite_services, Slot) == 0
    assert count(sqlite_services, Doctor) == 1
    screenshot(window, "admin-schedule-error")
