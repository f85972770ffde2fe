"""The operation helper: results on the GUI thread, errors at the field or in a message, serial db lane,
parallel bank lane, no delivery to a deleted widget, double-submit guard, busy indicator."""

from __future__ import annotations

import threading
import time

from PySide6.QtWidgets import QLineEdit, QMainWindow, QPushButton, QWidget

from desktop_his.qt import ops
from desktop_his.qt.field_errors import FieldErrors
from desktop_his.services.errors import Conflict, ValidationError
from tests.gui import wait_ops


def test_success_is_delivered_on_the_gui_thread(qtbot) -> None:  # noqa: ANN001
    widget = QWidget()
    qtbot.addWidget(widget)
    seen = {}

    def work() -> int:
        seen["worker"] = threading.current_thread()
        return 42

    op = ops.run(widget, work, on_success=lambda r: seen.update(result=r, gui=threading.current_thread()))
    with qtbot.waitSignal(op.finished, timeout=5000):
        pass
    assert seen["result"] == 42
    assert seen["gui"] is threading.main_thread() and seen["worker"] is not threading.main_thread()


def test_his_error_goes_to_its_field(qtbot, msgs) -> None:  # noqa: ANN001
    widget = QWidget()
    qtbot.addWidget(widget)
    name = QLineEdit()
    name.setObjectName("name")
    errors = FieldErrors(widget)
    errors.add("name", name).setParent(widget)

    def fail() -> None:
        raise ValidationError("请输入科室名称", field="name")

    ops.run(widget, fail, errors=errors)
    wait_ops(qtbot)
    assert errors.message("name") == "请输入科室名称"
    assert msgs.shown == []


def test_his_error_without_a_field_place_is_a_message(qtbot, msgs) -> None:  # noqa: ANN001
    widget = QWidget()
    qtbot.addWidget(widget)

    def fail() -> None:
        raise Conflict("已被他人修改，请刷新")

    ops.run(widget, fail)
    wait_ops(qtbot)
    assert msgs.shown == [("error", "已被他人修改，请刷新")]


def test_unexpected_error_is_logged_and_reported(qtbot, msgs, caplog) -> None:  # noqa: ANN001
    def crash() -> None:
        raise ZeroDivisionError("boom")

    ops.run(None, crash)
    wait_ops(qtbot)
    assert msgs.texts("error") == [ops.INTERNAL_ERROR]
    assert "ZeroDivisionError" in caplog.text


def test_a_lost_database_connection_is_reported_as_such(qtbot, msgs) -> None:  # noqa: ANN001
    import sqlalchemy.exc

    def lost() -> None:
        raise sqlalchemy.exc.OperationalError("SELECT 1", {}, ConnectionError("server closed the connection"),
                                              connection_invalidated=True)

    ops.run(None, lost)
    wait_ops(qtbot)
    assert msgs.texts("error") == [ops.DB_CONNECTION_LOST]


def test_failure_handler_replaces_the_default(qtbot, msgs) -> None:  # noqa: ANN001
    caught = []

    def fail() -> None:
        raise ValidationError("x", field="y")

    ops.run(None, fail, on_failure=caught.append)
    wait_ops(qtbot)
    assert isinstance(caught[0], ValidationError) and msgs.shown == []


def test_db_lane_is_serial_and_bank_lane_parallel(qtbot) -> None:  # noqa: ANN001
    order: list[str] = []

    def slow(tag: str) -> None:
        order.append(f"start {tag}")
        time.sleep(0.05)
        order.append(f"end {tag}")

    ops.run(None, lambda: slow("a"))
    ops.run(None, lambda: slow("b"))
    wait_ops(qtbot)
    assert order == ["start a", "end a", "start b", "end b"]
    barrier = threading.Barrier(2, timeout=5)  # both must be running at once to pass
    results: list[int] = []
    for _ in range(2):
        ops.run(None, barrier.wait, on_success=results.append, lane="bank")
    wait_ops(qtbot)
    assert sorted(results) == [0, 1]


def test_nothing_delivered_to_a_deleted_widget(qtbot) -> None:  # noqa: ANN001
    widget = QWidget()
    called = []
    gate = threading.Event()
    ops.run(widget, lambda: gate.wait(5), on_success=called.append)
    widget.deleteLater()
    qtbot.waitUntil(lambda: not __import__("shiboken6").isValid(widget))
    gate.set()
    wait_ops(qtbot)
    assert called == []


def test_disabled_during_the_operation_and_busy_indicator(qtbot, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(ops, "WAIT_DELAY_MS", 10)
    window = QMainWindow()
    busy: list[tuple[str, bool]] = []
    window.set_busy = lambda text, on: busy.append((text, on))  # type: ignore[attr-defined]
    button = QPushButton("保存", window)
    window.setCentralWidget(button)
    qtbot.addWidget(window)
    gate = threading.Event()
    ops.run(button, lambda: gate.wait(5), wait="正在保存…", disable=[button])
    assert not button.isEnabled()
    qtbot.waitUntil(lambda: busy == [("正在保存…", True)])
    gate.set()
    wait_ops(qtbot)
    assert button.isEnabled() and busy[-1] == ("正在保存…", False)
