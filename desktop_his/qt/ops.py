"""The one way to run work off the GUI thread (STYLE §3; like Anki's ``CollectionOp``/``QueryOp``).

    ops.run(
        self,                                               # the widget the work is for
        lambda: services.organisation.create_department(actor, form),   # runs on a worker thread
        on_success=self.department_saved,                   # called on the GUI thread with the result
        errors=self.errors,                                 # HisError(field=…) → shown at that field
        wait="正在保存…", disable=[self.save_button],        # small busy indicator; no double submit
    )

- ``fn`` runs on a worker: it must not touch widgets. Database work (``lane="db"``, the default) runs on one
  serial worker, so a view's saves and reloads happen in the order they were asked; bank calls
  (``lane="bank"``) and other slow I/O (``lane="io"``) run in parallel.
- On success ``errors`` (if given) is cleared and ``on_success(result)`` runs on the GUI thread. On failure ``on_failure(exc)`` runs if given;
  otherwise a ``HisError`` goes to ``errors`` (at its field) or to :func:`messages.error`, and anything
  else is logged with its traceback and reported as an internal error.
- Nothing is delivered to a parent widget that has been deleted meanwhile.
- ``wait``: after a short delay a busy cursor and the window's "请稍候…" indicator show (``set_busy`` on the
  window, see ``MainWindow``); the event loop is never blocked.
- Tests wait with ``qtbot.waitUntil(lambda: ops.pending() == 0)`` or ``op.finished``.

Threads: the workers are plain Python threads (``concurrent.futures``); a worker never touches a Qt object.
It puts its outcome on a queue, and a GUI-thread timer (running only while something is pending, every
``PUMP_MS``) delivers it. An earlier version ran ``QRunnable``s on ``QThreadPool`` and emitted a signal from the
worker; under a busy window's load (``bench/memory.py``: several hundred registrations) that crashed the
process inside PySide's cross-thread emit. Keep Qt out of the workers.
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

import shiboken6
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication, QWidget

from desktop_his.dialogs import messages
from desktop_his.qt.field_errors import FieldErrors
from desktop_his.services.errors import HisError

log = logging.getLogger(__name__)

Lane = Literal["db", "bank", "io"]
WAIT_DELAY_MS = 300  # quick operations never flash an indicator
INTERNAL_ERROR = "操作失败：程序内部错误，详细信息已写入日志。请重试；如果反复出现，请联系信息科。"
DB_CONNECTION_LOST = ("操作失败：与数据库的连接中断（网络或数据库服务器）。请稍后重试；已发出的银行交易，系统会自动核实结果。"
                      "如果反复出现，请联系信息科。")

PUMP_MS = 5  # how often the GUI thread looks for finished work while any is pending

_pools: dict[str, ThreadPoolExecutor] = {}
_running: set[Op] = set()
_outcomes: queue.SimpleQueue[tuple[Op, Any, BaseException | None]] = queue.SimpleQueue()
_pump: QTimer | None = None


def _pool(lane: Lane) -> ThreadPoolExecutor:
    if lane not in _pools:
        _pools[lane] = ThreadPoolExecutor(max_workers=1 if lane == "db" else 8, thread_name_prefix=f"ops-{lane}")
    return _pools[lane]


def _work(op: Op, fn: Callable[[], Any]) -> None:
    """On a worker thread: run ``fn`` and queue its outcome. No Qt here."""
    try:
        result, error = fn(), None
    except BaseException as exc:  # noqa: BLE001 - delivered to the GUI thread, never lost
        result, error = None, exc
    _outcomes.put((op, result, error))


def _deliver_finished() -> None:
    """On the GUI thread (the pump timer): hand every finished operation its outcome."""
    while True:
        try:
            op, result, error = _outcomes.get_nowait()
        except queue.Empty:
            break
        try:
            op._deliver(result, error)
        except Exception:  # noqa: BLE001 - a failing handler must not hold up the others' outcomes
            sys.excepthook(*sys.exc_info())
    if not _running and _pump is not None:
        _pump.stop()


def _start_pump() -> None:
    global _pump
    if _pump is None or not shiboken6.isValid(_pump):
        _pump = QTimer(interval=PUMP_MS)
        _pump.timeout.connect(_deliver_finished)
    if not _pump.isActive():
        _pump.start()


class Op(QObject):
    """One running operation. ``finished`` fires on the GUI thread after the success/failure handler."""

    finished = Signal()

    def __init__(self, parent: QWidget | None, fn: Callable[[], Any], *,
                 on_success: Callable[[Any], None] | None, on_failure: Callable[[BaseException], None] | None,
                 errors: FieldErrors | None, wait: str | None, disable: Sequence[QWidget], lane: Lane) -> None:
        super().__init__()  # no Qt parent: lives until delivered even if the widget goes away
        self._parent = parent
        self._fn, self._on_success, self._on_failure = fn, on_success, on_failure
        self._errors, self._wait, self._lane = errors, wait, lane
        self._disable = [w for w in disable if w.isEnabled()]
        self._busy_shown = False

    def start(self) -> Op:
        _running.add(self)
        for widget in self._disable:
            widget.setEnabled(False)
        if self._wait:
            QTimer.singleShot(WAIT_DELAY_MS, self._show_busy)
        _start_pump()
        _pool(self._lane).submit(_work, self, self._fn)
        return self

    def _deliver(self, result: Any, error: BaseException | None) -> None:
        try:
            self._end_busy()
            if self._parent is not None and not shiboken6.isValid(self._parent):
                return  # the view was closed meanwhile: nobody to tell
            if error is None:
                if self._errors is not None and shiboken6.isValid(self._errors):
                    self._errors.clear()  # the field messages of an earlier failed try are obsolete
                if self._on_success is not None:
                    self._on_success(result)
            elif self._on_failure is not None:
                self._on_failure(error)
            else:
                report_error(self._parent, error, self._errors)
        finally:
            _running.discard(self)
            self.finished.emit()

    def _show_busy(self) -> None:
        if self not in _running or self._busy_shown:
            return
        self._busy_shown = True
        from PySide6.QtCore import Qt  # not at import time: ops is on the start-up path (see dialogs.login)
        from PySide6.QtGui import QCursor

        QApplication.setOverrideCursor(QCursor(Qt.CursorShape.BusyCursor))
        window = _window(self._parent)
        if window is not None and hasattr(window, "set_busy"):
            window.set_busy(self._wait, True)

    def _end_busy(self) -> None:
        for widget in self._disable:
            if shiboken6.isValid(widget):
                widget.setEnabled(True)
        if self._busy_shown:
            self._busy_shown = False
            QApplication.restoreOverrideCursor()
            window = _window(self._parent)
            if window is not None and hasattr(window, "set_busy"):
                window.set_busy(self._wait, False)


def run(parent: QWidget | None, fn: Callable[[], Any], *, on_success: Callable[[Any], None] | None = None,
        on_failure: Callable[[BaseException], None] | None = None, errors: FieldErrors | None = None,
        wait: str | None = None, disable: Sequence[QWidget] = (), lane: Lane = "db") -> Op:
    """Run ``fn()`` on a worker of ``lane`` and deliver its outcome on the GUI thread (see module doc)."""
    return Op(parent, fn, on_success=on_success, on_failure=on_failure, errors=errors, wait=wait,
              disable=disable, lane=lane).start()


def report_error(parent: QWidget | None, error: BaseException, errors: FieldErrors | None = None) -> None:
    """Show a failure the standard way (views call this from their own failure handlers too)."""
    if isinstance(error, HisError):
        log.info("refused: %s (field=%s, code=%s)", error.message, error.field, error.code)
        if errors is not None and errors.show(error):
            return
        messages.error(parent, error.message)
        return
    details = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    log.error("operation failed\n%s", details)
    messages.error(parent, DB_CONNECTION_LOST if _connection_lost(error) else INTERNAL_ERROR, details=details)


def _connection_lost(error: BaseException) -> bool:
    """The database connection broke (server restart, network): the transaction was rolled back."""
    exc = sys.modules.get("sqlalchemy.exc")  # not imported here: SQLAlchemy loads after the login window
    return exc is not None and isinstance(error, exc.DBAPIError) and (
        error.connection_invalidated or isinstance(error, exc.OperationalError))


def pending() -> int:
    """Operations started and not yet delivered."""
    return len(_running)


def shutdown(timeout_ms: int = 10_000) -> bool:
    """Wait for the workers at exit (a half-finished database write completes rather than being cut).
    Outcomes not yet delivered are dropped: the windows are closing."""
    deadline = threading.Event()
    waiter = threading.Thread(target=lambda: ([pool.shutdown(wait=True) for pool in _pools.values()],
                                              deadline.set()), daemon=True)
    waiter.start()
    finished = deadline.wait(timeout_ms / 1000)
    _pools.clear()
    while True:  # nobody is left to tell
        try:
            _outcomes.get_nowait()
        except queue.Empty:
            break
    _running.clear()
    return finished


def _window(widget: QWidget | None) -> QWidget | None:
    if widget is None or not shiboken6.isValid(widget):
        return None
    return widget.window()
