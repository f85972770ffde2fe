"""Shared set-up for the finance tests: credit visits with many 信用就医 locks of day T, made through the real
confirm → lock flow against the bank sandbox, and a look at the sandbox's ledger."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import select

from desktop_his.services.container import Services
from desktop_his.services.credit import start_lock
from desktop_his.services.enums import LockStatus, Role
from desktop_his.services.models import CreditLock, Slot, Visit
from desktop_his.services.permissions import Actor
from tests.factories import (
    actor_for,
    make_demo_patient,
    make_department,
    make_doctor,
    make_slot,
    make_staff,
    make_visit,
)

T = date(2026, 11, 23)  # the clock fixture's day (and the sandbox's)


def finance_world(services: Services) -> tuple[Actor, Actor, int]:
    """(cashier, finance clerk, slot id): a clinic whose doctor has a morning slot of day T."""
    with services.db.session() as s:
        dept = make_department(s, "内科")
        doctor = make_doctor(s, dept, "李医生", fee_fen=1000)
        slot = make_slot(s, doctor, T, capacity=200)
        cashier = actor_for(make_staff(s, Role.CASHIER, username="cashier9", department=dept))
        finance = actor_for(make_staff(s, Role.FINANCE, username="finance9"))
        return cashier, finance, slot.id


def credit_visit(services: Services, cashier: Actor, name: str, slot_id: int) -> int:
    """A visit of ``name`` (a demo resident the sandbox knows) confirmed for 信用就医, its fee locked."""
    with services.db.session() as s:
        patient = make_demo_patient(s, name)
        visit_id = make_visit(s, patient, s.get(Slot, slot_id), status="registered", fee_status="unpaid").id
    with services.db.reader() as s:
        patient_id = s.get(Visit, visit_id).patient_id
    sign = services.credit.sign_status(cashier, patient_id)
    assert services.credit.use_credit(cashier, visit_id, sign, settle_within=2.0).state == "locked"
    return visit_id


def add_locks(services: Services, visit_id: int, amounts: list[int], *, actual: dict[int, int] | None = None
              ) -> list[int]:
    """More locks on a credit visit (as order locks are), sent and LOCKED at the bank; ``actual`` maps an index
    to the actual amount to deduct (≤ the lock). Returns the lock ids."""
    now = services.clock.now()
    journal_ids = []
    with services.db.session() as s:
        visit = s.get(Visit, visit_id)
        for amount in amounts:
            journal_ids.append(start_lock(s, services.bank, purpose="order", patient_id=visit.patient_id,
                                          visit=visit, order_id=None, amount_fen=amount, business_date=T, now=now,
                                          staff_id=None, workstation="WS-TEST", actor=None))
    services.bank.execute_many(journal_ids, max_workers=8)
    with services.db.session() as s:
        locks = s.scalars(select(CreditLock).where(CreditLock.visit_id == visit_id, CreditLock.purpose == "order")
                          .order_by(CreditLock.id)).all()[-len(amounts):]
        assert all(lock.status == LockStatus.LOCKED for lock in locks)
        for i, fen in (actual or {}).items():
            locks[i].actual_fen = fen
        return [lock.id for lock in locks]


def bank_deductions(services: Services) -> Counter:
    """lock number → how many deduction movements the bank's ledger has for it (must be 1 each)."""
    ledger = services.sandbox.admin.ledger()
    return Counter(m["number"] for m in ledger["movements"] if m["op"] == "deduct" and m["status"] == "SUCCESS")


def bank_deducted_fen(services: Services) -> dict[str, int]:
    return {m["number"]: m["amount_fen"] for m in services.sandbox.admin.ledger()["movements"]
            if m["op"] == "deduct" and m["status"] == "SUCCESS"}


def locks_of_day(services: Services) -> dict[str, CreditLock]:
    with services.db.reader() as s:
        return {lock.lock_no: lock for lock in s.scalars(select(CreditLock).where(CreditLock.business_date == T))}
