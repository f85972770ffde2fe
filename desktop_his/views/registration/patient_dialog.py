"""新建患者: every ID type (居民身份证 with its checksum, 港澳/台湾 permits, passports), sex and birth date taken
from a resident ID, the guardian required for a child (≤ 16 by default). The service validates; each error
shows at its field, in Chinese. A document already on file offers that patient instead (``created`` too)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from desktop_his.dialogs import messages
from desktop_his.qt import ops
from desktop_his.qt.field_errors import FieldErrors
from desktop_his.qt.widgets import save_cancel_row
from desktop_his.services.enums import SEX_LABELS, IdType, Sex
from desktop_his.services.errors import ValidationError
from desktop_his.services.ids import ID_TYPE_LABELS
from desktop_his.services.patients import GUARDIAN_RELATIONS, DuplicatePatient, PatientInput

if TYPE_CHECKING:
    from desktop_his.services.container import Services
    from desktop_his.services.idcard import IdCardData
    from desktop_his.services.patients import PatientRow
    from desktop_his.services.permissions import Actor


def _line(name: str, placeholder: str = "") -> QLineEdit:
    edit = QLineEdit()
    edit.setObjectName(name)
    edit.setPlaceholderText(placeholder)
    return edit


def _id_types(name: str, *, blank: bool = False) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(name)
    if blank:
        combo.addItem("", None)
    for kind, label in ID_TYPE_LABELS.items():
        combo.addItem(label, kind.value)
    return combo


class PatientDialog(QDialog):
    created = Signal(object)  # PatientRow (new, or the one already on file)

    def __init__(self, services: Services, actor: Actor, *, card: IdCardData | None = None, number: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("patient_dialog")
        self.setWindowTitle("新建患者")
        self.services, self.actor = services, actor
        general = QLabel()
        general.setObjectName("patient_form_error")
        general.hide()
        self.errors = FieldErrors(self, general=general)
        self.name = _line("patient_name", "与证件一致")
        self.id_type = _id_types("patient_id_type")
        self.id_number = _line("patient_id_number", "证件号码")
        self.sex = QComboBox()
        self.sex.setObjectName("patient_sex")
        self.sex.addItem("（按身份证）", None)
        for sex in (Sex.MALE, Sex.FEMALE):
            self.sex.addItem(SEX_LABELS[sex], sex.value)
        self.birth = _line("patient_birth_date", "YYYY-MM-DD（居民身份证可不填）")
        self.phone = _line("patient_phone", "11位手机号")
        self.address = _line("patient_address")
        self.g_name = _line("patient_guardian_name")
        self.g_id_type = _id_types("patient_guardian_id_type", blank=True)
        self.g_id_number = _line("patient_guardian_id_number")
        self.g_phone = _line("patient_guardian_phone")
        self.g_relation = QComboBox()
        self.g_relation.setObjectName("patient_guardian_relation")
        self.g_relation.setEditable(True)
        self.g_relation.addItems(["", *GUARDIAN_RELATIONS])
        e = self.errors
        form = QFormLayout()
        form.addRow("姓名", e.add("name", self.name))
        form.addRow("证件类型", e.add("id_type", self.id_type))
        form.addRow("证件号码", e.add("id_number", self.id_number))
        form.addRow("性别", e.add("sex", self.sex))
        form.addRow("出生日期", e.add("birth_date", self.birth))
        form.addRow("手机号", e.add("phone", self.phone))
        form.addRow("地址", e.add("address", self.address))
        guardian = QGroupBox("监护人（16周岁及以下儿童必填）")
        guardian.setObjectName("patient_guardian")
        g_form = QFormLayout(guardian)
        g_form.addRow("姓名", e.add("guardian_name", self.g_name))
        g_form.addRow("证件类型", e.add("guardian_id_type", self.g_id_type))
        g_form.addRow("证件号码", e.add("guardian_id_number", self.g_id_number))
        g_form.addRow("手机号", e.add("guardian_phone", self.g_phone))
        g_form.addRow("关系", e.add("guardian_relation", self.g_relation))
        buttons, self.save_button, _cancel = save_cancel_row(self, "patient", "保存 (Enter)", self.save)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(guardian)
        layout.addWidget(general)
        layout.addLayout(buttons)
        self.setMinimumWidth(520)
        if card is not None:
            self.fill_card(card)
        elif number:
            self.id_number.setText(number)
        self.name.setFocus()

    def fill_card(self, card: IdCardData) -> None:
        self.name.setText(card.name)
        self.id_type.setCurrentIndex(self.id_type.findData(IdType(card.id_type).value))
        self.id_number.setText(card.id_number)
        self.address.setText(card.address)
        self.phone.setFocus()

    def collect(self) -> PatientInput:
        birth = None
        text = self.birth.text().strip()
        if text:
            try:
                birth = date.fromisoformat(text)
            except ValueError as exc:
                raise ValidationError("出生日期格式应为 YYYY-MM-DD", field="birth_date") from exc
        return PatientInput(
            name=self.name.text(), id_type=self.id_type.currentData(), id_number=self.id_number.text(),
            sex=self.sex.currentData(), birth_date=birth, phone=self.phone.text(), address=self.address.text(),
            guardian_name=self.g_name.text() or None, guardian_id_type=self.g_id_type.currentData(),
            guardian_id_number=self.g_id_number.text() or None, guardian_phone=self.g_phone.text() or None,
            guardian_relation=self.g_relation.currentText() or None)

    def save(self) -> None:
        if not self.save_button.isEnabled():
            return
        try:
            data = self.collect()
        except ValidationError as exc:
            self.errors.show(exc)
            return
        patients, actor = self.services.patients, self.actor
        ops.run(self, lambda: patients.create(actor, data), on_success=self._saved, on_failure=self._failed,
                wait="正在保存…", disable=[self.save_button])

    def _saved(self, row: PatientRow) -> None:
        self.created.emit(row)
        self.accept()

    def _failed(self, error: BaseException) -> None:
        if isinstance(error, DuplicatePatient):
            if messages.confirm(self, f"{error.message}。\n是否选用该患者？", default_yes=True):
                self._saved(error.existing)
                return
        ops.report_error(self, error, self.errors)
