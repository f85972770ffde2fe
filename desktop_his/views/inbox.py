"""A department's inbox (消息): notices such as "该居民退款失败" for the signed-in staff member's department
(finance sees every department's). Usable inside any view (``InboxWidget``) and as its own workstation
(``InboxPage``) and from the main window's status-bar badge (``InboxBadge`` → ``InboxDialog``).
New notices arrive through the live feed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop_his.qt import ops
from desktop_his.qt.live_bridge import LiveSignal
from desktop_his.qt.table_model import RIGHT, Column, RecordTableModel
from desktop_his.services.money import format_fen
from desktop_his.views.inpatient.common import table

if TYPE_CHECKING:
    from desktop_his.services.container import Services
    from desktop_his.services.notifications import NoticeRow
    from desktop_his.services.permissions import Actor

COLUMNS = [
    Column("", lambda n: "●" if n.read_at is None else ""),
    Column("时间", lambda n: f"{n.created_at:%Y-%m-%d %H:%M}", sort=lambda n: n.created_at),
    Column("科室", lambda n: n.department),
    Column("金额", lambda n: format_fen(n.amount_fen, symbol=True) if n.amount_fen is not None else "", align=RIGHT),
    Column("标题", lambda n: n.title),
]


class InboxWidget(QWidget):
    """The notices list with the selected notice's full text and 标为已读."""

    unread_changed = Signal(int)

    def __init__(self, services: Services, actor: Actor, parent: QWidget | None = None, *,
                 prefix: str = "inbox") -> None:
        super().__init__(parent)
        self.setObjectName(f"{prefix}_widget")
        self.services, self.actor, self.prefix = services, actor, prefix
        self.model = RecordTableModel(COLUMNS, parent=self)
        self.unread_only = QCheckBox("只看未读")
        self.unread_only.setObjectName(f"{prefix}_unread_only")
        self.unread_only.toggled.connect(lambda _on: self.refresh())
        self.count_label = QLabel()
        self.count_label.setObjectName(f"{prefix}_count")
        self.read_button = QPushButton("标为已读")
        self.read_button.setObjectName(f"{prefix}_mark_read")
        self.read_button.setEnabled(False)
        self.read_button.clicked.connect(lambda _c=False: self.mark_read())
        refresh = QPushButton("刷新")
        refresh.setObjectName(f"{prefix}_refresh")
        refresh.clicked.connect(lambda _c=False: self.refresh())
        self.table = table(f"{prefix}_table", self.model, self)
        self.table.selectionModel().currentRowChanged.connect(lambda cur, _prev: self._show(cur.row()))
        self.body = QTextBrowser()
        self.body.setObjectName(f"{prefix}_body")
        self.body.setMaximumHeight(110)
        bar = QHBoxLayout()
        bar.addWidget(self.count_label, 1)
        bar.addWidget(self.unread_only)
        bar.addWidget(self.read_button)
        bar.addWidget(refresh)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.body)
        topics = ["notifications:"]
        self.live = LiveSignal(services.feed, topics, self)
        self.live.changed.connect(lambda _topics: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        svc, actor, unread = self.services.notifications, self.actor, self.unread_only.isChecked()
        ops.run(self, lambda: (svc.inbox(actor, unread_only=unread), svc.unread_count(actor)), on_success=self._loaded)

    def _loaded(self, data: tuple[list[NoticeRow], int]) -> None:
        rows, unread = data
        self.model.set_rows(rows)
        self.count_label.setText(f"未读 {unread} 条，共显示 {len(rows)} 条")
        self.unread_changed.emit(unread)
        self.read_button.setEnabled(False)
        self.body.clear()

    def _show(self, row: int) -> None:
        notice = self.model.row(row) if 0 <= row < self.model.rowCount() else None
        self.read_button.setEnabled(notice is not None and notice.read_at is None)
        self.body.setPlainText(f"{notice.title}\n{notice.body}" if notice else "")

    def mark_read(self) -> None:
        row = self.table.currentIndex().row()
        if row < 0:
            return
        notice: Any = self.model.row(row)
        svc, actor = self.services.notifications, self.actor
        ops.run(self, lambda: svc.mark_read(actor, notice.id), on_success=lambda _r: self.refresh(),
                disable=[self.read_button])


class InboxPage(InboxWidget):
    """The 消息 workstation."""

    def __init__(self, services: Services, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(services, actor, parent, prefix="inbox")
        self.setObjectName("inbox_page")


class InboxDialog(QDialog):
    """The inbox in its own window (opened from the status-bar badge)."""

    def __init__(self, services: Services, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inbox_dialog")
        self.setWindowTitle("消息")
        self.resize(820, 480)
        self.inbox = InboxWidget(services, actor, self, prefix="inbox")
        layout = QVBoxLayout(self)
        layout.addWidget(self.inbox)


class InboxBadge(QPushButton):
    """Status-bar button "消息 N": the unread notices of the actor's department; a click opens the inbox."""

    def __init__(self, services: Services, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__("消息", parent)
        self.setObjectName("status_inbox")
        self.setFlat(True)
        self.services, self.actor = services, actor
        self.dialog: InboxDialog | None = None
        self.clicked.connect(lambda _c=False: self.open_inbox())
        self.live = LiveSignal(services.feed, ["notifications:"], self)
        self.live.changed.connect(lambda _topics: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        svc, actor = self.services.notifications, self.actor
        ops.run(self, lambda: svc.unread_count(actor), on_success=self.show_count)

    def show_count(self, unread: int) -> None:
        self.setText(f"消息 {unread}" if unread else "消息")
        self.setStyleSheet("color: white; background: #c0392b; padding: 1px 8px; border-radius: 3px;"
                           if unread else "padding: 1px 8px;")
        self.setToolTip(f"本科室未读消息 {unread} 条（如“该居民退款失败”），点击查看" if unread else "本科室消息")

    def open_inbox(self) -> InboxDialog:
        if self.dialog is None:
            self.dialog = InboxDialog(self.services, self.actor, self.window())
            self.dialog.inbox.unread_changed.connect(self.show_count)
        self.dialog.show()
        self.dialog.activateWindow()
        return self.dialog
