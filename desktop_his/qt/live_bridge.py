"""The live change feed as a Qt signal on the GUI thread.

    self.live = LiveSignal(services.feed, ["slots", "doctor:"], self)
    self.live.changed.connect(self.refresh)      # refresh(topics: set[str]) runs on the GUI thread

Bursts of changes are coalesced into one ``changed`` per event-loop turn. The subscription ends when the
owner (the ``parent``) is destroyed.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

from desktop_his.services.live_hub import ChangeFeed


class LiveSignal(QObject):
    changed = Signal(object)  # set[str] of topics
    _from_watcher = Signal(object)

    def __init__(self, feed: ChangeFeed, prefixes: Iterable[str], parent: QObject) -> None:
        super().__init__(parent)
        self._pending: set[str] = set()
        self._from_watcher.connect(self._collect, Qt.ConnectionType.QueuedConnection)
        token = feed.subscribe(prefixes, self._from_watcher.emit)
        # Unsubscribe through a closure: by the time ``destroyed`` fires, self is half gone.
        self.destroyed.connect(lambda *_: feed.unsubscribe(token))

    @Slot(object)
    def _collect(self, topics: set[str]) -> None:
        first = not self._pending
        self._pending |= topics
        if first:
            QTimer.singleShot(0, self._flush)

    def _flush(self) -> None:
        topics, self._pending = self._pending, set()
        if topics:
            self.changed.emit(topics)
