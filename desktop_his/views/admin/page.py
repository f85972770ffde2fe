"""The shape every administration page shares: a filterable table on the left, the record's form on the
right, keyboard first (Ctrl+N new, Enter save, Esc cancel, F2 edit, F5 reload, Ctrl+F filter).

A page subclass declares ``key`` (objectName prefix), ``noun``, ``columns``, ``topics`` (live feed) and
implements ``build_form``, ``fill``, ``collect``, ``save_work``, ``loader`` and ``show_data``. All database
work goes through ``qt.ops`` (``save_work``/``loader`` return the callable for the worker, capturing only
services and plain values — never a widget); errors land at their field through ``self.errors``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop_his.qt import ops
from desktop_his.qt.field_errors import FieldErrors
from desktop_his.qt.live_bridge import LiveSignal
from desktop_his.qt.table_model import Column, FilterProxy, RecordTableModel
from desktop_his.services.errors import HisError

if TYPE_CHECKING:
    from desktop_his.services.container import Services
    from desktop_his.services.permissions import Actor

OK_STYLE = "color: #1e8449;"


class FormPage(QWidget):
    key = ""
    noun = ""
    columns: list[Column] = []
    topics: tuple[str, ...] = ()

    def __init__(self, services: Services, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"{self.key}_page")
        self.services, self.actor = services, actor
        self.editing: Any = None  # the row in the form, None for a new record
        self._select_after_load: int | None = None
        self._reloading = False
        self.model = RecordTableModel(self.columns, search=self.search_text, muted=self.is_muted, parent=self)
        self.proxy = FilterProxy(self.model, self)
        self._build()
        if self.topics:
            self.live = LiveSignal(services.feed, self.topics, self)
            self.live.changed.connect(lambda _topics: self.refresh())
        self.new()
        self.refresh()

    # ------------------------------------------------------------------------------------- subclass API

    def build_form(self, form: QFormLayout) -> None:
        raise NotImplementedError

    def fill(self, row: Any) -> None:
        """Put ``row`` into the form (``None``: an empty form for a new record)."""
        raise NotImplementedError

    def collect(self) -> Any:
        """Read the form into the service's form dataclass (no validation: the service does that)."""
        raise NotImplementedError

    def save_work(self, row: Any, form: Any) -> Callable[[], Any]:
        """The worker-thread call that saves ``form`` (``row`` None: create). Its result has an ``id``."""
        raise NotImplementedError

    def loader(self) -> Callable[[], Any]:
        """The worker-thread call fetching what the page shows."""
        raise NotImplementedError

    def show_data(self, data: Any) -> None:
        """GUI thread: put the loader's result on screen (at least ``self.model.set_rows``)."""
        self.model.set_rows(data)

    def search_text(self, row: Any) -> str:
        return " ".join(str(getattr(row, a, "")) for a in ("code", "name", "pinyin", "full_name", "username"))

    def is_muted(self, row: Any) -> bool:
        return not getattr(row, "active", True)

    def describe(self, row: Any) -> str:
        return getattr(row, "name", "") or getattr(row, "full_name", "") or str(getattr(row, "id", ""))

    def saved_row(self, result: Any) -> Any:
        return getattr(result, "row", result)

    def saved_message(self, result: Any) -> str:
        return f"已保存{self.noun}“{self.describe(self.saved_row(result))}”"

    # ----------------------------------------------------------------------------------------- layout

    def _build(self) -> None:
        self.filter = QLineEdit()
        self.filter.setObjectName(f"{self.key}_filter")
        self.filter.setPlaceholderText("筛选：名称或拼音首字母（Ctrl+F）")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.proxy.set_text)
        self.toolbar = QHBoxLayout()
        self.toolbar.addWidget(self.filter, 1)
        self.new_button = self.add_button("新建 (Ctrl+N)", "new", self.new, "Ctrl+N")
        self.add_button("刷新 (F5)", "refresh", self.refresh, "F5")
        self.table = QTableView()
        self.table.setObjectName(f"{self.key}_table")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        # Start in the services' own order (e.g. departments by their sort order); a header click sorts.
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.table.activated.connect(lambda _index: self.focus_form())
        self.form_box = QGroupBox()
        self.form_box.setObjectName(f"{self.key}_form")
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        general = QLabel()
        general.setObjectName(f"{self.key}_form_error")
        general.setWordWrap(True)
        general.hide()
        self.errors = FieldErrors(self, general=general)
        self.build_form(form)
        self.message = QLabel()
        self.message.setObjectName(f"{self.key}_message")
        self.message.setStyleSheet(OK_STYLE)
        self.message.setWordWrap(True)
        self.save_button = QPushButton("保存 (Enter)")
        self.save_button.setObjectName(f"{self.key}_save")
        self.save_button.clicked.connect(self.save)
        cancel = QPushButton("取消 (Esc)")
        cancel.setObjectName(f"{self.key}_cancel")
        cancel.clicked.connect(self.cancel)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(cancel)
        box = QVBoxLayout(self.form_box)
        box.addLayout(form)
        box.addWidget(general)
        box.addLayout(buttons)
        box.addWidget(self.message)
        box.addStretch(1)
        splitter = QSplitter()
        splitter.addWidget(self.table)
        splitter.addWidget(self.form_box)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(self.toolbar)
        layout.addWidget(splitter, 1)
        self._shortcut("Ctrl+F", self.filter.setFocus, self)
        self._shortcut("F2", self.focus_form, self)
        for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._shortcut(QKeySequence(key), self.save, self.form_box)
        self._shortcut(QKeySequence(Qt.Key.Key_Escape), self.cancel, self.form_box)

    def add_button(self, text: str, name: str, slot: Callable[[], None], shortcut: str = "") -> QPushButton:
        """A toolbar button ``<key>_<name>`` (with a page-wide shortcut)."""
        button = QPushButton(text)
        button.setObjectName(f"{self.key}_{name}")
        button.clicked.connect(slot)
        self.toolbar.addWidget(button)
        if shortcut:
            self._shortcut(shortcut, button.click, self)
        return button

    @staticmethod
    def _shortcut(key: str | QKeySequence, slot: Callable[[], None], parent: QWidget) -> QShortcut:
        shortcut = QShortcut(QKeySequence(key), parent, slot)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        return shortcut

    def field(self, widget: QWidget, name: str) -> QWidget:
        """Give ``widget`` its objectName ``<key>_<name>`` and register it for errors about ``name``."""
        widget.setObjectName(f"{self.key}_{name}")
        return self.errors.add(name, widget)

    # ------------------------------------------------------------------------------------------ flow

    def refresh(self) -> None:
        ops.run(self, self.loader(), on_success=self._loaded)

    def _loaded(self, data: Any) -> None:
        keep = self._select_after_load or (self.editing.id if self.editing is not None else None)
        self._select_after_load = None
        selection = self.table.selectionModel()
        self._reloading = True  # re-selecting the same record must not overwrite what is being typed
        try:
            self.show_data(data)
            row = self.model.find(lambda r: r.id == keep) if keep is not None else -1
            if row >= 0:
                self.editing = self.model.row(row)
                index = self.proxy.mapFromSource(self.model.index(row, 0))
                selection.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                                          | QItemSelectionModel.SelectionFlag.Rows)
                self.table.scrollTo(index)
        finally:
            self._reloading = False
        self.after_load()

    def after_load(self) -> None:
        """GUI thread, after every reload (e.g. to refresh the selected record's extra buttons)."""

    def _current_changed(self, current: Any, _previous: Any) -> None:
        row = self.proxy.row_at(current)
        if row is not None and not self._reloading:
            self._edit(row)

    def _edit(self, row: Any) -> None:
        self.editing = row
        self.errors.clear()
        self.message.clear()
        self.form_box.setTitle(f"编辑{self.noun}：{self.describe(row)}")
        self.fill(row)
        self.after_load()

    def new(self) -> None:
        self.table.selectionModel().clearSelection()
        self.table.selectionModel().clearCurrentIndex()
        self.editing = None
        self.errors.clear()
        self.form_box.setTitle(f"新建{self.noun}")
        self.fill(None)
        self.after_load()
        self.focus_form()

    def cancel(self) -> None:
        if self.editing is not None:
            self._edit(self.editing)
        else:
            self.new()

    def focus_form(self) -> None:
        first = next((w for w in self.form_box.findChildren(QWidget)
                      if w.isEnabled() and w.isVisibleTo(self.form_box) and w.focusPolicy() & Qt.FocusPolicy.TabFocus
                      and not isinstance(w, QPushButton)), None)
        if first is not None:
            first.setFocus()

    def save(self) -> None:
        if not self.save_button.isEnabled():
            return  # a save is already running
        try:
            form = self.collect()
        except HisError as exc:
            self.errors.show(exc)
            return
        self.message.clear()
        ops.run(self, self.save_work(self.editing, form), on_success=self._saved, errors=self.errors,
                wait="正在保存…", disable=[self.save_button])

    def _saved(self, result: Any) -> None:
        row = self.saved_row(result)
        self.errors.clear()
        self._select_after_load = row.id
        self.editing = row
        self.fill(row)  # the form now shows the record as stored (normalised code, pinyin …)
        self.form_box.setTitle(f"编辑{self.noun}：{self.describe(row)}")
        self.message.setText(self.saved_message(result))
        self.after_load()
        self.refresh()
