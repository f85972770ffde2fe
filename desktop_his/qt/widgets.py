"""Small widget makers every workstation uses (one place for how an action button behaves)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QDialog, QHBoxLayout, QPushButton, QWidget


def action_button(text: str, name: str, slot: Callable[[], Any], shortcut: str | None = None, *,
                  scope: QWidget | None = None, tip: str = "") -> QPushButton:
    """A button named ``name`` (docs/ui-automation.md) that calls ``slot()`` when clicked. It never becomes a
    dialog's default button (Enter stays with the field that has the focus). ``shortcut`` (e.g. ``"F4"``)
    clicks it while the keyboard focus is anywhere inside ``scope`` — the view, so two workstations open side by
    side never share a key."""
    button = QPushButton(text)
    button.setObjectName(name)
    button.setAutoDefault(False)
    button.clicked.connect(lambda _checked=False: slot())
    if tip:
        button.setToolTip(tip)
    if shortcut:
        if scope is None:
            raise ValueError("a shortcut needs the widget it belongs to (scope)")
        key = QShortcut(QKeySequence(shortcut), scope, button.click)
        key.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    return button


def save_cancel_row(dialog: QDialog, prefix: str, save_text: str, on_save: Callable[[], Any], *,
                    default: bool = True, save_name: str = "save", cancel_text: str = "取消 (Esc)"
                    ) -> tuple[QHBoxLayout, QPushButton, QPushButton]:
    """A dialog's right-aligned 保存 / 取消 (Esc) pair, named ``<prefix>_<save_name>`` and ``<prefix>_cancel``.
    ``default``: Enter anywhere in the dialog saves (False where Enter must stay with multi-line fields)."""
    save = QPushButton(save_text)
    save.setObjectName(f"{prefix}_{save_name}")
    save.setDefault(default)
    if not default:
        save.setAutoDefault(False)
    save.clicked.connect(on_save)
    cancel = QPushButton(cancel_text)
    cancel.setObjectName(f"{prefix}_cancel")
    cancel.setAutoDefault(False)
    cancel.clicked.connect(dialog.reject)
    row = QHBoxLayout()
    row.addStretch(1)
    row.addWidget(save)
    row.addWidget(cancel)
    return row, save, cancel
