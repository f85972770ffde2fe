"""GUI fixtures: Chinese fonts and Qt translation once per session; message boxes recorded, never shown."""

from __future__ import annotations

import pytest

from desktop_his.dialogs import messages
from desktop_his.qt import locale_setup
from tests.gui import Messages


@pytest.fixture(scope="session", autouse=True)
def chinese_ui(qapp) -> None:  # noqa: ANN001
    locale_setup.apply(qapp)


@pytest.fixture(autouse=True)
def msgs(monkeypatch) -> Messages:  # noqa: ANN001
    recorded = Messages()
    for kind in ("error", "warning", "info", "crash"):
        monkeypatch.setattr(messages, kind, lambda _parent, text, *a, _k=kind, **kw: recorded.shown.append((_k, text)))
    monkeypatch.setattr(messages, "confirm",
                        lambda _parent, text, **kw: recorded.shown.append(("confirm", text)) or recorded.answer)
    return recorded
