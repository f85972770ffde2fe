"""Small widget makers every workstation uses (one place for how an action button behaves)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QPushButton, QWidget


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
