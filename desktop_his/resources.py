"""Locate bundled resources (fonts, templates, translations) in every way the app is run.

From a source checkout the files are in the repository's ``resources/`` folder; an installed wheel carries
them as the package ``desktop_his._resources``; a PyInstaller bundle puts them under ``sys._MEIPASS``.
"""

from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "resources"
    checkout = Path(__file__).resolve().parent.parent / "resources"
    if checkout.is_dir():
        return checkout
    # Imported only for an installed wheel: start-up stays lean.
    from importlib import resources as importlib_resources

    return Path(str(importlib_resources.files("desktop_his._resources")))


def resource_path(*parts: str) -> Path:
    """Path of a bundled file, e.g. ``resource_path("fonts", "wqy-microhei.ttc")``."""
    return resources_dir().joinpath(*parts)
