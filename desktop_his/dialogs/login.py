"""The login window and the forced password change (the screen lock is ``dialogs.lock``).

The login window shows before the database is ready (start-up stays fast): the fields take input at once and
the 登录 button is enabled by :meth:`LoginDialog.set_backend` once the services exist. This module is on the
start-up path: it must not touch ``PySide6.QtCore.Qt`` (building that namespace costs ~50 ms) nor import
the services' heavy modules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_his import APP_TITLE
from desktop_his.qt import ops
from desktop_his.qt.field_errors import FieldErrors
from desktop_his.services.errors import ValidationError

if TYPE_CHECKING:
    from desktop_his.services.auth import LoginResult
    from desktop_his.services.container import Services
    from desktop_his.services.permissions import Actor

DEMO_HINT = ("演示账号（密码）：admin（admin123）系统管理员 · cashier1（cashier123）挂号收费 · "
             "doctor1（doctor123）门诊医生 · admission1（admission123）住院处 · nurse1（nurse123）预防接种 · "
             "finance1（finance123）财务结算")


def _password_edit(name: str, placeholder: str = "") -> QLineEdit:
    edit = QLineEdit()
    edit.setObjectName(name)
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setPlaceholderText(placeholder)
    return edit


class LoginDialog(QDialog):
    """Emits ``logged_in(LoginResult)``; never closes on its own (the app controller hides it)."""

    logged_in = Signal(object)
    first_shown = Signal()
    retry_requested = Signal()

    def __init__(self, *, hospital_name: str, workstation: str, demo: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("login_dialog")
        self.setWindowTitle(f"登录 — {APP_TITLE}" + ("（演示模式）" if demo else ""))
        self.services: Services | None = None
        self.workstation = workstation
        self._shown_once = False
        self._build(hospital_name, demo)

    def _build(self, hospital_name: str, demo: bool) -> None:
        title = QLabel(hospital_name)
        title.setObjectName("login_hospital")
        font = QFont(title.font())
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        title.setFont(font)
        subtitle = QLabel(APP_TITLE + ("　演示模式" if demo else ""))
        subtitle.setObjectName("login_subtitle")
        self.username = QLineEdit()
        self.username.setObjectName("login_username")
        self.username.setPlaceholderText("用户名")
        self.password = _password_edit("login_password", "密码")
        self.general = QLabel()
        self.general.setObjectName("login_error")
        self.general.setWordWrap(True)
        self.general.hide()
        self.errors = FieldErrors(self, general=self.general)
        form = QFormLayout()
        form.addRow("用户名", self.errors.add("username", self.username))
        form.addRow("密码", self.errors.add("password", self.password))
        self.status = QLabel("正在连接数据库…")
        self.status.setObjectName("login_status")
        self.login_button = QPushButton("登录")
        self.login_button.setObjectName("login_button")
        self.login_button.setDefault(True)
        self.login_button.setEnabled(False)
        self.login_button.clicked.connect(self.submit)
        self.retry_button = QPushButton("重试")
        self.retry_button.setObjectName("login_retry")
        self.retry_button.hide()
        self.retry_button.clicked.connect(self._retry)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.retry_button)
        buttons.addWidget(self.login_button)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(subtitle)
        layout.addSpacing(8)
        layout.addLayout(form)
        layout.addWidget(self.general)
        layout.addLayout(buttons)
        if demo:
            hint = QLabel(DEMO_HINT)
            hint.setObjectName("login_demo_hint")
            hint.setWordWrap(True)
            layout.addWidget(hint)
        self.setMinimumWidth(460)
        self.username.setFocus()

    # -------------------------------------------------------------------------------- backend readiness

    def set_backend(self, services: Services, *, hospital_name: str | None = None) -> None:
        self.services = services
        if hospital_name:
            self.findChild(QLabel, "login_hospital").setText(hospital_name)
        self.status.setText("")
        self.retry_button.hide()
        self.login_button.setEnabled(True)

    def set_backend_error(self, message: str) -> None:
        self.status.setText("")
        self.errors.show_message(None, message)
        self.retry_button.show()
        self.login_button.setEnabled(False)

    def set_status(self, text: str) -> None:
        self.status.setText(text)

    def _retry(self) -> None:
        self.errors.clear()
        self.retry_button.hide()
        self.status.setText("正在连接数据库…")
        self.retry_requested.emit()

    # ------------------------------------------------------------------------------------------- login

    def submit(self) -> None:
        if self.services is None or not self.login_button.isEnabled():
            return
        auth, username, password = self.services.auth, self.username.text(), self.password.text()
        ops.run(self, lambda: auth.login(username, password, workstation=self.workstation),
                on_success=self._succeeded, on_failure=self._failed, wait="正在登录…",
                disable=[self.login_button])

    def _succeeded(self, result: LoginResult) -> None:
        self.errors.clear()
        self.password.clear()
        self.logged_in.emit(result)

    def _failed(self, error: BaseException) -> None:
        self.password.clear()
        ops.report_error(self, error, self.errors)
        if getattr(error, "field", None) == "username":
            self.username.setFocus()
        else:
            self.password.setFocus()

    def reset(self) -> None:
        """Back to an empty form (after a logout)."""
        self.password.clear()
        self.errors.clear()
        self.username.selectAll()
        self.username.setFocus()

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            QTimer.singleShot(0, self.first_shown.emit)

    def reject(self) -> None:  # Esc clears the password rather than closing the only window
        self.password.clear()


class ChangePasswordDialog(QDialog):
    """The signed-in user changes their own password (forced after a reset)."""

    def __init__(self, services: Services, actor: Actor, *, forced: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("change_password_dialog")
        self.setWindowTitle("修改密码")
        self.services, self.actor = services, actor
        self.old = _password_edit("password_old")
        self.new = _password_edit("password_new", "至少 8 位，含字母和数字")
        self.confirm = _password_edit("password_confirm")
        self.errors = FieldErrors(self)
        form = QFormLayout(self)
        if forced:
            note = QLabel("首次登录或密码被重置后，须先修改密码。")
            note.setObjectName("password_forced_note")
            form.addRow(note)
        form.addRow("原密码", self.errors.add("old_password", self.old))
        form.addRow("新密码", self.errors.add("new_password", self.new))
        form.addRow("确认新密码", self.errors.add("confirm", self.confirm))
        self.save_button = QPushButton("确定")
        self.save_button.setObjectName("password_save")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.submit)
        cancel = QPushButton("取消")
        cancel.setObjectName("password_cancel")
        cancel.clicked.connect(self.reject)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.save_button)
        row.addWidget(cancel)
        form.addRow(row)

    def submit(self) -> None:
        old, new = self.old.text(), self.new.text()
        if new != self.confirm.text():
            self.errors.show(ValidationError("两次输入的新密码不一致", field="confirm"))
            return
        auth, actor = self.services.auth, self.actor
        ops.run(self, lambda: auth.change_password(actor, old, new), on_success=lambda _: self.accept(),
                errors=self.errors, wait="正在保存…", disable=[self.save_button])
