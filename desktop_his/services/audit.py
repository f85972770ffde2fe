"""The append-only, hash-chained audit log (SPEC §7).

Each record's hash covers the previous record's hash and the record's own canonical content, so editing,
deleting or reordering any record breaks the chain from there on. The chain's tip is also kept in the single
``audit_head`` row; updating that row inside the caller's transaction serialises appends from every PC
(a row lock on PostgreSQL, the write lock on SQLite) so the chain never forks. Deleting the newest records is
caught by comparing the last record with the head.

Call :func:`append` inside the same transaction as the change it records: the audit entry and the change
commit together or not at all.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from desktop_his.services.models import AuditHead, AuditRecord
from desktop_his.services.permissions import Actor

GENESIS = "0" * 64
_HEAD_ID = 1


def _canonical(seq: int, at: datetime, actor_id: int | None, actor: str, workstation: str, action: str,
               entity: str, entity_id: str, detail: dict[str, Any]) -> bytes:
    payload = {
        "seq": seq, "at": at.isoformat(timespec="microseconds"), "actor_id": actor_id, "actor": actor,
        "workstation": workstation, "action": action, "entity": entity, "entity_id": entity_id,
        "detail": detail,
    }
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str).encode()


def record_hash(prev_hash: str, record: AuditRecord) -> str:
    body = _canonical(record.seq, record.at, record.actor_id, record.actor, record.workstation,
                      record.action, record.entity, record.entity_id, record.detail)
    return hashlib.sha256(prev_hash.encode() + body).hexdigest()


def _normalise(detail: dict[str, Any] | None) -> dict[str, Any]:
    # Round-trip through JSON so what we hash is exactly what the database will hand back.
    return json.loads(json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str))


def _ensure_head(session: Session) -> None:
    if session.get(AuditHead, _HEAD_ID) is None:
        dialect = session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        session.execute(insert(AuditHead).values(id=_HEAD_ID, seq=0, hash=GENESIS).on_conflict_do_nothing())


def append(session: Session, *, actor: Actor, action: str, at: datetime, entity: str = "",
           entity_id: object = "", detail: dict[str, Any] | None = None) -> AuditRecord:
    """Append one record. ``action`` is a dotted name (``registration.credit_confirmed``, ``auth.login``)."""
    _ensure_head(session)
    # Taking the head row for update first serialises concurrent appenders.
    head = session.execute(
        select(AuditHead).where(AuditHead.id == _HEAD_ID).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    record = AuditRecord(
        seq=head.seq + 1, at=at, actor_id=actor.staff_id, actor=actor.username,
        workstation=actor.workstation, action=action, entity=entity, entity_id=str(entity_id),
        detail=_normalise(detail), prev_hash=head.hash, hash="",
    )
    record.hash = record_hash(head.hash, record)
    session.add(record)
    session.execute(
        update(AuditHead).where(AuditHead.id == _HEAD_ID).values(seq=record.seq, hash=record.hash)
    )
    session.flush()
    return record


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    records: int
    problem: str = ""
    bad_seq: int | None = None


def verify(session: Session, *, batch: int = 5000) -> ChainCheck:
    """Walk the whole chain; report the first record whose content, order or link does not hold."""
    prev_hash, expected_seq, count, last_id = GENESIS, 1, 0, 0
    while True:
        rows = session.execute(
            select(AuditRecord).where(AuditRecord.id > last_id).order_by(AuditRecord.id).limit(batch)
        ).scalars().all()
        if not rows:
            break
        for rec in rows:
            if rec.seq != expected_seq:
                return ChainCheck(False, count, f"序号不连续：应为 {expected_seq}，实为 {rec.seq}（记录被删除或插入）",
                                  expected_seq)
            if rec.prev_hash != prev_hash:
                return ChainCheck(False, count, f"第 {rec.seq} 条记录的前序哈希不符（链被改动）", rec.seq)
            if record_hash(prev_hash, rec) != rec.hash:
                return ChainCheck(False, count, f"第 {rec.seq} 条记录内容被篡改", rec.seq)
            prev_hash, expected_seq, count, last_id = rec.hash, expected_seq + 1, count + 1, rec.id
    head = session.get(AuditHead, _HEAD_ID)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    if head_seq != count or head_hash != prev_hash:
        return ChainCheck(False, count, f"链尾与记录不符：最后 {head_seq - count} 条记录被删除或改动", count + 1)
    return ChainCheck(True, count)
