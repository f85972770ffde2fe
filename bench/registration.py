"""Registration benchmark: the app-side time of one registration at the window, bank latency excluded.

    python bench/registration.py [--count 1000]

Each registration runs what the window runs, in order, through the real services: look the patient up by ID
number → find the doctor by pinyin initials and list the slots → check the rules → register → sign-status
query → confirm + lock of the fee (信用就医, journaled) → note the print and build the guide slip → render it
to PDF (80 mm, QPainter). The bank is the sandbox in a separate process, over loopback HTTP (as a real bank
is elsewhere: its CPU work does not compete for this process's GIL); the time spent waiting for its HTTP
answers (``urlopen``: network + the sandbox's own work) is measured and subtracted — what is left is
the app's own work (database, journal, encryption and signing of requests, slip rendering). Target: median
≤ 50 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import date, datetime
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from argon2 import PasswordHasher  # noqa: E402

from desktop_his.services import db as dbmod  # noqa: E402
from desktop_his.services import pinyin  # noqa: E402
from desktop_his.services.clock import ManualClock  # noqa: E402
from desktop_his.services.config import Settings  # noqa: E402
from desktop_his.services.container import build_services, connect_bank  # noqa: E402
from desktop_his.services.enums import Role  # noqa: E402
from desktop_his.services.ids import resident_check_char  # noqa: E402
from desktop_his.services.models import Department, Doctor, Patient, Slot  # noqa: E402
from desktop_his.services.permissions import Actor  # noqa: E402

T0 = datetime(2026, 11, 23, 8, 0)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"


class BankTimer:
    """Wraps the client's HTTP call and adds up, per thread, the time spent waiting for the bank."""

    def __init__(self, client) -> None:  # noqa: ANN001
        self.local = threading.local()
        pool = client._pool
        original = pool.urlopen

        def timed(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            t = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.local.spent = getattr(self.local, "spent", 0.0) + time.perf_counter() - t

        pool.urlopen = timed

    def take(self) -> float:
        spent, self.local.spent = getattr(self.local, "spent", 0.0), 0.0
        return spent


class ExternalSandbox:
    """``python -m bank_sandbox`` in its own process on a free loopback port."""

    def __init__(self, db_path: Path) -> None:
        import socket
        import subprocess

        from bank_sandbox.admin import AdminClient
        from bank_sandbox.server import DEMO_ADMIN_TOKEN

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen([sys.executable, "-m", "bank_sandbox", "--host", "127.0.0.1", "--port",
                                         str(port), "--db", str(db_path)], cwd=ROOT, stdout=subprocess.PIPE,
                                        text=True)
        self.process.stdout.readline()  # "listening on …"
        self.admin = AdminClient(self.url, DEMO_ADMIN_TOKEN)

    def stop(self) -> None:
        self.admin.close()
        self.process.terminate()
        self.process.wait(10)


def id_number(i: int) -> str:
    first17 = f"{510100 + i // 1000:06d}19{60 + i % 40:02d}0101{i % 1000:03d}"
    return first17 + resident_check_char(first17)


def seed(services, sandbox, count: int) -> list[str]:  # noqa: ANN001
    numbers = []
    rows = []
    for i in range(count):
        name = SURNAMES[i % 20] + GIVEN[(i // 20) % 20] + GIVEN[(i // 400) % 20]
        number = id_number(i)
        numbers.append(number)
        sandbox.admin.create_resident(name, "01", number)
        sandbox.admin.sign("01", number, 500_000)
        rows.append({"name": name, "pinyin": pinyin.initials(name), "id_type": "01", "id_number": number,
                     "sex": "M", "birth_date": date(1960 + i % 40, 1, 1), "phone": f"139{i:08d}", "address": "",
                     "noshow_count": 0, "checkin_streak": 0, "created_at": T0})
    with services.db.session() as s:
        s.execute(sa.insert(Patient), rows)
        dept = Department(code="NK", name="内科", pinyin="nk", kind="clinical", location="门诊楼二楼")
        s.add(dept)
        s.flush()
        doctor = Doctor(department_id=dept.id, name="李明", pinyin="lm", title="主任医师", room="3诊室")
        s.add(doctor)
        s.flush()
        s.add(Slot(doctor_id=doctor.id, department_id=dept.id, date=T0.date(), period="AM",
                   start_time=datetime(1, 1, 1, 8).time(), end_time=datetime(1, 1, 1, 12).time(),
                   capacity=count + 10, fee_fen=1000))
    return numbers


STAGES = ("lookup", "slots", "rules", "register", "sign", "confirm+lock", "slip", "pdf")


def register_one(services, actor: Actor, number: str, pdf_dir: Path, timer: BankTimer | None = None,  # noqa: ANN001
                 stages: dict[str, list[float]] | None = None) -> None:
    from desktop_his.printing.qt_render import LAYOUTS, render_pdf

    reg, desk = services.registration, services.registration_desk
    marks, bank = [time.perf_counter()], 0.0

    def mark() -> None:  # the bank's HTTP waits are moved out of the stage they happened in
        nonlocal bank
        waited = timer.take() if timer is not None else 0.0
        bank += waited
        marks.append(time.perf_counter() - bank)

    patient = services.patients.find_by_document(actor, "01", number)
    mark()
    doctor = reg.search_doctors("lm")[0]
    slot = next(s for s in reg.available_slots(doctor_id=doctor.id) if s.bookable)
    mark()
    assert not reg.check_rules(actor, patient.id, slot.id)
    mark()
    visit = reg.register(actor, patient.id, slot.id)
    mark()
    sign = desk.sign_status(actor, patient.id)
    mark()
    result = desk.use_credit(actor, visit.id, sign)
    assert result.state == "locked", result.message
    mark()
    document = desk.slip(actor, visit.id)
    mark()
    render_pdf(document, LAYOUTS["80mm"], pdf_dir / f"{visit.visit_no}.pdf")
    mark()
    if stages is not None:
        for name, a, b in zip(STAGES, marks, marks[1:], strict=False):
            stages.setdefault(name, []).append((b - a) * 1000)
        stages.setdefault("app", []).append((marks[-1] - marks[0]) * 1000)
        stages.setdefault("bank", []).append(bank * 1000)


def run(count: int) -> None:
    from PySide6.QtWidgets import QApplication

    from desktop_his.qt import locale_setup

    app = QApplication.instance() or QApplication([])
    locale_setup.apply(app)  # the bundled Chinese font, as in the app
    tmp = Path(tempfile.mkdtemp(prefix="bench-registration-"))
    settings = Settings(data_dir=tmp / "data", log_dir=tmp / "log", workstation="BENCH-01")
    db = dbmod.Database.from_url(f"sqlite:///{tmp / 'his.sqlite3'}")
    dbmod.upgrade(db)
    services = build_services(settings, clock=ManualClock(T0), db=db,
                              hasher=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    sandbox = ExternalSandbox(tmp / "bank.sqlite3")
    sandbox.admin.set_clock(T0.isoformat())
    try:
        numbers = seed(services, sandbox, count)
        connect_bank(services, base_url=sandbox.url, resolver_interval=None)
        timer = BankTimer(services.bank.client)
        actor = Actor(None, "bench", "压测收费员", frozenset({Role.CASHIER}), "BENCH-01")
        pdf_dir = tmp / "slips"
        pdf_dir.mkdir()
        register_one(services, actor, numbers[0], pdf_dir)  # warm-up (imports, fonts, caches)
        timer.take()
        total_ms, cpu_ms = [], []
        stages: dict[str, list[float]] = {}
        for number in numbers[1:]:
            t, c = time.perf_counter(), time.process_time()
            register_one(services, actor, number, pdf_dir, timer, stages)
            total_ms.append((time.perf_counter() - t) * 1000)
            cpu_ms.append((time.process_time() - c) * 1000)
        app_ms, bank_ms = stages["app"], stages["bank"]
        n = len(app_ms)

        def p95(xs: list[float]) -> float:
            return sorted(xs)[int(0.95 * (len(xs) - 1))]

        print(f"registrations: {n} (SQLite), each: lookup → slots → rules → register →"
              " sign query → confirm+lock → slip → PDF")
        print(f"app-side (bank HTTP excluded): median {statistics.median(app_ms):.1f} ms, p95 {p95(app_ms):.1f} ms,"
              f" max {max(app_ms):.1f} ms   [target median ≤ 50 ms]")
        print("  by stage (median ms): " + ", ".join(f"{s} {statistics.median(stages[s]):.1f}" for s in STAGES))
        print(f"bank HTTP waits (3 calls):     median {statistics.median(bank_ms):.1f} ms, p95 {p95(bank_ms):.1f} ms")
        print(f"end to end:                    median {statistics.median(total_ms):.1f} ms, p95 {p95(total_ms):.1f} ms")
        print(f"CPU time of this process:      median {statistics.median(cpu_ms):.1f} ms, p95 {p95(cpu_ms):.1f} ms"
              f"   (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs during the run)")
    finally:
        services.close()
        sandbox.stop()
        db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args()
    run(args.count + 1)
