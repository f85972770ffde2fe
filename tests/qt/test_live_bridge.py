"""A committed change elsewhere arrives as one Qt signal on the GUI thread; unsubscribed with its owner."""

from __future__ import annotations

import threading

from PySide6.QtWidgets import QWidget

from desktop_his.qt.live_bridge import LiveSignal
from desktop_his.services import live
from desktop_his.services.live_hub import ChangeFeed


def test_changes_arrive_on_the_gui_thread(qtbot, sqlite_db) -> None:  # noqa: ANN001
    feed = ChangeFeed(sqlite_db, poll_interval=0.05)
    owner = QWidget()
    try:
        signal = LiveSignal(feed, ["slots"], owner)
        got: list[tuple[set[str], bool]] = []
        signal.changed.connect(lambda topics: got.append((topics, threading.current_thread() is threading.main_thread())))
        feed._watcher.wait_ready()
        with sqlite_db.session() as s:
            live.publish(s, "slots", "staff")
        qtbot.waitUntil(lambda: got != [], timeout=5000)
        assert got[0] == ({"slots"}, True)
        owner.deleteLater()
        qtbot.waitUntil(lambda: not feed._subscribers, timeout=5000)
    finally:
        feed.close()
