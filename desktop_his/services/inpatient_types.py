"""The shapes the inpatient workflows hand around (admission, account, consent, settlement plan and state)
and their vocabularies (the shapes of the 信用就医 seams live in :mod:`inpatient_credit`). Import them from :mod:`desktop_his.services.inpatient`, which re-exports everything here.

Money: every ``*_fen`` is integer fen. Signs: charges are positive, a reversal row is negative; a balance is
``money held − costs`` (positive = surplus to refund, negative = owed by the patient).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from desktop_his.services.enums import CATALOG_KIND_LABELS, CHANNEL_LABELS, AdmissionStatus, Channel
from desktop_his.services.money import format_fen

MAX_WARD = 50
MAX_BED = 20
MAX_DIAGNOSIS = 500
MAX_DESCRIPTION = 100
MAX_REASON = 100
# The bank's code for "the hospital's merchant balance cannot pay this refund": the refund is queued.
BALANCE_INSUFFICIENT = "DCBS0004PL0974"

ADMISSION_STATUS_LABELS = {AdmissionStatus.ADMITTED: "在院", AdmissionStatus.DISCHARGING: "出院结算中",
                           AdmissionStatus.SETTLED: "已出院结算"}
SOURCE_LABELS = {"bed": "床位费", "order": "医嘱", "manual": "记账"}
PURPOSE_LABELS = {"deposit": "预交金", "settlement": "结算补缴"}
LINE_STATUS_LABELS = {"planned": "待退", "pending": "退款确认中", "queued": "退款排队中", "done": "已退"}


def channel_label(channel: str) -> str:
    return CHANNEL_LABELS.get(channel, channel)  # type: ignore[call-overload]  # StrEnum keys match str


def category_label(category: str) -> str:
    return CATALOG_KIND_LABELS.get(category, "其他")  # type: ignore[call-overload]


# ------------------------------------------------------------------------------------------ admission


@dataclass(frozen=True)
class AdmissionView:
    id: int
    admission_no: str
    status: str
    patient_id: int
    patient_name: str
    patient_sex_label: str
    patient_age: int
    id_type_label: str
    id_number_masked: str
    department_id: int
    department_name: str
    doctor_id: int | None
    doctor_name: str
    ward: str
    bed: str
    diagnosis: str
    daily_bed_fen: int
    admitted_at: datetime
    discharged_at: datetime | None
    agreement_no: str | None
    family_pay: bool

    @property
    def status_label(self) -> str:
        return ADMISSION_STATUS_LABELS[AdmissionStatus(self.status)]


@dataclass(frozen=True)
class ChargeView:
    id: int
    charge_date: date
    source: str  # bed / order / manual
    category: str  # enums.CatalogKind value
    description: str
    quantity: int
    amount_fen: int  # negative for a reversal
    order_id: int | None
    catalog_item_id: int | None
    posted_at: datetime
    reversed_charge_id: int | None  # set on a reversal row: the charge it cancels
    reversed_by_id: int | None  # set on a charge that was reversed: the reversal row

    @property
    def category_label(self) -> str:
        return category_label(self.category)

    @property
    def is_reversal(self) -> bool:
        return self.reversed_charge_id is not None


@dataclass(frozen=True)
class BedChargeRun:
    """What :meth:`InpatientService.post_bed_charges` did."""

    admissions: int  # admissions looked at
    days_posted: int
    amount_fen: int


# ---------------------------------------------------------------------------------------- the account


@dataclass(frozen=True)
class PaymentLine:
    """Money in for an admission: a deposit (预交金) or a discharge collection (结算补缴), any channel."""

    id: int
    payment_no: str
    channel: str
    purpose: str  # deposit / settlement
    amount_fen: int
    refunded_fen: int  # refunds done, queued or in flight against this payment
    status: str  # pending / success / failed
    reference_no: str
    consent_id: int | None
    bank_serial: str | None
    created_at: datetime

    @property
    def channel_label(self) -> str:
        return channel_label(self.channel)

    @property
    def refundable_fen(self) -> int:
        return self.amount_fen - self.refunded_fen if self.status == "success" else 0


@dataclass(frozen=True)
class RefundView:
    id: int
    refund_no: str
    payment_id: int | None
    channel: str
    method: str
    amount_fen: int
    status: str  # enums.RefundStatus
    settlement_id: int | None
    reference_no: str
    created_at: datetime
    last_error_code: str | None


@dataclass(frozen=True)
class ChannelTotals:
    """One channel's money for an admission. ``out_fen`` counts refunds done, queued and in flight: money
    that has left (or is committed to leave) the hospital's hands."""

    channel: str
    deposited_fen: int
    collected_fen: int
    refunded_fen: int  # done
    refund_queued_fen: int  # DCBS0004PL0974: owed to the patient, the refund queue pays it
    refund_pending_fen: int  # sent, outcome not known yet
    pending_in_fen: int  # a 信用就医 pay whose outcome is not known yet (not in the balance)

    @property
    def label(self) -> str:
        return channel_label(self.channel)

    @property
    def in_fen(self) -> int:
        return self.deposited_fen + self.collected_fen

    @property
    def out_fen(self) -> int:
        return self.refunded_fen + self.refund_queued_fen + self.refund_pending_fen

    @property
    def net_fen(self) -> int:
        return self.in_fen - self.out_fen


@dataclass(frozen=True)
class Account:
    """An admission's running account (住院费用明细与预交金). ``balance_fen`` > 0: money to give back."""

    admission: AdmissionView
    charges: tuple[ChargeView, ...]
    payments: tuple[PaymentLine, ...]
    refunds: tuple[RefundView, ...]
    channels: tuple[ChannelTotals, ...]  # in the refund order (see inpatient_alloc.CHANNEL_ORDER)
    cost_by_day: tuple[tuple[date, int], ...]
    cost_by_category: tuple[tuple[str, int], ...]  # (CatalogKind value, fen), largest first

    @property
    def total_cost_fen(self) -> int:
        return sum(c.amount_fen for c in self.charges)

    @property
    def deposited_fen(self) -> int:
        return sum(c.deposited_fen for c in self.channels)

    @property
    def collected_fen(self) -> int:
        return sum(c.collected_fen for c in self.channels)

    @property
    def refunded_fen(self) -> int:
        return sum(c.out_fen for c in self.channels)

    @property
    def pending_in_fen(self) -> int:
        return sum(c.pending_in_fen for c in self.channels)

    @property
    def held_fen(self) -> int:
        return self.deposited_fen + self.collected_fen - self.refunded_fen

    @property
    def balance_fen(self) -> int:
        return self.held_fen - self.total_cost_fen

    @property
    def credit_used(self) -> bool:
        return any(p.channel == Channel.CREDIT and p.status == "success" for p in self.payments)


# --------------------------------------------------------------------------------------------- consent


@dataclass(frozen=True)
class ProxyInput:
    """The proxy (代理人) of the written consent, when the patient cannot come to the desk."""

    name: str
    id_type: str
    id_number: str


@dataclass(frozen=True)
class ConsentView:
    id: int
    admission_id: int
    patient_id: int
    proxy_name: str | None
    proxy_id_type: str | None
    proxy_id_number_masked: str | None
    printed_at: datetime | None
    received_at: datetime | None

    @property
    def status(self) -> str:
        return "received" if self.received_at else "printed" if self.printed_at else "created"

    @property
    def status_label(self) -> str:
        return {"received": "已收回签字件", "printed": "已打印，待签字", "created": "待打印"}[self.status]


@dataclass(frozen=True)
class ConsentInfo:
    """Everything the printed 书面确权 needs — full ID numbers: it is signed on paper (never log it)."""

    consent_id: int
    admission_no: str
    patient_name: str
    patient_id_type: str
    patient_id_number: str
    proxy_name: str | None
    proxy_id_type: str | None
    proxy_id_number: str | None
    department_name: str
    ward: str
    bed: str
    office_phone: str  # the admission office's phone (the clerk's department), "" = blank for hand-writing
    reprint: bool = False


# ------------------------------------------------------------------------------------ settlement plan


@dataclass(frozen=True)
class ChannelPayment:
    """One payment as the refund allocation sees it."""

    payment_id: int
    channel: str
    amount_fen: int
    refunded_fen: int = 0
    paid_at: datetime | None = None
    payment_no: str = ""

    @property
    def refundable_fen(self) -> int:
        return self.amount_fen - self.refunded_fen


@dataclass(frozen=True)
class RefundLine:
    line_no: int
    payment_id: int
    payment_no: str
    channel: str
    amount_fen: int

    @property
    def channel_label(self) -> str:
        return channel_label(self.channel)


@dataclass(frozen=True)
class ChannelPlan:
    channel: str
    paid_in_fen: int
    refunded_before_fen: int
    refund_fen: int  # planned now

    @property
    def label(self) -> str:
        return channel_label(self.channel)


@dataclass(frozen=True)
class SettlementPlan:
    """多退少补: what :meth:`start_settlement` will freeze. ``balance_fen`` > 0: refund lines; < 0: collect."""

    admission_id: int
    admission_no: str
    discharge_date: date
    bed_days_to_post: tuple[date, ...]  # 计入不计出: days start_settlement posts first
    bed_day_to_reverse: date | None  # a discharge-day bed charge posted in advance, reversed at start
    total_cost_fen: int  # including the bed-day changes above
    paid_in_fen: int  # every successful deposit
    refunded_before_fen: int  # refunds during the stay
    refund_lines: tuple[RefundLine, ...]
    collect_fen: int
    channels: tuple[ChannelPlan, ...]
    pending_fen: int  # 信用就医 pays or refunds still in flight: start is refused until they resolve

    @property
    def net_deposit_fen(self) -> int:
        return self.paid_in_fen - self.refunded_before_fen

    @property
    def balance_fen(self) -> int:
        return self.net_deposit_fen - self.total_cost_fen

    @property
    def refund_fen(self) -> int:
        return sum(line.amount_fen for line in self.refund_lines)


@dataclass(frozen=True)
class SettlementLine:
    """A planned refund line and how far it got (from the refund rows that carry the settlement id)."""

    line_no: int
    payment_id: int
    payment_no: str
    channel: str
    amount_fen: int
    done_fen: int
    queued_fen: int
    pending_fen: int
    last_error: str | None

    @property
    def channel_label(self) -> str:
        return channel_label(self.channel)

    @property
    def remaining_fen(self) -> int:
        return self.amount_fen - self.done_fen - self.queued_fen - self.pending_fen

    @property
    def status(self) -> str:
        if self.pending_fen:
            return "pending"
        if self.remaining_fen > 0:
            return "planned"
        return "queued" if self.queued_fen else "done"

    @property
    def status_label(self) -> str:
        return LINE_STATUS_LABELS[self.status]


@dataclass(frozen=True)
class SettlementView:
    id: int
    admission_id: int
    admission_no: str
    status: str  # open / done
    created_at: datetime
    completed_at: datetime | None
    discharge_date: date
    total_cost_fen: int
    net_deposit_fen: int
    balance_fen: int
    lines: tuple[SettlementLine, ...]
    collect_fen: int
    collected_fen: int  # collected by any channel (successful payments, purpose settlement)
    collect_pending_fen: int  # 信用就医 collection in flight

    @property
    def remaining_collect_fen(self) -> int:
        return self.collect_fen - self.collected_fen - self.collect_pending_fen

    @property
    def outstanding(self) -> tuple[str, ...]:
        """Why the settlement cannot be completed yet (Chinese, one line each); empty = it can."""
        reasons = [f"第{ln.line_no}笔{ln.channel_label}退款{ln.status_label}" for ln in self.lines
                   if ln.status in ("planned", "pending")]
        if self.collect_pending_fen:
            reasons.append("信用就医补缴结果确认中")
        left = self.remaining_collect_fen
        if left > 0:
            reasons.append(f"尚需补缴{format_fen(left, symbol=True)}")
        return tuple(reasons)

    @property
    def can_complete(self) -> bool:
        return self.status == "open" and not self.outstanding


@dataclass(frozen=True)
class Statement:
    """What the printed settlement statement (出院结算清单) shows."""

    account: Account
    settlement: SettlementView
    clerk_name: str
