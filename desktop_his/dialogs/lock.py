"""The screen lock: an opaque overlay over the whole main window; the work underneath stays as it was."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop_his.dialogs import messages
from desktop_his.dialogs.login import _password_edit
from desktop_his.qt import ops
from desktop_his.qt.field_errors import FieldErrors

if TYPE_CHECKING:
    from desktop_his.services.container import Services
    from desktop_his.services.permissions import Actor


class LockOverlay(QWidget):
    """Covers the whole main window while locked; the work underneath stays as it was.

    Emits ``unlocked`` after the same user's password was verified, ``logout_requested`` for 注销."""

    unlocked = Signal()
    logout_requested = Signal()

    def __init__(self, services: Services, actor: Actor, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("lock_overlay")
        # Opaque: nothing of the work underneath (patients' names …) shows while the PC is unattended.
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet("#lock_overlay { background: #2c3e50; } #lock_overlay QLabel { color: white; }"
                           " #lock_overlay QLabel#unlock_password_error { color: #ffb4a8; }")
        self.services, self.actor = services, actor
        self.password = _password_edit("unlock_password", "密码")
        self.errors = FieldErrors(self)
        self.unlock_button = QPushButton("解锁")
        self.unlock_button.setObjectName("unlock_button")
        self.unlock_button.clicked.connect(self.submit)
        self.password.returnPressed.connect(self.submit)
        logout = QPushButton("注销")
        logout.setObjectName("logout_button")
        logout.clicked.connect(self.logout_requested)
        heading = QLabel("屏幕已锁定")
        heading.setObjectName("lock_heading")
        font = QFont(heading.font())
        font.setPointSizeF(font.pointSizeF() * 1.8)
        heading.setFont(font)
        who = QLabel(f"{actor.display_name}（{actor.username}）请输入密码解锁")
        box = QWidget()
        box.setMaximumWidth(380)
        inner = QVBoxLayout(box)
        inner.addWidget(heading, 0, Qt.AlignmentFlag.AlignHCenter)
        inner.addWidget(who, 0, Qt.AlignmentFlag.AlignHCenter)
        inner.addWidget(self.errors.add("password", self.password))
        row = QHBoxLayout()
        row.addWidget(self.unlock_button)
        row.addWidget(logout)
        inner.addLayout(row)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(box, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.password.clear)
        parent.installEventFilter(self)
        self.hide()

    def lock(self) -> None:
        self.setGeometry(self.parentWidget().rect())
        self.password.clear()
        self.errors.clear()
        self.show()
        self.raise_()
        self.password.setFocus()

    def submit(self) -> None:
        auth, actor, password = self.services.auth, self.actor, self.password.text()
        ops.run(self, lambda: auth.unlock(actor, password), on_success=self._unlocked, on_failure=self._failed,
                wait="正在验证…", disable=[self.unlock_button])

    def _unlocked(self, _result: object) -> None:
        self.password.clear()
        self.hide()
        self.unlocked.emit()

    def _failed(self, error: BaseException) -> None:
        self.password.clear()
        if getattr(error, "code", None) in ("locked_out", "disabled"):
            messages.warning(self, f"{error}\n\n将注销当前账号。")
            self.logout_requested.emit()
            return
        ops.report_error(self, error, self.errors)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if watched is self.parentWidget() and event.type() == QEvent.Type.Resize:
            self.setGeometry(self.parentWidget().rect())
        return False
