"""The T-day deduction run against the bank sandbox, on SQLite and PostgreSQL: every lock of day T deducted
exactly once at its actual amount — run twice, two runs at once, a crash at either side of the send, replies lost
after the bank committed."""

from __future__ import annotations

import threading
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select

from desktop_his.services.container import Services
from desktop_his.services.deduction import DeductionService, ProgressInfo, journal_state_counts
from desktop_his.services.enums import FeeStatus, LockStatus, NotificationKind
from desktop_his.services.models import DeductionRun, Notification, Visit
from tests.services.finance.finfix import (
    T,
    add_locks,
    bank_deducted_fen,
    bank_deductions,
    credit_visit,
    finance_world,
    locks_of_day,
)


class Crash(Exception):
    pass


@pytest.fixture
def day(bank_services: Services):  # noqa: ANN201
    """Two credit visits (two residents) with 12 more locks between them; some actual amounts below the lock."""
    services = bank_services
    cashier, finance, slot_id = finance_world(services)
    v1 = credit_visit(services, cashier, "张伟", slot_id)
    v2 = credit_visit(services, cashier, "陈静", slot_id)
    add_locks(services, v1, [2350, 1200, 800, 4600, 990, 100], actual={0: 2000, 3: 4600, 5: 60})
    add_locks(services, v2, [5000, 3300, 120, 75, 6400, 2100], actual={1: 3000})
    return services, finance


def expected(services: Services) -> dict[str, int]:
    return {no: (lock.amount_fen if lock.actual_fen is None else lock.actual_fen)
            for no, lock in locks_of_day(services).items()}


def assert_all_deducted_once(services: Services, want: dict[str, int]) -> None:
    counts = bank_deductions(services)
    assert set(counts) == set(want) and set(counts.values()) == {1}, counts
    assert bank_deducted_fen(services) == want
    locks = locks_of_day(services)
    assert {no: lock.deducted_fen for no, lock in locks.items()} == want
    assert {lock.status for lock in locks.values()} == {LockStatus.DEDUCTED}


def test_every_lock_is_deducted_at_its_actual_amount_and_a_second_run_does_nothing(day) -> None:  # noqa: ANN001
    services, finance = day
    want = expected(services)
    assert len(want) == 14 and want[sorted(want)[0]] == 1000
    seen: list[ProgressInfo] = []
    svc = services.deduction
    before = svc.status(finance, T)
    assert before.to_deduct.count == 14 and before.to_deduct.fen == sum(want.values())
    report = svc.run(finance, T, max_workers=4, batch=5, progress=seen.append)
    assert (report.claimed, report.deducted, report.deducted_fen, report.unknown) == (14, 14, sum(want.values()), 0)
    assert seen and seen[-1].done == 14 and seen[-1].total == 14
    assert_all_deducted_once(services, want)
    with services.db.reader() as s:  # the visit fee moved with its lock
        assert {v.fee_status for v in s.scalars(select(Visit))} == {FeeStatus.DEDUCTED}
    again = svc.run(finance, T)
    assert (again.claimed, again.resumed, again.deducted) == (0, 0, 0)
    assert_all_deducted_once(services, want)
    after = svc.status(finance, T)
    assert after.to_deduct.count == 0 and after.figures(LockStatus.DEDUCTED).fen == sum(want.values())
    with services.db.reader() as s:
        assert [r.status for r in s.scalars(select(DeductionRun))] == ["done", "done"]


def test_two_runs_at_once_on_separate_connections(day) -> None:  # noqa: ANN001
    services, finance = day
    want = expected(services)
    runners = [DeductionService(services.db, services.clock, services.bank, host=f"FIN-PC-{i}") for i in (1, 2)]
    reports, errors = [], []
    barrier = threading.Barrier(2)

    def go(svc: DeductionService) -> None:
        try:
            barrier.wait()
            reports.append(svc.run(finance, T, max_workers=3, batch=2))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=go, args=(r,)) for r in runners]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert sum(r.claimed for r in reports) == 14  # disjoint claims: nothing journaled twice
    assert sum(r.deducted for r in reports) + sum(r.resumed for r in reports) >= 14
    assert_all_deducted_once(services, want)


def test_crash_after_journaling_before_sending_then_a_fresh_run(day) -> None:  # noqa: ANN001
    services, finance = day
    want = expected(services)
    svc = services.deduction

    def die(phase: str, ids: list[int]) -> None:
        if phase == "deduct":
            raise Crash("power cut between the journal commit and the send")

    svc.fault_hook = die
    with pytest.raises(Crash):
        svc.run(finance, T, batch=6)
    assert journal_state_counts(services.db, T) == {"intent": 6}
    assert not bank_deductions(services)
    with services.db.reader() as s:
        assert [r.status for r in s.scalars(select(DeductionRun))] == ["crashed"]
    fresh = DeductionService(services.db, services.clock, services.bank, host="WS-TEST")  # the next start
    services.clock.advance(timedelta(minutes=6))  # the dead run's claim lease has run out
    report = fresh.run(finance, T, batch=6)
    assert report.resumed == 6 and report.claimed == 8 and report.deducted == 14
    assert_all_deducted_once(services, want)


def test_crash_after_sending_before_the_answer_is_recorded_resolver_finishes(day) -> None:  # noqa: ANN001
    services, finance = day
    want = expected(services)
    answered = []

    def die(point: str, journal_id: int) -> None:
        if point == "answered":
            answered.append(journal_id)
            if len(answered) == 3:
                raise Crash("process killed with answers in hand, not yet committed")

    services.bank.fault_hook = die
    with pytest.raises(Crash):
        services.deduction.run(finance, T, max_workers=2, batch=14)
    services.bank.fault_hook = None
    assert len(bank_deductions(services)) >= 1  # the bank did deduct some …
    assert journal_state_counts(services.db, T).get("success", 0) < 14  # … the journal does not know yet
    services.clock.advance(timedelta(minutes=6))
    report = services.bank.resolve_pending(include_not_due=True)  # the resolver at the next start
    assert report.unknown == 0
    assert_all_deducted_once(services, want)
    assert services.deduction.run(finance, T).claimed == 0


def test_replies_lost_after_the_bank_committed(day) -> None:  # noqa: ANN001
    services, finance = day
    want = expected(services)
    services.sandbox.admin.add_fault("deduct", "drop_reply", count=4)
    first = services.deduction.run(finance, T, max_workers=4)
    assert first.unknown == 4 and first.deducted == 10
    assert len(bank_deductions(services)) == 14  # the bank did all of them
    assert services.deduction.status(finance, T).in_flight == 4
    services.clock.advance(timedelta(minutes=6))
    second = services.deduction.run(finance, T)  # resends the SAME lock numbers: the bank answers the first result
    assert second.resumed == 4 and second.deducted == 4 and second.claimed == 0
    assert_all_deducted_once(services, want)


def test_deadline_alert_and_locks_released_at_midnight(day) -> None:  # noqa: ANN001
    services, finance = day
    svc = services.deduction
    assert svc.warning_time() == time(23, 0)
    assert svc.status(finance, T).alert == ""
    svc.set_warning_time(finance, time(22, 30))
    services.clock.set(datetime.combine(T, time(22, 45)))
    alert = svc.status(finance, T).alert
    assert "14 笔锁定未扣款" in alert and "请立即执行T日扣款" in alert
    services.clock.set(datetime.combine(T + timedelta(days=1), time(0, 30)))  # nobody ran it: past midnight
    services.sandbox.admin.advance(days=1)
    assert "已过24时" in svc.status(finance, T).alert
    report = svc.run(finance, T)
    assert report.expired_unsent == 14 and report.claimed == 0
    assert not bank_deductions(services)
    released = svc.released(finance, T)
    assert len(released) == 14 and {r.patient_name for r in released} == {"张伟", "陈静"}
    assert sum(r.amount_fen for r in released) == sum(expected(services).values())
    assert svc.status(finance, T).alert == ""
    with services.db.reader() as s:
        notice = s.scalars(select(Notification).where(Notification.kind == NotificationKind.LOCK_EXPIRED)).one()
        assert "14 笔" in notice.body
        assert {v.fee_status for v in s.scalars(select(Visit))} == {FeeStatus.UNPAID}
