"""Read-side queries of the order workflows (session level; :mod:`desktop_his.services.orders` re-exports
them): orders of many visits at once, a visit's money on 信用就医, what a window must collect or pay back,
orders a crash left without their bank operation, and the catalogue search for order entry."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session, joinedload

from desktop_his.services.enums import CATALOG_KIND_LABELS, CatalogKind, FeeStatus, OrderKind, OrderStatus
from desktop_his.services.errors import ValidationError
from desktop_his.services.models import CatalogItem, CreditLock, MedicalOrder, OrderItem, Visit
from desktop_his.services.order_types import (
    CREDIT_HELD,
    CatalogHit,
    CreditTotal,
    OrderView,
    WindowRefund,
    order_view,
)


def load_orders(s: Session, visit_ids: Sequence[int]) -> dict[int, list[OrderView]]:
    """Non-draft orders of many visits in two plain-row queries (no ORM objects: history lists are long),
    oldest first per visit."""
    if not visit_ids:
        return {}
    orders, items = MedicalOrder.__table__, OrderItem.__table__
    rows = s.execute(select(orders).where(orders.c.visit_id.in_(visit_ids), orders.c.status != OrderStatus.DRAFT)
                     .order_by(orders.c.id)).all()
    by_order: dict[int, list] = {}
    if rows:
        for it in s.execute(select(items).where(items.c.order_id.in_([r.id for r in rows])).order_by(items.c.id)):
            by_order.setdefault(it.order_id, []).append(it)
    result: dict[int, list[OrderView]] = {}
    for r in rows:
        result.setdefault(r.visit_id, []).append(order_view(r, by_order.get(r.id, [])))
    return result


def credit_total(s: Session, visit: Visit, orders: Sequence[OrderView] | None = None) -> CreditTotal:
    """The visit's money on 信用就医 — see :class:`CreditTotal` for the exact definition. Pass the visit's
    orders when they are loaded already (one query fewer)."""
    if orders is None:
        m = MedicalOrder
        rows = s.execute(select(m.credit, m.status, m.fee_status, m.total_fen, m.actual_fen)
                         .where(m.visit_id == visit.id, m.credit.is_(True))).all()
    else:
        rows = [(o.credit, o.status, o.fee_status, o.total_fen, o.actual_fen) for o in orders]
    held = pending = 0
    for credit, status, fee_status, total_fen, actual_fen in rows:
        if not credit or status not in (OrderStatus.SUBMITTED, OrderStatus.EXECUTED):
            continue
        charge = total_fen if actual_fen is None else actual_fen
        held += charge if fee_status in CREDIT_HELD else 0
        pending += charge if fee_status == FeeStatus.PENDING else 0
    registration = visit.fee_fen if visit.credit and visit.fee_status in CREDIT_HELD else 0
    if visit.credit and visit.fee_status == FeeStatus.PENDING:
        pending += visit.fee_fen
    return CreditTotal(registration, held, pending)


def orders_awaiting_bank(s: Session) -> tuple[list[int], list[int]]:
    """Orders a crash may have left without their bank operation (for start-up recovery):
    (credit orders submitted ``pending`` with no CreditLock row, revoked orders whose credit is still held)."""
    no_lock = s.execute(
        select(MedicalOrder.id).outerjoin(CreditLock, CreditLock.order_id == MedicalOrder.id)
        .where(MedicalOrder.fee_status == FeeStatus.PENDING, MedicalOrder.credit.is_(True),
               MedicalOrder.status != OrderStatus.DRAFT, CreditLock.id.is_(None))
        .order_by(MedicalOrder.id)
    ).scalars().all()
    revoked_held = s.execute(
        select(MedicalOrder.id).where(MedicalOrder.status == OrderStatus.REVOKED,
                                      MedicalOrder.fee_status.in_(CREDIT_HELD)).order_by(MedicalOrder.id)
    ).scalars().all()
    return list(no_lock), list(revoked_held)


def search_catalog(s: Session, query: str, kinds: Sequence[str], limit: int = 30) -> list[CatalogHit]:
    """Active items of ``kinds`` whose pinyin initials, name or code match ``query``; best matches first."""
    q = (query or "").strip()
    c = CatalogItem
    stmt = select(c).options(joinedload(c.exec_department)).where(c.active.is_(True),
                                                                 c.kind.in_([str(k) for k in kinds]))
    if q:
        low, up = q.lower(), q.upper()
        stmt = stmt.where(or_(c.pinyin.contains(low, autoescape=True), c.name.contains(q, autoescape=True),
                              func.upper(c.code).startswith(up, autoescape=True)))
        rank = case((func.upper(c.code) == up, 0), (c.pinyin.startswith(low, autoescape=True), 1),
                    (c.name.startswith(q, autoescape=True), 2), else_=3)
        stmt = stmt.order_by(rank, func.length(c.name), c.name)
    else:
        stmt = stmt.order_by(c.kind, c.pinyin, c.name)
    hits = s.execute(stmt.limit(max(1, min(limit, 200)))).scalars().all()
    return [CatalogHit(i.id, i.code, i.name, i.kind, CATALOG_KIND_LABELS[CatalogKind(i.kind)], i.spec, i.unit,
                       i.price_fen, exec_location(i)) for i in hits]


def exec_location(item: CatalogItem) -> str:
    dept = item.exec_department
    if dept is None:
        return ""
    return f"{dept.name}（{dept.location}）" if dept.location else dept.name


def _patient_or_visit(patient_id: int | None, visit_id: int | None) -> list:
    if patient_id is None and visit_id is None:
        raise ValidationError("请先选择患者", field="patient_id")
    conds = [] if visit_id is None else [MedicalOrder.visit_id == visit_id]
    return conds if patient_id is None else [*conds, MedicalOrder.patient_id == patient_id]


def unpaid_orders(s: Session, *, patient_id: int | None, visit_id: int | None) -> list[OrderView]:
    conds = [MedicalOrder.status == OrderStatus.SUBMITTED, MedicalOrder.fee_status == FeeStatus.UNPAID,
             MedicalOrder.kind != OrderKind.INPATIENT,  # charged to the inpatient account, never at a window
             *_patient_or_visit(patient_id, visit_id)]
    rows = s.execute(select(MedicalOrder).where(and_(*conds)).order_by(MedicalOrder.submitted_at,
                                                                        MedicalOrder.id)).scalars().all()
    return [order_view(o) for o in rows]


def window_refunds_due(s: Session, *, patient_id: int | None, visit_id: int | None) -> list[WindowRefund]:
    """Money paid at a window that must go back: revoked paid orders (the whole amount) and paid orders
    executed short (the difference). Once refunded the cashier moves them to refunded / partly_refunded."""
    revoked = MedicalOrder.status == OrderStatus.REVOKED
    short = and_(MedicalOrder.status == OrderStatus.EXECUTED, MedicalOrder.actual_fen < MedicalOrder.total_fen)
    rows = s.execute(select(MedicalOrder).where(MedicalOrder.fee_status == FeeStatus.PAID, or_(revoked, short),
                                                MedicalOrder.kind != OrderKind.INPATIENT,  # reversed on the account
                                                *_patient_or_visit(patient_id, visit_id))
                     .order_by(MedicalOrder.id)).scalars().all()
    return [WindowRefund(order_view(o), o.total_fen - (o.actual_fen if o.status == OrderStatus.EXECUTED else 0))
            for o in rows]
