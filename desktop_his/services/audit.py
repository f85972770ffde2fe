"""The append-only, hash-chained audit log (SPEC §7), one chain per workstation.

Each record's hash covers the previous record's hash (in the same chain) and the record's own canonical
content, so editing, deleting or reordering any record breaks its chain from there on. Every PC (workstation)
appends to **its own chain**; the chain's tip is kept in that workstation's ``audit_head`` row, and updating
that row inside the caller's transaction serialises appends of that workstation only, so windows on different
PCs never wait for each other (a single hospital-wide head row made every registration in the hospital queue
behind one row lock). Deleting the newest records of a chain is caught by comparing its last record with its
head. Records written without a workstation (jobs, the command line) go to the hospital-wide chain ``""``,
which also continues the single chain of databases from before per-workstation chains.

Chains themselves are registered in a small hash chain of their own: when a workstation's chain is opened,
its head row gets ``link_no`` (1, 2, …) and ``link_hash = SHA-256(previous link_hash ‖ chain name)``, and the
hospital-wide head row keeps the registry's tip (``chains``, ``chains_hash``). Deleting a whole workstation's
chain — its records and its head row — therefore still breaks verification, as it did with one chain.

Call :func:`append` inside the same transaction as the change it records: the audit entry and the change
commit together or not at all. Append as late in the transaction as convenient: the head row stays locked
until the commit.
"""

from __future__ import annotations

import hashlib
import json
import threading
import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, bindparam, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from desktop_his.services.models import AuditHead, AuditRecord
from desktop_his.services.permissions import Actor

GENESIS = "0" * 64
HOSPITAL_CHAIN = ""  # jobs, the command line, and the records from before per-workstation chains
CHAIN_LENGTH = 60

_HEAD = AuditHead.__table__
_RECORD = AuditRecord.__table__

def _canonical(seq: int, at: datetime, actor_id: int | None, actor: str, workstation: str, action: str,
               entity: str, entity_id: str, detail: dict[str, Any]) -> bytes:
    payload = {
        "seq": seq, "at": at.isoformat(timespec="microseconds"), "actor_id": actor_id, "actor": actor,
        "workstation": workstation, "action": action, "entity": entity, "entity_id": entity_id,
        "detail": detail,
    }
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str).encode()


def record_hash(prev_hash: str, record: Any) -> str:  # an AuditRecord or a row of audit_record
    body = _canonical(record.seq, record.at, record.actor_id, record.actor, record.workstation,
                      record.action, record.entity, record.entity_id, record.detail)
    return hashlib.sha256(prev_hash.encode() + body).hexdigest()


def link_hash(prev_link: str, chain: str) -> str:
    """The chain registry's link for ``chain`` (see the module docstring)."""
    return hashlib.sha256(prev_link.encode() + chain.encode()).hexdigest()


def chain_of(actor: Actor) -> str:
    return (actor.workstation or "")[:CHAIN_LENGTH]


def _normalise(detail: dict[str, Any] | None) -> dict[str, Any]:
    # Round-trip through JSON so what we hash is exactly what the database will hand back.
    return json.loads(json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str))


def _insert_ignore(session: Session):  # noqa: ANN202 - dialect's INSERT … ON CONFLICT
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def _open_chain(session: Session, chain: str) -> None:
    """Create ``chain``'s head row (and, for a workstation's chain, its registry link) if it is missing."""
    ins = _insert_ignore(session)
    session.execute(ins(_HEAD).values(chain=HOSPITAL_CHAIN, seq=0, hash=GENESIS, link_no=0, link_hash=GENESIS,
                                      chains=0, chains_hash=GENESIS).on_conflict_do_nothing())
    if chain == HOSPITAL_CHAIN:
        return
    # The hospital-wide row is locked first, then we look again: two first appends of one workstation
    # racing each other register the chain once.
    registry = session.execute(select(_HEAD.c.chains, _HEAD.c.chains_hash)
                               .where(_HEAD.c.chain == HOSPITAL_CHAIN).with_for_update()).one()
    if session.execute(select(_HEAD.c.chain).where(_HEAD.c.chain == chain)).first() is not None:
        return
    number, link = registry.chains + 1, link_hash(registry.chains_hash, chain)
    session.execute(insert(_HEAD).values(chain=chain, seq=0, hash=GENESIS, link_no=number, link_hash=link,
                                         chains=0, chains_hash=GENESIS))
    session.execute(update(_HEAD).where(_HEAD.c.chain == HOSPITAL_CHAIN).values(chains=number, chains_hash=link))


def _take_head(session: Session, chain: str) -> tuple[int, str]:
    """Lock ``chain``'s head, move it one on, and return (the new record's seq, the previous hash)."""
    stmt = (update(_HEAD).where(_HEAD.c.chain == chain).values(seq=_HEAD.c.seq + 1)
            .returning(_HEAD.c.seq, _HEAD.c.hash))
    row = session.execute(stmt).first()
    if row is None:
        _open_chain(session, chain)
        row = session.execute(stmt).one()
    return row[0], row[1]


# The tip this process last wrote, per (engine, chain): a hint that lets the usual append (a PC writing to its
# own chain) skip reading the head. The guarded UPDATE re-checks it; a stale hint (a rollback, a second
# program on the same workstation) simply falls back to locking the head and reading it.
_tips: weakref.WeakKeyDictionary[Engine, dict[str, tuple[int, str]]] = weakref.WeakKeyDictionary()
_tips_lock = threading.Lock()

_GUARDED_HEAD = (update(_HEAD).where(_HEAD.c.chain == bindparam("c"), _HEAD.c.seq == bindparam("prev_seq"),
                                     _HEAD.c.hash == bindparam("prev_hash"))
                 .values(seq=bindparam("seq"), hash=bindparam("new_hash")))
_SET_HASH = update(_HEAD).where(_HEAD.c.chain == bindparam("c")).values(hash=bindparam("new_hash"))
_INSERT_RECORD = insert(_RECORD).returning(_RECORD.c.id)
_COLUMNS = ("chain", "seq", "at", "actor_id", "actor", "workstation", "action", "entity", "entity_id", "detail",
            "prev_hash", "hash")
# PostgreSQL: the guarded head move and the insert in one round trip (no row when the hint was stale).
_PG_APPEND = text(
    "WITH h AS (UPDATE audit_head SET seq = :seq, hash = :new_hash"
    " WHERE chain = :c AND seq = :prev_seq AND hash = :prev_hash RETURNING 1) "
    "INSERT INTO audit_record (chain, seq, at, actor_id, actor, workstation, action, entity, entity_id, detail,"
    " prev_hash, hash) SELECT :c, :seq, :at, CAST(:actor_id AS integer), :actor, :workstation, :action, :entity,"
    " :entity_id, CAST(:detail AS json), :prev_hash, :new_hash FROM h RETURNING id")


def _engine(session: Session) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def _append_on_hint(session: Session, engine: Engine, record: AuditRecord, hint: tuple[int, str]) -> int | None:
    params = {"c": record.chain, "seq": record.seq, "prev_seq": hint[0], "prev_hash": hint[1],
              "new_hash": record.hash}
    if engine.dialect.name == "postgresql":
        return session.execute(_PG_APPEND, {**params, "at": record.at, "actor_id": record.actor_id,
                                            "actor": record.actor, "workstation": record.workstation,
                                            "action": record.action, "entity": record.entity,
                                            "entity_id": record.entity_id,
                                            "detail": json.dumps(record.detail, ensure_ascii=False)}).scalar()
    if session.execute(_GUARDED_HEAD, params).rowcount != 1:
        return None
    return session.execute(_INSERT_RECORD, {k: getattr(record, k) for k in _COLUMNS}).scalar_one()


def append(session: Session, *, actor: Actor, action: str, at: datetime, entity: str = "",
           entity_id: object = "", detail: dict[str, Any] | None = None) -> AuditRecord:
    """Append one record to the actor's workstation chain. ``action`` is a dotted name
    (``registration.credit_confirmed``, ``auth.login``). Returns the record as written (not attached to the
    session)."""
    chain = chain_of(actor)
    engine = _engine(session)
    record = AuditRecord(
        chain=chain, at=at, actor_id=actor.staff_id, actor=actor.username, workstation=actor.workstation,
        action=action, entity=entity, entity_id=str(entity_id), detail=_normalise(detail),
    )
    with _tips_lock:
        hint = _tips.get(engine, {}).get(chain)
    record_id = None
    if hint is not None:
        record.seq, record.prev_hash = hint[0] + 1, hint[1]
        record.hash = record_hash(hint[1], record)
        record_id = _append_on_hint(session, engine, record, hint)
    if record_id is None:
        record.seq, record.prev_hash = _take_head(session, chain)
        record.hash = record_hash(record.prev_hash, record)
        record_id = session.execute(_INSERT_RECORD, {k: getattr(record, k) for k in _COLUMNS}).scalar_one()
        session.execute(_SET_HASH, {"c": chain, "new_hash": record.hash})
    record.id = record_id
    with _tips_lock:
        _tips.setdefault(engine, {})[chain] = (record.seq, record.hash)
    return record


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    records: int
    problem: str = ""
    bad_seq: int | None = None
    chain: str = ""  # the workstation whose chain is broken ("" = the hospital-wide chain)
    chains: int = 0


def _label(chain: str) -> str:
    return f"［工作站 {chain}］" if chain else ""


def _verify_chain(session: Session, chain: str, head: tuple[int, str] | None, batch: int) -> ChainCheck:
    prev_hash, expected_seq, count, last_id = GENESIS, 1, 0, 0
    label = _label(chain)
    while True:
        rows = session.execute(
            select(_RECORD).where(_RECORD.c.chain == chain, _RECORD.c.id > last_id)
            .order_by(_RECORD.c.id).limit(batch)
        ).all()
        if not rows:
            break
        for rec in rows:
            if rec.seq != expected_seq:
                return ChainCheck(False, count, f"{label}序号不连续：应为 {expected_seq}，实为 {rec.seq}（记录被删除或插入）",
                                  expected_seq, chain)
            if rec.prev_hash != prev_hash:
                return ChainCheck(False, count, f"{label}第 {rec.seq} 条记录的前序哈希不符（链被改动）", rec.seq, chain)
            if record_hash(prev_hash, rec) != rec.hash:
                return ChainCheck(False, count, f"{label}第 {rec.seq} 条记录内容被篡改", rec.seq, chain)
            prev_hash, expected_seq, count, last_id = rec.hash, expected_seq + 1, count + 1, rec.id
    head_seq, head_hash = head if head else (0, GENESIS)
    if head_seq != count or head_hash != prev_hash:
        return ChainCheck(False, count, f"{label}链尾与记录不符：最后 {head_seq - count} 条记录被删除或改动",
                          count + 1, chain)
    return ChainCheck(True, count, chain=chain)


def _verify_registry(heads: list) -> str:  # noqa: ANN001 - head rows
    """Every workstation chain is registered once, in order, and the registry's tip matches: '' or the problem."""
    hospital = next((h for h in heads if h.chain == HOSPITAL_CHAIN), None)
    links = sorted((h for h in heads if h.chain != HOSPITAL_CHAIN), key=lambda h: h.link_no)
    prev = GENESIS
    for number, head in enumerate(links, 1):
        if head.link_no != number or head.link_hash != link_hash(prev, head.chain):
            return f"工作站审计链登记不符（工作站 {head.chain}）：链被删除、插入或改动"
        prev = head.link_hash
    tip = (hospital.chains, hospital.chains_hash) if hospital else (0, GENESIS)
    if tip != (len(links), prev):
        return f"工作站审计链登记不符：登记 {tip[0]} 条链，实有 {len(links)} 条（整条链被删除或改动）"
    return ""


def verify(session: Session, *, batch: int = 5000) -> ChainCheck:
    """Walk every chain; report the first record whose content, order or link does not hold, a chain whose
    tail was cut, or a whole chain removed."""
    heads = session.execute(select(_HEAD)).all()
    by_chain = {h.chain: (h.seq, h.hash) for h in heads}
    chains = sorted(set(by_chain) | set(session.execute(select(AuditRecord.chain).distinct()).scalars()))
    total = 0
    for chain in chains:
        result = _verify_chain(session, chain, by_chain.get(chain), batch)
        if not result.ok:
            return ChainCheck(False, total + result.records, result.problem, result.bad_seq, chain, len(chains))
        total += result.records
    problem = _verify_registry(heads)
    if problem:
        return ChainCheck(False, total, problem, None, "", len(chains))
    return ChainCheck(True, total, chains=len(chains))
