"""The one place views show a message box: ``error()``, ``warning()``, ``info()``, ``confirm()``, ``crash()``.

Tests patch these functions (see ``tests/views/conftest.py``); views always call them through the module
(``messages.error(self, "…")``) so the patch takes effect. Standard buttons read 确定/取消/是/否 through Qt's
Chinese translation (``qt.locale_setup``).
"""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

Icon = QMessageBox.Icon
Button = QMessageBox.StandardButton


def _box(parent: QWidget | None, icon: Icon, title: str, text: str, buttons: Button,
         default: Button, details: str | None = None) -> QMessageBox:
    box = QMessageBox(icon, title, text, buttons, parent)
    box.setObjectName("message_box")
    box.setDefaultButton(default)
    if details:
        box.setDetailedText(details)
    return box


def error(parent: QWidget | None, text: str, *, title: str = "错误", details: str | None = None) -> None:
    _box(parent, Icon.Critical, title, text, Button.Ok, Button.Ok, details).exec()


def warning(parent: QWidget | None, text: str, *, title: str = "注意") -> None:
    _box(parent, Icon.Warning, title, text, Button.Ok, Button.Ok).exec()


def info(parent: QWidget | None, text: str, *, title: str = "提示") -> None:
    _box(parent, Icon.Information, title, text, Button.Ok, Button.Ok).exec()


def confirm(parent: QWidget | None, text: str, *, title: str = "请确认", default_yes: bool = False) -> bool:
    """Yes/No question; Esc and closing the box mean No."""
    box = _box(parent, Icon.Question, title, text, Button.Yes | Button.No,
               Button.Yes if default_yes else Button.No)
    box.setEscapeButton(Button.No)
    return box.exec() == Button.Yes


def crash(parent: QWidget | None, text: str, details: str) -> None:
    """An unexpected error (from ``sys.excepthook``): say it was logged, offer the details."""
    _box(parent, Icon.Critical, "程序错误", text, Button.Ok, Button.Ok, details).exec()
