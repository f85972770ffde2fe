"""Order entry (开立医嘱): search the catalogue by pinyin initials, Chinese or code (``amxl`` finds
阿莫西林…), pick with Enter, set the quantity and usage, and submit the whole order (F9). The lines live
here until submit; :class:`DoctorStation` sends them (``submit_requested``) and clears them when accepted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget

from desktop_his.qt import ops
from desktop_his.qt.table_model import RIGHT, Column, RecordTableModel
from desktop_his.qt.widgets import action_button
from desktop_his.services.orders import MAX_QUANTITY, CatalogHit, OrderLine
from desktop_his.views.inpatient.common import label, table, yuan

if TYPE_CHECKING:
    from collections.abc import Callable

SEARCH_DELAY_MS = 200

HIT_COLUMNS = [
    Column("名称", lambda h: h.name), Column("类别", lambda h: h.kind_label), Column("规格", lambda h: h.spec),
    Column("单价", lambda h: f"{yuan(h.price_fen)}/{h.unit}", sort=lambda h: h.price_fen, align=RIGHT),
    Column("执行地点", lambda h: h.exec_location), Column("编码", lambda h: h.code),
]


@dataclass(frozen=True)
class DraftLine:
    hit: CatalogHit
    quantity: int
    usage: str

    @property
    def amount_fen(self) -> int:
        return self.hit.price_fen * self.quantity


LINE_COLUMNS = [
    Column("项目", lambda line: line.hit.name), Column("数量", lambda line: f"{line.quantity}{line.hit.unit}"),
    Column("金额", lambda line: yuan(line.amount_fen), sort=lambda line: line.amount_fen, align=RIGHT),
    Column("用法", lambda line: line.usage), Column("执行地点", lambda line: line.hit.exec_location),
]


class OrderComposer(QWidget):
    submit_requested = Signal(object)  # list[OrderLine]

    def __init__(self, search: Callable[[str], list[CatalogHit]], *, prefix: str = "doctor",
                 submit_text: str = "提交医嘱 (F9)", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._search_fn = search
        self.hits_query: str | None = None  # the query the hits shown answer
        self._add_when_found = False  # Enter pressed before the hits of the typed text arrived
        self.hits = RecordTableModel(HIT_COLUMNS, parent=self)
        self.lines = RecordTableModel(LINE_COLUMNS, parent=self)
        self.search = QLineEdit()
        self.search.setObjectName(f"{prefix}_search")
        self.search.setPlaceholderText("检索项目：拼音首字母、名称或编码（Ctrl+K），↓ 选择，Enter 加入")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda _t: self._timer.start())
        self.search.returnPressed.connect(self._enter)
        self._timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.run_search)
        self.hit_table = table(f"{prefix}_catalog", self.hits, self)
        self.hit_table.doubleClicked.connect(lambda _i: self.add_current())
        self.quantity = QSpinBox()
        self.quantity.setObjectName(f"{prefix}_quantity")
        self.quantity.setRange(1, MAX_QUANTITY)
        self.quantity.setPrefix("数量 ")
        self.usage = QLineEdit()
        self.usage.setObjectName(f"{prefix}_usage")
        self.usage.setPlaceholderText("用法用量（药品，选填）")
        self.usage.returnPressed.connect(self.add_current)
        add = self._button("加入 (Enter)", f"{prefix}_add", self.add_current)
        remove = self._button("删除所选", f"{prefix}_remove", self.remove_current)
        self.line_table = table(f"{prefix}_lines", self.lines, self)
        self.total = label(f"{prefix}_draft_total", wrap=False)
        self.submit_button = self._button(submit_text, f"{prefix}_submit", self.request_submit)
        self.submit_button.setDefault(False)
        pick = QHBoxLayout()
        pick.addWidget(self.quantity)
        pick.addWidget(self.usage, 1)
        pick.addWidget(add)
        bottom = QHBoxLayout()
        bottom.addWidget(remove)
        bottom.addWidget(self.total, 1)
        bottom.addWidget(self.submit_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search)
        layout.addWidget(self.hit_table, 2)
        layout.addLayout(pick)
        layout.addWidget(self.line_table, 2)
        layout.addLayout(bottom)
        for key, slot in (("Ctrl+K", self.search.setFocus), ("F9", self.request_submit),
                          ("Delete", self.remove_current)):
            shortcut = QShortcut(QKeySequence(key), self, slot)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.search.installEventFilter(self)
        self._show_total()

    def _button(self, text: str, name: str, slot: Any) -> QPushButton:
        return action_button(text, name, slot)

    def eventFilter(self, watched: Any, event: Any) -> bool:  # noqa: N802 - Qt's name
        """↓/↑ in the search box move through the hits without leaving it."""
        from PySide6.QtCore import QEvent

        if watched is self.search and event.type() == QEvent.Type.KeyPress and event.key() in (
                Qt.Key.Key_Down, Qt.Key.Key_Up) and self.hits.rowCount():
            row = self.hit_table.currentIndex().row()
            row = min(row + 1, self.hits.rowCount() - 1) if event.key() == Qt.Key.Key_Down else max(row - 1, 0)
            self.hit_table.selectRow(row)
            return True
        return super().eventFilter(watched, event)

    # ------------------------------------------------------------------------------------------ search

    def run_search(self) -> None:
        query, search = self.search.text(), self._search_fn
        ops.run(self, lambda: (query, search(query)), on_success=self._found)

    def _found(self, answer: tuple[str, list[CatalogHit]]) -> None:
        query, hits = answer
        if query != self.search.text():
            return  # typed on meanwhile: a newer search is on its way
        self.hits.set_rows(hits)
        self.hits_query = query
        if hits:
            self.hit_table.selectRow(0)
        if self._add_when_found:
            self._add_when_found = False
            self.add_current()

    def _enter(self) -> None:
        """Enter in the search box adds the selected hit — of the text typed, not of an earlier search."""
        if self.hits_query == self.search.text():
            self.add_current()
            return
        self._add_when_found = True
        self._timer.stop()
        self.run_search()

    # ------------------------------------------------------------------------------------------ lines

    def add_current(self) -> None:
        row = self.hit_table.currentIndex().row()
        if not 0 <= row < self.hits.rowCount():
            return
        self.add(self.hits.row(row), self.quantity.value(), self.usage.text().strip())

    def add(self, hit: CatalogHit, quantity: int = 1, usage: str = "") -> None:
        self.lines.set_rows([*self.lines.rows(), DraftLine(hit, quantity, usage)])
        self.quantity.setValue(1)
        self.usage.clear()
        self.search.selectAll()
        self.search.setFocus()
        self._show_total()

    def remove_current(self) -> None:
        row = self.line_table.currentIndex().row()
        if 0 <= row < self.lines.rowCount():
            rows = self.lines.rows()
            del rows[row]
            self.lines.set_rows(rows)
            self._show_total()

    def clear(self) -> None:
        self.lines.set_rows([])
        self.search.clear()
        self.hits.set_rows([])
        self.hits_query = None
        self._show_total()

    def order_lines(self) -> list[OrderLine]:
        return [OrderLine(line.hit.id, line.quantity, line.usage) for line in self.lines.rows()]

    def request_submit(self) -> None:
        if self.submit_button.isEnabled() and self.lines.rowCount():
            self.submit_requested.emit(self.order_lines())

    def _show_total(self) -> None:
        rows = self.lines.rows()
        self.total.setText(f"共 {len(rows)} 项，合计 {yuan(sum(r.amount_fen for r in rows))}")
        self.submit_button.setEnabled(bool(rows))
