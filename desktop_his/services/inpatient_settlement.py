"""Discharge settlement, 多退少补 (session level).

1. :func:`compute_plan` — total cost (with the bed days and inpatient orders the start will still post)
   against every payment net of earlier refunds. Surplus → refund lines from :func:`allocate_refunds`
   (never more to a payment or a channel than it paid in); shortfall → the amount to collect.
2. :func:`start` — posts those charges, freezes the plan in ``DischargeSettlement.plan``, moves the admission
   to ``discharging`` (no more charges or deposits). Refused while a 信用就医 pay or refund is in flight.
3. Execute the plan line by line — each refund is an act at its own terminal, so one failing never undoes the
   others: :func:`refund_other` for cash/WeChat/Alipay/card/insurance (``PaymentService`` records it with the
   settlement id); 信用就医 lines through the bank's refund interface (:mod:`inpatient_credit`). A shortfall
   is collected by :func:`collect` (another channel) or by 信用就医 pay (:mod:`inpatient_credit`).
4. :func:`complete` — only when every line is done or queued (DCBS0004PL0974: the refund queue owes it) and
   the shortfall is collected; the books must balance to the fen; the admission becomes ``settled``.

Line progress is never stored twice: it is read from the refund rows that carry the settlement id.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desktop_his.services import audit, payments
from desktop_his.services.enums import AdmissionStatus, OrderKind, OrderStatus, RefundStatus
from desktop_his.services.errors import Conflict, NotFound, ValidationError
from desktop_his.services.inpatient_account import (
    discharge_bed_days,
    get_admission,
    load_account,
    posted_bed_days,
)
from desktop_his.services.inpatient_alloc import CHANNEL_ORDER, allocate_refunds
from desktop_his.services.inpatient_charges import post_bed_days, post_order, publish, reverse
from desktop_his.services.inpatient_types import (
    ChannelPayment,
    ChannelPlan,
    RefundLine,
    SettlementLine,
    SettlementPlan,
    SettlementView,
    channel_label,
)
from desktop_his.services.models import (
    Admission,
    DischargeSettlement,
    InpatientCharge,
    MedicalOrder,
    OrderItem,
    Payment,
    Refund,
)
from desktop_his.services.money import format_fen
from desktop_his.services.permissions import Actor

DISCHARGE_DAY_REASON = "计入不计出：出院当日不计床位费"


# ---------------------------------------------------------------------------------------------- plan


def channel_payments(s: Session, admission_id: int) -> list[ChannelPayment]:
    rows = s.execute(select(Payment).where(Payment.admission_id == admission_id, Payment.status == "success")
                     .order_by(Payment.id)).scalars()
    return [ChannelPayment(p.id, p.channel, p.amount_fen, p.refunded_fen, p.created_at, p.payment_no) for p in rows]


def unposted_orders(s: Session, admission_id: int) -> list[tuple[int, int]]:
    """Submitted/executed inpatient orders of the admission not on the account yet: (order id, amount)."""
    posted = select(InpatientCharge.id).where(InpatientCharge.order_id == MedicalOrder.id).exists()
    rows = s.execute(
        select(MedicalOrder.id, MedicalOrder.status,
               func.sum(func.coalesce(OrderItem.actual_amount_fen, OrderItem.amount_fen)), func.sum(OrderItem.amount_fen))
        .join(OrderItem, OrderItem.order_id == MedicalOrder.id)
        .where(MedicalOrder.admission_id == admission_id, MedicalOrder.kind == OrderKind.INPATIENT,
               MedicalOrder.status.in_([OrderStatus.SUBMITTED, OrderStatus.EXECUTED]), ~posted)
        .group_by(MedicalOrder.id, MedicalOrder.status).order_by(MedicalOrder.id)
    ).all()
    # As post_order charges them: executed orders at their actual amounts, submitted ones as ordered.
    return [(oid, int(executed if status == OrderStatus.EXECUTED else ordered))
            for oid, status, executed, ordered in rows]


def pending_fen(s: Session, admission_id: int) -> int:
    """信用就医 pays and refunds of the admission whose outcome is not known yet."""
    paying = s.execute(select(func.coalesce(func.sum(Payment.amount_fen), 0))
                       .where(Payment.admission_id == admission_id, Payment.status == "pending")).scalar_one()
    refunding = s.execute(select(func.coalesce(func.sum(Refund.amount_fen), 0))
                          .where(Refund.admission_id == admission_id, Refund.status == RefundStatus.PENDING)
                          ).scalar_one()
    return int(paying) + int(refunding)


def compute_plan(s: Session, admission: Admission, discharge: date) -> SettlementPlan:
    posted = posted_bed_days(s, admission.id)
    to_post, reverse_id = discharge_bed_days(admission, discharge, posted)
    reversed_fen = s.get(InpatientCharge, reverse_id).amount_fen if reverse_id else 0  # type: ignore[union-attr]
    orders_fen = sum(amount for _oid, amount in unposted_orders(s, admission.id))
    charged = s.execute(select(func.coalesce(func.sum(InpatientCharge.amount_fen), 0))
                        .where(InpatientCharge.admission_id == admission.id)).scalar_one()
    total_cost = int(charged) + orders_fen + len(to_post) * admission.daily_bed_fen - reversed_fen
    deposits = channel_payments(s, admission.id)
    paid_in = sum(p.amount_fen for p in deposits)
    refunded_before = sum(p.refunded_fen for p in deposits)
    balance = paid_in - refunded_before - total_cost
    lines = allocate_refunds(deposits, balance) if balance > 0 else []
    return SettlementPlan(
        admission_id=admission.id, admission_no=admission.admission_no, discharge_date=discharge,
        bed_days_to_post=tuple(to_post), bed_day_to_reverse=discharge if reverse_id else None,
        total_cost_fen=total_cost, paid_in_fen=paid_in, refunded_before_fen=refunded_before,
        refund_lines=tuple(lines), collect_fen=max(0, -balance), channels=_channel_plans(deposits, lines),
        pending_fen=pending_fen(s, admission.id),
    )


def _channel_plans(deposits: list[ChannelPayment], lines: list[RefundLine]) -> tuple[ChannelPlan, ...]:
    money: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for p in deposits:
        money[p.channel][0] += p.amount_fen
        money[p.channel][1] += p.refunded_fen
    for line in lines:
        money[line.channel][2] += line.amount_fen
    return tuple(ChannelPlan(c, *money[c]) for c in CHANNEL_ORDER if c in money)


def plan_to_json(plan: SettlementPlan) -> dict[str, Any]:
    return {
        "version": 1, "discharge_date": plan.discharge_date.isoformat(), "total_cost_fen": plan.total_cost_fen,
        "paid_in_fen": plan.paid_in_fen, "refunded_before_fen": plan.refunded_before_fen,
        "collect_fen": plan.collect_fen,
        "refund_lines": [{"line_no": ln.line_no, "payment_id": ln.payment_id, "payment_no": ln.payment_no,
                          "channel": ln.channel, "amount_fen": ln.amount_fen} for ln in plan.refund_lines],
        "channels": [{"channel": c.channel, "paid_in_fen": c.paid_in_fen,
                      "refunded_before_fen": c.refunded_before_fen, "refund_fen": c.refund_fen}
                     for c in plan.channels],
    }


# ------------------------------------------------------------------------------------------- execute


def lock_settlement(s: Session, settlement_id: int) -> tuple[Admission, DischargeSettlement]:
    """Row-lock the admission, then the settlement (always in this order: no dead-locks)."""
    admission_id = s.execute(select(DischargeSettlement.admission_id)
                             .where(DischargeSettlement.id == settlement_id)).scalar_one_or_none()
    if admission_id is None:
        raise NotFound("未找到该出院结算", field="settlement_id", code="settlement_not_found")
    admission = get_admission(s, admission_id, for_update=True)
    settlement = s.execute(select(DischargeSettlement).where(DischargeSettlement.id == settlement_id)
                           .with_for_update().execution_options(populate_existing=True)).scalar_one()
    return admission, settlement


def ensure_settlement_open(settlement: DischargeSettlement) -> None:
    if settlement.status != "open":
        raise Conflict("该出院结算已完成", code="settlement_done")


def start(s: Session, actor: Actor, admission_id: int, now: datetime,
          expected_balance_fen: int | None) -> DischargeSettlement:
    admission = get_admission(s, admission_id, for_update=True)
    if admission.status != AdmissionStatus.ADMITTED:
        raise Conflict("该患者的出院结算已开始或已完成", code="settlement_exists")
    preview = compute_plan(s, admission, now.date())
    if preview.pending_fen:
        raise Conflict("有“信用就医”缴费或退款结果正在确认中，请确认后再办理出院结算", code="pending")
    if expected_balance_fen is not None and expected_balance_fen != preview.balance_fen:
        raise Conflict("费用或预交金已发生变化，请重新核对结算金额", code="plan_changed")
    for order_id, _amount in unposted_orders(s, admission.id):
        post_order(s, actor, order_id, now)
    post_bed_days(s, actor, admission, list(preview.bed_days_to_post), now)
    if preview.bed_day_to_reverse is not None:
        reverse(s, actor, posted_bed_days(s, admission.id)[preview.bed_day_to_reverse][0], DISCHARGE_DAY_REASON,
                now)
    plan = compute_plan(s, admission, now.date())
    if plan.balance_fen != preview.balance_fen or plan.bed_days_to_post or plan.bed_day_to_reverse:
        raise AssertionError("settlement preview and posted account disagree")  # a bug, never user input
    settlement = DischargeSettlement(
        admission_id=admission.id, total_cost_fen=plan.total_cost_fen, total_deposit_fen=plan.net_deposit_fen,
        balance_fen=plan.balance_fen, status="open", plan=plan_to_json(plan), created_at=now,
        created_by=actor.staff_id,
    )
    s.add(settlement)
    admission.status, admission.discharged_at = AdmissionStatus.DISCHARGING.value, now
    s.flush()
    audit.append(s, actor=actor, action="inpatient.settlement_started", at=now, entity="discharge_settlement",
                 entity_id=settlement.id, detail={
                     "admission_no": admission.admission_no, "total_cost_fen": plan.total_cost_fen,
                     "net_deposit_fen": plan.net_deposit_fen, "balance_fen": plan.balance_fen,
                     "collect_fen": plan.collect_fen, "bed_days_posted": len(preview.bed_days_to_post),
                     "refund_lines": settlement.plan["refund_lines"]})
    publish(s, admission)
    return settlement


def settlement_view(s: Session, settlement: DischargeSettlement) -> SettlementView:
    plan = settlement.plan
    money: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    errors: dict[int, str] = {}  # the latest refund of a line failed: why (cleared by a later submission)
    for r in s.execute(select(Refund).where(Refund.settlement_id == settlement.id).order_by(Refund.id)).scalars():
        money[r.payment_id or 0][r.status] += r.amount_fen
        if r.status == RefundStatus.FAILED:
            errors[r.payment_id or 0] = r.last_error_message or r.last_error_code or "退款失败"
        else:
            errors.pop(r.payment_id or 0, None)
    lines = tuple(SettlementLine(
        ln["line_no"], ln["payment_id"], ln["payment_no"], ln["channel"], ln["amount_fen"],
        money[ln["payment_id"]][RefundStatus.SUCCESS], money[ln["payment_id"]][RefundStatus.QUEUED],
        money[ln["payment_id"]][RefundStatus.PENDING], errors.get(ln["payment_id"]),
    ) for ln in plan["refund_lines"])
    collected = dict(s.execute(
        select(Payment.status, func.sum(Payment.amount_fen))
        .where(Payment.admission_id == settlement.admission_id, Payment.purpose == "settlement")
        .group_by(Payment.status)).all())
    admission = s.get(Admission, settlement.admission_id)
    assert admission is not None
    return SettlementView(
        id=settlement.id, admission_id=settlement.admission_id, admission_no=admission.admission_no,
        status=settlement.status, created_at=settlement.created_at, completed_at=settlement.completed_at,
        discharge_date=date.fromisoformat(plan["discharge_date"]), total_cost_fen=settlement.total_cost_fen,
        net_deposit_fen=settlement.total_deposit_fen, balance_fen=settlement.balance_fen, lines=lines,
        collect_fen=plan["collect_fen"], collected_fen=int(collected.get("success") or 0),
        collect_pending_fen=int(collected.get("pending") or 0),
    )


def find_line(view: SettlementView, line_no: int) -> SettlementLine:
    for line in view.lines:
        if line.line_no == line_no:
            return line
    raise NotFound("结算单中没有这一笔退款", field="line_no", code="line_not_found")


def refund_other(s: Session, actor: Actor, settlement_id: int, line_no: int, reference_no: str,
                 now: datetime) -> Refund:
    """Pay back one non-credit line (the cash handed over, or the terminal's refund done), recorded through
    :func:`payments.record_refund_in_session` with the settlement id."""
    admission, settlement = lock_settlement(s, settlement_id)
    ensure_settlement_open(settlement)
    line = find_line(settlement_view(s, settlement), line_no)
    if line.channel == "credit":
        raise ValidationError("信用就医的退款须通过银行退款接口办理", field="line_no")
    if line.remaining_fen <= 0:
        raise Conflict(f"第{line_no}笔退款已办理", code="line_done")
    refund = payments.record_refund_in_session(
        s, actor, now, line.payment_id, line.remaining_fen,
        f"出院结算退{channel_label(line.channel)}（住院号 {admission.admission_no}）",
        reference_no=reference_no, settlement_id=settlement.id)
    publish(s, admission)
    return refund


def collect(s: Session, actor: Actor, settlement_id: int, now: datetime, *, channel: str, amount_fen: int,
            reference_no: str, cash_received_fen: int | None) -> Payment:
    """Collect (part of) the shortfall by another channel; never more than is still owed."""
    admission, settlement = lock_settlement(s, settlement_id)
    ensure_settlement_open(settlement)
    left = settlement_view(s, settlement).remaining_collect_fen
    if left <= 0:
        raise Conflict("本次出院结算无需再补缴", code="nothing_to_collect")
    if isinstance(amount_fen, int) and not isinstance(amount_fen, bool) and amount_fen > left:
        raise ValidationError(f"补缴金额超过应补：尚需补缴{format_fen(left, symbol=True)}", field="amount_fen")
    payment = payments.record_in_session(
        s, actor, now, patient_id=admission.patient_id, purpose="settlement", amount_fen=amount_fen,
        channel=channel, reference_no=reference_no, cash_received_fen=cash_received_fen, admission_id=admission.id)
    publish(s, admission)
    return payment


def complete(s: Session, actor: Actor, settlement_id: int, now: datetime) -> None:
    """Close the settlement: every line done or queued, the shortfall collected, the books at zero."""
    admission, settlement = lock_settlement(s, settlement_id)
    ensure_settlement_open(settlement)
    view = settlement_view(s, settlement)
    if view.outstanding:
        raise Conflict("还不能完成出院结算：" + "；".join(view.outstanding), code="settlement_outstanding")
    account_balance = load_account(s, admission, now.date()).balance_fen
    if account_balance != 0:
        raise Conflict(f"结算账目不平（差额 {format_fen(account_balance, symbol=True)}），请联系信息科",
                       code="unbalanced")
    settlement.status, settlement.completed_at = "done", now
    admission.status = AdmissionStatus.SETTLED.value
    s.flush()
    audit.append(s, actor=actor, action="inpatient.settlement_completed", at=now, entity="discharge_settlement",
                 entity_id=settlement.id, detail={
                     "admission_no": admission.admission_no, "refunded_fen": sum(ln.amount_fen for ln in view.lines),
                     "queued_fen": sum(ln.queued_fen for ln in view.lines), "collected_fen": view.collected_fen})
    publish(s, admission)


def settlement_for(s: Session, admission_id: int) -> DischargeSettlement | None:
    return s.execute(select(DischargeSettlement).where(DischargeSettlement.admission_id == admission_id)
                     ).scalar_one_or_none()
