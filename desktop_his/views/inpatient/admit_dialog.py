"""办理入院: find the patient (name, pinyin initials, ID number or phone), then department, attending doctor,
ward and bed, the daily bed fee and the admission diagnosis (free text). The service checks everything;
its errors land at their field and nothing is saved."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_his.qt import ops
from desktop_his.qt.field_errors import FieldErrors
from desktop_his.qt.money_edit import MoneyEdit
from desktop_his.qt.table_model import Column, RecordTableModel
from desktop_his.qt.widgets import save_cancel_row
from desktop_his.services.enums import CatalogKind, DepartmentKind
from desktop_his.services.errors import ValidationError
from desktop_his.views.inpatient.common import OK_STYLE, label, table, yuan

if TYPE_CHECKING:
    from desktop_his.services.container import Services
    from desktop_his.services.inpatient import AdmissionView
    from desktop_his.services.patients import PatientRow
    from desktop_his.services.permissions import Actor

PATIENT_COLUMNS = [
    Column("姓名", lambda p: p.name), Column("性别", lambda p: p.sex_label), Column("年龄", lambda p: p.age),
    Column("证件号", lambda p: p.id_number_masked), Column("手机", lambda p: p.phone),
]


class AdmitDialog(QDialog):
    admitted = Signal(object)  # AdmissionView

    def __init__(self, services: Services, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("admit_dialog")
        self.setWindowTitle("办理入院")
        self.services, self.actor = services, actor
        self.patient: PatientRow | None = None
        self.patients = RecordTableModel(PATIENT_COLUMNS, parent=self)
        general = label("admit_form_error")
        general.hide()
        self.errors = FieldErrors(self, general=general)
        self._build(general)
        self.resize(760, 680)
        ops.run(self, self._choices_work(), on_success=self._choices)

    # ------------------------------------------------------------------------------------------ layout

    def _named(self, widget: QWidget, name: str) -> QWidget:
        widget.setObjectName(f"admit_{name}")
        return widget

    def _build(self, general: QWidget) -> None:
        self.search = self._named(QLineEdit(), "search")
        self.search.setPlaceholderText("姓名、拼音首字母、证件号或手机号，回车查找")
        self.search.returnPressed.connect(self.find_patients)
        find = self._named(QPushButton("查找"), "search_button")
        find.clicked.connect(self.find_patients)
        row = QHBoxLayout()
        row.addWidget(self.search, 1)
        row.addWidget(find)
        self.patient_table = table("admit_patients", self.patients, self)
        self.patient_table.setMinimumHeight(150)
        self.patient_table.selectionModel().currentRowChanged.connect(self._patient_chosen)
        self.chosen = label("admit_patient", "尚未选择患者", style=OK_STYLE)
        picker = self._named(QWidget(), "patient_id")
        box = QVBoxLayout(picker)
        box.setContentsMargins(0, 0, 0, 0)
        box.addLayout(row)
        box.addWidget(self.patient_table)
        box.addWidget(self.chosen)
        self.department = self._named(QComboBox(), "department_id")
        self.department.currentIndexChanged.connect(self._department_changed)
        self.doctor = self._named(QComboBox(), "doctor_id")
        self.ward = self._named(QComboBox(), "ward")
        self.ward.setEditable(True)
        self.ward.lineEdit().setPlaceholderText("病区名称")
        self.bed = self._named(QLineEdit(), "bed")
        self.bed.setPlaceholderText("床号，如 12 或 加1")
        self.bed_rate = self._named(QComboBox(), "bed_rate")
        self.bed_rate.currentIndexChanged.connect(self._rate_chosen)
        self.daily_bed = self._named(MoneyEdit(), "daily_bed_fen")
        rate = QWidget()
        rate_row = QHBoxLayout(rate)
        rate_row.setContentsMargins(0, 0, 0, 0)
        rate_row.addWidget(self.bed_rate, 2)
        rate_row.addWidget(self.errors.add("daily_bed_fen", self.daily_bed), 1)
        self.diagnosis = self._named(QPlainTextEdit(), "diagnosis")
        self.diagnosis.setPlaceholderText("入院诊断（自由文本）")
        self.diagnosis.setFixedHeight(70)
        self.diagnosis.setTabChangesFocus(True)
        form = QFormLayout()
        form.addRow("患者", self.errors.add("patient_id", picker))
        form.addRow("科室", self.errors.add("department_id", self.department))
        form.addRow("主治医生", self.errors.add("doctor_id", self.doctor))
        form.addRow("病区", self.errors.add("ward", self.ward))
        form.addRow("床号", self.errors.add("bed", self.bed))
        form.addRow("床位费（元/日）", rate)
        form.addRow("入院诊断", self.errors.add("diagnosis", self.diagnosis))
        buttons, self.save_button, _cancel = save_cancel_row(self, "admit", "办理入院 (Ctrl+Enter)", self.save,
                                                            default=False)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(general)
        layout.addLayout(buttons)
        QShortcut(QKeySequence("Ctrl+Return"), self, self.save)
        QShortcut(QKeySequence("Ctrl+Enter"), self, self.save)

    # ----------------------------------------------------------------------------------------- choices

    def _choices_work(self) -> Any:
        organisation, catalog = self.services.organisation, self.services.catalog
        kinds = (DepartmentKind.CLINICAL.value, DepartmentKind.WARD.value)

        def work() -> tuple[list, list, list, list]:
            departments = organisation.list_departments(kinds=kinds, active_only=True)
            doctors = organisation.list_doctors(active_only=True)
            wards = [d.name for d in departments if d.kind == DepartmentKind.WARD]
            beds = catalog.list_items(kind=CatalogKind.BED.value, active_only=True)
            return departments, doctors, wards, beds
        return work

    def _choices(self, data: tuple[list, list, list, list]) -> None:
        departments, self._doctors, wards, beds = data
        with_doctors = {d.department_id for d in self._doctors}
        self.department.clear()
        for dept in departments:
            if dept.id in with_doctors:  # a ward without doctors cannot be the admitting department
                self.department.addItem(dept.name, dept.id)
        self.ward.clear()
        self.ward.addItems(wards)
        self.ward.setCurrentIndex(-1)
        self.bed_rate.clear()
        self.bed_rate.addItem("手工输入", None)
        for item in beds:
            self.bed_rate.addItem(f"{item.name} {yuan(item.price_fen)}/{item.unit or '日'}", item.price_fen)
        self._department_changed()

    def _department_changed(self, *_: Any) -> None:
        dept = self.department.currentData()
        self.doctor.clear()
        for doc in getattr(self, "_doctors", []):
            if doc.department_id == dept:
                self.doctor.addItem(f"{doc.name}（{doc.title}）" if doc.title else doc.name, doc.id)

    def _rate_chosen(self, *_: Any) -> None:
        fen = self.bed_rate.currentData()
        if fen is not None:
            self.daily_bed.set_fen(fen)

    # ----------------------------------------------------------------------------------------- patient

    def find_patients(self) -> None:
        patients, actor, query = self.services.patients, self.actor, self.search.text().strip()
        if not query:
            self.errors.show_message("patient_id", "请输入姓名、拼音首字母、证件号或手机号")
            return
        ops.run(self, lambda: patients.search(actor, query), on_success=self._found, errors=self.errors)

    def _found(self, rows: list[PatientRow]) -> None:
        self.patients.set_rows(rows)
        if not rows:
            self.errors.show_message("patient_id", "未找到该患者，请核对或先到挂号窗口建档")
            return
        self.patient_table.selectRow(0)
        self.patient_table.setFocus()

    def _patient_chosen(self, current: Any, _previous: Any) -> None:
        if not current.isValid():
            return
        self.patient = self.patients.row(current.row())
        p = self.patient
        self.chosen.setText(f"已选：{p.name}（{p.sex_label}，{p.age}岁）{p.id_type_label} {p.id_number_masked}")
        self.errors.clear("patient_id")

    # -------------------------------------------------------------------------------------------- save

    def save(self) -> None:
        if not self.save_button.isEnabled():
            return
        try:
            args = self._collect()
        except ValidationError as exc:
            self.errors.show(exc)
            return
        inpatient, actor = self.services.inpatient, self.actor
        patient_id = args.pop("patient_id")
        ops.run(self, lambda: inpatient.admit(actor, patient_id, **args), on_success=self._saved, errors=self.errors,
                wait="正在办理入院…", disable=[self.save_button])

    def _collect(self) -> dict[str, Any]:
        if self.patient is None:
            raise ValidationError("请先查找并选择患者", field="patient_id")
        if self.department.currentData() is None:
            raise ValidationError("请选择科室", field="department_id")
        if self.doctor.currentData() is None:
            raise ValidationError("请选择主治医生", field="doctor_id")
        fen = self.daily_bed.fen()
        if fen is None:
            raise ValidationError("请输入每日床位费（元，最多两位小数）", field="daily_bed_fen")
        return {"patient_id": self.patient.id, "department_id": self.department.currentData(),
                "ward": self.ward.currentText(), "bed": self.bed.text(), "doctor_id": self.doctor.currentData(),
                "diagnosis": self.diagnosis.toPlainText(), "daily_bed_fen": fen}

    def _saved(self, admission: AdmissionView) -> None:
        self.admitted.emit(admission)
        self.accept()

    def keyPressEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        # Enter in the search box searches; elsewhere it must not close the dialog (QDialog's default).
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            return
        super().keyPressEvent(event)
