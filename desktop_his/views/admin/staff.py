"""人员与角色: accounts, roles as check boxes, department, password reset, disable/enable."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QGridLayout, QLineEdit, QWidget

from desktop_his.dialogs import messages
from desktop_his.qt import ops
from desktop_his.qt.table_model import CENTER, Column
from desktop_his.services.admin.staff import StaffForm, StaffRow, StaffSaved
from desktop_his.services.enums import ROLE_LABELS, Role
from desktop_his.views.admin.page import FormPage


def _state(row: StaffRow) -> str:
    if not row.active:
        return "停用"
    if row.locked_until is not None:
        return "已锁定"
    return "需改密码" if row.must_change_password else "正常"


class StaffPage(FormPage):
    key = "staff"
    noun = "人员"
    topics = ("staff", "departments")
    columns = [
        Column("用户名", lambda r: r.username),
        Column("姓名", lambda r: r.full_name),
        Column("角色", lambda r: r.role_labels),
        Column("科室", lambda r: r.department_name),
        Column("状态", _state, align=CENTER),
        Column("最近登录", lambda r: f"{r.last_login_at:%Y-%m-%d %H:%M}" if r.last_login_at else "",
               sort=lambda r: r.last_login_at.isoformat() if r.last_login_at else ""),
    ]

    def build_form(self, form: QFormLayout) -> None:
        self.username = QLineEdit()
        self.username.setPlaceholderText("小写字母开头，如 cashier3")
        self.full_name = QLineEdit()
        self.department = QComboBox()
        self.roles_box = QWidget()
        grid = QGridLayout(self.roles_box)
        grid.setContentsMargins(0, 0, 0, 0)
        self.role_checks: dict[Role, QCheckBox] = {}
        for n, role in enumerate(Role):
            check = QCheckBox(ROLE_LABELS[role])
            check.setObjectName(f"staff_role_{role}")
            self.role_checks[role] = check
            grid.addWidget(check, n // 3, n % 3)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("留空则自动生成临时密码")
        self.must_change = QCheckBox("首次登录须修改密码")
        form.addRow("用户名", self.field(self.username, "username"))
        form.addRow("姓名", self.field(self.full_name, "full_name"))
        form.addRow("科室", self.field(self.department, "department_id"))
        form.addRow("角色", self.field(self.roles_box, "roles"))
        form.addRow("初始密码", self.field(self.password, "password"))
        form.addRow("", self.field(self.must_change, "must_change_password"))
        self.reset_button = self.add_button("重置密码", "reset_password", self.reset_password)
        self.toggle_button = self.add_button("停用", "toggle_active", self.toggle_active)

    def fill(self, row: StaffRow | None) -> None:
        self.username.setText(row.username if row else "")
        self.username.setReadOnly(row is not None)  # the user name is in the audit trail: never renamed
        self.full_name.setText(row.full_name if row else "")
        self.department.setCurrentIndex(max(0, self.department.findData(row.department_id if row else None)))
        for role, check in self.role_checks.items():
            check.setChecked(row is not None and role in row.roles)
        self.password.clear()
        self.password.setEnabled(row is None)
        self.must_change.setChecked(True if row is None else row.must_change_password)
        self.must_change.setEnabled(row is None)

    def after_load(self) -> None:
        row = self.editing
        self.reset_button.setEnabled(row is not None)
        self.toggle_button.setEnabled(row is not None)
        self.toggle_button.setText("启用" if row is not None and not row.active else "停用")

    def collect(self) -> StaffForm:
        roles = [role for role, check in self.role_checks.items() if check.isChecked()]
        return StaffForm(self.username.text(), self.full_name.text(), roles, self.department.currentData(),
                         self.password.text(), self.must_change.isChecked())

    def save_work(self, row: StaffRow | None, form: StaffForm) -> Callable[[], Any]:
        staff, actor = self.services.staff, self.actor
        if row is None:
            return lambda: staff.create_staff(actor, form)
        return lambda: staff.update_staff(actor, row.id, form)

    def _saved(self, result: Any) -> None:
        super()._saved(result)
        if isinstance(result, StaffSaved) and result.temporary_password:
            messages.info(self, f"账号 {result.row.username} 的临时密码：{result.temporary_password}\n"
                                "请当面交给本人；首次登录须修改密码。", title="临时密码")

    def describe(self, row: StaffRow) -> str:
        return f"{row.full_name}（{row.username}）"

    def loader(self) -> Callable[[], Any]:
        staff, org, actor = self.services.staff, self.services.organisation, self.actor
        return lambda: (staff.list_staff(actor), org.list_departments(active_only=True))

    def show_data(self, data: Any) -> None:
        rows, departments = data
        current = self.department.currentData()
        self.department.clear()
        self.department.addItem("（无）", None)
        for dept in departments:
            self.department.addItem(f"{dept.name}（{dept.code}）", dept.id)
        self.department.setCurrentIndex(max(0, self.department.findData(current)))
        self.model.set_rows(rows)

    # ------------------------------------------------------------------------------------ extra actions

    def reset_password(self) -> None:
        row = self.editing
        if row is None or not messages.confirm(self, f"为 {self.describe(row)} 重置密码？\n将生成临时密码，"
                                                     "本人下次登录须修改；账号锁定同时解除。"):
            return
        staff, actor = self.services.staff, self.actor
        ops.run(self, lambda: staff.reset_password(actor, row.id), wait="正在重置…",
                on_success=lambda pw: self._password_reset(row, pw))

    def _password_reset(self, row: StaffRow, password: str) -> None:
        messages.info(self, f"{self.describe(row)} 的临时密码：{password}\n请当面交给本人；下次登录须修改。",
                      title="临时密码")
        self.refresh()

    def toggle_active(self) -> None:
        row = self.editing
        if row is None:
            return
        if row.active and not messages.confirm(self, f"停用 {self.describe(row)}？停用后该账号不能登录。"):
            return
        staff, actor, active = self.services.staff, self.actor, not row.active
        ops.run(self, lambda: staff.set_active(actor, row.id, active), on_success=self._saved,
                errors=self.errors)
