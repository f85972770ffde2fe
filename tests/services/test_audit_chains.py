"""Per-workstation audit chains: appends of different PCs do not share a head row, and removing a whole
workstation's chain (its records and its head row) is still detected through the chain registry."""

from __future__ import annotations

import threading
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy import delete, select, update

from desktop_his.services import audit
from desktop_his.services import db as dbmod
from desktop_his.services.db import Database
from desktop_his.services.enums import Role
from desktop_his.services.models import AuditHead, AuditRecord
from desktop_his.services.permissions import Actor


def actor(ws: str) -> Actor:
    return Actor(7, "cashier1", "王收费", frozenset({Role.CASHIER}), ws)


def fill(db: Database, clock, workstations: tuple[str, ...] = ("WIN-01", "WIN-02", "")) -> None:  # noqa: ANN001
    with db.session() as s:
        for i in range(3):
            for ws in workstations:
                audit.append(s, actor=actor(ws), action="registration.created",
                             at=clock.now() + timedelta(seconds=i), entity="visit", entity_id=i, detail={"i": i})


def check(db: Database) -> audit.ChainCheck:
    with db.reader() as s:
        return audit.verify(s)


def test_each_workstation_has_its_own_chain(db: Database, clock) -> None:  # noqa: ANN001
    fill(db, clock)
    with db.reader() as s:
        heads = {h.chain: h.seq for h in s.execute(select(AuditHead)).scalars()}
        seqs = s.execute(select(AuditRecord.seq).where(AuditRecord.chain == "WIN-02")
                         .order_by(AuditRecord.id)).scalars().all()
    assert heads == {"": 3, "WIN-01": 3, "WIN-02": 3} and seqs == [1, 2, 3]
    result = check(db)
    assert result.ok and result.records == 9 and result.chains == 3


def test_deleting_a_whole_workstation_chain_is_detected(db: Database, clock) -> None:  # noqa: ANN001
    fill(db, clock)
    with db.session() as s:
        s.execute(delete(AuditRecord).where(AuditRecord.chain == "WIN-01"))
        s.execute(delete(AuditHead).where(AuditHead.chain == "WIN-01"))
    result = check(db)
    assert not result.ok and "登记不符" in result.problem


def test_deleting_the_newest_registered_chain_is_detected(db: Database, clock) -> None:  # noqa: ANN001
    fill(db, clock)
    with db.session() as s:
        s.execute(delete(AuditRecord).where(AuditRecord.chain == "WIN-02"))
        s.execute(delete(AuditHead).where(AuditHead.chain == "WIN-02"))
    assert not check(db).ok


def test_edit_in_one_workstation_chain_names_it(db: Database, clock) -> None:  # noqa: ANN001
    fill(db, clock)
    with db.session() as s:
        s.execute(update(AuditRecord).where(AuditRecord.chain == "WIN-02", AuditRecord.seq == 2)
                  .values(detail={"i": 99}))
    result = check(db)
    assert not result.ok and result.chain == "WIN-02" and result.bad_seq == 2 and "WIN-02" in result.problem


def test_moving_a_record_to_another_chain_is_detected(db: Database, clock) -> None:  # noqa: ANN001
    fill(db, clock)
    with db.session() as s:
        s.execute(update(AuditRecord).where(AuditRecord.chain == "WIN-02", AuditRecord.seq == 3)
                  .values(chain="WIN-01", seq=4))
        s.execute(update(AuditHead).where(AuditHead.chain == "WIN-01").values(seq=4))
    assert not check(db).ok


def test_concurrent_first_appends_of_many_workstations(db: Database, clock) -> None:  # noqa: ANN001
    """Eight PCs append their first records at once: every chain registered exactly once, all verify."""
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        barrier.wait()
        try:
            for i in range(5):
                with db.session() as s:
                    audit.append(s, actor=actor(f"WIN-{n % 4}"), action="x.y", at=clock.now(), entity_id=i)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    result = check(db)
    assert result.ok and result.records == 40 and result.chains == 5  # four PCs and the hospital-wide chain


def test_single_chain_database_upgrades_to_the_hospital_chain(empty_db: Database, clock) -> None:  # noqa: ANN001
    """A database written by the single-chain code (revision 0002) verifies after the upgrade and goes on."""
    dbmod.upgrade(empty_db, "0002_inpatientcore_guards")
    prev = audit.GENESIS
    with empty_db.engine.begin() as conn:
        for seq in (1, 2):
            rec = AuditRecord(chain="", seq=seq, at=clock.now(), actor_id=1, actor="a", workstation="WIN-9",
                              action="auth.login", entity="", entity_id="", detail={})
            h = audit.record_hash(prev, rec)
            conn.execute(sa.text("INSERT INTO audit_record (seq, at, actor_id, actor, workstation, action, entity,"
                                 " entity_id, detail, prev_hash, hash) VALUES (:seq, :at, 1, 'a', 'WIN-9',"
                                 " 'auth.login', '', '', '{}', :p, :h)"), {"seq": seq, "at": clock.now(), "p": prev,
                                                                         "h": h})
            prev = h
        conn.execute(sa.text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 2, :h)"), {"h": prev})
    dbmod.upgrade(empty_db)
    assert check(empty_db).ok and check(empty_db).records == 2
    fill(empty_db, clock, ("WIN-9", ""))
    result = check(empty_db)
    assert result.ok and result.records == 8


def test_append_after_a_rolled_back_append_continues_the_chain(db: Database, clock) -> None:  # noqa: ANN001
    """The process's remembered tip goes stale when a transaction rolls back: the next append notices."""
    with db.session() as s:
        audit.append(s, actor=actor("WIN-05"), action="a.b", at=clock.now())
    try:
        with db.session() as s:
            audit.append(s, actor=actor("WIN-05"), action="a.b", at=clock.now())
            raise RuntimeError("abort")
    except RuntimeError:
        pass
    with db.session() as s:
        rec = audit.append(s, actor=actor("WIN-05"), action="a.c", at=clock.now())
    assert rec.seq == 2
    with db.session() as s:  # someone else (another program on this PC) moved the head meanwhile
        s.execute(update(AuditHead).where(AuditHead.chain == "WIN-05").values(seq=AuditHead.seq))
        other = Actor(8, "other", "其他", frozenset(), "WIN-05")
        audit._tips.clear()  # noqa: SLF001 - as if the other program had appended
        audit.append(s, actor=other, action="a.d", at=clock.now())
    with db.session() as s:
        assert audit.append(s, actor=actor("WIN-05"), action="a.e", at=clock.now()).seq == 4
    assert check(db).ok and check(db).records == 4
