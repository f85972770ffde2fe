"""医院与挂号规则: the hospital's name (on slips and title bars) and the registration rules (SPEC §5)."""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_his.qt import ops
from desktop_his.qt.field_errors import FieldErrors
from desktop_his.services.rules_config import RegistrationRules

if TYPE_CHECKING:
    from desktop_his.services.container import Services
    from desktop_his.services.permissions import Actor

RULE_LABELS = {
    "max_per_day": "每人每日挂号上限（0 不限）",
    "max_per_month": "每人每月挂号上限（0 不限）",
    "one_per_department_per_day": "同一科室每人每日限挂 1 个号",
    "one_per_doctor_per_day": "同一医生每人每日限挂 1 个号",
    "department_restrictions": "执行科室的性别、年龄限制",
    "child_max_age": "儿童年龄上限（含，岁）",
    "booking_days_ahead": "可预约天数（今天之后）",
    "blacklist_enabled": "启用爽约黑名单",
    "noshow_threshold": "爽约达到次数即列入黑名单",
    "blacklist_months": "黑名单期限（月）",
    "checkins_to_forgive": "连续取号次数抵消 1 次爽约（取三减一）",
    "cancel_days_before": "退号截止：就诊日前几天",
    "cancel_time": "退号截止：当天时刻（HH:MM）",
}
OK_STYLE = "color: #1e8449;"


class HospitalPage(QWidget):
    def __init__(self, services: Services, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("hospital_page")
        self.services, self.actor = services, actor
        self.inputs: dict[str, QWidget] = {}
        layout = QVBoxLayout(self)
        layout.addWidget(self._name_box())
        layout.addWidget(self._rules_box())
        layout.addStretch(1)
        hospital = services.hospital
        ops.run(self, lambda: (hospital.hospital_name(), hospital.rules()), on_success=self._loaded)

    def _name_box(self) -> QGroupBox:
        box = QGroupBox("医院")
        self.name = QLineEdit()
        self.name.setObjectName("hospital_name")
        self.name_errors = FieldErrors(self)
        self.name_save = QPushButton("保存名称")
        self.name_save.setObjectName("hospital_name_save")
        self.name_save.clicked.connect(self.save_name)
        self.name.returnPressed.connect(self.save_name)
        self.name_message = QLabel()
        self.name_message.setObjectName("hospital_name_message")
        self.name_message.setStyleSheet(OK_STYLE)
        row = QHBoxLayout(box)
        row.addWidget(QLabel("医院名称"))
        row.addWidget(self.name_errors.add("hospital_name", self.name), 1)
        row.addWidget(self.name_save)
        row.addWidget(self.name_message)
        return box

    def _rules_box(self) -> QGroupBox:
        box = QGroupBox("挂号规则（全院统一，保存后各窗口即时生效）")
        box.setObjectName("rules_form")
        form = QFormLayout()
        self.rule_errors = FieldErrors(self)
        for f in fields(RegistrationRules):
            if f.type in ("bool", bool):
                widget: QWidget = QCheckBox()
            elif f.type in ("int", int):
                widget = QSpinBox()
                widget.setRange(0, 999)  # the service checks the sensible range and says so at the field
            else:
                widget = QLineEdit()
            widget.setObjectName(f"rules_{f.name}")
            self.inputs[f.name] = widget
            form.addRow(RULE_LABELS.get(f.name, f.name), self.rule_errors.add(f.name, widget))
        self.rules_save = QPushButton("保存规则 (Enter)")
        self.rules_save.setObjectName("rules_save")
        self.rules_save.clicked.connect(self.save_rules)
        defaults = QPushButton("恢复默认值")
        defaults.setObjectName("rules_defaults")
        defaults.clicked.connect(lambda: self._show_rules(RegistrationRules()))
        self.rules_message = QLabel()
        self.rules_message.setObjectName("rules_message")
        self.rules_message.setStyleSheet(OK_STYLE)
        buttons = QHBoxLayout()
        buttons.addWidget(self.rules_message, 1)
        buttons.addWidget(defaults)
        buttons.addWidget(self.rules_save)
        outer = QVBoxLayout(box)
        outer.addLayout(form)
        outer.addLayout(buttons)
        for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            shortcut = QShortcut(QKeySequence(key), box, self.save_rules)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        return box

    def _loaded(self, data: tuple[str, RegistrationRules]) -> None:
        name, rules = data
        self.name.setText(name)
        self._show_rules(rules)

    def _show_rules(self, rules: RegistrationRules) -> None:
        for name, widget in self.inputs.items():
            value = getattr(rules, name)
            if isinstance(widget, QCheckBox):
                widget.setChecked(bool(value))
            elif isinstance(widget, QSpinBox):
                widget.setValue(int(value))
            else:
                widget.setText(str(value))

    def collect_rules(self) -> RegistrationRules:
        values: dict[str, Any] = {}
        for name, widget in self.inputs.items():
            if isinstance(widget, QCheckBox):
                values[name] = widget.isChecked()
            elif isinstance(widget, QSpinBox):
                values[name] = widget.value()
            else:
                values[name] = widget.text().strip()
        return RegistrationRules(**values)

    def save_rules(self) -> None:
        rules, hospital, actor = self.collect_rules(), self.services.hospital, self.actor
        self.rules_message.clear()
        ops.run(self, lambda: hospital.save_rules(actor, rules), errors=self.rule_errors, wait="正在保存…",
                disable=[self.rules_save], on_success=lambda _r: self.rules_message.setText("挂号规则已保存"))

    def save_name(self) -> None:
        name, hospital, actor = self.name.text(), self.services.hospital, self.actor
        self.name_message.clear()
        ops.run(self, lambda: hospital.set_hospital_name(actor, name), errors=self.name_errors,
                disable=[self.name_save], on_success=self._name_saved)

    def _name_saved(self, name: str) -> None:
        self.name.setText(name)
        self.name_message.setText("已保存（标题栏在下次登录时更新）")
