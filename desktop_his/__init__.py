"""desktop_his — the 信用就医 hospital workstation.

``desktop_his.services`` is the Qt-free core (workflows, rules, storage, bank gateway);
``desktop_his.views`` / ``desktop_his.dialogs`` / ``desktop_his.qt`` are the PySide6 UI.
"""

from __future__ import annotations

APP_NAME = "desktop_his"
APP_TITLE = "信用就医 医院工作站"


def __getattr__(name: str) -> str:
    # ``__version__`` is looked up on first use: importlib.metadata costs ~40 ms, and start-up (until the
    # login window shows) must stay close to a bare Qt window's (bench/startup.py).
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            value = version("desktop-his")
        except PackageNotFoundError:  # running from a source checkout without installing
            value = "0.1.0"
        globals()["__version__"] = value
        return value
    raise AttributeError(f"module 'desktop_his' has no attribute {name!r}")
