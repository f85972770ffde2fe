"""desktop_his — the 信用就医 hospital workstation.

``desktop_his.services`` is the Qt-free core (workflows, rules, storage, bank gateway);
``desktop_his.views`` / ``desktop_his.dialogs`` / ``desktop_his.qt`` are the PySide6 UI.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("desktop-his")
except PackageNotFoundError:  # running from a source checkout without installing
    __version__ = "0.1.0"

APP_NAME = "desktop_his"
APP_TITLE = "信用就医 医院工作站"
