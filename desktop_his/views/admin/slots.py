"""号源一览: date × doctor, each cell the sittings of that day with taken/capacity (停诊 marked)."""

from __future__ import annotations

from collections import OrderedDict
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QDate, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop_his.qt import ops
from desktop_his.qt.live_bridge import LiveSignal
from desktop_his.services.admin.scheduling import WEEKDAY_LABELS, SlotReport, SlotRow
from desktop_his.services.money import format_fen

if TYPE_CHECKING:
    from desktop_his.services.container import Services
    from desktop_his.services.permissions import Actor

FULL = QBrush(QColor("#fdecea"))
SUSPENDED = QBrush(QColor("#e0e0e0"))
FIXED_COLUMNS = ("科室", "医生")
Index = QModelIndex | QPersistentModelIndex


class SlotGridModel(QAbstractTableModel):
    """Rows: doctors; columns: department, doctor, then one per day."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.days: list[date] = []
        self.doctors: list[tuple[str, str]] = []  # (department, "name title")
        self.cells: dict[tuple[int, date], list[SlotRow]] = {}

    def set_slots(self, start: date, days: int, slots: list[SlotRow]) -> None:
        self.beginResetModel()
        self.days = [start + timedelta(days=n) for n in range(days + 1)]
        doctors: OrderedDict[int, tuple[str, str]] = OrderedDict()
        self.cells = {}
        for slot in slots:
            doctors.setdefault(slot.doctor_id, (slot.department_name, f"{slot.doctor_name}（{slot.doctor_title}）"))
            self.cells.setdefault((slot.doctor_id, slot.date), []).append(slot)
        self._ids = list(doctors)
        self.doctors = list(doctors.values())
        self.endResetModel()

    def slots_at(self, row: int, column: int) -> list[SlotRow]:
        if column < len(FIXED_COLUMNS):
            return []
        return self.cells.get((self._ids[row], self.days[column - len(FIXED_COLUMNS)]), [])

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.doctors)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(FIXED_COLUMNS) + len(self.days)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.doctors):
            return None
        row, column = index.row(), index.column()
        if column < len(FIXED_COLUMNS):
            return self.doctors[row][column] if role == Qt.ItemDataRole.DisplayRole else None
        slots = self.slots_at(row, column)
        if role == Qt.ItemDataRole.DisplayRole:
            return "\n".join(_cell_line(s) for s in slots)
        if role == Qt.ItemDataRole.ToolTipRole and slots:
            return "\n".join(f"{s.period_label} {s.start_time:%H:%M}–{s.end_time:%H:%M}，号源 {s.capacity}，"
                             f"已挂 {s.taken}，挂号费 ¥{format_fen(s.fee_fen)}" for s in slots)
        if role == Qt.ItemDataRole.BackgroundRole and slots:
            if all(s.suspended for s in slots):
                return SUSPENDED
            if all(s.taken >= s.capacity for s in slots if not s.suspended):
                return FULL
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int((Qt.AlignmentFlag.AlignCenter).value)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole or orientation != Qt.Orientation.Horizontal:
            return None
        if section < len(FIXED_COLUMNS):
            return FIXED_COLUMNS[section]
        if section - len(FIXED_COLUMNS) < len(self.days):
            day = self.days[section - len(FIXED_COLUMNS)]
            return f"{day:%m-%d}\n{WEEKDAY_LABELS[day.weekday()]}"
        return None


def _cell_line(slot: SlotRow) -> str:
    if slot.suspended:
        return f"{slot.period_label} 停诊"
    return f"{slot.period_label} {slot.taken}/{slot.capacity}"


class SlotsPage(QWidget):
    def __init__(self, services: Services, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("slots_page")
        self.services, self.actor = services, actor
        self.model = SlotGridModel(self)
        self._build()
        self.live = LiveSignal(services.feed, ("slots", "departments", "doctors"), self)
        self.live.changed.connect(lambda _topics: self.refresh())
        ops.run(self, services.organisation.list_departments, on_success=self._departments)

    def _build(self) -> None:
        today = self.services.clock.today()
        self.department = QComboBox()
        self.department.setObjectName("slots_department")
        self.department.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.department.addItem("全部科室", None)
        self.start = QDateEdit(QDate(today.year, today.month, today.day))
        self.start.setObjectName("slots_start")
        self.start.setCalendarPopup(True)
        self.start.setDisplayFormat("yyyy-MM-dd")
        self.days = QSpinBox()
        self.days.setObjectName("slots_days")
        self.days.setRange(0, 60)
        self.days.setValue(7)
        self.days.setPrefix("之后 ")
        self.days.setSuffix(" 天")
        refresh = QPushButton("刷新 (F5)")
        refresh.setObjectName("slots_refresh")
        refresh.setShortcut("F5")
        refresh.clicked.connect(self.refresh)
        self.generate_button = QPushButton("生成号源 (Ctrl+G)")
        self.generate_button.setObjectName("slots_generate")
        self.generate_button.setShortcut("Ctrl+G")
        self.generate_button.clicked.connect(self.generate)
        for signal in (self.department.currentIndexChanged, self.start.dateChanged, self.days.valueChanged):
            signal.connect(lambda *_: self.refresh())
        bar = QHBoxLayout()
        for label, widget in (("科室", self.department), ("从", self.start), ("", self.days)):
            if label:
                bar.addWidget(QLabel(label))
            bar.addWidget(widget)
        bar.addStretch(1)
        bar.addWidget(refresh)
        bar.addWidget(self.generate_button)
        self.table = QTableView()
        self.table.setObjectName("slots_table")
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.summary = QLabel()
        self.summary.setObjectName("slots_summary")
        self.notice = QLabel()
        self.notice.setObjectName("slots_notice")
        self.notice.setStyleSheet("color: #1e8449;")
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.notice)

    def _departments(self, departments: list) -> None:
        for dept in departments:
            if dept.kind in ("clinical", "vaccination"):
                self.department.addItem(dept.name, dept.id)
        self.refresh()

    def refresh(self) -> None:
        scheduling = self.services.scheduling
        start, days = self.start.date().toPython(), self.days.value()
        department_id = self.department.currentData()
        ops.run(self, lambda: scheduling.slot_overview(start=start, days=days, department_id=department_id),
                on_success=lambda slots: self._show(start, days, slots))

    def _show(self, start: date, days: int, slots: list[SlotRow]) -> None:
        self.model.set_slots(start, days, slots)
        self.table.resizeRowsToContents()
        taken = sum(s.taken for s in slots)
        capacity = sum(s.capacity for s in slots if not s.suspended)
        self.summary.setText(f"共 {len(slots)} 个出诊时段，号源 {capacity} 个，已挂号 {taken} 个")

    def generate(self) -> None:
        scheduling, actor = self.services.scheduling, self.actor
        ops.run(self, lambda: scheduling.generate_slots(actor), on_success=self._generated,
                wait="正在生成号源…", disable=[self.generate_button])

    def _generated(self, report: SlotReport) -> None:
        self.notice.setText(report.summary())
        self.refresh()
