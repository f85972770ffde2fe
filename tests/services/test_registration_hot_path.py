"""Registration's hot path (registration_write): what it returns equals the ORM view of the visit, it runs
few statements, and its audit record and visit number are the usual ones."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event

from desktop_his.services import audit
from desktop_his.services.db import Database
from desktop_his.services.enums import Role
from desktop_his.services.payments import PaymentInput
from desktop_his.services.registration import RegistrationService
from tests.services import regfix
from tests.services.test_registration import TODAY


@pytest.fixture
def world(db: Database, clock):  # noqa: ANN001, ANN201
    with db.session() as s:
        nk = regfix.department(s, "内科")
        doc = regfix.doctor(s, nk, "李明", title="主任医师", room="3诊室")
        slot = regfix.slot(s, doc, TODAY, capacity=5, fee_fen=1500)
        free = regfix.slot(s, regfix.doctor(s, regfix.department(s, "内分泌科"), "王芳"),
                           TODAY + timedelta(days=1), fee_fen=0)
        st = regfix.staff(s)
        ids = {"slot": slot.id, "free": free.id, "p1": regfix.patient(s, "张伟").id,
               "p2": regfix.patient(s, "𠮷野").id}
    return RegistrationService(db, clock), regfix.actor(Role.CASHIER, staff_id=st.id), ids


def test_returned_visit_equals_the_stored_visit(world, db: Database) -> None:  # noqa: ANN001
    svc, actor, ids = world
    for patient, slot in ((ids["p1"], ids["slot"]), (ids["p2"], ids["free"]), (ids["p2"], ids["slot"])):
        made = svc.register(actor, patient, slot)
        assert made == svc.visit(actor, made.id)
    paid = svc.register(actor, ids["p1"], ids["free"], payment=PaymentInput("cash", cash_received_fen=100))
    assert paid == svc.visit(actor, paid.id)
    with db.reader() as s:
        assert audit.verify(s).ok


def test_a_registration_is_a_handful_of_statements(world, db: Database) -> None:  # noqa: ANN001
    svc, actor, ids = world
    # The first ones open the audit chain and take number blocks (1, then 2 numbers): the third needs neither.
    svc.register(actor, ids["p1"], ids["slot"])
    svc.register(actor, ids["p2"], ids["free"])
    statements: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    svc.register(actor, ids["p2"], ids["slot"])
    # PostgreSQL: read, month's visits, place+visit+notify, audit. SQLite (one PC): BEGIN, the counter row,
    # two statements per live topic, place and visit separately
    assert len(statements) <= (4 if db.is_postgresql else 13), statements
