"""Money taken by the channels that are not the bank's 信用就医 interface, and their recorded refunds.

Channels: cash (amount received and change, in fen), WeChat Pay and Alipay (the patient's 付款码 scanned at the
window, or the transaction number of a payment already made), UnionPay card (the terminal's reference), medical
insurance (the settlement number). The credit channel is not recorded here: it goes through the bank gateway.

``record`` checks everything, writes the ``Payment``, moves the fee status of the visit or order it pays, and
audits — in one transaction. The same WeChat/Alipay/card/insurance reference cannot be recorded twice (that is
how a duplicate charge would enter the books). ``record_refund`` records money handed back through the same
other channel (``RefundMethod.RECORDED``), never more than was paid minus earlier refunds (a guarded UPDATE, so
two windows refunding at once cannot exceed it either).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from desktop_his.services import audit, live, numbers
from desktop_his.services.clock import Clock
from desktop_his.services.db import Database
from desktop_his.services.enums import (
    CHANNEL_LABELS,
    AdmissionStatus,
    Channel,
    FeeStatus,
    OrderStatus,
    RefundMethod,
    RefundStatus,
)
from desktop_his.services.errors import Conflict, NotFound, ValidationError
from desktop_his.services.models import Admission, MedicalOrder, Payment, Refund, Visit
from desktop_his.services.money import MAX_AMOUNT_FEN, format_fen
from desktop_his.services.permissions import Action, Actor, require

PURPOSES = ("registration", "order", "vaccine", "deposit", "settlement")
OTHER_CHANNELS = tuple(c for c in Channel if c is not Channel.CREDIT)
# WeChat 付款码: 18 digits, 10–15 first; transaction number (微信支付单号): 28 digits.
_WECHAT = re.compile(r"1[0-5]\d{16}|\d{28}")
# Alipay 付款码: 16–24 digits, 25–30 first; trade number (支付宝交易号): 28 digits starting with the year 20xx.
_ALIPAY = re.compile(r"(2[5-9]|30)\d{14,22}|20\d{26}")
_CARD_REF = re.compile(r"[A-Z0-9-]{6,32}")
_INSURANCE_REF = re.compile(r"[A-Z0-9-]{6,64}")
_CASH_REF = re.compile(r"[A-Z0-9-]{0,32}")


@dataclass(frozen=True)
class PaymentInput:
    """How the patient pays by another channel (the payment dialog's result)."""

    channel: str
    reference_no: str = ""
    cash_received_fen: int | None = None


def _amount(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError("金额必须以分为单位的整数表示", field=field)
    if value <= 0:
        raise ValidationError("金额必须大于零", field=field)
    if value > MAX_AMOUNT_FEN:
        raise ValidationError("金额过大，请核对", field=field)
    return value


# What the reference number of each channel is called at the window, and a hint for the clerk.
REFERENCE_HINTS = {
    Channel.CASH: ("收据号", "选填"),
    Channel.WECHAT: ("付款码/交易号", "扫描患者微信付款码，或输入28位微信支付单号"),
    Channel.ALIPAY: ("付款码/交易号", "扫描患者支付宝付款码，或输入28位支付宝交易号"),
    Channel.UNIONPAY: ("POS参考号", "银联POS签购单上的参考号"),
    Channel.INSURANCE: ("医保结算单号", "医保结算单号"),
}


def normalize_reference(text: str | None) -> str:
    return unicodedata.normalize("NFKC", text or "").replace(" ", "").strip().upper()


def validate_reference(channel: Channel, reference_no: str | None) -> str:
    ref = normalize_reference(reference_no)
    checks = {
        Channel.CASH: (_CASH_REF, "现金收据号只能包含字母和数字"),
        Channel.WECHAT: (_WECHAT, "微信付款码应为18位数字（10–15开头），或28位微信支付单号"),
        Channel.ALIPAY: (_ALIPAY, "支付宝付款码应为16–24位数字（25–30开头），或28位支付宝交易号"),
        Channel.UNIONPAY: (_CARD_REF, "请输入银联POS签购单的参考号（6–32位字母或数字）"),
        Channel.INSURANCE: (_INSURANCE_REF, "请输入医保结算单号（6–64位字母或数字）"),
    }
    pattern, message = checks[channel]
    if not pattern.fullmatch(ref):
        raise ValidationError(message, field="reference_no")
    return ref


def validate_channel(channel: str) -> Channel:
    try:
        kind = Channel(channel)
    except ValueError as exc:
        raise ValidationError("请选择支付方式", field="channel") from exc
    if kind is Channel.CREDIT:
        raise ValidationError("信用就医须通过银行接口办理，不能在此登记", field="channel")
    return kind


def cash_change(amount_fen: int, cash_received_fen: int | None) -> int:
    """Change to hand back; refuses too little cash."""
    if cash_received_fen is None:
        raise ValidationError("请输入实收现金金额", field="cash_received_fen")
    received = _amount(cash_received_fen, "cash_received_fen")
    if received < amount_fen:
        raise ValidationError(f"实收现金不足：应收{format_fen(amount_fen, symbol=True)}，"
                              f"实收{format_fen(received, symbol=True)}", field="cash_received_fen")
    return received - amount_fen


def _paid_so_far(s: Session, **target: int) -> int:
    key, value = next(iter(target.items()))
    return s.execute(
        select(func.coalesce(func.sum(Payment.amount_fen - Payment.refunded_fen), 0))
        .where(getattr(Payment, key) == value, Payment.status == "success")
    ).scalar_one()


def _due_check(s: Session, status: str, total_fen: int, amount_fen: int, what: str, **target: int) -> int:
    """Outstanding amount of a visit fee or an order; refuses paying what is not (or no longer) owed."""
    if status == FeeStatus.LOCKED or status == FeeStatus.DEDUCTED:
        raise Conflict(f"该{what}已使用信用就医支付，无需再缴费", field="channel", code="already_credit")
    if status == FeeStatus.PENDING:
        raise Conflict(f"该{what}的信用就医结果尚未确认，请稍后再试", field="channel", code="pending")
    if status not in (FeeStatus.UNPAID,):
        raise Conflict(f"该{what}已缴费或已作废，不能再收费", field="amount_fen", code="not_payable")
    outstanding = total_fen - _paid_so_far(s, **target)
    if amount_fen > outstanding:
        raise ValidationError(f"收费金额超过应收：{what}尚欠{format_fen(outstanding, symbol=True)}",
                              field="amount_fen")
    return outstanding


def _apply_to_target(s: Session, patient_id: int, purpose: str, amount_fen: int, *, visit_id: int | None,
                     order_id: int | None, admission_id: int | None) -> None:
    """Check the charge being paid exists, belongs to the patient and is owed; move its fee status."""
    targets = [t for t in (visit_id, order_id, admission_id) if t is not None]
    if len(targets) != 1:
        raise ValidationError("一笔缴费须对应且只对应一项费用（挂号、医嘱或住院）", field="purpose")
    if visit_id is not None:
        if purpose != "registration":
            raise ValidationError("挂号费的用途应为 registration", field="purpose")
        visit = s.get(Visit, visit_id, with_for_update=True)
        if visit is None or visit.patient_id != patient_id:
            raise NotFound("未找到该患者的这次挂号", code="visit_not_found")
        outstanding = _due_check(s, visit.fee_status, visit.fee_fen, amount_fen, "挂号", visit_id=visit_id)
        if amount_fen == outstanding:
            visit.fee_status = FeeStatus.PAID.value
        live.publish(s, f"doctor:{visit.doctor_id}")
    elif order_id is not None:
        if purpose not in ("order", "vaccine"):
            raise ValidationError("医嘱/疫苗费的用途应为 order 或 vaccine", field="purpose")
        order = s.get(MedicalOrder, order_id, with_for_update=True)
        if order is None or order.patient_id != patient_id:
            raise NotFound("未找到该患者的这张收费单", code="order_not_found")
        if order.status not in (OrderStatus.SUBMITTED, OrderStatus.EXECUTED):
            raise Conflict("该收费单未提交或已撤销，不能收费", code="order_not_payable")
        total = order.actual_fen if order.actual_fen is not None else order.total_fen
        outstanding = _due_check(s, order.fee_status, total, amount_fen, "收费单", order_id=order_id)
        if amount_fen == outstanding:
            order.fee_status = FeeStatus.PAID.value
        live.publish(s, f"orders:visit:{order.visit_id}")
    else:
        if purpose not in ("deposit", "settlement"):
            raise ValidationError("住院缴费的用途应为 deposit 或 settlement", field="purpose")
        admission = s.get(Admission, admission_id)
        if admission is None or admission.patient_id != patient_id:
            raise NotFound("未找到该患者的这次住院", code="admission_not_found")
        if admission.status == AdmissionStatus.SETTLED:
            raise Conflict("该患者已出院结算，不能再缴费", code="admission_settled")


def record_in_session(s: Session, actor: Actor, now: datetime, *, patient_id: int, purpose: str,
                      amount_fen: int, channel: str, reference_no: str = "", cash_received_fen: int | None = None,
                      visit_id: int | None = None, order_id: int | None = None,
                      admission_id: int | None = None) -> Payment:
    """``PaymentService.record`` inside the caller's transaction (registration + cash in one commit)."""
    require(actor, Action.TAKE_PAYMENT)
    kind = validate_channel(channel)
    if purpose not in PURPOSES:
        raise ValidationError("缴费用途无效", field="purpose")
    amount = _amount(amount_fen, "amount_fen")
    ref = validate_reference(kind, reference_no)
    change = cash_change(amount, cash_received_fen) if kind is Channel.CASH else None
    if kind is not Channel.CASH and cash_received_fen is not None:
        raise ValidationError("只有现金缴费需要填写实收金额", field="cash_received_fen")
    if ref and kind is not Channel.CASH:
        earlier = s.execute(select(Payment.payment_no).where(
            Payment.channel == kind.value, Payment.reference_no == ref, Payment.status == "success")).first()
        if earlier:
            raise Conflict(f"该{CHANNEL_LABELS[kind]}凭证已登记过（缴费单 {earlier[0]}），请勿重复收费",
                           field="reference_no", code="duplicate_reference")
    _apply_to_target(s, patient_id, purpose, amount, visit_id=visit_id, order_id=order_id,
                     admission_id=admission_id)
    payment = Payment(
        payment_no=numbers.next_number(s, "payment", now.date()), channel=kind.value, purpose=purpose,
        amount_fen=amount, refunded_fen=0, status="success", reference_no=ref,
        cash_received_fen=cash_received_fen if kind is Channel.CASH else None, change_fen=change,
        patient_id=patient_id, visit_id=visit_id, order_id=order_id, admission_id=admission_id,
        cashier_id=actor.staff_id, workstation=actor.workstation, business_date=now.date(), created_at=now,
    )
    s.add(payment)
    s.flush()
    audit.append(s, actor=actor, action="payment.recorded", at=now, entity="payment", entity_id=payment.id,
                 detail={"payment_no": payment.payment_no, "channel": kind.value, "purpose": purpose,
                         "amount_fen": amount, "visit_id": visit_id, "order_id": order_id,
                         "admission_id": admission_id})
    return payment


def _refund_fee_status(s: Session, payment: Payment) -> None:
    """After a refund: the visit/order it paid is refunded in full or in part."""
    target = (s.get(Visit, payment.visit_id) if payment.visit_id is not None
              else s.get(MedicalOrder, payment.order_id) if payment.order_id is not None else None)
    if target is None:
        return
    key = "visit_id" if payment.visit_id is not None else "order_id"
    paid, refunded = s.execute(
        select(func.coalesce(func.sum(Payment.amount_fen), 0), func.coalesce(func.sum(Payment.refunded_fen), 0))
        .where(getattr(Payment, key) == getattr(payment, key), Payment.status == "success")
    ).one()
    target.fee_status = (FeeStatus.REFUNDED if refunded >= paid else FeeStatus.PARTLY_REFUNDED).value


def record_refund_in_session(s: Session, actor: Actor, now: datetime, payment_id: int, amount_fen: int,
                             reason: str, *, reference_no: str = "", settlement_id: int | None = None) -> Refund:
    """``PaymentService.record_refund`` inside the caller's transaction (a discharge settlement's line)."""
    require(actor, Action.REFUND)
    amount = _amount(amount_fen, "amount_fen")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("请填写退费原因", field="reason")
    payment = s.get(Payment, payment_id)
    if payment is None:
        raise NotFound("未找到该缴费记录", code="payment_not_found")
    if payment.channel == Channel.CREDIT:
        raise ValidationError("信用就医的退款须通过银行接口办理", field="payment_id")
    if payment.status != "success":
        raise Conflict("该缴费未成功，不能退费", code="payment_not_successful")
    if payment.admission_id is not None and settlement_id is None:
        admission = s.get(Admission, payment.admission_id)
        if admission is not None and admission.status != AdmissionStatus.ADMITTED:
            raise Conflict("该患者已开始出院结算，预交金请在出院结算中退还", code="admission_settling")
    moved = s.execute(
        update(Payment).where(Payment.id == payment_id, Payment.refunded_fen + amount <= Payment.amount_fen)
        .values(refunded_fen=Payment.refunded_fen + amount).execution_options(synchronize_session=False)
    ).rowcount
    s.refresh(payment)
    if not moved:
        left = payment.amount_fen - payment.refunded_fen
        raise ValidationError(f"退费金额超过可退金额：该笔最多还可退{format_fen(left, symbol=True)}",
                              field="amount_fen")
    refund = Refund(
        refund_no=numbers.next_number(s, "refund", now.date()), method=RefundMethod.RECORDED.value,
        channel=payment.channel, amount_fen=amount, status=RefundStatus.SUCCESS.value, reason=reason[:200],
        payment_id=payment.id, patient_id=payment.patient_id, visit_id=payment.visit_id,
        order_id=payment.order_id, admission_id=payment.admission_id, settlement_id=settlement_id,
        reference_no=normalize_reference(reference_no)[:64], requested_by=actor.staff_id,
        workstation=actor.workstation, business_date=now.date(), created_at=now, completed_at=now,
    )
    s.add(refund)
    s.flush()
    _refund_fee_status(s, payment)
    audit.append(s, actor=actor, action="payment.refund_recorded", at=now, entity="refund",
                 entity_id=refund.id, detail={"refund_no": refund.refund_no, "payment_no": payment.payment_no,
                                              "channel": payment.channel, "amount_fen": amount,
                                              "reason": reason[:200], "settlement_id": settlement_id})
    return refund


class PaymentService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def record(self, actor: Actor, *, patient_id: int, purpose: str, amount_fen: int, channel: str,
               reference_no: str = "", cash_received_fen: int | None = None, visit_id: int | None = None,
               order_id: int | None = None, admission_id: int | None = None) -> Payment:
        """Record a payment by another channel and mark what it pays; returns the (detached) Payment."""
        with self.db.session() as s:
            return record_in_session(
                s, actor, self.clock.now(), patient_id=patient_id, purpose=purpose, amount_fen=amount_fen,
                channel=channel, reference_no=reference_no, cash_received_fen=cash_received_fen,
                visit_id=visit_id, order_id=order_id, admission_id=admission_id)

    def record_refund(self, actor: Actor, payment_id: int, amount_fen: int, reason: str, *,
                      reference_no: str = "", settlement_id: int | None = None) -> Refund:
        """Record money handed back through the payment's own channel (``RefundMethod.RECORDED``);
        ``settlement_id`` ties a discharge-settlement refund to its settlement."""
        with self.db.session() as s:
            return record_refund_in_session(s, actor, self.clock.now(), payment_id, amount_fen, reason,
                                            reference_no=reference_no, settlement_id=settlement_id)

    def payments_for_visit(self, actor: Actor, visit_id: int) -> list[Payment]:
        require(actor, Action.PATIENT_VIEW)
        with self.db.reader() as s:
            return list(s.execute(select(Payment).where(Payment.visit_id == visit_id).order_by(Payment.id)).scalars())
