"""GUI fixtures: Chinese fonts and Qt translation once per session; message boxes recorded, never shown."""

from __future__ import annotations

import gc

import pytest

from desktop_his.dialogs import messages
from desktop_his.qt import locale_setup
from desktop_his.qt.gc_guard import GuiThreadCollector
from tests.gui import Messages


@pytest.fixture(scope="session", autouse=True)
def chinese_ui(qapp) -> None:  # noqa: ANN001
    locale_setup.apply(qapp)


@pytest.fixture(autouse=True)
def gui_thread_gc(qapp):  # noqa: ANN001, ANN201
    """As in the app (qt/gc_guard.py): during a GUI test, cyclic garbage is collected on the GUI thread only;
    afterwards collection is automatic again (service tests run no event loop)."""
    collector = GuiThreadCollector(qapp)
    yield collector
    collector.timer.stop()
    collector.deleteLater()
    gc.enable()
    gc.collect()


@pytest.fixture(autouse=True)
def msgs(monkeypatch) -> Messages:  # noqa: ANN001
    recorded = Messages()
    for kind in ("error", "warning", "info", "crash"):
        monkeypatch.setattr(messages, kind, lambda _parent, text, *a, _k=kind, **kw: recorded.shown.append((_k, text)))
    monkeypatch.setattr(messages, "confirm",
                        lambda _parent, text, **kw: recorded.shown.append(("confirm", text)) or recorded.answer)
    return recorded
