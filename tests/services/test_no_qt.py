"""STYLE §1: the core never imports Qt. Parse every module under services/ (and the bank sandbox)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
QT_MODULES = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "desktop_his.views", "desktop_his.dialogs",
              "desktop_his.qt", "desktop_his.app")


def qt_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        found += [f"{path.relative_to(ROOT)}:{node.lineno} imports {n}" for n in names
                  if n.split(".")[0] in {"PySide6", "PyQt5", "PyQt6", "shiboken6"} or n.startswith(QT_MODULES)]
    return found


CORE_FILES = sorted((ROOT / "desktop_his" / "services").rglob("*.py")) + sorted(
    (ROOT / "bank_sandbox").rglob("*.py")) + [ROOT / "desktop_his" / "cli.py"]


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_core_module_has_no_qt_import(path: Path) -> None:
    if not path.exists():
        pytest.skip("not written yet")
    assert qt_imports(path) == []


def test_checker_catches_qt_import(tmp_path: Path) -> None:
    bad = ROOT / "desktop_his" / "services" / "_probe_tmp.py"
    try:
        bad.write_text("import os\nfrom PySide6.QtCore import QObject\n", encoding="utf-8")
        assert qt_imports(bad) == [f"{bad.relative_to(ROOT)}:2 imports PySide6.QtCore"]
    finally:
        bad.unlink()
