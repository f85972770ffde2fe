"""The one place views show a message box: ``error()``, ``warning()``, ``info()``, ``confirm()``, ``crash()``.

Tests patch these functions (see ``tests/views/conftest.py``); views always call them through the module
(``messages.error(self, "…")``) so the patch takes effect. Standard buttons read 确定/取消/是/否 through Qt's
Chinese translation (``qt.locale_setup``). ``QMessageBox`` is imported on first use: this module is on the
start-up path (``qt.ops`` imports it) and the login window should not wait for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMessageBox, QWidget


def _box(parent: QWidget | None, icon: str, title: str, text: str, buttons: tuple[str, ...],
         default: str, details: str | None = None) -> QMessageBox:
    from PySide6.QtWidgets import QMessageBox

    button = QMessageBox.StandardButton
    flags: Any = button[buttons[0]]
    for name in buttons[1:]:
        flags |= button[name]
    box = QMessageBox(QMessageBox.Icon[icon], title, text, flags, parent)
    box.setObjectName("message_box")
    box.setDefaultButton(button[default])
    if details:
        box.setDetailedText(details)
    return box


def error(parent: QWidget | None, text: str, *, title: str = "错误", details: str | None = None) -> None:
    _box(parent, "Critical", title, text, ("Ok",), "Ok", details).exec()


def warning(parent: QWidget | None, text: str, *, title: str = "注意") -> None:
    _box(parent, "Warning", title, text, ("Ok",), "Ok").exec()


def info(parent: QWidget | None, text: str, *, title: str = "提示") -> None:
    _box(parent, "Information", title, text, ("Ok",), "Ok").exec()


def confirm(parent: QWidget | None, text: str, *, title: str = "请确认", default_yes: bool = False) -> bool:
    """Yes/No question; Esc and closing the box mean No."""
    from PySide6.QtWidgets import QMessageBox

    box = _box(parent, "Question", title, text, ("Yes", "No"), "Yes" if default_yes else "No")
    box.setEscapeButton(QMessageBox.StandardButton.No)
    return box.exec() == QMessageBox.StandardButton.Yes


def crash(parent: QWidget | None, text: str, details: str) -> None:
    """An unexpected error (from ``sys.excepthook``): say it was logged, offer the details."""
    _box(parent, "Critical", "程序错误", text, ("Ok",), "Ok", details).exec()
