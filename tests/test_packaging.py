"""build.spec builds a one-folder bundle, and the built program starts offscreen to the login window with its
whole back end (migrations from the bundled scripts, demo seed, the in-process bank sandbox); the bundled
command-line tool answers too. Slow (a PyInstaller build): about two minutes."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("PyInstaller", reason="PyInstaller is not installed (pip install '.[build]')")
    out = tmp_path_factory.mktemp("pyinstaller")
    result = subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
         "--distpath", str(out / "dist"), "--workpath", str(out / "work"), str(ROOT / "build.spec")],
        cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    meta = project()
    folder = out / "dist" / f"{meta['name']}-{meta['version']}"
    assert folder.is_dir()
    return folder


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """No virtual environment, no PYTHONPATH: only what the bundle carries."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", "QT_QPA_PLATFORM": "offscreen",
           "DESKTOP_HIS_CONFIG_FILE": str(home / "settings.toml"), "DESKTOP_HIS_DATA_DIR": str(home / "data"),
           "DESKTOP_HIS_LOG_DIR": str(home / "log")}
    if os.name == "nt":
        env["SYSTEMROOT"] = os.environ.get("SYSTEMROOT", r"C:\Windows")
    env.update(extra)
    return env


def test_built_program_reaches_the_login_window_with_its_back_end(bundle: Path, tmp_path: Path) -> None:
    exe = bundle / ("desktop-his.exe" if os.name == "nt" else "desktop-his")
    result = subprocess.run([str(exe)], env=clean_env(tmp_path, DESKTOP_HIS_STARTUP_PROBE="backend"),
                            capture_output=True, text=True, timeout=120)
    assert "BACKEND_READY bank=yes login=yes" in result.stdout, result.stdout + result.stderr
    log = next((tmp_path / "log").glob("*.log")).read_text(encoding="utf-8")
    assert "demo data seeded" in log


def test_bundle_carries_its_data_files(bundle: Path) -> None:
    internal = bundle / "_internal"
    assert (internal / "resources" / "fonts" / "wqy-microhei.ttc").is_file()
    assert list((internal / "desktop_his" / "migrations" / "versions").glob("0001_*.py"))
    assert (internal / "PySide6" / "Qt" / "translations" / "qtbase_zh_CN.qm").is_file()
    assert not list(internal.rglob("*WebEngine*")), "unused Qt modules must be excluded"


def test_bundled_cli_answers(bundle: Path, tmp_path: Path) -> None:
    exe = bundle / ("desktop-his-cli.exe" if os.name == "nt" else "desktop-his-cli")
    result = subprocess.run([str(exe), "db", "upgrade"], env=clean_env(tmp_path), capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    current = subprocess.run([str(exe), "db", "current"], env=clean_env(tmp_path), capture_output=True,
                             text=True, timeout=60)
    assert "最新版本" in current.stdout
