"""Memory of the GUI over a cashier's long day: the registration window driven from the keyboard through 1,000
registrations (read card → doctor's initials + Enter → Enter on the 信用就医 pop-up → the slip printed), with the
real services, SQLite, the in-process bank sandbox and PDF printing — as the app runs in demo mode.

    python bench/memory.py [--registrations 1000] [--warmup 50]

Prints the resident set size (RSS) when the window is shown, after the warm-up (first slips printed: printing,
fonts and the bank client are loaded lazily), and at the end. Targets: RSS ≤ 250 MB, growth ≤ 20 MB — growth
measured from the end of the warm-up (what a leak would show), from the window's first show printed beside it.
Measured is the app's own process, as on a cashier's PC: the bank sandbox runs as its own process (the bank is
remote in a hospital) and the hospital's data (demo seed, 1,000+ signed returning patients, a doctor with enough
places) is prepared by a separate process beforehand. Every patient is a returning one: a new patient's name
would load pypinyin's phrase dictionary once (about +55 MB; see services/pinyin.py).
Linux (reads /proc/self/statm).
"""

from __future__ import annotations

import argparse
import faulthandler
import gc
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from datetime import time as dtime
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

RSS_TARGET_MB, GROWTH_TARGET_MB = 250.0, 20.0


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


def wait_until(app, condition, what: str, timeout: float = 20.0) -> None:  # noqa: ANN001
    from desktop_his.qt import ops

    deadline = time.monotonic() + timeout
    while not condition():
        app.processEvents()
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what} (ops pending: {ops.pending()})")
        time.sleep(0.0005)


def prepare(total: int, bank_url: str) -> None:
    """The hospital's data, written by this separate process (see the module docstring)."""
    from bank_sandbox.admin import AdminClient
    from bank_sandbox.server import DEMO_ADMIN_TOKEN
    from desktop_his.services import pinyin
    from desktop_his.services.config import load_settings
    from desktop_his.services.container import build_services, prepare_database
    from desktop_his.services.ids import resident_check_char
    from desktop_his.services.models import Department, Doctor, Patient, Slot

    services = build_services(load_settings())
    prepare_database(services)
    today = services.clock.now().date()
    admin = AdminClient(bank_url, DEMO_ADMIN_TOKEN)
    with services.db.session() as s:
        dept = Department(code="NCCS", name="内存测试科", pinyin=pinyin.initials("内存测试科"))
        s.add(dept)
        s.flush()
        doctor = Doctor(department_id=dept.id, name="蒋测试", pinyin=pinyin.initials("蒋测试"),
                        registration_fee_fen=500)
        s.add(doctor)
        s.flush()
        s.add(Slot(doctor_id=doctor.id, department_id=dept.id, date=today, period="AM", start_time=dtime(0, 0),
                   end_time=dtime(23, 59), capacity=total + 10, taken=0, next_queue_no=1, fee_fen=500))
        for i in range(total):
            body = f"510104199{i % 10}{1 + i % 12:02d}{1 + i % 28:02d}{i // 10 % 1000:03d}"
            number = body + resident_check_char(body)
            s.add(Patient(name=f"测试{i:04d}", pinyin="cs", id_type="01", id_number=number,
                          sex="M" if i % 2 else "F", birth_date=datetime.strptime(body[6:14], "%Y%m%d").date(),
                          phone="13800000000", created_at=services.clock.now()))
            admin.create_resident(f"测试{i:04d}", "01", number)
            admin.sign("01", number, 1_000_000)
    admin.close()
    services.close()


def start_sandbox(folder: str) -> tuple[subprocess.Popen, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = open(f"{folder}/bank.log", "w+")  # a file, not a pipe: a full pipe would stall the bank
    proc = subprocess.Popen([sys.executable, "-m", "bank_sandbox", "--host", "127.0.0.1", "--port", str(port),
                             "--db", f"{folder}/bank.sqlite3", "--demo"], stdout=log, stderr=subprocess.STDOUT,
                            text=True, cwd=Path(__file__).resolve().parents[1])
    deadline = time.monotonic() + 30
    while "listening" not in Path(f"{folder}/bank.log").read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the bank sandbox did not start: {Path(f'{folder}/bank.log').read_text()}")
        time.sleep(0.05)
    return proc, f"http://127.0.0.1:{port}"


def main() -> int:
    faulthandler.enable()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registrations", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--prepare", metavar="BANK_URL", help=argparse.SUPPRESS)  # the data-preparing child
    args = parser.parse_args()
    total = args.registrations + args.warmup
    if args.prepare:
        prepare(total, args.prepare)
        return 0

    tmp = tempfile.TemporaryDirectory(prefix="his-memory-")
    os.environ.update({"DESKTOP_HIS_DATA_DIR": f"{tmp.name}/data", "DESKTOP_HIS_CONFIG_FILE": f"{tmp.name}/s.toml",
                       "DESKTOP_HIS_LOG_DIR": f"{tmp.name}/log", "DESKTOP_HIS_DATABASE_URL": "",
                       "DESKTOP_HIS_BANK_URL": "", "DESKTOP_HIS_WORKSTATION": "WS-BENCH"})
    sandbox, bank_url = start_sandbox(tmp.name)
    try:
        subprocess.run([sys.executable, __file__, "--registrations", str(args.registrations), "--warmup",
                        str(args.warmup), "--prepare", bank_url], check=True)
        return measure(args, total, bank_url, tmp.name)
    finally:
        sandbox.terminate()
        sandbox.wait()
        tmp.cleanup()


def measure(args: argparse.Namespace, total: int, bank_url: str, folder: str) -> int:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QDialog, QLineEdit
    from sqlalchemy import func, select

    from desktop_his.app import make_application
    from desktop_his.qt import ops
    from desktop_his.services.config import load_settings
    from desktop_his.services.container import build_services, connect_bank, prepare_database
    from desktop_his.services.models import Patient, Visit
    from desktop_his.views.registration.window import RegistrationWindow

    app: QApplication = make_application([])  # as the app makes it (translations, GUI-thread-only gc)
    settings = load_settings()
    services = build_services(settings)
    prepare_database(services)
    connect_bank(services, base_url=bank_url)
    if services.bank is None:
        print("bank not connected:", services.bank_problem)
        return 1
    actor = services.auth.login("cashier1", "cashier123", workstation=settings.workstation).actor
    with services.db.reader() as s:
        rows = s.execute(select(Patient.id_number, Patient.id).where(Patient.pinyin == "cs").order_by(Patient.id))
        patient_ids = {number: pid for number, pid in rows}
    numbers = list(patient_ids)

    window = RegistrationWindow(services, actor)
    window.resize(1200, 800)
    window.show()
    window.activateWindow()
    wait_until(app, lambda: ops.pending() == 0, "the window's first load")
    gc.collect()
    at_show = rss_mb()

    def visible_dialog(name: str) -> QDialog | None:
        return next((d for d in window.findChildren(QDialog, name) if d.isVisible()), None)

    def register_one(number: str) -> None:
        previous = window.last_print
        search = window.findChild(QLineEdit, "reg_patient_search")
        window.activateWindow()
        search.setFocus()
        search.clear()
        QTest.keyClicks(search, number)
        QTest.keyClick(search, Qt.Key.Key_Return)
        wait_until(app, lambda: window.patient is not None and window.patient.id == patient_ids[number]
                   and ops.pending() == 0, "the patient")
        doctor_search = window.findChild(QLineEdit, "reg_doctor_search")
        doctor_search.clear()
        QTest.keyClicks(doctor_search, "jcs")
        QTest.keyClick(doctor_search, Qt.Key.Key_Return)
        wait_until(app, lambda: visible_dialog("credit_confirm_dialog") is not None, "the 信用就医 pop-up")
        QTest.keyClick(visible_dialog("credit_confirm_dialog"), Qt.Key.Key_Return)
        wait_until(app, lambda: window.last_print is not None and window.last_print is not previous
                   and ops.pending() == 0, "the slip")

    started = time.perf_counter()
    for number in numbers[:args.warmup]:
        register_one(number)
    gc.collect()
    after_warmup = rss_mb()
    timed = time.perf_counter()
    for i, number in enumerate(numbers[args.warmup:], 1):
        register_one(number)
        if os.environ.get("MEMDEBUG") and i % 20 == 0:
            from PySide6.QtCore import QObject
            print(i, rss_mb(), len(window.findChildren(QObject)), len(window.findChildren(QDialog)),
                  len(gc.get_objects()), flush=True)
        if i % 250 == 0:
            print(f"  {i:5d} registrations  RSS {rss_mb():7.1f} MB", flush=True)
    elapsed = time.perf_counter() - timed
    gc.collect()
    app.processEvents()
    at_end = rss_mb()

    with services.db.reader() as s:
        visits = s.scalar(select(func.count()).select_from(Visit))
    growth = at_end - after_warmup
    print(f"registrations: {visits} through the window ({args.warmup} warm-up + {args.registrations} measured, "
          f"{elapsed / max(args.registrations, 1) * 1000:.0f} ms each incl. bank and PDF slip; "
          f"whole run {time.perf_counter() - started:.0f} s)")
    print(f"RSS at first show     : {at_show:7.1f} MB")
    print(f"RSS after warm-up     : {after_warmup:7.1f} MB")
    print(f"RSS after {args.registrations:<5d}       : {at_end:7.1f} MB  (target <= {RSS_TARGET_MB:.0f} MB) "
          f"{'OK' if at_end <= RSS_TARGET_MB else 'OVER TARGET'}")
    print(f"growth after warm-up  : {growth:+7.1f} MB  (target <= {GROWTH_TARGET_MB:.0f} MB) "
          f"{'OK' if growth <= GROWTH_TARGET_MB else 'OVER TARGET'}; from first show {at_end - at_show:+.1f} MB")
    ok = visits == total and at_end <= RSS_TARGET_MB and growth <= GROWTH_TARGET_MB
    sys.stdout.flush()
    window.close()
    services.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
