"""Start-up benchmark: median time from process start to the login window on screen, beside a bare PySide6
window measured in the same run (same interpreter, same platform plugin). Target: ≤ 1.5× the bare window.

    python bench/startup.py [--runs 15]        (QT_QPA_PLATFORM defaults to offscreen; xcb under Xvfb works)

Each sample is wall time from ``Popen`` to the line the process prints when its window is shown (the app's
``DESKTOP_HIS_STARTUP_PROBE`` hook prints it on the login window's first show, then exits). The app runs with
throw-away config, data and log folders.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BARE = """
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication([])
window = QWidget()
window.setWindowTitle("bare")
window.resize(460, 300)
window.show()
QTimer.singleShot(0, lambda: (print("SHOWN", flush=True), app.quit()))
app.exec()
"""


def sample(argv: list[str], marker: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=ROOT)
    try:
        for line in proc.stdout:  # type: ignore[union-attr]
            if line.startswith(marker):
                elapsed = time.perf_counter() - started
                break
        else:
            raise RuntimeError(f"{argv} ended without printing {marker}")
    finally:
        proc.kill()
        proc.wait()
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    with tempfile.TemporaryDirectory() as tmp:
        app_env = {**env, "DESKTOP_HIS_STARTUP_PROBE": "1", "DESKTOP_HIS_CONFIG_FILE": f"{tmp}/settings.toml",
                   "DESKTOP_HIS_DATA_DIR": f"{tmp}/data", "DESKTOP_HIS_LOG_DIR": f"{tmp}/logs"}
        bare_argv = [sys.executable, "-c", BARE]
        app_argv = [sys.executable, "-m", "desktop_his"]
        sample(bare_argv, "SHOWN", env)  # warm the file cache for both
        sample(app_argv, "LOGIN_SHOWN", app_env)
        bare, app = [], []
        for _ in range(args.runs):  # interleaved, so machine load affects both alike
            bare.append(sample(bare_argv, "SHOWN", env))
            app.append(sample(app_argv, "LOGIN_SHOWN", app_env))
    bare_ms, app_ms = statistics.median(bare) * 1000, statistics.median(app) * 1000
    ratio = app_ms / bare_ms
    print(f"platform: {env['QT_QPA_PLATFORM']}, runs: {args.runs}")
    print(f"bare PySide6 window : median {bare_ms:7.1f} ms (min {min(bare) * 1000:.1f})")
    print(f"desktop_his login   : median {app_ms:7.1f} ms (min {min(app) * 1000:.1f})")
    print(f"ratio               : {ratio:.2f}x (target <= 1.50x) {'OK' if ratio <= 1.5 else 'OVER TARGET'}")
    return 0 if ratio <= 1.5 else 1


if __name__ == "__main__":
    raise SystemExit(main())
