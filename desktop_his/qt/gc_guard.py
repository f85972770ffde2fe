"""Python's cyclic garbage collector runs only on the GUI thread.

Left automatic, the collector runs on whichever thread happens to allocate when a generation's threshold is
crossed — often an ``ops`` worker. If the garbage it finds includes a Qt wrapper that owns its C++ object (an
``ops.Op``, a parentless dialog, a timer …), that C++ object is destroyed on the worker thread while the GUI
thread may still be delivering events to it: a segmentation fault, every few hundred registrations at a busy
window (found by ``bench/memory.py``). The usual remedy in PyQt/PySide applications (pyqtgraph, Spyder,
codimension): disable automatic collection and collect on a GUI-thread timer, with the same thresholds.

Reference counting still frees everything not in a cycle at once; only cycles wait for the timer.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 1000


class GuiThreadCollector(QObject):
    """Install once, after the ``QApplication`` exists: ``GuiThreadCollector(app)``."""

    def __init__(self, parent: QObject, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        gc.disable()
        self.timer = QTimer(self, interval=interval_ms)
        self.timer.timeout.connect(self.check)
        self.timer.start()
        self.destroyed.connect(gc.enable)  # the application is going away: back to automatic

    def check(self) -> int:
        """Collect the generations whose thresholds are crossed, as the automatic collector would."""
        found = 0
        count0, count1, count2 = gc.get_count()
        if count0 > self.threshold[0]:
            found += gc.collect(0)
            if count1 > self.threshold[1]:
                found += gc.collect(1)
                if count2 > self.threshold[2]:
                    found += gc.collect(2)
        return found


def install(app: QObject) -> GuiThreadCollector:
    return GuiThreadCollector(app)
