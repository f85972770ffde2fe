"""科室: code, name (pinyin initials filled in as you type), kind, location for slips, sex/age limits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLineEdit, QSpinBox

from desktop_his.qt.table_model import CENTER, Column
from desktop_his.services import pinyin
from desktop_his.services.admin.organisation import DEPARTMENT_KIND_LABELS, DepartmentForm, DepartmentRow
from desktop_his.services.enums import SEX_LABELS, DepartmentKind, Sex
from desktop_his.views.admin.page import FormPage

NO_LIMIT = -1  # spin box value shown as "不限"


def _limits(row: DepartmentRow) -> str:
    parts = []
    if row.sex_restriction:
        parts.append(f"仅{SEX_LABELS[Sex(row.sex_restriction)]}")
    if row.min_age is not None or row.max_age is not None:
        low = "" if row.min_age is None else f"{row.min_age}"
        high = "" if row.max_age is None else f"{row.max_age}"
        parts.append(f"{low}–{high}岁" if low and high else (f"≥{low}岁" if low else f"≤{high}岁"))
    return "，".join(parts)


def age_spin(name: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(NO_LIMIT, 150)
    spin.setSpecialValueText("不限")
    spin.setSuffix(" 岁")
    spin.setAccessibleName(name)
    return spin


class DepartmentsPage(FormPage):
    key = "department"
    noun = "科室"
    topics = ("departments",)
    columns = [
        Column("编码", lambda r: r.code),
        Column("名称", lambda r: r.name),
        Column("拼音", lambda r: r.pinyin),
        Column("类别", lambda r: DEPARTMENT_KIND_LABELS[DepartmentKind(r.kind)]),
        Column("位置", lambda r: r.location),
        Column("限制", _limits),
        Column("状态", lambda r: "启用" if r.active else "停用", align=CENTER),
    ]

    def build_form(self, form: QFormLayout) -> None:
        self.code = QLineEdit()
        self.code.setMaxLength(20)
        self.name = QLineEdit()
        self.pinyin = QLineEdit()
        self.pinyin.setPlaceholderText("自动按名称生成")
        self._pinyin_typed = False
        self.name.textEdited.connect(self._name_edited)
        self.pinyin.textEdited.connect(lambda text: setattr(self, "_pinyin_typed", bool(text)))
        self.kind = QComboBox()
        for kind, label in DEPARTMENT_KIND_LABELS.items():
            self.kind.addItem(label, str(kind))
        self.location = QLineEdit()
        self.location.setPlaceholderText("例如：门诊楼2楼A区（打印在导诊单上）")
        self.phone = QLineEdit()
        self.sex = QComboBox()
        self.sex.addItem("不限", None)
        self.sex.addItem("仅女性", str(Sex.FEMALE))
        self.sex.addItem("仅男性", str(Sex.MALE))
        self.min_age, self.max_age = age_spin("最小年龄"), age_spin("最大年龄")
        self.sort_order = QSpinBox()
        self.sort_order.setRange(0, 9999)
        self.active = QCheckBox("启用")
        form.addRow("科室编码", self.field(self.code, "code"))
        form.addRow("科室名称", self.field(self.name, "name"))
        form.addRow("拼音首字母", self.field(self.pinyin, "pinyin"))
        form.addRow("类别", self.field(self.kind, "kind"))
        form.addRow("位置", self.field(self.location, "location"))
        form.addRow("电话", self.field(self.phone, "phone"))
        form.addRow("性别限制", self.field(self.sex, "sex_restriction"))
        form.addRow("最小年龄", self.field(self.min_age, "min_age"))
        form.addRow("最大年龄", self.field(self.max_age, "max_age"))
        form.addRow("排序", self.field(self.sort_order, "sort_order"))
        form.addRow("", self.field(self.active, "active"))

    def _name_edited(self, text: str) -> None:
        if not self._pinyin_typed:
            self.pinyin.setText(pinyin.initials(text))

    def fill(self, row: DepartmentRow | None) -> None:
        self.code.setText(row.code if row else "")
        self.name.setText(row.name if row else "")
        self.pinyin.setText(row.pinyin if row else "")
        self._pinyin_typed = False
        self.kind.setCurrentIndex(self.kind.findData(row.kind if row else str(DepartmentKind.CLINICAL)))
        self.location.setText(row.location if row else "")
        self.phone.setText(row.phone if row else "")
        self.sex.setCurrentIndex(self.sex.findData(row.sex_restriction if row else None))
        self.min_age.setValue(NO_LIMIT if row is None or row.min_age is None else row.min_age)
        self.max_age.setValue(NO_LIMIT if row is None or row.max_age is None else row.max_age)
        self.sort_order.setValue(row.sort_order if row else 0)
        self.active.setChecked(row.active if row else True)

    def collect(self) -> DepartmentForm:
        def age(spin: QSpinBox) -> int | None:
            return None if spin.value() == NO_LIMIT else spin.value()

        return DepartmentForm(
            code=self.code.text(), name=self.name.text(), kind=self.kind.currentData(),
            pinyin=self.pinyin.text(), location=self.location.text(), phone=self.phone.text(),
            sex_restriction=self.sex.currentData(), min_age=age(self.min_age), max_age=age(self.max_age),
            sort_order=self.sort_order.value(), active=self.active.isChecked())

    def save_work(self, row: DepartmentRow | None, form: DepartmentForm) -> Callable[[], Any]:
        org, actor = self.services.organisation, self.actor
        if row is None:
            return lambda: org.create_department(actor, form)
        return lambda: org.update_department(actor, row.id, form)

    def loader(self) -> Callable[[], list[DepartmentRow]]:
        return self.services.organisation.list_departments
