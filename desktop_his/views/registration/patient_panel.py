"""The patient side of the registration window: read the card (F2), or type an ID number, name, pinyin
initials or phone and Enter; several hits → a list (↓ then Enter); none → 新建患者 (F3) prefilled.

A keyboard-wedge reader types into the search field: the number alone, ``姓名|号码`` or the chip's whole
record (``|``-separated) followed by Enter. The simulated reader (demo mode) and vendor SDK readers are read
through :mod:`services.idcard` on the ``io`` lane. ``selected`` carries the chosen :class:`PatientRow`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QPushButton, QVBoxLayout, QWidget

from desktop_his.qt import ops
from desktop_his.qt.table_model import Column, RecordTableModel
from desktop_his.qt.widgets import action_button
from desktop_his.services import idcard, ids
from desktop_his.services.errors import HisError, ValidationError
from desktop_his.views.inpatient.common import BAD_STYLE, label, table
from desktop_his.views.registration.patient_dialog import PatientDialog

if TYPE_CHECKING:
    from desktop_his.services.container import Services
    from desktop_his.services.idcard import IdCardData
    from desktop_his.services.patients import PatientRow
    from desktop_his.services.permissions import Actor

PATIENT_COLUMNS = [
    Column("姓名", lambda p: p.name), Column("性别", lambda p: p.sex_label), Column("年龄", lambda p: f"{p.age}岁"),
    Column("证件号", lambda p: p.id_number_masked), Column("手机号", lambda p: p.phone),
]


def _reader(services: Services) -> idcard.IdCardReader:
    with services.db.reader() as s:
        setting = idcard.load_reader_setting(s, services.settings.workstation, demo=services.demo_mode)
    return idcard.make_reader(setting)


class PatientPanel(QWidget):
    selected = Signal(object)  # PatientRow

    def __init__(self, services: Services, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reg_patient_panel")
        self.services, self.actor = services, actor
        self.patient: PatientRow | None = None
        self.dialog: PatientDialog | None = None
        self.reader: idcard.IdCardReader | None = None
        self.search = QLineEdit()
        self.search.setObjectName("reg_patient_search")
        self.search.setPlaceholderText("刷身份证，或输入证件号、姓名、拼音首字母、手机号后回车")
        self.search.returnPressed.connect(self.find)
        self.search.installEventFilter(self)
        self.read_button = self._button("读卡 (F2)", "reg_read_card", self.read_card)
        self.new_button = self._button("新建患者 (F3)", "reg_new_patient", lambda: self.new_patient())
        self.model = RecordTableModel(PATIENT_COLUMNS, parent=self)
        self.table = table("reg_patient_table", self.model, self)
        self.table.activated.connect(lambda index: self.choose(self.model.row(index.row())))
        self.table.hide()
        self.info = label("reg_patient_info", "请读卡或查找患者")
        self.error = label("reg_patient_error", style=BAD_STYLE)
        self.error.hide()
        row = QHBoxLayout()
        row.addWidget(self.search, 1)
        row.addWidget(self.read_button)
        row.addWidget(self.new_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.error)
        layout.addWidget(self.table)
        layout.addWidget(self.info)

    def _button(self, text: str, name: str, slot: Any) -> QPushButton:
        return action_button(text, name, slot)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if obj is self.search and event.type() == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Down \
                and self.table.isVisible() and self.model.rowCount():
            self.table.setFocus()
            self.table.selectRow(0)
            return True
        return super().eventFilter(obj, event)

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    # ------------------------------------------------------------------------------------------ finding

    def find(self) -> None:
        text = self.search.text().strip()
        self.show_error("")
        if not text:
            return
        if "|" in text or "｜" in text:
            try:
                card = idcard.parse_wedge_line(text, today=self.services.clock.today())
            except ValidationError as exc:
                self.show_error(exc.message)
                return
            self.card_read(card)
            return
        patients, actor = self.services.patients, self.actor
        ops.run(self, lambda: patients.search(actor, text), on_success=lambda rows: self._found(text, rows),
                on_failure=self._failed)

    def _found(self, text: str, rows: list[PatientRow]) -> None:
        self.model.set_rows(rows)
        if len(rows) == 1:
            self.choose(rows[0])
            return
        self.table.setVisible(bool(rows))
        if rows:
            self.info.setText(f"找到 {len(rows)} 位患者，按 ↓ 选择后回车")
            return
        number = ids.normalize_id_number(text)
        try:
            ids.parse_resident_id(number, today=self.services.clock.today())
        except HisError:
            self.show_error(f"未找到“{text}”，可按 F3 新建患者")
            return
        self.show_error("该证件号尚未建档，请新建患者")
        self.new_patient(number=number)

    def _failed(self, error: BaseException) -> None:
        if isinstance(error, HisError):
            self.show_error(error.message)
        else:
            ops.report_error(self, error)

    def read_card(self) -> None:
        services, known = self.services, self.reader

        def work() -> Any:
            reader = known or _reader(services)
            return reader, reader.read()

        ops.run(self, work, on_success=self._card_from_reader, on_failure=self._failed, wait="正在读卡…",
                disable=[self.read_button], lane="io")

    def _card_from_reader(self, answer: tuple[idcard.IdCardReader, IdCardData | None]) -> None:
        self.reader, card = answer
        if card is None:
            self.show_error("未读到身份证，请把身份证放在读卡器上重试，或手工输入证件号")
            return
        self.card_read(card)

    def card_read(self, card: IdCardData) -> None:
        self.search.setText(card.id_number)
        patients, actor = self.services.patients, self.actor
        ops.run(self, lambda: patients.find_by_document(actor, card.id_type.value, card.id_number),
                on_success=lambda row: self.choose(row) if row is not None else self.new_patient(card=card),
                on_failure=self._failed)

    # ------------------------------------------------------------------------------------------ choosing

    def choose(self, row: PatientRow | None) -> None:
        if row is None:
            return
        self.patient = row
        self.table.hide()
        self.show_error("")
        self.search.clear()  # the full ID number does not stay on screen (SPEC §7); the line is ready again
        text = (f"{row.name}\u3000{row.sex_label}\u3000{row.age}岁\u3000{row.id_type_label} {row.id_number_masked}"
                f"\u3000{row.phone or row.guardian_phone or ''}")
        if row.guardian_name:
            text += f"\u3000监护人 {row.guardian_name}（{row.guardian_relation}）"
        if row.noshow_count:
            text += f"\u3000爽约 {row.noshow_count} 次"
        if row.blacklisted_on(self.services.clock.today()):
            text += f"\u3000黑名单至 {row.blacklisted_until:%Y-%m-%d}"
        self.info.setText(text)
        self.selected.emit(row)

    def new_patient(self, *, card: IdCardData | None = None, number: str = "") -> None:
        if self.dialog is not None:
            self.dialog.deleteLater()
        self.dialog = PatientDialog(self.services, self.actor, card=card, number=number, parent=self)
        self.dialog.created.connect(self.choose)
        self.dialog.open()
