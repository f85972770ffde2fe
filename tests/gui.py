"""GUI test helpers: message boxes recorded instead of shown, waiting for operations, screenshots."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtWidgets import QWidget

from desktop_his.qt import ops

SCREENSHOTS = Path(os.environ.get("DESKTOP_HIS_SCREENSHOTS", "")) if os.environ.get("DESKTOP_HIS_SCREENSHOTS") else None


@dataclass
class Messages:
    """What ``dialogs.messages`` was asked to show; ``answer`` is what ``confirm()`` returns."""

    shown: list[tuple[str, str]] = field(default_factory=list)
    answer: bool = True

    def texts(self, kind: str | None = None) -> list[str]:
        return [text for k, text in self.shown if kind is None or k == kind]


def wait_ops(qtbot, timeout: int = 10_000) -> None:  # noqa: ANN001
    """Wait until every operation started through ``qt.ops`` has been delivered."""
    qtbot.waitUntil(lambda: ops.pending() == 0, timeout=timeout)


def screenshot(widget: QWidget, name: str) -> None:
    """Save a PNG when DESKTOP_HIS_SCREENSHOTS names a folder (for looking at the UI by hand)."""
    if SCREENSHOTS is not None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(SCREENSHOTS / f"{name}.png"))


def type_text(widget: QWidget, text: str) -> None:
    """Type any text (Chinese too) as an input method commits it: ``textEdited`` fires as for a user.
    (QTest's keyClicks only types ASCII.)"""
    from PySide6.QtGui import QInputMethodEvent
    from PySide6.QtWidgets import QApplication

    widget.setFocus()
    event = QInputMethodEvent()
    event.setCommitString(text)
    QApplication.sendEvent(widget, event)
