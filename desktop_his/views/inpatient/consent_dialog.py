"""The written consent (书面确权, the plan's 附件1) before any 信用就医 money moves at the admission desk.

The patient's details are filled in from the admission; when the patient cannot come, the proxy section names
the proxy (name, document type and number — validated by the service). 打印确权书 creates the consent and prints
it on A4 (PDF in demo mode: the dialog says where it went); the patient or the proxy signs the paper; the
clerk then confirms 已收到签字确权书 — only now may 信用就医 be charged. Changing the proxy after printing
needs a new print (a new consent: a signed one is never edited)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_his.qt import ops
from desktop_his.qt.field_errors import FieldErrors
from desktop_his.services.enums import IdType
from desktop_his.services.ids import ID_TYPE_LABELS
from desktop_his.services.inpatient import ProxyInput
from desktop_his.views.inpatient.common import OK_STYLE, label, print_document, printed_text

if TYPE_CHECKING:
    from desktop_his.printing import PrintResult
    from desktop_his.services.container import Services
    from desktop_his.services.inpatient import AdmissionView, ConsentView
    from desktop_his.services.permissions import Actor


class ConsentDialog(QDialog):
    received = Signal(object)  # ConsentView: the signed paper is in the file

    def __init__(self, services: Services, actor: Actor, admission: AdmissionView, *,
                 printed: ConsentView | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("consent_dialog")
        self.setWindowTitle("“信用就医”书面确权")
        self.services, self.actor, self.admission = services, actor, admission
        self.consent: ConsentView | None = None
        self.print_result: PrintResult | None = None
        general = label("consent_form_error")
        general.hide()
        self.errors = FieldErrors(self, general=general)
        self._build(general)
        self.resize(620, 420)
        if printed is not None:
            self._resume(printed)

    def _resume(self, printed: ConsentView) -> None:
        """A consent printed earlier (the patient took it to sign): confirm it now, or print anew."""
        if printed.proxy_name:
            self.proxy_box.setChecked(True)
            self.proxy_name.setText(printed.proxy_name)
            self.proxy_id_type.setCurrentIndex(self.proxy_id_type.findData(printed.proxy_id_type))
            self.proxy_id_number.setPlaceholderText(f"{printed.proxy_id_number_masked}（已打印；修改代理人须重新打印）")
        self.consent = printed  # after filling the form: filling it is not a change
        self.received_button.setEnabled(True)
        who = f"（代理人 {printed.proxy_name}）" if printed.proxy_name else ""
        self.status.setText(f"确权书已于 {printed.printed_at:%m-%d %H:%M} 打印{who}，待签字。"
                            "收到签字件后点击“已收到签字确权书”；需要时可重新打印。")

    def _build(self, general: QWidget) -> None:
        a = self.admission
        patient = label("consent_patient", f"委托人（患者）：{a.patient_name}（{a.patient_sex_label}，{a.patient_age}岁）"
                                           f"\u3000{a.id_type_label} {a.id_number_masked}\n"
                                           f"住院号 {a.admission_no}\u3000{a.department_name}\u3000{a.ward} {a.bed}床")
        note = label("consent_note", "请打印《成都市“信用就医”就医告知书》，由患者本人签字；患者无法到场时，"
                                     "勾选下方“由代理人办理”并填写代理人信息，由代理人签字。收到签字件后再确认。")
        self.proxy_box = QGroupBox("由代理人办理（患者本人无法到场）")
        self.proxy_box.setObjectName("consent_proxy")
        self.proxy_box.setCheckable(True)
        self.proxy_box.setChecked(False)
        self.proxy_name = QLineEdit()
        self.proxy_name.setObjectName("consent_proxy_name")
        self.proxy_id_type = QComboBox()
        self.proxy_id_type.setObjectName("consent_proxy_id_type")
        for kind in IdType:
            self.proxy_id_type.addItem(ID_TYPE_LABELS[kind], kind.value)
        self.proxy_id_number = QLineEdit()
        self.proxy_id_number.setObjectName("consent_proxy_id_number")
        form = QFormLayout(self.proxy_box)
        form.addRow("代理人姓名", self.errors.add("proxy_name", self.proxy_name))
        form.addRow("证件类型", self.errors.add("proxy_id_type", self.proxy_id_type))
        form.addRow("证件号码", self.errors.add("proxy_id_number", self.proxy_id_number))
        for signal in (self.proxy_box.toggled, self.proxy_name.textEdited, self.proxy_id_type.currentIndexChanged,
                       self.proxy_id_number.textEdited):
            signal.connect(self._changed)
        self.status = label("consent_status", "尚未打印", style=OK_STYLE)
        self.print_button = self._button("打印确权书 (Ctrl+P)", "consent_print", self.print_consent, "Ctrl+P")
        self.received_button = self._button("已收到签字确权书", "consent_received", self.confirm_received)
        self.received_button.setEnabled(False)
        cancel = self._button("取消 (Esc)", "consent_cancel", self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.print_button, self.received_button, cancel):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        for widget in (patient, note, self.proxy_box, general, self.status):
            layout.addWidget(widget)
        layout.addLayout(buttons)

    def _button(self, text: str, name: str, slot: Any, shortcut: str = "") -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.setAutoDefault(False)
        button.clicked.connect(slot)
        if shortcut:
            button.setShortcut(shortcut)
        return button

    def _proxy(self) -> ProxyInput | None:
        if not self.proxy_box.isChecked():
            return None
        return ProxyInput(self.proxy_name.text(), self.proxy_id_type.currentData(), self.proxy_id_number.text())

    def _changed(self, *_: Any) -> None:
        """What was printed no longer matches the form: the next print is a new consent."""
        if self.consent is not None:
            self.consent, self.print_result = None, None
            self.received_button.setEnabled(False)
            self.status.setText("代理人信息已更改，请重新打印确权书")

    # ------------------------------------------------------------------------------------------ print

    def print_consent(self) -> None:
        if not self.print_button.isEnabled():
            return
        if self.consent is not None:  # a reprint of the same consent (audited as such)
            self._print()
            return
        inpatient, actor, admission_id, proxy = self.services.inpatient, self.actor, self.admission.id, self._proxy()
        ops.run(self, lambda: inpatient.create_consent(actor, admission_id, proxy=proxy), on_success=self._created,
                errors=self.errors, wait="正在生成确权书…", disable=[self.print_button])

    def _created(self, consent: ConsentView) -> None:
        self.consent = consent
        self._print()

    def _print(self) -> None:
        from desktop_his.services.inpatient_docs import consent_document

        services, actor, consent_id = self.services, self.actor, self.consent.id  # type: ignore[union-attr]

        def work() -> PrintResult:
            info = services.inpatient.mark_consent_printed(actor, consent_id)
            document = consent_document(info, hospital=services.hospital.hospital_name(),
                                        printed_at=services.clock.now(), workstation=services.settings.workstation)
            return print_document(services, document)

        ops.run(self, work, on_success=self._printed, errors=self.errors, wait="正在打印确权书…",
                disable=[self.print_button], lane="io")

    def _printed(self, result: PrintResult) -> None:
        self.print_result = result
        self.status.setText(f"{printed_text(result)}\n请患者（或代理人）签字后，点击“已收到签字确权书”。")
        self.received_button.setEnabled(True)
        self.received_button.setFocus()

    # --------------------------------------------------------------------------------------- received

    def confirm_received(self) -> None:
        if self.consent is None or not self.received_button.isEnabled():
            return
        inpatient, actor, consent_id = self.services.inpatient, self.actor, self.consent.id
        ops.run(self, lambda: inpatient.mark_consent_received(actor, consent_id), on_success=self._received,
                errors=self.errors, wait="正在登记…", disable=[self.received_button])

    def _received(self, consent: ConsentView) -> None:
        self.consent = consent
        self.received.emit(consent)
        self.accept()
