"""The main window: hosts the workstations the signed-in actor may use (``views.registry``), the status bar
(user, roles, this PC, 演示模式), the idle screen lock, and logout. It holds no business logic."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QStackedWidget,
    QWidget,
)

from desktop_his import APP_TITLE, __version__
from desktop_his.dialogs import messages
from desktop_his.dialogs.lock import LockOverlay
from desktop_his.dialogs.login import ChangePasswordDialog
from desktop_his.qt import ops
from desktop_his.qt.idle_lock import IdleWatcher
from desktop_his.services.enums import ROLE_LABELS
from desktop_his.views import registry

if TYPE_CHECKING:
    from desktop_his.services.container import Services
    from desktop_his.services.permissions import Actor

KEY_ROLE = Qt.ItemDataRole.UserRole


class MainWindow(QMainWindow):
    logged_out = Signal()

    def __init__(self, services: Services, actor: Actor, *, hospital_name: str,
                 idle_timeout_ms: int | None = None, entries: list[registry.Workstation] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("main_window")
        self.services, self.actor = services, actor
        self.entries = registry.visible_for(actor, entries)
        self._views: dict[str, QWidget] = {}
        self._busy = 0
        self._leaving = False
        title = f"{APP_TITLE} — {hospital_name}"
        self.setWindowTitle(title + (" — 演示模式" if services.demo_mode else ""))
        self._build_body()
        self._build_menu()
        self._build_status()
        self.overlay = LockOverlay(services, actor, self)
        self.overlay.unlocked.connect(self._unlocked)
        self.overlay.logout_requested.connect(self.logout)
        if idle_timeout_ms is None:
            idle_timeout_ms = services.settings.idle_lock_minutes * 60_000
        self.idle = IdleWatcher(idle_timeout_ms, self)
        self.idle.idle.connect(lambda: self.lock("idle"))
        self.resize(1280, 800)
        if self.entries:
            self.sidebar.setCurrentRow(self._row_of(self.entries[0].key))

    # ---------------------------------------------------------------------------------------- layout

    def _build_body(self) -> None:
        self.sidebar = QListWidget()
        self.sidebar.setObjectName("workstation_list")
        self.sidebar.setFixedWidth(180)
        self.stack = QStackedWidget()
        self.stack.setObjectName("workstation_stack")
        group = None
        for entry in self.entries:
            if entry.group != group:
                group = entry.group
                header = QListWidgetItem(group)
                header.setFlags(Qt.ItemFlag.NoItemFlags)
                header.setForeground(QColor("#666666"))
                self.sidebar.addItem(header)
            item = QListWidgetItem("  " + entry.title)
            item.setData(KEY_ROLE, entry.key)
            self.sidebar.addItem(item)
        self.sidebar.currentItemChanged.connect(self._item_changed)
        if not self.entries:
            roles = "、".join(ROLE_LABELS[r] for r in sorted(self.actor.roles)) or "无角色"
            empty = QLabel(f"当前账号（{roles}）在本版本中暂无可用的工作站。")
            empty.setObjectName("no_workstation")
            empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.stack.addWidget(empty)
        body = QWidget()
        layout = QHBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.sidebar)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(body)
        for n, entry in enumerate(self.entries[:9], start=1):
            QShortcut(QKeySequence(f"Ctrl+{n}"), self, lambda key=entry.key: self.open_workstation(key))

    def _build_menu(self) -> None:
        self._lockable: list[QAction] = []  # actions that must not run under the lock overlay
        menu = self.menuBar().addMenu("系统(&S)")
        for name, text, shortcut, slot in (
            ("action_lock", "锁定屏幕", "Ctrl+L", lambda: self.lock("manual")),
            ("action_change_password", "修改密码…", "", self.change_password),
            ("action_logout", "注销", "Ctrl+Shift+L", self.logout),
            ("action_quit", "退出", "Ctrl+Q", self.close),
        ):
            action = QAction(text, self)
            action.setObjectName(name)
            if shortcut:
                action.setShortcut(QKeySequence(shortcut))
            action.triggered.connect(slot)
            menu.addAction(action)
            if name in ("action_lock", "action_change_password"):
                self._lockable.append(action)
        about = QAction("关于…", self)
        about.setObjectName("action_about")
        about.triggered.connect(self._about)
        self.menuBar().addMenu("帮助(&H)").addAction(about)
        self._lockable.append(about)

    def _build_status(self) -> None:
        bar = self.statusBar()
        roles = "、".join(ROLE_LABELS[r] for r in sorted(self.actor.roles))
        for name, text in (("status_user", f"{self.actor.display_name}（{self.actor.username}）"),
                           ("status_roles", roles),
                           ("status_workstation", f"工作站：{self.actor.workstation}"),
                           ("status_view", "")):
            label = QLabel(text)
            label.setObjectName(name)
            label.setStyleSheet("padding: 0 10px; border-right: 1px solid #c8c8c8;")
            bar.addWidget(label)
        self.busy_label = QLabel("")
        self.busy_label.setObjectName("busy_indicator")
        bar.addPermanentWidget(self.busy_label)
        from desktop_his.services.permissions import Action  # the department's inbox (该居民退款失败 …)
        from desktop_his.views.inbox import InboxBadge

        if self.actor.can(Action.NOTIFICATIONS):
            bar.addPermanentWidget(InboxBadge(self.services, self.actor, self))
        if self.services.demo_mode:
            demo = QLabel("演示模式")
            demo.setObjectName("status_demo")
            demo.setStyleSheet("color: white; background: #e67e22; padding: 1px 8px; border-radius: 3px;")
            bar.addPermanentWidget(demo)

    # ------------------------------------------------------------------------------------ workstations

    def _row_of(self, key: str) -> int:
        for row in range(self.sidebar.count()):
            if self.sidebar.item(row).data(KEY_ROLE) == key:
                return row
        raise KeyError(key)

    def _item_changed(self, current: QListWidgetItem | None, _previous: Any) -> None:
        key = current.data(KEY_ROLE) if current is not None else None
        if key:
            self.open_workstation(key)

    def open_workstation(self, key: str) -> QWidget:
        """Show (building on first use) the workstation ``key``; returns its widget."""
        entry = next(e for e in self.entries if e.key == key)
        view = self._views.get(key)
        if view is None:
            view = entry.factory(self.services, self.actor, self.stack)
            view.setObjectName(view.objectName() or f"view_{key}")
            self._views[key] = view
            self.stack.addWidget(view)
        self.stack.setCurrentWidget(view)
        row = self._row_of(key)
        if self.sidebar.currentRow() != row:
            self.sidebar.setCurrentRow(row)
        self.findChild(QLabel, "status_view").setText(entry.title)
        return view

    def view(self, key: str) -> QWidget | None:
        return self._views.get(key)

    # ------------------------------------------------------------------------------------ busy (ops)

    def set_busy(self, text: str | None, on: bool) -> None:
        """Called by ``qt.ops`` for operations started with ``wait=…``."""
        self._busy = max(0, self._busy + (1 if on else -1))
        self.busy_label.setText((text or "请稍候…") if self._busy else "")

    # ------------------------------------------------------------------------------ lock and logout

    @property
    def locked(self) -> bool:
        return self.overlay.isVisible()

    def lock(self, reason: str = "manual") -> None:
        if self.locked or self._leaving:
            return
        self._focus_before_lock = QApplication.focusWidget()
        self.idle.pause()
        self._set_unlocked_ui(False)
        self.overlay.lock()
        auth, actor = self.services.auth, self.actor
        ops.run(self, lambda: auth.record_screen_lock(actor, reason=reason))

    def _set_unlocked_ui(self, enabled: bool) -> None:
        # Disabled, not destroyed: the work underneath stays exactly as it was.
        self.centralWidget().setEnabled(enabled)
        self.menuBar().setEnabled(enabled)
        for action in self._lockable:
            action.setEnabled(enabled)

    def _unlocked(self) -> None:
        self._set_unlocked_ui(True)
        self.idle.resume()
        previous = getattr(self, "_focus_before_lock", None)
        if previous is not None and self.isAncestorOf(previous):
            previous.setFocus()

    def logout(self) -> None:
        if self._leaving:
            return
        self._leaving = True
        self.idle.stop()
        auth, actor = self.services.auth, self.actor
        done = lambda *_: self._finish_logout()  # noqa: E731 - same ending on success and failure
        ops.run(self, lambda: auth.logout(actor), on_success=done, on_failure=done, wait="正在注销…")

    def _finish_logout(self) -> None:
        self.hide()
        self.logged_out.emit()

    def change_password(self) -> None:
        ChangePasswordDialog(self.services, self.actor, forced=False, parent=self).exec()

    def _about(self) -> None:
        settings = self.services.settings
        messages.info(self, f"{APP_TITLE} {__version__}\n\n数据目录：{settings.data_dir}\n日志目录：{settings.log_dir}"
                            f"\n数据库：{_safe_url(settings.effective_database_url)}", title="关于")

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        if not self._leaving:
            self._leaving = True
            self.idle.stop()
            auth, actor = self.services.auth, self.actor
            ops.run(None, lambda: auth.logout(actor, reason="exit"))
        super().closeEvent(event)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
