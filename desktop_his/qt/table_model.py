"""A table model over a list of row objects (services' frozen dataclasses), and a filter proxy with pinyin.

    COLUMNS = [Column("编码", lambda r: r.code), Column("名称", lambda r: r.name),
               Column("挂号费", lambda r: format_fen(r.fee_fen), sort=lambda r: r.fee_fen, align=RIGHT)]
    model = RecordTableModel(COLUMNS, search=lambda r: f"{r.name} {r.pinyin}", muted=lambda r: not r.active)
    proxy = FilterProxy(model)            # proxy.set_text("nk") keeps rows whose search text matches
    table.setModel(proxy); model.set_rows(rows)
    row = proxy.row_at(table.currentIndex())

Every model is checked in tests with pytest-qt's ``qtmodeltester``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush, QColor

from desktop_his.services import pinyin

RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
CENTER = Qt.AlignmentFlag.AlignCenter
ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # the row object
SORT_ROLE = Qt.ItemDataRole.UserRole + 2  # the column's sort key
MUTED = QBrush(QColor("#8a8a8a"))

Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Column:
    title: str
    value: Callable[[Any], Any]
    sort: Callable[[Any], Any] | None = None
    align: Qt.AlignmentFlag = LEFT
    tooltip: Callable[[Any], str] | None = None


class RecordTableModel(QAbstractTableModel):
    def __init__(self, columns: Sequence[Column], *, search: Callable[[Any], str] | None = None,
                 muted: Callable[[Any], bool] | None = None, parent: Any = None) -> None:
        super().__init__(parent)
        self.columns = list(columns)
        self._rows: list[Any] = []
        self._search = search
        self._muted = muted

    # ------------------------------------------------------------------------------------------- rows

    def set_rows(self, rows: Sequence[Any]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def rows(self) -> list[Any]:
        return list(self._rows)

    def row(self, i: int) -> Any:
        return self._rows[i]

    def find(self, predicate: Callable[[Any], bool]) -> int:
        """Row number of the first row matching ``predicate``, or -1."""
        return next((i for i, r in enumerate(self._rows) if predicate(r)), -1)

    def search_text(self, i: int) -> str:
        row = self._rows[i]
        if self._search is not None:
            return self._search(row)
        return " ".join(str(c.value(row)) for c in self.columns)

    # ---------------------------------------------------------------------------------------- Qt API

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row, column = self._rows[index.row()], self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            value = column.value(row)
            return "" if value is None else str(value)
        if role == SORT_ROLE:
            return (column.sort or column.value)(row)
        if role == ROW_ROLE:
            return row
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(column.align.value)
        if role == Qt.ItemDataRole.ToolTipRole and column.tooltip is not None:
            return column.tooltip(row)
        if role == Qt.ItemDataRole.ForegroundRole and self._muted is not None and self._muted(row):
            return MUTED
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.columns):
            return self.columns[section].title
        if orientation == Qt.Orientation.Vertical:
            return str(section + 1)
        return None


class FilterProxy(QSortFilterProxyModel):
    """Sorts by each column's sort key; filters by free text (name substring or pinyin initials)."""

    def __init__(self, model: RecordTableModel, parent: Any = None) -> None:
        super().__init__(parent)
        self.setSourceModel(model)
        self.setSortRole(SORT_ROLE)
        self._text = ""
        self._extra: Callable[[Any], bool] | None = None

    def set_text(self, text: str) -> None:
        self._refilter(lambda: setattr(self, "_text", text.strip().lower()))

    def set_predicate(self, predicate: Callable[[Any], bool] | None) -> None:
        """An extra condition on the row object (e.g. a kind chosen in a combo box)."""
        self._refilter(lambda: setattr(self, "_extra", predicate))

    def _refilter(self, change: Callable[[], None]) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt ≥ 6.9
            self.beginFilterChange()
            change()
            self.endFilterChange()
        else:
            change()
            self.invalidateRowsFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        model: RecordTableModel = self.sourceModel()  # type: ignore[assignment]
        if self._extra is not None and not self._extra(model.row(source_row)):
            return False
        if not self._text:
            return True
        haystack = model.search_text(source_row).lower()
        return self._text in haystack or pinyin.matches(self._text, haystack, haystack)

    def lessThan(self, left: Index, right: Index) -> bool:
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        try:
            return a < b
        except TypeError:  # None against a value: None sorts first
            return (a is not None, str(a)) < (b is not None, str(b))

    def row_at(self, index: Index) -> Any:
        """The row object behind a proxy index (None for an invalid index)."""
        if not index.isValid():
            return None
        return self.mapToSource(index).data(ROW_ROLE)
