"""The read side of an admission's running account (session level): views of the admission, its charges,
money in and out per channel, and the bed-day rule.

Bed days (床位费) follow the rule Chinese hospitals bill by, **计入不计出**: the admission day is charged, the
discharge day is not; a stay that begins and ends on the same day is charged one day. While the patient is in
hospital, :meth:`InpatientService.post_bed_charges` charges every calendar day up to the day it is given
(never beyond today); at discharge, :func:`discharge_bed_days` says which days are still to be posted and
whether a discharge-day charge posted in advance must be reversed.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop_his.services import ids
from desktop_his.services.enums import SEX_LABELS, IdType, RefundStatus, Sex
from desktop_his.services.errors import NotFound
from desktop_his.services.inpatient_alloc import CHANNEL_ORDER
from desktop_his.services.inpatient_types import (
    Account,
    AdmissionView,
    ChannelTotals,
    ChargeView,
    PaymentLine,
    RefundView,
)
from desktop_his.services.models import (
    Admission,
    Department,
    Doctor,
    InpatientCharge,
    Patient,
    Payment,
    Refund,
)


def get_admission(s: Session, admission_id: int, *, for_update: bool = False) -> Admission:
    """Load an admission; ``for_update`` row-locks it on PostgreSQL (every change to an account takes this
    lock first, so a charge, a deposit and the start of the settlement never interleave)."""
    stmt = select(Admission).where(Admission.id == admission_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    admission = s.execute(stmt).scalar_one_or_none()
    if admission is None:
        raise NotFound("未找到该住院记录", field="admission_id", code="admission_not_found")
    return admission


def admission_view(s: Session, admission: Admission, today: date) -> AdmissionView:
    patient = s.get(Patient, admission.patient_id)
    department = s.get(Department, admission.department_id)
    doctor = s.get(Doctor, admission.doctor_id) if admission.doctor_id else None
    assert patient is not None and department is not None  # foreign keys
    return AdmissionView(
        id=admission.id, admission_no=admission.admission_no, status=admission.status,
        patient_id=patient.id, patient_name=patient.name, patient_sex_label=SEX_LABELS.get(Sex(patient.sex), ""),
        patient_age=ids.age_on(patient.birth_date, today),
        id_type_label=ids.ID_TYPE_LABELS.get(IdType(patient.id_type), ""),
        id_number_masked=ids.mask_id_number(patient.id_number), department_id=department.id,
        department_name=department.name, doctor_id=admission.doctor_id, doctor_name=doctor.name if doctor else "",
        ward=admission.ward, bed=admission.bed, diagnosis=admission.diagnosis, daily_bed_fen=admission.daily_bed_fen,
        admitted_at=admission.admitted_at, discharged_at=admission.discharged_at,
        agreement_no=admission.agreement_no, family_pay=admission.family_pay,
    )


def charge_views(s: Session, admission_id: int) -> list[ChargeView]:
    """Every charge row, oldest first, each original knowing its reversal — one indexed query of plain rows
    (a long stay has thousands). Reversals are matched here, not by a self-join: most rows have no
    ``reversed_charge_id``, and SQLite's statistics then make it scan the whole table for the join."""
    c = InpatientCharge.__table__.c
    rows = s.execute(select(c.id, c.charge_date, c.source, c.category, c.description, c.quantity, c.amount_fen,
                            c.order_id, c.catalog_item_id, c.posted_at, c.reversed_charge_id)
                     .where(c.admission_id == admission_id).order_by(c.charge_date, c.id)).all()
    reversal_of = {r.reversed_charge_id: r.id for r in rows if r.reversed_charge_id is not None}
    return [ChargeView(r.id, r.charge_date, r.source, r.category, r.description, r.quantity, r.amount_fen,
                       r.order_id, r.catalog_item_id, r.posted_at, r.reversed_charge_id, reversal_of.get(r.id))
            for r in rows]


def payment_lines(s: Session, admission_id: int) -> list[PaymentLine]:
    rows = s.execute(select(Payment).where(Payment.admission_id == admission_id).order_by(Payment.id)).scalars()
    return [PaymentLine(p.id, p.payment_no, p.channel, p.purpose, p.amount_fen, p.refunded_fen, p.status,
                        p.reference_no, p.consent_id, p.bank_serial, p.created_at) for p in rows]


def refund_views(s: Session, admission_id: int) -> list[RefundView]:
    rows = s.execute(select(Refund).where(Refund.admission_id == admission_id).order_by(Refund.id)).scalars()
    return [RefundView(r.id, r.refund_no, r.payment_id, r.channel, r.method, r.amount_fen, r.status,
                       r.settlement_id, r.reference_no, r.created_at, r.last_error_code) for r in rows]


def channel_totals(payments: list[PaymentLine], refunds: list[RefundView]) -> list[ChannelTotals]:
    """Per channel, in the refund order; failed payments and failed refunds moved no money."""
    money: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for p in payments:
        if p.status == "success":
            money[p.channel]["deposit" if p.purpose == "deposit" else "collect"] += p.amount_fen
        elif p.status == "pending":
            money[p.channel]["pending_in"] += p.amount_fen
    for r in refunds:
        if r.status != RefundStatus.FAILED:
            money[r.channel][r.status] += r.amount_fen
    order = [c for c in CHANNEL_ORDER if c in money] + sorted(c for c in money if c not in CHANNEL_ORDER)
    return [ChannelTotals(c, money[c]["deposit"], money[c]["collect"], money[c][RefundStatus.SUCCESS],
                          money[c][RefundStatus.QUEUED], money[c][RefundStatus.PENDING], money[c]["pending_in"])
            for c in order]


def load_account(s: Session, admission: Admission, today: date) -> Account:
    charges = charge_views(s, admission.id)
    payments, refunds = payment_lines(s, admission.id), refund_views(s, admission.id)
    by_day: dict[date, int] = defaultdict(int)
    by_category: dict[str, int] = defaultdict(int)
    for c in charges:
        by_day[c.charge_date] += c.amount_fen
        by_category[c.category] += c.amount_fen
    categories = sorted(((k, v) for k, v in by_category.items() if v), key=lambda kv: (-kv[1], kv[0]))
    return Account(admission_view(s, admission, today), tuple(charges), tuple(payments), tuple(refunds),
                   tuple(channel_totals(payments, refunds)), tuple(sorted(by_day.items())), tuple(categories))


# ------------------------------------------------------------------------------------------- bed days


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def posted_bed_days(s: Session, admission_id: int) -> dict[date, tuple[int, bool]]:
    """Bed days that have an original charge row, day → (charge id, reversed?). A reversed day is never
    charged again: the clerk reversed it on purpose."""
    c = InpatientCharge.__table__.c
    rows = s.execute(select(c.id, c.charge_date, c.reversed_charge_id)
                     .where(c.admission_id == admission_id, c.source == "bed")).all()
    reversed_ids = {r.reversed_charge_id for r in rows if r.reversed_charge_id is not None}
    return {r.charge_date: (r.id, r.id in reversed_ids) for r in rows if r.reversed_charge_id is None}


def discharge_bed_days(admission: Admission, discharge: date,
                       posted: dict[date, tuple[int, bool]]) -> tuple[list[date], int | None]:
    """计入不计出 at discharge: (days still to post, the id of a discharge-day charge posted in advance that
    must be reversed, or None)."""
    first = admission.admitted_at.date()
    last = max(first, discharge - timedelta(days=1))  # the discharge day is free unless it is the only day
    to_post = [d for d in days(first, last) if d not in posted] if admission.daily_bed_fen > 0 else []
    ahead = posted.get(discharge) if discharge > first else None
    return to_post, ahead[0] if ahead is not None and not ahead[1] else None
