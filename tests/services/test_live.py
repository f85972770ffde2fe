"""The live feed delivers committed changes (and only those) on SQLite polling and PostgreSQL LISTEN."""

from __future__ import annotations

import threading

import pytest

from desktop_his.services import live
from desktop_his.services.db import Database


class Sink:
    def __init__(self) -> None:
        self.topics: set[str] = set()
        self.event = threading.Event()

    def __call__(self, topics: set[str]) -> None:
        self.topics |= topics
        self.event.set()


@pytest.fixture
def watched(db: Database):  # noqa: ANN201
    sink = Sink()
    watcher = live.ChangeWatcher(db, sink, prefixes=["doctor:"], poll_interval=0.05).start()
    assert watcher.wait_ready()
    yield db, sink
    watcher.stop()


def test_committed_change_is_delivered(watched) -> None:  # noqa: ANN001
    db, sink = watched
    with db.session() as s:
        live.publish(s, "doctor:17", "department:3")
    assert sink.event.wait(5)
    assert sink.topics == {"doctor:17"}  # department:3 filtered by prefix


def test_rolled_back_change_is_not_delivered(watched) -> None:  # noqa: ANN001
    db, sink = watched
    with pytest.raises(RuntimeError):
        with db.session() as s:
            live.publish(s, "doctor:99")
            raise RuntimeError("abort")
    with db.session() as s:
        live.publish(s, "doctor:1")
    assert sink.event.wait(5)
    assert "doctor:99" not in sink.topics
