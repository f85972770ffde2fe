"""医生: department, title, room, registration fee (yuan → fen), optional linked staff login."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLineEdit

from desktop_his.qt.money_edit import MoneyEdit
from desktop_his.qt.table_model import CENTER, RIGHT, Column
from desktop_his.services import pinyin
from desktop_his.services.admin.organisation import DOCTOR_TITLES, DoctorForm, DoctorRow
from desktop_his.services.enums import DepartmentKind
from desktop_his.services.money import format_fen
from desktop_his.views.admin.page import FormPage

REGISTRABLE = (str(DepartmentKind.CLINICAL), str(DepartmentKind.VACCINATION))


class DoctorsPage(FormPage):
    key = "doctor"
    noun = "医生"
    topics = ("doctors", "departments", "staff")
    columns = [
        Column("科室", lambda r: r.department_name),
        Column("姓名", lambda r: r.name),
        Column("职称", lambda r: r.title),
        Column("诊室", lambda r: r.room),
        Column("挂号费", lambda r: format_fen(r.registration_fee_fen), sort=lambda r: r.registration_fee_fen,
               align=RIGHT),
        Column("登录账号", lambda r: r.staff_username),
        Column("状态", lambda r: "出诊" if r.active else "停用", align=CENTER),
    ]

    def build_form(self, form: QFormLayout) -> None:
        self.department = QComboBox()
        self.name = QLineEdit()
        self.pinyin = QLineEdit()
        self.pinyin.setPlaceholderText("自动按姓名生成")
        self.name.textEdited.connect(lambda text: self.pinyin.setText(pinyin.initials(text)))
        self.title = QComboBox()
        self.title.setEditable(True)
        self.title.addItems(DOCTOR_TITLES)
        self.room = QLineEdit()
        self.fee = MoneyEdit()
        self.login = QComboBox()
        self.active = QCheckBox("出诊（停用后不再生成号源）")
        form.addRow("科室", self.field(self.department, "department_id"))
        form.addRow("姓名", self.field(self.name, "name"))
        form.addRow("拼音首字母", self.field(self.pinyin, "pinyin"))
        form.addRow("职称", self.field(self.title, "title"))
        form.addRow("诊室", self.field(self.room, "room"))
        form.addRow("挂号费（元）", self.field(self.fee, "fee"))
        form.addRow("登录账号", self.field(self.login, "staff_id"))
        form.addRow("", self.field(self.active, "active"))
        self._linkable: list[tuple[int, str]] = []

    def fill(self, row: DoctorRow | None) -> None:
        self.department.setCurrentIndex(max(0, self.department.findData(row.department_id if row else None)))
        self.name.setText(row.name if row else "")
        self.pinyin.setText(row.pinyin if row else "")
        self.title.setCurrentText(row.title if row else "医师")
        self.room.setText(row.room if row else "")
        self.fee.set_fen(row.registration_fee_fen if row else None)
        self._fill_logins(row)
        self.active.setChecked(row.active if row else True)

    def _fill_logins(self, row: DoctorRow | None) -> None:
        self.login.clear()
        self.login.addItem("（不关联）", None)
        if row is not None and row.staff_id is not None:
            self.login.addItem(row.staff_username, row.staff_id)
        for staff_id, label in self._linkable:
            if row is None or staff_id != row.staff_id:
                self.login.addItem(label, staff_id)
        self.login.setCurrentIndex(max(0, self.login.findData(row.staff_id if row else None)))

    def collect(self) -> DoctorForm:
        return DoctorForm(self.department.currentData(), self.name.text(), self.title.currentText(),
                          self.room.text(), self.fee.yuan_text(), self.login.currentData(), self.pinyin.text(),
                          self.active.isChecked())

    def save_work(self, row: DoctorRow | None, form: DoctorForm) -> Callable[[], Any]:
        org, actor = self.services.organisation, self.actor
        if row is None:
            return lambda: org.create_doctor(actor, form)
        return lambda: org.update_doctor(actor, row.id, form)

    def loader(self) -> Callable[[], Any]:
        org = self.services.organisation
        return lambda: (org.list_doctors(), org.list_departments(kinds=REGISTRABLE), org.linkable_staff())

    def show_data(self, data: Any) -> None:
        rows, departments, self._linkable = data
        current = self.department.currentData()
        self.department.clear()
        self.department.addItem("（请选择）", None)
        for dept in departments:
            suffix = "" if dept.active else "（停用）"
            self.department.addItem(f"{dept.name}{suffix}", dept.id)
        self.department.setCurrentIndex(max(0, self.department.findData(current)))
        selected = self.login.currentData()
        self._fill_logins(self.editing)
        self.login.setCurrentIndex(max(0, self.login.findData(selected)))
        self.model.set_rows(rows)

    def search_text(self, row: DoctorRow) -> str:
        return f"{row.name} {row.pinyin} {row.department_name} {row.title} {row.staff_username}"
