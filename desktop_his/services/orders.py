"""Orders (医嘱) and vaccine charge slips: compose, submit, revoke, record execution — the money rules without
the bank.

Life of an order (``status``): ``draft`` → ``submitted`` → ``executed``, or ``submitted`` → ``revoked``.
Where its money stands (``fee_status``, moved only by :func:`move_fee_status`):

- non-credit visit: submit → ``unpaid`` (the cashier window collects it) → ``paid`` → (``refunded``);
- credit visit: submit → ``pending`` (a 信用就医 lock is to be sent / in flight) → ``locked`` → ``deducted``
  (T-day run) → (``refunded``); lock refused → ``unpaid`` with ``credit = False`` (paid at the window);
  a revoked ``locked`` order goes ``cancelled`` once the bank released the lock.

The bank side (journaled lock, cancel, refund) is another module's: :meth:`OrderService.submit` and
:meth:`OrderService.revoke` change the order and hand an ``attach`` callback the session and the result
(:class:`SubmittedOrder` with its :class:`OrderLockRequest`, :class:`RevokedOrder` with its :class:`MoneyUndo`)
*inside the same transaction*, so the bank operation is journaled atomically with the order change; the
outcome comes back through :func:`move_fee_status`. Orders a crash left without their bank operation are
found by :func:`orders_awaiting_bank`. Money paid at a window that must go back (revoked, or executed short)
is listed by :func:`window_refunds_due`.

Live topics published: ``orders:visit:<visit id>``, ``doctor:<doctor id>`` (the ordering doctor's and the
visit's doctor's queue badges), ``orders:unpaid`` (an order became collectable at a window),
``orders:patient:<patient id>``.

Shapes live in :mod:`order_types`, read queries in :mod:`order_queries`; both are re-exported here.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from desktop_his.services import audit, live, numbers
from desktop_his.services.clock import Clock
from desktop_his.services.db import Database
from desktop_his.services.enums import CATALOG_KIND_LABELS, CatalogKind, FeeStatus, OrderKind, OrderStatus
from desktop_his.services.errors import Conflict, NotFound, ValidationError
from desktop_his.services.models import CatalogItem, CreditLock, MedicalOrder, OrderItem, Visit
from desktop_his.services.money import MAX_AMOUNT_FEN
from desktop_his.services.order_queries import (  # noqa: F401 - re-exported: import them from here
    credit_total,
    exec_location,
    load_orders,
    orders_awaiting_bank,
    search_catalog,
    unpaid_orders,
    window_refunds_due,
)
from desktop_his.services.order_types import (  # noqa: F401 - re-exported: import them from here
    CREDIT_HELD,
    FEE_MOVES,
    FEE_STATUS_LABELS,
    MAX_ITEMS,
    MAX_QUANTITY,
    ORDER_STATUS_LABELS,
    ORDERABLE,
    WRITE_ACTION,
    CatalogHit,
    CreditTotal,
    ExecutedOrder,
    MoneyUndo,
    OrderItemView,
    OrderLine,
    OrderLockRequest,
    OrderView,
    RevokedOrder,
    SubmittedOrder,
    WindowRefund,
    check_quantity,
    line_amount,
    normalise_usage,
    order_view,
)
from desktop_his.services.permissions import Action, Actor, require, require_any

SubmitHook = Callable[[Session, SubmittedOrder], None]
RevokeHook = Callable[[Session, RevokedOrder], None]


# ------------------------------------------------------------------------------------ session functions


def move_fee_status(s: Session, order_id: int, to: FeeStatus | str) -> OrderView:
    """The one way an order's ``fee_status`` changes after submit (called by the bank workflows, the cashier
    and the T-day run inside their own transaction). Moving to ``unpaid`` also clears ``credit``: the order
    is then collected at a window. Raises Conflict for a move the money rules do not allow."""
    to = FeeStatus(to)
    order = lock_order(s, order_id)
    _move(order, to)
    s.flush()
    publish_order(s, order, unpaid=to == FeeStatus.UNPAID)
    return order_view(order)


def move_fee_statuses(s: Session, moves: Sequence[tuple[MedicalOrder, FeeStatus]], *,
                      also: Sequence[str] = ()) -> None:
    """:func:`move_fee_status` for orders the caller has already loaded ``FOR UPDATE`` in this transaction (the
    bank's answers; the T-day run's group commits): the same rules, one flush, and one announcement of the
    orders' topics and ``also``. Visits already in the session are not read again."""
    for order, to in moves:
        _move(order, FeeStatus(to))
    s.flush()
    doctor_of = {}
    for visit_id in sorted({order.visit_id for order, _ in moves if order.visit_id is not None}):
        visit = s.get(Visit, visit_id)
        doctor_of[visit_id] = visit.doctor_id if visit is not None else None
    live.publish(s, *(topic for order, to in moves
                      for topic in _order_topics(order, doctor_of.get(order.visit_id),
                                                 unpaid=FeeStatus(to) == FeeStatus.UNPAID)), *also)


def _move(order: MedicalOrder, to: FeeStatus) -> None:
    if order.status == OrderStatus.DRAFT or order.fee_status not in FEE_MOVES.get(to, ()):
        raise Conflict(f"医嘱 {order.order_no} 的收费状态为“{FEE_STATUS_LABELS[FeeStatus(order.fee_status)]}”，"
                       f"不能改为“{FEE_STATUS_LABELS[to]}”", code="fee_status")
    order.fee_status = to
    if to == FeeStatus.UNPAID:
        order.credit = False


def lock_order(s: Session, order_id: int) -> MedicalOrder:
    """Load an order for change, row-locked on PostgreSQL (SQLite writers are serialised already)."""
    order = s.execute(
        select(MedicalOrder).where(MedicalOrder.id == order_id).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if order is None:
        raise NotFound("医嘱不存在或已被删除", field="order_id")
    return order


def publish_order(s: Session, order: MedicalOrder, *, unpaid: bool = False) -> None:
    """Tell the visit's views, the doctors' queues (ordering doctor and the visit's) and the windows."""
    visit = s.get(Visit, order.visit_id) if order.visit_id is not None else None  # usually in the session
    visit_doctor = visit.doctor_id if visit is not None else None
    live.publish(s, *_order_topics(order, visit_doctor, unpaid=unpaid))


def _order_topics(order: MedicalOrder, visit_doctor_id: int | None, *, unpaid: bool) -> list[str]:
    topics = [f"orders:patient:{order.patient_id}"]
    if order.visit_id is not None:
        topics.append(f"orders:visit:{order.visit_id}")
    topics += [f"doctor:{d}" for d in sorted({order.doctor_id, visit_doctor_id} - {None})]
    if unpaid:
        topics.append("orders:unpaid")
    return topics


def _new_item(s: Session, order_kind: str, line: OrderLine, *, field: str = "items") -> OrderItem:
    item = s.get(CatalogItem, line.catalog_item_id)
    if item is None or not item.active:
        raise ValidationError("该项目不存在或已停用，请重新选择", field=field)
    if item.kind not in ORDERABLE[OrderKind(order_kind)]:
        raise ValidationError(f"“{item.name}”（{CATALOG_KIND_LABELS[CatalogKind(item.kind)]}）不能开在此单上",
                              field=field)
    return OrderItem(
        catalog_item_id=item.id, name=item.name, kind=item.kind, spec=item.spec, unit=item.unit,
        unit_price_fen=item.price_fen, quantity=line.quantity,
        amount_fen=line_amount(item.price_fen, line.quantity), exec_department_id=item.exec_department_id,
        exec_location=exec_location(item)[:100], usage=normalise_usage(line.usage),
    )


def _retotal(order: MedicalOrder) -> None:
    total = sum(i.amount_fen for i in order.items)
    if total > MAX_AMOUNT_FEN:
        raise ValidationError("医嘱总金额过大，请核对", field="items")
    order.total_fen = total


def open_visit_for_orders(s: Session, visit_id: int) -> Visit:
    visit = s.get(Visit, visit_id)
    if visit is None:
        raise NotFound("就诊记录不存在", field="visit_id")
    if visit.status in ("cancelled", "no_show"):
        raise Conflict("该挂号已退号或爽约，不能开单", code="visit_status")
    return visit


def create_draft(s: Session, actor: Actor, visit: Visit, lines: Sequence[OrderLine], note: str,
                 now: datetime) -> MedicalOrder:
    kind = OrderKind.VACCINE if visit.kind == OrderKind.VACCINE else OrderKind.OUTPATIENT
    require(actor, WRITE_ACTION[kind])
    if len(lines) > MAX_ITEMS:
        raise ValidationError(f"一张单最多 {MAX_ITEMS} 个项目", field="items")
    order = MedicalOrder(
        order_no=f"D{uuid.uuid4().hex[:24]}",  # placeholder; the real number is taken at submit
        kind=kind, patient_id=visit.patient_id, visit_id=visit.id,
        doctor_id=(actor.doctor_id or visit.doctor_id) if kind == OrderKind.OUTPATIENT else None,
        department_id=visit.department_id, status=OrderStatus.DRAFT, credit=False,
        fee_status=FeeStatus.UNPAID, note=(note or "").strip()[:200], created_at=now,
        created_by=actor.staff_id, workstation=actor.workstation,
    )
    order.items = [_new_item(s, kind, line, field=f"items[{n}]") for n, line in enumerate(lines)]
    _retotal(order)
    s.add(order)
    s.flush()
    return order


def submit(s: Session, actor: Actor, order_id: int, now: datetime) -> SubmittedOrder:
    """Draft → submitted inside the caller's transaction (see :meth:`OrderService.submit`)."""
    order = lock_order(s, order_id)
    require(actor, WRITE_ACTION[OrderKind(order.kind)])
    if order.status != OrderStatus.DRAFT:
        raise Conflict(f"该医嘱已{ORDER_STATUS_LABELS[OrderStatus(order.status)]}，不能重复提交", code="submitted")
    if not order.items:
        raise ValidationError("单上还没有项目，不能提交", field="items")
    catalog = {c.id: c for c in s.scalars(select(CatalogItem).where(
        CatalogItem.id.in_({i.catalog_item_id for i in order.items if i.catalog_item_id})))}
    for item in order.items:
        current = catalog.get(item.catalog_item_id)
        if current is None or not current.active:
            raise ValidationError(f"“{item.name}”已停用，请删除后重新选择", field="items")
        item.amount_fen = line_amount(item.unit_price_fen, item.quantity)
    _retotal(order)
    visit = open_visit_for_orders(s, order.visit_id)
    if visit.credit and not visit.agreement_no:
        raise Conflict("该就诊缺少“信用就医”签约协议号，请到挂号窗口核实", code="agreement_no")
    order.order_no = numbers.take(s, "order", now.date())
    order.status, order.submitted_at = OrderStatus.SUBMITTED, now
    # Nothing to pay (all items free): no lock, nothing for the window.
    order.credit = visit.credit and order.total_fen > 0
    order.fee_status = (FeeStatus.PENDING if order.credit
                        else FeeStatus.UNPAID if order.total_fen > 0 else FeeStatus.PAID)
    s.flush()
    audit.append(s, actor=actor, action="order.submitted", at=now, entity="medical_order", entity_id=order.id,
                 detail={"order_no": order.order_no, "visit_no": visit.visit_no, "total_fen": order.total_fen,
                         "credit": order.credit, "items": len(order.items)})
    publish_order(s, order, unpaid=order.fee_status == FeeStatus.UNPAID)
    lock = None
    if order.credit:
        lock = OrderLockRequest(order.id, order.order_no, "vaccine" if order.kind == OrderKind.VACCINE else "order",
                           order.patient_id, visit.id, visit.visit_no, visit.agreement_no or "",
                           visit.family_pay, order.total_fen, now.date())
    return SubmittedOrder(order_view(order), lock)


_UNDO = {FeeStatus.UNPAID: MoneyUndo.NONE, FeeStatus.PAID: MoneyUndo.REFUND_PAYMENT,
         FeeStatus.LOCKED: MoneyUndo.CANCEL_LOCK, FeeStatus.DEDUCTED: MoneyUndo.REFUND_CREDIT}


def revoke(s: Session, actor: Actor, order_id: int, reason: str, now: datetime) -> RevokedOrder:
    """Submitted → revoked inside the caller's transaction (see :meth:`OrderService.revoke`)."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError("请填写撤销原因", field="reason")
    if len(reason) > 200:
        raise ValidationError("撤销原因最多200个字", field="reason")
    order = lock_order(s, order_id)
    if order.status == OrderStatus.DRAFT:
        raise Conflict("草稿无需撤销，直接删除即可", code="draft")
    if order.status != OrderStatus.SUBMITTED:
        raise Conflict(f"该医嘱{ORDER_STATUS_LABELS[OrderStatus(order.status)]}，不能撤销", code=order.status)
    if order.fee_status == FeeStatus.PENDING:
        raise Conflict("“信用就医”锁定结果确认中，请稍后再撤销", code="pending")
    undo = _UNDO.get(FeeStatus(order.fee_status))
    if undo is None:
        raise Conflict(f"收费状态为“{FEE_STATUS_LABELS[FeeStatus(order.fee_status)]}”的医嘱请到收费窗口处理",
                       code=order.fee_status)
    amount = 0 if undo is MoneyUndo.NONE else order.total_fen
    order.status, order.revoked_at, order.revoked_by = OrderStatus.REVOKED, now, actor.staff_id
    if undo is MoneyUndo.NONE:
        order.fee_status = FeeStatus.CANCELLED
    s.flush()
    audit.append(s, actor=actor, action="order.revoked", at=now, entity="medical_order", entity_id=order.id,
                 detail={"order_no": order.order_no, "reason": reason, "fee_status": order.fee_status,
                         "undo": str(undo), "amount_fen": amount})
    publish_order(s, order)
    return RevokedOrder(order_view(order), undo, amount, reason)


def mark_executed(s: Session, actor: Actor, order_id: int, actual: Mapping[int, int] | None,
                  now: datetime) -> ExecutedOrder:
    order = lock_order(s, order_id)
    require(actor, WRITE_ACTION[OrderKind(order.kind)])
    if order.status != OrderStatus.SUBMITTED:
        raise Conflict(f"该医嘱{ORDER_STATUS_LABELS[OrderStatus(order.status)]}，不能登记执行", code=order.status)
    if order.fee_status == FeeStatus.UNPAID:
        raise Conflict("该医嘱尚未缴费，请患者先到收费窗口缴费", code="unpaid")
    if order.fee_status == FeeStatus.PENDING:
        raise Conflict("“信用就医”锁定结果确认中，请稍候再执行", code="pending")
    if order.fee_status not in (FeeStatus.PAID, *CREDIT_HELD):
        raise Conflict(f"收费状态为“{FEE_STATUS_LABELS[FeeStatus(order.fee_status)]}”，不能执行", code="fee")
    actual = dict(actual or {})
    unknown = set(actual) - {i.id for i in order.items}
    if unknown:
        raise ValidationError("实际数量中有不属于本单的项目", field="actual")
    for item in order.items:
        qty = check_quantity(actual.get(item.id, item.quantity), field=f"actual:{item.id}", allow_zero=True)
        if qty > item.quantity:
            raise ValidationError(f"“{item.name}”实际数量不能超过开立数量 {item.quantity}", field=f"actual:{item.id}")
        item.actual_quantity, item.actual_amount_fen = qty, item.unit_price_fen * qty
    order.actual_fen = sum(i.actual_amount_fen or 0 for i in order.items)
    order.status, order.executed_at = OrderStatus.EXECUTED, now
    # The T-day run deducts the actual amount (≤ the lock; the bank releases the rest).
    s.execute(update(CreditLock).where(CreditLock.order_id == order.id, CreditLock.status == "locked")
              .values(actual_fen=order.actual_fen))
    s.flush()
    collected = order.fee_status in (FeeStatus.PAID, FeeStatus.DEDUCTED)
    over = order.total_fen - order.actual_fen if collected else 0
    audit.append(s, actor=actor, action="order.executed", at=now, entity="medical_order", entity_id=order.id,
                 detail={"order_no": order.order_no, "total_fen": order.total_fen, "actual_fen": order.actual_fen,
                         "over_collected_fen": over})
    publish_order(s, order)
    return ExecutedOrder(order_view(order), over)


# ---------------------------------------------------------------------------------------------- service


class OrderService:
    """Order entry at the doctor station; the vaccine desk uses the same service for vaccine slips (the order
    kind follows the visit's kind, and so does the permission: 开立医嘱 or 开具疫苗收费单)."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def search_catalog(self, actor: Actor, query: str, *, kinds: Sequence[str] | None = None,
                       limit: int = 30) -> list[CatalogHit]:
        """Active catalogue items by pinyin initials (``amxl``), Chinese or code; default kinds: 药品/检验/
        检查/治疗/疫苗."""
        require_any(actor, Action.ORDER_WRITE, Action.VACCINE_CHARGE)
        with self.db.reader() as s:
            return search_catalog(s, query, kinds or ORDERABLE[OrderKind.OUTPATIENT], limit)

    def create_draft(self, actor: Actor, visit_id: int, lines: Sequence[OrderLine] = (), *,
                     note: str = "") -> OrderView:
        """A new draft order for the visit (nothing is charged or numbered until submit)."""
        require_any(actor, Action.ORDER_WRITE, Action.VACCINE_CHARGE)
        with self.db.session() as s:
            visit = open_visit_for_orders(s, visit_id)
            return order_view(create_draft(s, actor, visit, lines, note, self.clock.now()))

    def add_item(self, actor: Actor, order_id: int, line: OrderLine) -> OrderView:
        require_any(actor, Action.ORDER_WRITE, Action.VACCINE_CHARGE)
        with self.db.session() as s:
            order = self._draft(s, actor, order_id)
            if len(order.items) >= MAX_ITEMS:
                raise ValidationError(f"一张单最多 {MAX_ITEMS} 个项目", field="items")
            order.items.append(_new_item(s, order.kind, line))
            _retotal(order)
            s.flush()
            return order_view(order)

    def update_item(self, actor: Actor, item_id: int, *, quantity: int | None = None,
                    usage: str | None = None) -> OrderView:
        require_any(actor, Action.ORDER_WRITE, Action.VACCINE_CHARGE)
        with self.db.session() as s:
            order, item = self._draft_item(s, actor, item_id)
            if quantity is not None:
                item.amount_fen, item.quantity = line_amount(item.unit_price_fen, quantity), quantity
            if usage is not None:
                item.usage = normalise_usage(usage)
            _retotal(order)
            s.flush()
            return order_view(order)

    def remove_item(self, actor: Actor, item_id: int) -> OrderView:
        require_any(actor, Action.ORDER_WRITE, Action.VACCINE_CHARGE)
        with self.db.session() as s:
            order, item = self._draft_item(s, actor, item_id)
            order.items.remove(item)
            _retotal(order)
            s.flush()
            return order_view(order)

    def discard_draft(self, actor: Actor, order_id: int) -> None:
        require_any(actor, Action.ORDER_WRITE, Action.VACCINE_CHARGE)
        with self.db.session() as s:
            s.delete(self._draft(s, actor, order_id))

    def submit(self, actor: Actor, order_id: int, *, attach: SubmitHook | None = None) -> SubmittedOrder:
        """Number and submit a draft (audited; a second submit is refused, also from another PC).

        Non-credit visit: ``fee_status = unpaid`` — the order waits at the cashier window. Credit visit:
        ``credit = True, fee_status = pending`` and ``lock_request`` says what to lock; ``attach(session,
        submitted)`` runs inside the submit transaction (journal the lock there), its exception rolls the
        submit back. The bank's answer comes back through :func:`move_fee_status` (``locked`` / ``unpaid``).
        """
        require_any(actor, Action.ORDER_WRITE, Action.VACCINE_CHARGE)
        with self.db.session() as s:
            submitted = submit(s, actor, order_id, self.clock.now())
            if attach is not None:
                attach(s, submitted)
            return submitted

    def revoke(self, actor: Actor, order_id: int, reason: str, *,
               attach: RevokeHook | None = None) -> RevokedOrder:
        """Revoke a submitted, not executed order (audited with the reason). ``undo`` says what the money
        side must do (none / cancel the lock / refund credit / refund the window payment); ``attach``
        runs inside the revoke transaction to journal it. Refused while a lock's outcome is unknown."""
        require(actor, Action.ORDER_REVOKE)
        with self.db.session() as s:
            revoked = revoke(s, actor, order_id, reason, self.clock.now())
            if attach is not None:
                attach(s, revoked)
            return revoked

    def mark_executed(self, actor: Actor, order_id: int,
                      actual: Mapping[int, int] | None = None) -> ExecutedOrder:
        """Record that the order was carried out, with the actual quantity per item id (default: as
        ordered; never more). ``actual_fen`` is what the T-day run deducts (also set on its held lock)."""
        require_any(actor, Action.ORDER_WRITE, Action.VACCINE_CHARGE)
        with self.db.session() as s:
            return mark_executed(s, actor, order_id, actual, self.clock.now())

    def get_order(self, actor: Actor, order_id: int) -> OrderView:
        self._require_reader(actor)
        with self.db.reader() as s:
            order = s.get(MedicalOrder, order_id)
            if order is None:
                raise NotFound("医嘱不存在或已被删除", field="order_id")
            return order_view(order)

    def visit_orders(self, actor: Actor, visit_id: int) -> list[OrderView]:
        """Every order of the visit, drafts included, oldest first."""
        self._require_reader(actor)
        with self.db.reader() as s:
            rows = s.execute(select(MedicalOrder).where(MedicalOrder.visit_id == visit_id)
                             .order_by(MedicalOrder.id)).scalars().all()
            return [order_view(o) for o in rows]

    def visit_credit_total(self, actor: Actor, visit_id: int) -> CreditTotal:
        """The visit's money on 信用就医 (see :class:`CreditTotal`); ``.text`` is the SPEC §6 line."""
        self._require_reader(actor)
        with self.db.reader() as s:
            visit = s.get(Visit, visit_id)
            if visit is None:
                raise NotFound("就诊记录不存在", field="visit_id")
            return credit_total(s, visit)

    def unpaid_orders_for_window(self, actor: Actor, *, patient_id: int | None = None,
                                 visit_id: int | None = None) -> list[OrderView]:
        """Submitted orders nobody has paid (non-credit, or credit refused): what a window must collect."""
        require(actor, Action.TAKE_PAYMENT)
        with self.db.reader() as s:
            return unpaid_orders(s, patient_id=patient_id, visit_id=visit_id)

    def window_refunds_due(self, actor: Actor, *, patient_id: int | None = None,
                           visit_id: int | None = None) -> list[WindowRefund]:
        """What a window must pay back on orders paid there (revoked, or executed short)."""
        require(actor, Action.REFUND)
        with self.db.reader() as s:
            return window_refunds_due(s, patient_id=patient_id, visit_id=visit_id)

    # -- helpers

    @staticmethod
    def _require_reader(actor: Actor) -> None:
        require_any(actor, Action.QUEUE_VIEW, Action.ORDER_WRITE, Action.VACCINE_CHARGE, Action.TAKE_PAYMENT)

    @staticmethod
    def _draft(s: Session, actor: Actor, order_id: int) -> MedicalOrder:
        order = lock_order(s, order_id)
        require(actor, WRITE_ACTION[OrderKind(order.kind)])
        if order.status != OrderStatus.DRAFT:
            raise Conflict(f"该医嘱{ORDER_STATUS_LABELS[OrderStatus(order.status)]}，不能再修改", code=order.status)
        return order

    def _draft_item(self, s: Session, actor: Actor, item_id: int) -> tuple[MedicalOrder, OrderItem]:
        order_id = s.execute(select(OrderItem.order_id).where(OrderItem.id == item_id)).scalar_one_or_none()
        if order_id is None:
            raise NotFound("该项目不存在或已删除", field="item_id")
        order = self._draft(s, actor, order_id)
        return order, next(i for i in order.items if i.id == item_id)
