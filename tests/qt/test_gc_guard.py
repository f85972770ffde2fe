"""Cyclic garbage is collected on the GUI thread only (qt/gc_guard.py): a worker thread that allocates never
runs the collector, so it never destroys a Qt object that lives on the GUI thread."""

from __future__ import annotations

import gc
import threading

from desktop_his.qt.gc_guard import GuiThreadCollector


class Probe:
    """A reference cycle that records on which thread it was collected."""

    def __init__(self, seen: list[str]) -> None:
        self.me, self.seen = self, seen

    def __del__(self) -> None:
        self.seen.append(threading.current_thread().name)


def test_cycles_made_on_a_worker_are_collected_on_the_gui_thread(qtbot, gui_thread_gc: GuiThreadCollector) -> None:  # noqa: ANN001
    assert not gc.isenabled()
    seen: list[str] = []

    def worker() -> None:  # far past gen-0's threshold: an automatic collector would run right here
        for _ in range(5 * gc.get_threshold()[0]):
            Probe(seen)

    thread = threading.Thread(target=worker, name="ops-db")
    thread.start()
    thread.join()
    assert seen == []  # nothing collected on the worker
    qtbot.waitUntil(lambda: len(seen) >= 5 * gc.get_threshold()[0], timeout=5000)  # the GUI-thread timer did it
    assert set(seen) == {threading.main_thread().name}


def test_check_collects_only_past_the_thresholds(qtbot, gui_thread_gc: GuiThreadCollector) -> None:  # noqa: ANN001
    gui_thread_gc.timer.stop()
    gc.collect()
    seen: list[str] = []
    Probe(seen)
    assert gui_thread_gc.check() == 0 and seen == []  # one cycle: below gen-0's threshold, left for later
    for _ in range(gc.get_threshold()[0] + 1):
        Probe(seen)
    assert gui_thread_gc.check() > 0 and len(seen) >= gc.get_threshold()[0]
