"""Costs posted to an admission's running account (session level): bed days, an inpatient order's items,
manual charges and reversals.

A posted charge is never edited or deleted: a correction is a **reversal**, a negative row pointing at the
original (``reversed_charge_id``, at most one per charge — a unique index), dated on the original's day so
the cost of that day reads corrected. Every function here takes the admission's row lock first
(:func:`inpatient_account.get_admission` ``for_update``), so two desks, the nightly bed-day run and the start
of the discharge settlement never interleave on one account; once the settlement has started
(``discharging``) nothing more is charged.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desktop_his.services import audit, live, orders
from desktop_his.services.enums import AdmissionStatus, CatalogKind, FeeStatus, OrderKind, OrderStatus
from desktop_his.services.errors import Conflict, NotFound, ValidationError
from desktop_his.services.inpatient_account import days, get_admission, posted_bed_days
from desktop_his.services.inpatient_types import MAX_DESCRIPTION, MAX_REASON
from desktop_his.services.models import Admission, CatalogItem, InpatientCharge
from desktop_his.services.order_types import check_quantity, line_amount
from desktop_his.services.permissions import Actor


def publish(s: Session, admission: Admission) -> None:
    """The admission desk's views of this account (and the bed board) re-read."""
    live.publish(s, f"inpatient:admission:{admission.id}", "inpatient:admissions")


def ensure_open(admission: Admission, what: str = "记账或冲销") -> None:
    if admission.status != AdmissionStatus.ADMITTED:
        raise Conflict(f"该患者已开始出院结算，不能再{what}", code="admission_not_open")


def clean_text(text: str | None, *, field: str, limit: int, what: str, required: bool = True) -> str:
    """Collapse whitespace, refuse control characters and over-long text (Chinese message at ``field``)."""
    raw = text or ""
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in raw):
        raise ValidationError(f"{what}中不能含有控制字符", field=field)
    value = " ".join(raw.split())
    if required and not value:
        raise ValidationError(f"请填写{what}", field=field)
    if len(value) > limit:
        raise ValidationError(f"{what}最多{limit}个字", field=field)
    return value


def add_charge(s: Session, actor: Actor, admission: Admission, now: datetime, *, day: date, source: str,
               category: str, description: str, quantity: int, amount_fen: int, order_id: int | None = None,
               catalog_item_id: int | None = None, reversed_charge_id: int | None = None) -> InpatientCharge:
    charge = InpatientCharge(
        admission_id=admission.id, charge_date=day, source=source, category=category,
        description=description[:200], quantity=quantity, amount_fen=amount_fen, order_id=order_id,
        catalog_item_id=catalog_item_id, posted_at=now, posted_by=actor.staff_id,
        reversed_charge_id=reversed_charge_id,
    )
    s.add(charge)
    return charge


def post_bed_days(s: Session, actor: Actor, admission: Admission, bed_days: list[date],
                  now: datetime) -> list[InpatientCharge]:
    rows = [add_charge(s, actor, admission, now, day=d, source="bed", category=CatalogKind.BED,
                       description=f"床位费（{admission.ward} {admission.bed}床）", quantity=1,
                       amount_fen=admission.daily_bed_fen) for d in bed_days]
    s.flush()
    return rows


def admissions_missing_bed_days(s: Session, up_to: date, admission_id: int | None = None) -> tuple[int, list[int]]:
    """(admitted admissions looked at, those with a bed day up to ``up_to`` still to charge) in two queries,
    so the nightly run opens a transaction only where there is work."""
    a, c = Admission, InpatientCharge
    stmt = select(a.id, a.admitted_at, a.daily_bed_fen).where(a.status == AdmissionStatus.ADMITTED)
    rows = s.execute(stmt if admission_id is None else stmt.where(a.id == admission_id)).all()
    counted = select(c.admission_id, func.count()).join(a, a.id == c.admission_id).where(
        a.status == AdmissionStatus.ADMITTED, c.source == "bed", c.reversed_charge_id.is_(None),
        c.charge_date <= up_to)
    if admission_id is not None:
        counted = counted.where(c.admission_id == admission_id)
    have = dict(s.execute(counted.group_by(c.admission_id)).all())
    due = [r.id for r in rows if r.daily_bed_fen > 0 and r.admitted_at.date() <= up_to
           and have.get(r.id, 0) < (up_to - r.admitted_at.date()).days + 1]
    return len(rows), due


def bed_charge_admission(s: Session, actor: Actor, admission_id: int, up_to: date, now: datetime) -> int:
    """Charge this admission's bed days up to ``up_to`` that are not charged yet; returns the days posted."""
    admission = get_admission(s, admission_id, for_update=True)
    first = admission.admitted_at.date()
    if admission.status != AdmissionStatus.ADMITTED or admission.daily_bed_fen <= 0 or up_to < first:
        return 0
    posted = posted_bed_days(s, admission.id)
    due = [d for d in days(first, up_to) if d not in posted]
    if not due:
        return 0
    post_bed_days(s, actor, admission, due, now)
    audit.append(s, actor=actor, action="inpatient.bed_charged", at=now, entity="admission",
                 entity_id=admission.id, detail={"admission_no": admission.admission_no,
                                                 "days": [d.isoformat() for d in due],
                                                 "amount_fen": admission.daily_bed_fen * len(due)})
    publish(s, admission)
    return len(due)


def post_order(s: Session, actor: Actor, order_id: int, now: datetime) -> list[InpatientCharge]:
    """An inpatient order's items as charges (at the executed quantities once executed). Idempotent: an
    order already on the account returns its rows. The order's fee status becomes ``paid`` — charged to
    the account — so it never waits at a cashier window and can be executed."""
    order = orders.lock_order(s, order_id)
    if order.kind != OrderKind.INPATIENT or order.admission_id is None:
        raise ValidationError("该医嘱不是住院医嘱，不能记入住院费用", field="order_id")
    admission = get_admission(s, order.admission_id, for_update=True)
    existing = s.execute(select(InpatientCharge).where(InpatientCharge.order_id == order.id,
                                                       InpatientCharge.reversed_charge_id.is_(None))
                         .order_by(InpatientCharge.id)).scalars().all()
    if existing:
        return list(existing)
    if order.status not in (OrderStatus.SUBMITTED, OrderStatus.EXECUTED):
        raise Conflict("该医嘱尚未提交或已撤销，不能记账", code="order_not_chargeable")
    ensure_open(admission)
    if order.patient_id != admission.patient_id:
        raise Conflict("该医嘱不属于本次住院的患者", code="order_patient")
    day = max((order.submitted_at or now).date(), admission.admitted_at.date())
    executed = order.status == OrderStatus.EXECUTED
    rows = []
    for item in order.items:
        quantity = item.actual_quantity if executed and item.actual_quantity is not None else item.quantity
        amount = item.actual_amount_fen if executed and item.actual_amount_fen is not None else item.amount_fen
        if amount:
            name = f"{item.name} {item.spec}".strip()
            rows.append(add_charge(s, actor, admission, now, day=day, source="order", category=item.kind,
                                   description=name, quantity=quantity, amount_fen=amount, order_id=order.id,
                                   catalog_item_id=item.catalog_item_id))
    s.flush()
    if order.fee_status == FeeStatus.UNPAID:
        orders.move_fee_status(s, order.id, FeeStatus.PAID)
    audit.append(s, actor=actor, action="inpatient.order_posted", at=now, entity="admission", entity_id=admission.id,
                 detail={"admission_no": admission.admission_no, "order_no": order.order_no,
                         "amount_fen": sum(r.amount_fen for r in rows), "rows": len(rows)})
    publish(s, admission)
    return rows


def _charge_date(admission: Admission, charge_date: date | None, today: date) -> date:
    day = charge_date or today
    if not admission.admitted_at.date() <= day <= today:
        raise ValidationError(f"记账日期应在入院日（{admission.admitted_at:%Y-%m-%d}）与今天之间",
                              field="charge_date")
    return day


def post_manual(s: Session, actor: Actor, admission_id: int, now: datetime, *, catalog_item_id: int | None,
                description: str, unit_price_fen: int | None, quantity: int, category: str | None,
                charge_date: date | None) -> InpatientCharge:
    """A charge the desk posts by hand: a catalogue item (its price × quantity) or a described amount."""
    admission = get_admission(s, admission_id, for_update=True)
    ensure_open(admission)
    check_quantity(quantity)
    day = _charge_date(admission, charge_date, now.date())
    if catalog_item_id is not None:
        item = s.get(CatalogItem, catalog_item_id)
        if item is None or not item.active:
            raise ValidationError("该收费项目不存在或已停用，请重新选择", field="catalog_item_id")
        text = clean_text(description, field="description", limit=MAX_DESCRIPTION, what="摘要", required=False)
        name, unit, kind = text or f"{item.name} {item.spec}".strip(), item.price_fen, item.kind
    else:
        name = clean_text(description, field="description", limit=MAX_DESCRIPTION, what="收费项目名称")
        if isinstance(unit_price_fen, bool) or not isinstance(unit_price_fen, int) or unit_price_fen <= 0:
            raise ValidationError("单价必须为大于零的整数（分）", field="unit_price_fen")
        unit, kind = unit_price_fen, category or CatalogKind.OTHER
        if kind not in set(CatalogKind):
            raise ValidationError("费用类别无效", field="category")
    amount = line_amount(unit, quantity)
    charge = add_charge(s, actor, admission, now, day=day, source="manual", category=str(kind), description=name,
                        quantity=quantity, amount_fen=amount, catalog_item_id=catalog_item_id)
    s.flush()
    audit.append(s, actor=actor, action="inpatient.charge_posted", at=now, entity="inpatient_charge",
                 entity_id=charge.id, detail={"admission_no": admission.admission_no, "description": name,
                                              "quantity": quantity, "amount_fen": amount, "day": day.isoformat()})
    publish(s, admission)
    return charge


def reverse(s: Session, actor: Actor, charge_id: int, reason: str, now: datetime) -> InpatientCharge:
    """The negative row that cancels ``charge_id`` (audited with the reason)."""
    reason = clean_text(reason, field="reason", limit=MAX_REASON, what="冲销原因")
    found = s.get(InpatientCharge, charge_id)
    if found is None:
        raise NotFound("未找到该笔费用", field="charge_id", code="charge_not_found")
    admission = get_admission(s, found.admission_id, for_update=True)
    ensure_open(admission)
    charge = s.get(InpatientCharge, charge_id, populate_existing=True)
    assert charge is not None
    if charge.reversed_charge_id is not None:
        raise Conflict("冲销记录不能再冲销", code="reversal_of_reversal")
    if s.execute(select(InpatientCharge.id).where(InpatientCharge.admission_id == admission.id,
                                                  InpatientCharge.reversed_charge_id == charge.id)).first():
        raise Conflict("该笔费用已冲销", code="already_reversed")
    row = add_charge(s, actor, admission, now, day=charge.charge_date, source=charge.source, category=charge.category,
                     description=f"冲销：{charge.description}（{reason}）", quantity=charge.quantity,
                     amount_fen=-charge.amount_fen, order_id=charge.order_id,
                     catalog_item_id=charge.catalog_item_id, reversed_charge_id=charge.id)
    s.flush()
    audit.append(s, actor=actor, action="inpatient.charge_reversed", at=now, entity="inpatient_charge",
                 entity_id=row.id, detail={"admission_no": admission.admission_no, "charge_id": charge.id,
                                           "amount_fen": -charge.amount_fen, "reason": reason})
    publish(s, admission)
    return row


def reverse_order(s: Session, actor: Actor, order_id: int, reason: str, now: datetime) -> list[InpatientCharge]:
    """Reverse every charge of an order still standing (e.g. the order was revoked)."""
    c = InpatientCharge
    rows = s.execute(select(c.id, c.reversed_charge_id).where(c.order_id == order_id).order_by(c.id)).all()
    reversed_ids = {r.reversed_charge_id for r in rows if r.reversed_charge_id is not None}
    ids = [r.id for r in rows if r.reversed_charge_id is None and r.id not in reversed_ids]
    if not ids:
        raise Conflict("该医嘱没有可冲销的住院费用", code="nothing_to_reverse")
    return [reverse(s, actor, charge_id, reason, now) for charge_id in ids]
