"""Journal + resolver: every crash point, every unknown, resolved by query or by resending the same number."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bank_sandbox import RunningSandbox
from desktop_his.services.bank import (
    BankGateway,
    CancelRequest,
    ConfirmRequest,
    DeductRequest,
    JournalRefs,
    LockRequest,
    PayRequest,
    RefundRequest,
    ResolverThread,
)
from desktop_his.services.bank.protocol import SignQuery
from desktop_his.services.clock import ManualClock
from desktop_his.services.db import Database
from desktop_his.services.enums import JournalState, LockStatus
from desktop_his.services.errors import Conflict
from desktop_his.services.models import BankJournal, CreditLock
from tests.services.bank.conftest import PURPOSE, make_gateway, patient_lock
from tests.services.bank.helpers import ZHANG_WEI, ZW_AGREEMENT


class Crash(Exception):
    """The process dies here."""


def crash_at(point: str):  # noqa: ANN201
    def hook(where: str, journal_id: int) -> None:
        if where == point:
            raise Crash(where)

    return hook


def intent(gw: BankGateway, request, lock_no: str | None = None, amount: int = 0, *,  # noqa: ANN001
           existing: str | None = None) -> int:
    with gw.db.session() as s:
        refs = patient_lock(s, lock_no, amount) if lock_no else None
        if existing:
            lock = s.scalars(select(CreditLock).where(CreditLock.lock_no == existing)).one()
            refs = JournalRefs(patient_id=lock.patient_id, credit_lock_id=lock.id)
        kwargs = {"refs": refs} if refs else {}
        return gw.journal.intent(s, request, purpose=PURPOSE, actor=None, business_date=gw.clock.today(), **kwargs)


def confirmed(gw: BankGateway, visit: str = "V1") -> None:
    assert gw.execute(intent(gw, ConfirmRequest(ZW_AGREEMENT, visit))).ok


def row(gw: BankGateway, jid: int) -> BankJournal:
    with gw.db.reader() as s:
        return s.get(BankJournal, jid)


def domain_lock(gw: BankGateway, lock_no: str) -> CreditLock:
    with gw.db.reader() as s:
        return s.scalars(select(CreditLock).where(CreditLock.lock_no == lock_no)).one()


def bank_records(sandbox: RunningSandbox, op: str) -> list[dict]:
    return [r for r in sandbox.admin.ledger()["op_records"] if r["op"] == op]


def test_intent_execute_handler(gateway: BankGateway, sandbox: RunningSandbox) -> None:
    confirmed(gateway)
    jid = intent(gateway, LockRequest(ZW_AGREEMENT, "V1", "L1", 2_500), "L1", 2_500)
    assert row(gateway, jid).state == JournalState.INTENT
    outcome = gateway.execute(jid)
    assert outcome.ok and outcome.serial.startswith("LK") and outcome.fields["available_fen"] == 497_500
    entry = row(gateway, jid)
    assert (entry.state, entry.attempts, entry.amount_fen, entry.bank_serial) == ("success", 1, 2_500, outcome.serial)
    lock = domain_lock(gateway, "L1")
    assert (lock.status, lock.lock_serial) == (LockStatus.LOCKED, outcome.serial)
    assert gateway.execute(jid) == outcome  # final: nothing is sent again
    assert len(bank_records(sandbox, "lock")) == 1


def test_intent_rules(gateway: BankGateway) -> None:
    request = LockRequest(ZW_AGREEMENT, "V1", "L1", 100)
    first = intent(gateway, request)
    assert intent(gateway, request) == first  # a retried workflow cannot make a second operation
    with pytest.raises(Conflict):
        intent(gateway, LockRequest(ZW_AGREEMENT, "V1", "L1", 101))
    with gateway.db.session() as s, pytest.raises(ValueError, match="register_handler"):
        gateway.journal.intent(s, request, purpose="nobody", actor=None, business_date=gateway.clock.today())
    with gateway.db.session() as s, pytest.raises(TypeError):
        gateway.journal.intent(s, SignQuery(*ZHANG_WEI), purpose=PURPOSE, actor=None,  # type: ignore[arg-type]
                               business_date=gateway.clock.today())


def test_crash_between_intent_and_send(gateway: BankGateway, sandbox: RunningSandbox) -> None:
    confirmed(gateway)
    jid = intent(gateway, LockRequest(ZW_AGREEMENT, "V1", "L1", 100), "L1", 100)  # …and the PC dies
    report = gateway.resolve_pending(include_not_due=True)
    assert (report.checked, report.success) == (1, 1)
    assert row(gateway, jid).state == "success" and domain_lock(gateway, "L1").status == LockStatus.LOCKED
    assert len(bank_records(sandbox, "lock")) == 1


def test_crash_after_sent_before_the_request_left(db: Database, clock: ManualClock, sandbox: RunningSandbox) -> None:
    gw = make_gateway(db, clock, sandbox.url)
    confirmed(gw)
    jid = intent(gw, LockRequest(ZW_AGREEMENT, "V1", "L1", 100), "L1", 100)
    gw.fault_hook = crash_at("sent")
    with pytest.raises(Crash):
        gw.execute(jid)
    assert row(gw, jid).state == "sent" and bank_records(sandbox, "lock") == []
    restarted = make_gateway(db, clock, sandbox.url)  # next start: the bank never saw it → same number resent
    assert restarted.resolve_pending(include_not_due=True).success == 1
    assert row(restarted, jid).attempts == 2 and domain_lock(restarted, "L1").status == LockStatus.LOCKED
    assert len(bank_records(sandbox, "lock")) == 1


def test_crash_after_the_answer_before_the_outcome_commit(db: Database, clock: ManualClock,
                                                          sandbox: RunningSandbox) -> None:
    gw = make_gateway(db, clock, sandbox.url)
    confirmed(gw)
    jid = intent(gw, LockRequest(ZW_AGREEMENT, "V1", "L1", 100), "L1", 100)
    gw.fault_hook = crash_at("answered")
    with pytest.raises(Crash):
        gw.execute(jid)
    assert row(gw, jid).state == "sent" and len(bank_records(sandbox, "lock")) == 1
    restarted = make_gateway(db, clock, sandbox.url)
    assert restarted.resolve_pending(include_not_due=True).success == 1
    entry = row(restarted, jid)
    assert (entry.state, entry.attempts) == ("success", 1)  # resolved by the after-pay query, not resent
    assert domain_lock(restarted, "L1").lock_serial == entry.bank_serial


def test_timeout_after_commit_is_resolved_by_query(gateway: BankGateway, sandbox: RunningSandbox) -> None:
    confirmed(gateway)
    sandbox.admin.add_fault("pay", "drop_reply", count=1)
    jid = intent(gateway, PayRequest(ZW_AGREEMENT, "P1", 5_000))
    outcome = gateway.execute(jid)
    assert outcome.unknown and outcome.code == "ADPTSY0005"
    assert row(gateway, jid).state == "unknown" and row(gateway, jid).next_check_at is not None
    assert gateway.resolve_pending().checked == 0  # not due yet: back-off
    outcome = gateway.execute(jid)
    assert outcome.ok and row(gateway, jid).attempts == 1  # the pay query answered; nothing resent
    assert [r["attempts"] for r in bank_records(sandbox, "pay")] == [1]


def test_processing_then_success(gateway: BankGateway, sandbox: RunningSandbox) -> None:
    confirmed(gateway)
    sandbox.admin.add_fault("lock", "processing", count=1)
    sandbox.admin.add_fault("after_pay_query", "processing", count=2)
    jid = intent(gateway, LockRequest(ZW_AGREEMENT, "V1", "L1", 100), "L1", 100)
    assert gateway.execute(jid).unknown
    assert domain_lock(gateway, "L1").status == LockStatus.PENDING  # unknown: the domain row waits too
    outcome = gateway.execute(jid, settle_within=5.0)
    assert outcome.ok and domain_lock(gateway, "L1").status == LockStatus.LOCKED


def test_deduct_and_cancel_are_resolved_by_resending_the_same_number(gateway: BankGateway,
                                                                     sandbox: RunningSandbox) -> None:
    confirmed(gateway)
    serial = gateway.execute(intent(gateway, LockRequest(ZW_AGREEMENT, "V1", "L1", 1_000), "L1", 1_000)).serial
    sandbox.admin.add_fault("deduct", "drop_reply", count=1)
    jid = intent(gateway, DeductRequest("L1", serial, 800, *ZHANG_WEI))
    assert gateway.execute(jid).unknown
    assert gateway.resolve_pending(include_not_due=True).success == 1
    assert row(gateway, jid).attempts == 2
    moves = [m for m in sandbox.admin.ledger()["movements"] if m["op"] == "deduct"]
    assert [(m["number"], m["amount_fen"]) for m in moves] == [("L1", 800)]  # moved once
    serial2 = gateway.execute(intent(gateway, LockRequest(ZW_AGREEMENT, "V1", "L2", 1_000), "L2", 1_000)).serial
    sandbox.admin.add_fault("cancel", "garbage", count=1)
    jid = intent(gateway, CancelRequest("L2", serial2), existing="L2")
    assert gateway.execute(jid).code == "ADPTSY0008"
    assert gateway.execute(jid).ok and domain_lock(gateway, "L2").status == LockStatus.CANCELLED


def test_refused_lock_is_a_final_failure(gateway: BankGateway) -> None:
    confirmed(gateway)
    jid = intent(gateway, LockRequest(ZW_AGREEMENT, "V1", "L1", 500_001), "L1", 500_001)
    outcome = gateway.execute(jid)
    assert outcome.failed and outcome.code == "XYB002"
    lock = domain_lock(gateway, "L1")
    assert (lock.status, lock.failure_code) == (LockStatus.FAILED, "XYB002")


def test_balance_short_refund_is_failed_then_retried_with_its_number(gateway: BankGateway,
                                                                     sandbox: RunningSandbox) -> None:
    calls = []
    gateway.register_handler("refund", lambda s, r, o: calls.append((r.number, o.state.value, o.code)))
    confirmed(gateway)
    with gateway.db.session() as s:
        pay = gateway.journal.intent(s, PayRequest(ZW_AGREEMENT, "P1", 9_000), purpose="refund", actor=None,
                                     business_date=gateway.clock.today())
    serial = gateway.execute(pay).serial
    sandbox.admin.set_merchant(receivables_fen=0)
    with gateway.db.session() as s:
        jid = gateway.journal.intent(s, RefundRequest("R1", serial, 4_000), purpose="refund", actor=None,
                                     business_date=gateway.clock.today())
    assert gateway.execute(jid).code == "DCBS0004PL0974" and row(gateway, jid).state == "failed"
    with pytest.raises(Conflict):
        gateway.retry(pay)  # a SUCCESS is never re-sent
    assert gateway.retry(jid).code == "DCBS0004PL0974"  # still short
    sandbox.admin.set_merchant(receivables_fen=4_000)
    outcome = gateway.retry(jid)
    assert outcome.ok and row(gateway, jid).attempts == 3
    assert calls[1:] == [("R1", "FAILED", "DCBS0004PL0974")] * 2 + [("R1", "SUCCESS", "000000")]
    with pytest.raises(Conflict):
        gateway.retry(jid)


def test_a_failing_handler_leaves_the_entry_unknown(gateway: BankGateway) -> None:
    broken = {"on": True}

    def handler(session, entry, outcome) -> None:  # noqa: ANN001
        if broken["on"]:
            raise RuntimeError("domain bug")

    gateway.register_handler("fragile", handler)
    confirmed(gateway)
    with gateway.db.session() as s:
        jid = gateway.journal.intent(s, PayRequest(ZW_AGREEMENT, "P1", 100), purpose="fragile", actor=None,
                                     business_date=gateway.clock.today())
    assert gateway.execute(jid).unknown and row(gateway, jid).state == "unknown"
    broken["on"] = False
    assert gateway.resolve_pending(include_not_due=True).success == 1  # by pay query, not a second pay


def test_envelope_refusals_are_unknown_not_failed(db: Database, clock: ManualClock, sandbox: RunningSandbox) -> None:
    from desktop_his.services.bank import BankClient, BankKeys, JsonV1Adapter

    wrong = BankGateway(db, BankClient(sandbox.url, JsonV1Adapter(BankKeys("HIS0001", b"w" * 32, b"d" * 16))), clock)
    wrong.register_handler(PURPOSE, lambda *a: None)
    jid = intent(wrong, ConfirmRequest(ZW_AGREEMENT, "V1"))
    outcome = wrong.execute(jid)
    assert outcome.unknown and outcome.code == "ADPTSY0008"  # the refusal is signed with the real key
    right = make_gateway(db, clock, sandbox.url)
    assert right.resolve_pending(include_not_due=True).success == 1


def test_resolver_thread_resolves_at_start(gateway: BankGateway, sandbox: RunningSandbox) -> None:
    confirmed(gateway)
    ids = [intent(gateway, LockRequest(ZW_AGREEMENT, "V1", f"L{i}", 100)) for i in range(5)]
    thread = ResolverThread(gateway, interval=0.05, batch=2)
    thread.start()
    try:
        import time

        deadline = time.monotonic() + 10
        while any(row(gateway, j).state != "success" for j in ids) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        thread.stop()
    assert all(row(gateway, j).state == "success" for j in ids) and thread.runs >= 1


def test_execute_many_under_faults_then_resolved(gateway: BankGateway, sandbox: RunningSandbox) -> None:
    confirmed(gateway)
    for kind in ("drop_reply", "refuse", "processing", "garbage"):
        sandbox.admin.add_fault("lock", kind, probability=0.1)
    with gateway.db.session() as s:
        ids = gateway.journal.intent_many(
            s, [(LockRequest(ZW_AGREEMENT, "V1", f"L{i:03d}", 100 + i), JournalRefs()) for i in range(80)],
            purpose=PURPOSE, actor=None, business_date=gateway.clock.today())
    outcomes = gateway.execute_many(ids, max_workers=8, window=16)
    assert set(outcomes) == set(ids)
    assert any(o.unknown for o in outcomes.values()) and any(o.ok for o in outcomes.values())
    assert all(row(gateway, j).attempts == 1 for j in ids)
    sandbox.admin.clear_faults()
    gateway.resolve_pending(include_not_due=True)
    locks = {r["number"]: r for r in bank_records(sandbox, "lock")}
    for j in ids:
        entry = row(gateway, j)
        assert entry.state == "success" and locks[entry.number]["serial"] == entry.bank_serial
        assert locks[entry.number]["amount_fen"] == entry.amount_fen
    assert gateway.execute_many(ids) == {j: gateway.outcome(j) for j in ids}  # final: nothing sent again
    assert len(bank_records(sandbox, "lock")) == 80


def test_execute_many_crash_between_answers_and_their_commit(db: Database, clock: ManualClock,
                                                            sandbox: RunningSandbox) -> None:
    gw = make_gateway(db, clock, sandbox.url)
    confirmed(gw)
    with db.session() as s:
        ids = gw.journal.intent_many(
            s, [(LockRequest(ZW_AGREEMENT, "V1", f"L{i:03d}", 100), JournalRefs()) for i in range(40)],
            purpose=PURPOSE, actor=None, business_date=clock.today())
    gw.fault_hook = crash_at("answered")
    with pytest.raises(Crash):
        gw.execute_many(ids, max_workers=4, window=8)
    states = {row(gw, j).state for j in ids}
    assert states <= {"intent", "sent"} and "sent" in states
    restarted = make_gateway(db, clock, sandbox.url)
    assert restarted.resolve_pending(include_not_due=True).success == 40
    assert len(bank_records(sandbox, "lock")) == 40


def test_periodic_resolver_leaves_fresh_entries_to_their_sender(gateway: BankGateway, sandbox: RunningSandbox) -> None:
    from datetime import timedelta

    confirmed(gateway)
    fresh = intent(gateway, LockRequest(ZW_AGREEMENT, "V1", "L1", 100))
    assert gateway.resolve_pending().checked == 0  # a workflow is about to execute it
    gateway.clock.advance(timedelta(seconds=31))
    assert gateway.resolve_pending().success == 1  # abandoned: the resolver sends it
    assert row(gateway, fresh).state == "success"
