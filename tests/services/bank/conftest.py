"""The gateway against a real sandbox over a loopback socket, on SQLite and PostgreSQL, with a handler that
keeps a ``CreditLock`` row in step with the journal (the pattern the workflows follow)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

import pytest
from sqlalchemy.orm import Session

from bank_sandbox import RunningSandbox
from desktop_his.services.bank import BankGateway, JournalRefs, Outcome
from desktop_his.services.clock import ManualClock
from desktop_his.services.db import Database
from desktop_his.services.enums import BankOp, LockStatus
from desktop_his.services.models import BankJournal, CreditLock, Patient
from tests.services.bank.helpers import demo_client, running_sandbox

PURPOSE = "test_lock"


def credit_lock_handler(session: Session, row: BankJournal, outcome: Outcome) -> None:
    """What a workflow's handler does: make the domain row say what the journal says."""
    lock = session.get(CreditLock, row.credit_lock_id) if row.credit_lock_id else None
    if lock is None:
        return
    if row.op == BankOp.LOCK:
        lock.status = LockStatus.LOCKED if outcome.ok else LockStatus.FAILED
        lock.lock_serial = outcome.serial
        lock.failure_code = None if outcome.ok else outcome.code
    elif row.op == BankOp.DEDUCT and outcome.ok:
        lock.status, lock.deducted_fen = LockStatus.DEDUCTED, row.amount_fen
    elif row.op == BankOp.CANCEL and outcome.ok:
        lock.status = LockStatus.CANCELLED


@pytest.fixture
def sandbox(tmp_path) -> Iterator[RunningSandbox]:  # noqa: ANN001
    with running_sandbox(tmp_path / "bank.sqlite3") as running:
        yield running


def make_gateway(db: Database, clock: ManualClock, url: str, *, read_timeout: float = 1.0) -> BankGateway:
    gateway = BankGateway(db, demo_client(url, read_timeout=read_timeout), clock)
    gateway.register_handler(PURPOSE, credit_lock_handler)
    return gateway


@pytest.fixture
def gateway(db: Database, clock: ManualClock, sandbox: RunningSandbox) -> Iterator[BankGateway]:
    gw = make_gateway(db, clock, sandbox.url)
    yield gw
    gw.close()


def patient_lock(session: Session, lock_no: str, amount_fen: int, agreement_no: str = "XYDEMO000001") -> JournalRefs:
    """A patient (张伟) and a pending CreditLock, as a workflow writes them next to the intent."""
    patient = session.query(Patient).filter_by(id_number="510104198503121232").one_or_none()
    if patient is None:
        patient = Patient(name="张伟", pinyin="zw", id_type="01", id_number="510104198503121232", sex="M",
                          birth_date=date(1985, 3, 12), created_at=datetime(2026, 11, 23, 9))
        session.add(patient)
        session.flush()
    lock = CreditLock(lock_no=lock_no, patient_id=patient.id, purpose="order", agreement_no=agreement_no,
                      amount_fen=amount_fen, business_date=date(2026, 11, 23), created_at=datetime(2026, 11, 23, 9))
    session.add(lock)
    session.flush()
    return JournalRefs(patient_id=patient.id, credit_lock_id=lock.id)
