"""The shapes the order workflows hand around (views, requests, results) and their vocabularies.

Import them from :mod:`desktop_his.services.orders`, which re-exports everything here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Row

from desktop_his.services import texts
from desktop_his.services.enums import CatalogKind, FeeStatus, OrderKind, OrderStatus
from desktop_his.services.errors import ValidationError
from desktop_his.services.models import MedicalOrder, OrderItem
from desktop_his.services.money import MAX_AMOUNT_FEN
from desktop_his.services.permissions import Action

MAX_QUANTITY = 9999
MAX_ITEMS = 100
ORDERABLE = {  # catalogue kinds each order kind may contain
    OrderKind.OUTPATIENT: (CatalogKind.DRUG, CatalogKind.LAB, CatalogKind.EXAM, CatalogKind.TREATMENT,
                           CatalogKind.VACCINE),
    OrderKind.VACCINE: (CatalogKind.VACCINE,),
}
WRITE_ACTION = {OrderKind.OUTPATIENT: Action.ORDER_WRITE, OrderKind.VACCINE: Action.VACCINE_CHARGE}
ORDER_STATUS_LABELS = {OrderStatus.DRAFT: "草稿", OrderStatus.SUBMITTED: "已提交",
                       OrderStatus.EXECUTED: "已执行", OrderStatus.REVOKED: "已撤销"}
FEE_STATUS_LABELS = {
    FeeStatus.UNPAID: "待缴费", FeeStatus.PENDING: "信用就医锁定中", FeeStatus.PAID: "已缴费",
    FeeStatus.LOCKED: "信用就医已锁定", FeeStatus.DEDUCTED: "信用就医已扣款", FeeStatus.CANCELLED: "已作废",
    FeeStatus.REFUNDED: "已退费", FeeStatus.PARTLY_REFUNDED: "部分退费",
}
# Money a credit order holds on the patient's 信用就医 credit (what the doctor's pop-up totals).
CREDIT_HELD = (FeeStatus.LOCKED, FeeStatus.DEDUCTED)
# fee_status moves: to → the states it may come from (anything else is a Conflict).
FEE_MOVES: dict[FeeStatus, tuple[FeeStatus, ...]] = {
    FeeStatus.LOCKED: (FeeStatus.PENDING,),  # the bank locked
    FeeStatus.UNPAID: (FeeStatus.PENDING, FeeStatus.LOCKED),  # lock refused / released at 24:00 undeducted
    FeeStatus.PAID: (FeeStatus.UNPAID,),  # paid at the window by another channel
    FeeStatus.DEDUCTED: (FeeStatus.LOCKED,),  # T-day deduction
    FeeStatus.CANCELLED: (FeeStatus.LOCKED, FeeStatus.UNPAID),  # lock released / charge voided (revoked)
    FeeStatus.REFUNDED: (FeeStatus.DEDUCTED, FeeStatus.PAID, FeeStatus.PARTLY_REFUNDED),
    FeeStatus.PARTLY_REFUNDED: (FeeStatus.DEDUCTED, FeeStatus.PAID),
}


# ------------------------------------------------------------------------------------------ data shapes


@dataclass(frozen=True)
class OrderLine:
    """One line the doctor (or nurse) picks: a catalogue item, how many, and for drugs how to take it."""

    catalog_item_id: int
    quantity: int = 1
    usage: str = ""


@dataclass(frozen=True)
class CatalogHit:
    id: int
    code: str
    name: str
    kind: str
    kind_label: str
    spec: str
    unit: str
    price_fen: int
    exec_location: str


@dataclass(frozen=True)
class OrderItemView:
    id: int
    catalog_item_id: int | None
    name: str
    kind: str
    spec: str
    unit: str
    unit_price_fen: int
    quantity: int
    amount_fen: int
    actual_quantity: int | None
    actual_amount_fen: int | None
    exec_department_id: int | None
    exec_location: str
    usage: str


@dataclass(frozen=True)
class OrderView:
    id: int
    order_no: str | None  # None while a draft
    kind: str
    status: str
    visit_id: int | None
    patient_id: int
    doctor_id: int | None
    credit: bool
    fee_status: str
    total_fen: int
    actual_fen: int | None
    note: str
    created_at: datetime
    submitted_at: datetime | None
    executed_at: datetime | None
    revoked_at: datetime | None
    items: tuple[OrderItemView, ...]

    @property
    def charge_fen(self) -> int:
        """What the order really costs: the executed amount once recorded, else the ordered total."""
        return self.total_fen if self.actual_fen is None else self.actual_fen

    @property
    def status_label(self) -> str:
        return ORDER_STATUS_LABELS[OrderStatus(self.status)]

    @property
    def fee_status_label(self) -> str:
        return FEE_STATUS_LABELS[FeeStatus(self.fee_status)]


@dataclass(frozen=True)
class OrderLockRequest:
    """Everything the 信用就医 lock of one submitted order needs (SPEC §2 锁定)."""

    order_id: int
    order_no: str
    purpose: str  # "order" | "vaccine" (CreditLock.purpose)
    patient_id: int
    visit_id: int
    visit_no: str
    agreement_no: str
    family_pay: bool
    amount_fen: int
    business_date: date


@dataclass(frozen=True)
class SubmittedOrder:
    order: OrderView
    lock_request: OrderLockRequest | None  # set on a credit visit: the lock to attach


class MoneyUndo(StrEnum):
    """What revoking an order leaves for the money side to do."""

    NONE = "none"  # nothing was collected: the charge is voided
    CANCEL_LOCK = "cancel_lock"  # 【信用就医取消】 the lock (not deducted yet)
    REFUND_CREDIT = "refund_credit"  # 【信用就医退款】 the deducted amount
    REFUND_PAYMENT = "refund_payment"  # paid at a window: refund through that payment's channel


@dataclass(frozen=True)
class RevokedOrder:
    order: OrderView
    undo: MoneyUndo
    amount_fen: int  # what goes back (0 for NONE)
    reason: str


@dataclass(frozen=True)
class WindowRefund:
    order: OrderView
    amount_fen: int  # to pay back through the channel the order was paid with


@dataclass(frozen=True)
class ExecutedOrder:
    order: OrderView
    over_collected_fen: int  # already paid/deducted beyond the actual amount: refund due (0 if none)


@dataclass(frozen=True)
class CreditTotal:
    """A visit's money on 信用就医 (the doctor's after-submit pop-up).

    ``total_fen`` = the registration fee if the visit's fee is held on credit (locked or deducted) + every
    credit order of the visit not revoked whose lock is held (locked or deducted), each at its actual amount
    once executed, else its ordered total. Locks still in flight are ``pending_fen``, not in the total;
    refused, released and refunded ones are in neither.
    """

    registration_fen: int
    orders_fen: int
    pending_fen: int

    @property
    def total_fen(self) -> int:
        return self.registration_fen + self.orders_fen

    @property
    def text(self) -> str:
        return texts.credit_total_text(self.total_fen)


def order_view(order: MedicalOrder | Row, items: Sequence[OrderItem | Row] | None = None) -> OrderView:
    """The view of an ORM order, or of a plain row plus its item rows (fast path for long lists)."""
    items = tuple(OrderItemView(
        i.id, i.catalog_item_id, i.name, i.kind, i.spec, i.unit, i.unit_price_fen, i.quantity, i.amount_fen,
        i.actual_quantity, i.actual_amount_fen, i.exec_department_id, i.exec_location, i.usage,
    ) for i in (order.items if items is None else items))
    return OrderView(
        order.id, None if order.status == OrderStatus.DRAFT else order.order_no, order.kind, order.status,
        order.visit_id, order.patient_id, order.doctor_id, order.credit, order.fee_status, order.total_fen,
        order.actual_fen, order.note, order.created_at, order.submitted_at, order.executed_at,
        order.revoked_at, items,
    )


def line_amount(unit_price_fen: int, quantity: int, *, field: str = "quantity") -> int:
    """price × quantity in fen; quantity a positive integer, the result within a sane bound."""
    check_quantity(quantity, field=field)
    amount = unit_price_fen * quantity
    if amount > MAX_AMOUNT_FEN:
        raise ValidationError("金额过大，请核对数量", field=field)
    return amount


def check_quantity(quantity: object, *, field: str = "quantity", allow_zero: bool = False) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise ValidationError("数量必须为整数", field=field)
    if quantity < (0 if allow_zero else 1):
        raise ValidationError("数量不能为负数" if allow_zero else "数量必须大于零", field=field)
    if quantity > MAX_QUANTITY:
        raise ValidationError(f"数量过大（最多 {MAX_QUANTITY}），请核对", field=field)
    return quantity


def normalise_usage(text: str) -> str:
    usage = " ".join((text or "").split())
    if len(usage) > 100:
        raise ValidationError("用法用量最多100个字", field="usage")
    return usage
