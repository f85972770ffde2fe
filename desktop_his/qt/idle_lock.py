"""Idle detection for the screen lock: an application-wide event filter that restarts a timer on every key,
mouse or touch input and emits ``idle`` when the timer runs out. The timeout is injectable (tests use
milliseconds); 0 disables the lock."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer, Signal

INPUT_EVENTS = frozenset({
    QEvent.Type.KeyPress, QEvent.Type.KeyRelease, QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease,
    QEvent.Type.MouseMove, QEvent.Type.Wheel, QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate,
    QEvent.Type.MouseButtonDblClick, QEvent.Type.InputMethod,
})


class IdleWatcher(QObject):
    idle = Signal()

    def __init__(self, timeout_ms: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.idle)
        self._paused = False
        self.set_timeout(timeout_ms)
        QCoreApplication.instance().installEventFilter(self)

    @property
    def timeout_ms(self) -> int:
        return self._timer.interval()

    def set_timeout(self, timeout_ms: int) -> None:
        self._timer.setInterval(max(0, int(timeout_ms)))
        self._restart()

    def pause(self) -> None:
        """While the screen is locked: input on the lock itself must not count."""
        self._paused = True
        self._timer.stop()

    def resume(self) -> None:
        self._paused = False
        self._restart()

    def stop(self) -> None:
        self.pause()
        app = QCoreApplication.instance()
        if app is not None:
            app.removeEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if not self._paused and event.type() in INPUT_EVENTS and self._timer.interval() > 0:
            self._timer.start()
        return False

    def _restart(self) -> None:
        if not self._paused and self._timer.interval() > 0:
            self._timer.start()
        else:
            self._timer.stop()
