"""UI stall benchmark: the longest event-loop stall of the registration window while a sign-status query
with 2 s of injected bank latency is in flight.

    python bench/ui_stall.py [--rounds 5] [--latency-ms 2000]

A real window (offscreen) on a SQLite database, the bank sandbox in its own process with a ``delay`` fault on
``sign_query``. Each round chooses a patient the way the cashier does (ID number + Enter in the search line):
the window looks the patient up, starts the sign-status query on the bank lane, shows the wait state, and
answers when the bank does. A 1 ms timer measures the gaps between event-loop turns from the Enter to the
answer shown; the longest gap is the stall. Target: ≤ 30 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from argon2 import PasswordHasher  # noqa: E402

from desktop_his.services import db as dbmod  # noqa: E402
from desktop_his.services import pinyin  # noqa: E402
from desktop_his.services.clock import ManualClock  # noqa: E402
from desktop_his.services.config import Settings  # noqa: E402
from desktop_his.services.container import build_services, connect_bank  # noqa: E402
from desktop_his.services.enums import Role  # noqa: E402
from desktop_his.services.models import Department, Doctor, Patient, Slot  # noqa: E402
from desktop_his.services.permissions import Actor  # noqa: E402

T0 = datetime(2026, 11, 23, 8, 0)


def main(rounds: int, latency_ms: int) -> None:
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication
    from registration import ExternalSandbox, id_number

    from desktop_his.qt import locale_setup
    from desktop_his.views.registration.window import RegistrationWindow

    app = QApplication.instance() or QApplication([])
    locale_setup.apply(app)
    tmp = Path(tempfile.mkdtemp(prefix="bench-ui-stall-"))
    db = dbmod.Database.from_url(f"sqlite:///{tmp / 'his.sqlite3'}")
    dbmod.upgrade(db)
    services = build_services(Settings(data_dir=tmp / "data", log_dir=tmp / "log", workstation="BENCH-01"),
                              clock=ManualClock(T0), db=db,
                              hasher=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    sandbox = ExternalSandbox(tmp / "bank.sqlite3")
    sandbox.admin.set_clock(T0.isoformat())
    numbers = [id_number(i) for i in range(rounds)]
    with services.db.session() as s:
        for i, number in enumerate(numbers):
            name = f"测试{'甲乙丙丁戊己庚辛壬癸'[i % 10]}{i}"
            sandbox.admin.create_resident(name, "01", number)
            sandbox.admin.sign("01", number, 500_000)
            s.add(Patient(name=name, pinyin=pinyin.initials(name), id_type="01", id_number=number, sex="M",
                          birth_date=datetime(1970, 1, 1).date(), phone="13900000000", created_at=T0))
        dept = Department(code="NK", name="内科", pinyin="nk", kind="clinical")
        s.add(dept)
        s.flush()
        doctor = Doctor(department_id=dept.id, name="李明", pinyin="lm")
        s.add(doctor)
        s.flush()
        s.add(Slot(doctor_id=doctor.id, department_id=dept.id, date=T0.date(), period="AM",
                   start_time=datetime(1, 1, 1, 8).time(), end_time=datetime(1, 1, 1, 12).time(), capacity=100,
                   fee_fen=1000))
    connect_bank(services, base_url=sandbox.url, resolver_interval=None)
    sandbox.admin.add_fault("sign_query", "delay", delay_ms=latency_ms)
    window = RegistrationWindow(services, Actor(None, "bench", "压测", frozenset({Role.CASHIER}), "BENCH-01"))
    window.resize(1100, 760)
    window.show()
    app.processEvents()
    stalls, waits, cpu_stalls = [], [], []

    def idle_gaps(ms: int) -> float:
        """The same 1 ms timer with nothing in flight: what the OS scheduler alone costs on this machine."""
        gaps: list[float] = []
        clock = QElapsedTimer()
        tick = QTimer(interval=1)
        tick.timeout.connect(lambda: (gaps.append(clock.nsecsElapsed() / 1e6), clock.restart()))
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        clock.start()
        tick.start()
        loop.exec()
        tick.stop()
        return max(gaps)

    try:
        baseline = idle_gaps(latency_ms)
        for number in numbers:
            gaps: list[float] = []
            cpu_gaps: list[float] = []
            clock = QElapsedTimer()
            tick = QTimer(interval=1)
            last_cpu = [time.thread_time()]

            def on_tick(gaps: list[float] = gaps, clock: QElapsedTimer = clock, cpu_gaps: list[float] = cpu_gaps,
                        last_cpu: list[float] = last_cpu) -> None:
                gaps.append(clock.nsecsElapsed() / 1e6)
                clock.restart()
                now = time.thread_time()  # the GUI thread's own CPU time: its work, not the OS's scheduling
                cpu_gaps.append((now - last_cpu[0]) * 1000)
                last_cpu[0] = now

            tick.timeout.connect(on_tick)
            loop = QEventLoop()
            started = time.perf_counter()
            clock.start()
            tick.start()
            window.patients.search.setText(number)
            window.patients.search.returnPressed.emit()  # the Enter of the wedge reader
            saw_wait = False

            def check(loop: QEventLoop = loop, number: str = number) -> None:
                nonlocal saw_wait
                query = window.query
                saw_wait = saw_wait or (query is not None and query.running and "正在查询" in window.sign_label.text())
                if query is not None and not query.running and query.patient_id and window.patient is not None \
                        and window.patient.id_number_masked[-4:] == number[-4:]:
                    loop.quit()

            poll = QTimer(interval=5)
            poll.timeout.connect(check)
            poll.start()
            QTimer.singleShot(latency_ms * 5, loop.quit)
            loop.exec()
            tick.stop()
            poll.stop()
            waits.append((time.perf_counter() - started) * 1000)
            stalls.append(max(gaps))
            cpu_stalls.append(max(cpu_gaps))
            assert saw_wait, "the wait state was never shown"
            assert window.query is not None and window.query.signed, window.sign_label.text()
        print(f"rounds: {rounds}, sign-status query with {latency_ms} ms injected latency (sandbox in its own process)")
        print(f"query answered after: median {statistics.median(waits):.0f} ms")
        print(f"longest event-loop stall per round: {', '.join(f'{x:.1f}' for x in stalls)} ms")
        print(f"worst stall: {max(stalls):.1f} ms, median {statistics.median(stalls):.1f} ms   [target ≤ 30 ms]"
              f"   (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
        print(f"GUI thread CPU between two turns, per round: {', '.join(f'{x:.1f}' for x in cpu_stalls)} ms; worst {max(cpu_stalls):.1f} ms, median "
              f"{statistics.median(cpu_stalls):.1f} ms")
        print(f"baseline: longest gap of the idle event loop over {latency_ms} ms: {baseline:.1f} ms "
              f"(the machine's own scheduling noise)")
    finally:
        window.close()
        from desktop_his.qt import ops

        ops.shutdown()
        services.close()
        sandbox.stop()
        db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--latency-ms", type=int, default=2000)
    args = parser.parse_args()
    main(args.rounds, args.latency_ms)
