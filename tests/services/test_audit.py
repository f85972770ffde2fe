"""The audit chain detects editing, deleting (anywhere, including the tail) and reordering."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update

from desktop_his.services import audit
from desktop_his.services.db import Database
from desktop_his.services.enums import Role
from desktop_his.services.models import AuditRecord
from desktop_his.services.permissions import Actor

ACTOR = Actor(7, "cashier1", "王收费", frozenset({Role.CASHIER}), "WIN-01")


@pytest.fixture
def chained(db: Database, clock) -> Database:  # noqa: ANN001
    with db.session() as s:
        for i in range(5):
            audit.append(s, actor=ACTOR, action="registration.credit_confirmed", at=clock.now()
                         + timedelta(seconds=i), entity="visit", entity_id=i,
                         detail={"patient": "𠮷野", "amount_fen": 1000 + i})
    return db


def check(db: Database) -> audit.ChainCheck:
    with db.reader() as s:
        return audit.verify(s)


def test_intact_chain_verifies(chained: Database) -> None:
    result = check(chained)
    assert result.ok and result.records == 5


def test_empty_chain_verifies(db: Database) -> None:
    assert check(db).ok


def test_edited_detail_detected(chained: Database) -> None:
    with chained.session() as s:
        s.execute(update(AuditRecord).where(AuditRecord.seq == 3).values(detail={"amount_fen": 1}))
    result = check(chained)
    assert not result.ok and result.bad_seq == 3 and "篡改" in result.problem


def test_edited_actor_detected(chained: Database) -> None:
    with chained.session() as s:
        s.execute(update(AuditRecord).where(AuditRecord.seq == 2).values(actor="someone_else"))
    assert check(chained).bad_seq == 2


def test_deleted_middle_record_detected(chained: Database) -> None:
    with chained.session() as s:
        s.execute(delete(AuditRecord).where(AuditRecord.seq == 2))
    result = check(chained)
    assert not result.ok and result.bad_seq == 2


def test_deleted_last_record_detected(chained: Database) -> None:
    with chained.session() as s:
        s.execute(delete(AuditRecord).where(AuditRecord.seq == 5))
    result = check(chained)
    assert not result.ok and "删除" in result.problem


def test_rehashed_edit_still_breaks_the_next_link(chained: Database) -> None:
    """Someone edits record 2 and recomputes its own hash: record 3's prev_hash no longer matches."""
    with chained.session() as s:
        rec = s.execute(select(AuditRecord).where(AuditRecord.seq == 2)).scalar_one()
        rec.detail = {"amount_fen": 1}
        rec.hash = audit.record_hash(rec.prev_hash, rec)
    result = check(chained)
    assert not result.ok and result.bad_seq == 3


def test_appends_continue_the_chain_across_sessions(chained: Database, clock) -> None:  # noqa: ANN001
    with chained.session() as s:
        rec = audit.append(s, actor=ACTOR, action="auth.login", at=clock.now())
    assert rec.seq == 6
    assert check(chained).ok
