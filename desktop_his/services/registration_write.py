"""Registration's hot path: the statements of :meth:`RegistrationService.register`, few and without ORM.

One registration is one transaction of a handful of statements (PostgreSQL):

1. one ``SELECT`` of the patient (``FOR UPDATE OF patient``: two windows cannot both pass one patient's daily
   limits), the slot, its department and doctor, and the hospital's rule settings;
2. the patient's registrations of the slot's month (the counting rules), only if a counting rule is on;
3. one statement that takes the place with the guarded ``UPDATE slot … WHERE taken < capacity AND NOT
   suspended`` (never read-modify-write, so no slot is ever oversold), inserts the visit with a visit number
   from the process's number block (``numbers.take``) and ``pg_notify``-s the doctor's and department's live
   topics — on SQLite the same as three statements;
4. the audit record, appended to this workstation's own chain (one statement when this process wrote the
   chain's tip; see ``services/audit.py``).

The rules themselves are :mod:`registration_rules` unchanged; they see plain row objects with the same
attribute names as the ORM classes.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.orm import Session

from desktop_his.services import ids, live, registration_rules
from desktop_his.services.enums import PERIOD_LABELS, SEX_LABELS, FeeStatus, IdType, Period, Sex, VisitStatus
from desktop_his.services.errors import NotFound, RuleViolation
from desktop_his.services.models import Department, Doctor, Patient, Setting, Slot, Visit
from desktop_his.services.registration_rules import COUNTED_STATUSES, PREFETCHED, Prefetched, RuleEngine
from desktop_his.services.registration_views import FEE_STATUS_LABELS, STATUS_LABELS, VisitInfo
from desktop_his.services.rules_config import KEY, SCOPE, RegistrationRules

P, S, D, DR, ST, V = (Patient.__table__, Slot.__table__, Department.__table__, Doctor.__table__,
                      Setting.__table__, Visit.__table__)
_PARTS = (("p", P), ("s", S), ("d", D), ("r", DR))
_RULE_FIELDS = frozenset(f.name for f in fields(RegistrationRules))

_READ = (
    select(*[c.label(f"{prefix}_{c.name}") for prefix, table in _PARTS for c in table.c],
           select(ST.c.value).where(ST.c.scope == SCOPE, ST.c.key == KEY).scalar_subquery().label("rules"))
    .select_from(P.join(S, S.c.id == bindparam("slot_id")).join(D, D.c.id == S.c.department_id)
                 .join(DR, DR.c.id == S.c.doctor_id))
    .where(P.c.id == bindparam("patient_id"))
    .with_for_update(of=P)
)
_MONTH = (select(V.c.id, V.c.visit_date, V.c.department_id, V.c.doctor_id, V.c.status, V.c.slot_id)
          .where(V.c.patient_id == bindparam("patient_id"), V.c.slot_id.is_not(None),
                 V.c.visit_date >= bindparam("first"), V.c.visit_date < bindparam("after"),
                 V.c.status.in_(sorted(COUNTED_STATUSES)))
          .order_by(V.c.id))
_TAKE = (update(S).where(S.c.id == bindparam("slot_id"), S.c.taken < S.c.capacity, S.c.suspended.is_(False))
         .values(taken=S.c.taken + 1, next_queue_no=S.c.next_queue_no + 1).returning(S.c.next_queue_no))
_SUSPENDED = select(S.c.suspended).where(S.c.id == bindparam("slot_id"))
_INSERT = insert(V).returning(V.c.id)
# PostgreSQL: take the place, insert the visit and announce it in one round trip (no row: slot full/suspended).
_PG_TAKE_INSERT_NOTIFY = text(
    "WITH s AS (UPDATE slot SET taken = taken + 1, next_queue_no = next_queue_no + 1"
    " WHERE id = :slot_id AND taken < capacity AND NOT suspended RETURNING next_queue_no - 1 AS queue_no),"
    " v AS (INSERT INTO visit (visit_no, patient_id, slot_id, department_id, doctor_id, visit_date, period,"
    " queue_no, kind, status, fee_fen, fee_status, credit, family_pay, created_at, created_by, workstation,"
    " reprint_count) SELECT :visit_no, :patient_id, :slot_id, :department_id, CAST(:doctor_id AS integer),"
    " CAST(:visit_date AS date), CAST(:period AS varchar), s.queue_no, :kind, :status, :fee_fen, :fee_status,"
    " false, false, CAST(:created_at AS timestamp), CAST(:created_by AS integer), :workstation, 0 FROM s"
    " RETURNING id, queue_no)"
    " SELECT v.id, v.queue_no, pg_notify(:channel, :t0), pg_notify(:channel, :t1) FROM v")
_COUNTING = ("max_per_day", "max_per_month", "one_per_department", "one_per_doctor")


class Loaded(SimpleNamespace):
    patient: Any
    slot: Any
    department: Any
    doctor: Any
    rules: RegistrationRules


def _rules(value: Any) -> RegistrationRules:
    if not isinstance(value, dict):
        return RegistrationRules()
    return RegistrationRules(**{k: v for k, v in value.items() if k in _RULE_FIELDS})


def load(session: Session, patient_id: int, slot_id: int) -> Loaded:
    """Lock the patient and read slot, department, doctor and rule settings in one statement."""
    row = session.connection().execute(_READ, {"patient_id": patient_id, "slot_id": slot_id}).mappings().first()
    if row is None:
        if session.get(Patient, patient_id) is None:
            raise NotFound("未找到该患者", code="patient_not_found")
        raise NotFound("未找到该号源", code="slot_not_found")
    parts = {prefix: SimpleNamespace(**{c.name: row[f"{prefix}_{c.name}"] for c in table.c})
             for prefix, table in _PARTS}
    parts["s"].department, parts["s"].doctor = parts["d"], parts["r"]
    return Loaded(patient=parts["p"], slot=parts["s"], department=parts["d"], doctor=parts["r"],
                  rules=_rules(row["rules"]))


def require_allowed(session: Session, engine: RuleEngine, got: Loaded, now: datetime) -> None:
    """The rule engine's ``require_allowed`` on the rows read by :func:`load` (plus the month's visits when a
    counting rule is on), without reading them again."""
    month = None
    if any(r.code in _COUNTING and r.enabled(got.rules) for r in engine.rules):
        first = got.slot.date.replace(day=1)
        after = (first + timedelta(days=32)).replace(day=1)
        month = session.connection().execute(
            _MONTH, {"patient_id": got.patient.id, "first": first, "after": after}).all()
    session.info[PREFETCHED] = Prefetched((got.patient.id, got.slot.id), got.rules, month)
    try:
        engine.require_allowed(session, got.patient, got.slot, now)
    finally:
        session.info.pop(PREFETCHED, None)


def _refuse(conn: Any, got: Loaded) -> None:
    """Another window took the last place (or suspended the slot) after our rule check."""
    if conn.execute(_SUSPENDED, {"slot_id": got.slot.id}).scalar():
        code, message = "slot_suspended", registration_rules.suspended_message(got.slot, got.doctor)
    else:
        code, message = "slot_full", registration_rules.full_message(got.slot, got.doctor)
    raise registration_rules.RegistrationRefused([RuleViolation(message, field="slot", code=code)])


def take_place_and_insert(session: Session, got: Loaded, *, visit_no: str, now: datetime, staff_id: int | None,
                          workstation: str) -> dict[str, Any]:
    """Take the place with the guarded UPDATE (no slot is ever oversold), insert the visit, and publish the
    doctor's and department's live topics. Returns the visit's column values (with ``id``)."""
    slot = got.slot
    values = dict(
        visit_no=visit_no, patient_id=got.patient.id, slot_id=slot.id, department_id=slot.department_id,
        doctor_id=slot.doctor_id, visit_date=slot.date, period=slot.period, queue_no=None, kind="outpatient",
        status=VisitStatus.REGISTERED.value, fee_fen=slot.fee_fen,
        fee_status=(FeeStatus.UNPAID if slot.fee_fen else FeeStatus.PAID).value, credit=False, family_pay=False,
        created_at=now, created_by=staff_id, workstation=workstation, reprint_count=0,
    )
    conn = session.connection()
    topics = (f"doctor:{slot.doctor_id}", f"department:{slot.department_id}")
    if conn.dialect.name == "postgresql":
        row = conn.execute(_PG_TAKE_INSERT_NOTIFY, {**values, "slot_id": slot.id, "channel": live.CHANNEL,
                                                    "t0": topics[0], "t1": topics[1]}).first()
        if row is None:
            _refuse(conn, got)
        values["id"], values["queue_no"] = row[0], row[1]
        return values
    queue = conn.execute(_TAKE, {"slot_id": slot.id}).scalar()
    if queue is None:
        _refuse(conn, got)
    values["queue_no"] = queue - 1
    values["id"] = conn.execute(_INSERT, values).scalar_one()
    live.publish(session, *topics)
    return values


def info(got: Loaded, v: dict[str, Any]) -> VisitInfo:
    """The new visit as :func:`registration_views.visit_info` shows it (no payment recorded with it)."""
    p, dept, doc, sl = got.patient, got.department, got.doctor, got.slot
    place = " ".join(x for x in (dept.location, doc.room) if x)
    mark = "免挂号费" if v["fee_fen"] == 0 else "未缴费"
    return VisitInfo(
        id=v["id"], visit_no=v["visit_no"], patient_id=p.id, patient_name=p.name,
        patient_sex_label=SEX_LABELS.get(Sex(p.sex), ""), patient_age=ids.age_on(p.birth_date, v["visit_date"]),
        id_type_label=ids.ID_TYPE_LABELS.get(IdType(p.id_type), ""), id_number_masked=ids.mask_id_number(p.id_number),
        department_id=dept.id, department_name=dept.name, location=place, doctor_id=doc.id, doctor_name=doc.name,
        doctor_title=doc.title, visit_date=v["visit_date"], period=v["period"],
        period_label=PERIOD_LABELS.get(Period(v["period"]), "") if v["period"] else "",
        start_time=sl.start_time, end_time=sl.end_time, queue_no=v["queue_no"], fee_fen=v["fee_fen"],
        fee_status=v["fee_status"], fee_status_label=FEE_STATUS_LABELS.get(v["fee_status"], v["fee_status"]),
        status=v["status"], status_label=STATUS_LABELS.get(v["status"], v["status"]), credit=False,
        family_pay=False, mark=mark, created_at=v["created_at"], checked_in_at=None, cancelled_at=None,
        cancel_reason=None, slot_suspended=bool(sl.suspended), reprint_count=0,
    )
