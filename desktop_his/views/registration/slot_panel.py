"""The slot side of the registration window: type a department or doctor — pinyin initials (``nk`` → 内科,
``lm`` → 李明) or Chinese — and today's and the next days' slots (the booking window, 7 days by default) are
listed with their remaining places, the best match and the earliest bookable slot first and selected. ↑/↓
move the selection from the search field; Enter asks to register (``register_requested``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLineEdit, QVBoxLayout, QWidget

from desktop_his.qt import ops
from desktop_his.qt.table_model import Column, RecordTableModel
from desktop_his.views.inpatient.common import label, table, yuan

if TYPE_CHECKING:
    from desktop_his.services.container import Services
    from desktop_his.services.registration import RegistrationService, SlotRow

WEEKDAYS = "一二三四五六日"
SLOT_COLUMNS = [
    Column("日期", lambda s: f"{s.date:%m-%d} 周{WEEKDAYS[s.date.weekday()]}", sort=lambda s: s.date),
    Column("时段", lambda s: f"{s.period_label} {s.start_time:%H:%M}"),
    Column("科室", lambda s: s.department_name), Column("医生", lambda s: s.doctor_name),
    Column("职称", lambda s: s.doctor_title), Column("余号", lambda s: f"{s.remaining}/{s.capacity}"),
    Column("挂号费", lambda s: yuan(s.fee_fen)),
    Column("状态", lambda s: "停诊" if s.suspended else "可挂" if s.bookable else "已满" if not s.remaining else "不可挂"),
]
SEARCH_DELAY_MS = 120


def find_slots(registration: RegistrationService, query: str) -> list[SlotRow]:
    """Slots of the departments and doctors matching ``query``; exact matches (``nk`` = 内科's initials) first,
    then bookable before not, then by date and time."""
    q = query.strip().lower()
    if not q:
        return []
    departments = registration.search_departments(q)[:3]
    doctors = registration.search_doctors(q)[:6]
    exact = {("d", d.id) for d in departments if q in (d.pinyin, d.name.lower())}
    exact |= {("p", d.id) for d in doctors if q in (d.pinyin, d.name.lower())}
    found: dict[int, tuple[int, SlotRow]] = {}
    for kind, rows in (("p", doctors), ("d", departments)):
        for row in rows:
            key = {"department_id": row.id} if kind == "d" else {"doctor_id": row.id}
            for slot in registration.available_slots(**key):
                rank = 0 if (kind, row.id) in exact else 1
                if slot.id not in found or found[slot.id][0] > rank:
                    found[slot.id] = (rank, slot)
    ordered = sorted(found.values(), key=lambda x: (x[0], not x[1].bookable, x[1].date, x[1].start_time,
                                                    x[1].doctor_name))
    return [slot for _, slot in ordered]


class SlotPanel(QWidget):
    register_requested = Signal(object)  # SlotRow

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reg_slot_panel")
        self.services = services
        self.search = QLineEdit()
        self.search.setObjectName("reg_doctor_search")
        self.search.setPlaceholderText("科室或医生：拼音首字母或汉字（如 nk → 内科），回车挂号")
        self.search.textChanged.connect(lambda _t: self._timer.start())
        self.search.returnPressed.connect(self.request)
        self.search.installEventFilter(self)
        self._timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.refresh)
        self._asked = ""  # the query sent to the worker last
        self._shown = ""  # the query whose answer is on screen
        self._enter_waiting = False
        self.model = RecordTableModel(SLOT_COLUMNS, muted=lambda s: not s.bookable, parent=self)
        self.table = table("reg_slot_table", self.model, self)
        self.table.activated.connect(lambda _i: self.request())
        self.hint = label("reg_slot_hint", "")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.hint)
        self.hint.setStyleSheet(f"color: {QColor('#7f8c8d').name()};")

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if obj is self.search and event.type() == QEvent.Type.KeyPress and event.key() in (Qt.Key.Key_Up,
                                                                                         Qt.Key.Key_Down):
            self._move(-1 if event.key() == Qt.Key.Key_Up else 1)
            return True
        return super().eventFilter(obj, event)

    def _move(self, step: int) -> None:
        if not self.model.rowCount():
            return
        current = self.table.currentIndex().row()
        self.table.selectRow(max(0, min(self.model.rowCount() - 1, current + step)))

    def refresh(self) -> None:
        self._timer.stop()
        query = self.search.text()
        self._asked = query
        registration = self.services.registration
        ops.run(self, lambda: find_slots(registration, query), on_success=lambda rows: self._loaded(query, rows))

    def _loaded(self, query: str, rows: list[SlotRow]) -> None:
        if query != self.search.text():
            return  # typed on meanwhile: the newer search will answer
        keep = self.selected_slot()
        self._shown = query
        self.model.set_rows(rows)
        row = self.model.find(lambda s: keep is not None and s.id == keep.id and s.bookable)
        if row < 0:
            row = self.model.find(lambda s: s.bookable)
        if row >= 0:
            self.table.selectRow(row)
        bookable = sum(1 for s in rows if s.bookable)
        self.hint.setText(f"{len(rows)} 个号源，{bookable} 个可挂；↑↓选择，回车挂号" if query.strip() else "")
        if self._enter_waiting:
            self._enter_waiting = False
            self.request()

    def selected_slot(self) -> SlotRow | None:
        index = self.table.currentIndex()
        if not index.isValid() or not self.table.selectionModel().isSelected(index):
            rows = self.table.selectionModel().selectedRows()
            index = rows[0] if rows else index
        return self.model.row(index.row()) if index.isValid() else None

    def request(self) -> None:
        text = self.search.text()
        if self._shown != text:
            self._enter_waiting = True  # Enter typed right after the initials: act once the list is in
            if not self._timer.isActive() and self._asked != text:
                self.refresh()
            return
        slot = self.selected_slot()
        if slot is not None:
            self.register_requested.emit(slot)

    def reload(self) -> None:
        """Fresh remaining places (live updates, after registering)."""
        if self.search.text().strip():
            self.refresh()

    def clear(self) -> None:
        self.search.clear()
        self.model.set_rows([])
        self.hint.setText("")
