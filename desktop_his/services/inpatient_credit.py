"""The 信用就医 seams of the admission desk (session level): everything local around the bank's pay and refund
interfaces, so the bank workflow only journals, sends and reports back.

**Deposit / top-up / discharge collection by credit** (plan §二.四.2): sign-status query → written consent
received → :func:`plan_payment` (checks, and the identity the gateway encrypts) → the bank's pay check →
:func:`begin_payment` writes a ``pending`` ``Payment`` (``channel=credit``, ``payment_no`` = the number sent
to the bank's pay, ``consent_id`` = the received consent) and hands the request to ``attach`` inside the same
transaction, where the gateway journals the pay → the pay is sent → :func:`record_payment_outcome` with the
final answer (PROCESSING → pay query first; the same ``payment_no`` always). A pending payment is not money
held: it is not in the balance and the settlement cannot start while one is in flight.

**Credit refunds at discharge**: :func:`refund_lines` lists them → :func:`begin_refund` writes a ``pending``
``Refund`` (``method=bank_refund``, ``refund_no`` the same on every retry, ``original_serial`` = the pay's
bank serial) and reserves the amount on the payment (a guarded UPDATE: never more than was paid in) → the
gateway journals and sends the refund → :func:`record_refund_outcome`: success; ``DCBS0004PL0974`` → queued
(the refund queue retries it daily in submission order) and the department is notified 该居民退款失败;
another refusal → failed, the reservation is released and the line can be submitted again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from desktop_his.services import audit, numbers
from desktop_his.services.enums import AdmissionStatus, Channel, RefundMethod, RefundStatus
from desktop_his.services.errors import Conflict, NotFound, ValidationError
from desktop_his.services.inpatient_account import get_admission, payment_lines
from desktop_his.services.inpatient_charges import publish
from desktop_his.services.inpatient_consent import received_consent
from desktop_his.services.inpatient_settlement import (
    ensure_settlement_open,
    find_line,
    lock_settlement,
    settlement_for,
    settlement_view,
)
from desktop_his.services.inpatient_types import BALANCE_INSUFFICIENT, PaymentLine, SettlementView
from desktop_his.services.models import (
    Admission,
    CreditConsent,
    DischargeSettlement,
    Patient,
    Payment,
    Refund,
    RefundAttempt,
)
from desktop_his.services.money import MAX_AMOUNT_FEN, format_fen
from desktop_his.services.notifications import notify_refund_failed
from desktop_his.services.permissions import Actor

# ---------------------------------------------------------------------------------------- shapes


class CreditOutcome(StrEnum):
    """A 信用就医 pay as the bank finally answered it (PROCESSING / timeouts stay UNKNOWN)."""

    SUCCESS = "success"
    FAILED = "failed"
    UNKNOWN = "unknown"


class CreditRefundOutcome(StrEnum):
    SUCCESS = "success"
    QUEUED = "queued"  # DCBS0004PL0974: the refund queue retries it daily in submission order
    FAILED = "failed"  # refused for another reason: nothing moved, the line can be submitted again
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class CreditPaymentPlan:
    """The checks of a 信用就医 deposit or discharge collection passed; what the sign-status query and the pay
    check need (the patient's full identity is encrypted by the gateway, never logged)."""

    admission_id: int
    admission_no: str
    purpose: str  # deposit / settlement
    amount_fen: int
    consent_id: int
    patient_id: int
    patient_name: str
    patient_id_type: str
    patient_id_number: str
    max_amount_fen: int | None  # settlement: what is left to collect; deposit: no cap


@dataclass(frozen=True)
class CreditPaymentRequest:
    """A pending 信用就医 payment row: journal and send the bank's pay with ``payment_no``."""

    payment_id: int
    payment_no: str
    purpose: str
    admission_id: int
    admission_no: str
    patient_id: int
    agreement_no: str
    family_pay: bool
    amount_fen: int
    consent_id: int
    business_date: date


@dataclass(frozen=True)
class CreditRefundLine:
    """A 信用就医 refund line of a discharge settlement, for the bank's refund interface."""

    settlement_id: int
    line_no: int
    payment_id: int
    payment_no: str
    original_serial: str | None  # the bank's serial of the pay being refunded
    amount_fen: int
    remaining_fen: int  # not yet submitted (0 once submitted: done, queued or in flight)
    status: str


@dataclass(frozen=True)
class CreditRefundRequest:
    """A pending refund row: journal and send the bank's refund with ``refund_no`` (the same on every retry)."""

    refund_id: int
    refund_no: str
    settlement_id: int
    line_no: int
    payment_id: int
    payment_no: str
    original_serial: str
    agreement_no: str | None
    amount_fen: int
    patient_id: int
    admission_id: int
    department_id: int | None  # who is told when the refund fails (该居民退款失败)
    business_date: date


PURPOSES = ("deposit", "settlement")
_AGREEMENT = re.compile(r"[A-Za-z0-9_-]{1,40}")


# -------------------------------------------------------------------------------------------- paying


def _amount(amount_fen: object) -> int:
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int):
        raise ValidationError("金额必须以分为单位的整数表示", field="amount_fen")
    if amount_fen <= 0:
        raise ValidationError("金额必须大于零", field="amount_fen")
    if amount_fen > MAX_AMOUNT_FEN:
        raise ValidationError("金额过大，请核对", field="amount_fen")
    return amount_fen


def _check(s: Session, admission: Admission, amount_fen: object, purpose: str) -> tuple[CreditConsent, int | None]:
    """What every 信用就医 payment of an admission must satisfy; returns the consent and the cap."""
    if purpose not in PURPOSES:
        raise ValidationError("缴费用途无效", field="purpose")
    amount = _amount(amount_fen)
    cap = None
    if purpose == "deposit" and admission.status != AdmissionStatus.ADMITTED:
        raise Conflict("出院结算已开始，请在结算中补缴", code="admission_not_open")
    if purpose == "settlement":
        settlement = settlement_for(s, admission.id)
        if settlement is None:
            raise Conflict("尚未开始出院结算", code="no_settlement")
        ensure_settlement_open(settlement)
        cap = settlement_view(s, settlement).remaining_collect_fen
        if amount > cap:
            raise ValidationError(f"补缴金额超过应补：尚需补缴{format_fen(max(cap, 0), symbol=True)}",
                                  field="amount_fen")
    consent = received_consent(s, admission.id)
    if consent is None:
        raise Conflict("使用“信用就医”缴费前，须由患者（或其代理人）签署书面确权，并登记已收回签字件",
                       field="consent", code="consent_not_received")
    return consent, cap


def plan_payment(s: Session, admission_id: int, amount_fen: int, purpose: str) -> CreditPaymentPlan:
    admission = get_admission(s, admission_id)
    consent, cap = _check(s, admission, amount_fen, purpose)
    patient = s.get(Patient, admission.patient_id)
    assert patient is not None
    return CreditPaymentPlan(admission.id, admission.admission_no, purpose, amount_fen, consent.id, patient.id,
                             patient.name, patient.id_type, patient.id_number, cap)


def begin_payment(s: Session, actor: Actor, admission_id: int, amount_fen: int, now: datetime, *,
                  agreement_no: str, family_pay: bool, purpose: str) -> CreditPaymentRequest:
    admission = get_admission(s, admission_id, for_update=True)
    if purpose == "settlement":
        settlement = settlement_for(s, admission.id)
        if settlement is not None:
            lock_settlement(s, settlement.id)  # two desks collecting at once never exceed the shortfall
    consent, _cap = _check(s, admission, amount_fen, purpose)
    agreement = (agreement_no or "").strip()
    if not _AGREEMENT.fullmatch(agreement):
        raise ValidationError("签约协议号无效（请先查询签约状态）", field="agreement_no")
    payment = Payment(
        payment_no=numbers.next_number(s, "payment", now.date()), channel=Channel.CREDIT.value, purpose=purpose,
        amount_fen=amount_fen, refunded_fen=0, status="pending", patient_id=admission.patient_id,
        admission_id=admission.id, consent_id=consent.id, cashier_id=actor.staff_id, workstation=actor.workstation,
        business_date=now.date(), created_at=now,
    )
    s.add(payment)
    admission.agreement_no, admission.family_pay = agreement, bool(family_pay)
    s.flush()
    audit.append(s, actor=actor, action="inpatient.credit_payment_started", at=now, entity="payment",
                 entity_id=payment.id, detail={"admission_no": admission.admission_no, "payment_no": payment.payment_no,
                                               "purpose": purpose, "amount_fen": amount_fen, "consent_id": consent.id,
                                               "family_pay": bool(family_pay)})
    publish(s, admission)
    return CreditPaymentRequest(payment.id, payment.payment_no, purpose, admission.id, admission.admission_no,
                                admission.patient_id, agreement, bool(family_pay), amount_fen, consent.id, now.date())


def record_payment_outcome(s: Session, actor: Actor, payment_id: int, outcome: CreditOutcome | str, now: datetime,
                           *, bank_serial: str | None = None, code: str | None = None,
                           message: str | None = None) -> PaymentLine:
    """The bank's final answer to the pay of ``payment_id``. Repeating the same answer changes nothing;
    contradicting an earlier final answer is a Conflict. ``unknown`` leaves the payment pending."""
    outcome = CreditOutcome(outcome)
    payment = s.execute(select(Payment).where(Payment.id == payment_id).with_for_update()
                        .execution_options(populate_existing=True)).scalar_one_or_none()
    if payment is None or payment.channel != Channel.CREDIT or payment.admission_id is None:
        raise NotFound("未找到该笔住院信用就医缴费", field="payment_id", code="payment_not_found")
    admission = get_admission(s, payment.admission_id, for_update=True)
    final = {CreditOutcome.SUCCESS: "success", CreditOutcome.FAILED: "failed"}.get(outcome)
    if final is not None and payment.status != "pending":
        if payment.status != final:
            raise Conflict(f"该笔缴费已为“{payment.status}”，与银行结果不符，请核对", code="outcome_conflict")
        return _line(s, payment)
    if outcome is CreditOutcome.SUCCESS:
        if not (bank_serial or "").strip():
            raise ValidationError("支付成功须有银行流水号", field="bank_serial")
        payment.status, payment.bank_serial = "success", bank_serial.strip()[:64]  # type: ignore[union-attr]
    elif outcome is CreditOutcome.FAILED:
        payment.status = "failed"
    s.flush()
    audit.append(s, actor=actor, action=f"inpatient.credit_payment_{outcome.value}", at=now, entity="payment",
                 entity_id=payment.id, detail={"admission_no": admission.admission_no, "payment_no": payment.payment_no,
                                               "amount_fen": payment.amount_fen, "code": code,
                                               "message": (message or "")[:200]})
    publish(s, admission)
    return _line(s, payment)


def _line(s: Session, payment: Payment) -> PaymentLine:
    return next(p for p in payment_lines(s, payment.admission_id or 0) if p.id == payment.id)


# ------------------------------------------------------------------------------------------ refunding


def refund_lines(s: Session, settlement_id: int) -> list[CreditRefundLine]:
    settlement, view = _settlement(s, settlement_id)
    result = []
    for line in view.lines:
        if line.channel == Channel.CREDIT:
            serial = s.execute(select(Payment.bank_serial).where(Payment.id == line.payment_id)).scalar_one()
            result.append(CreditRefundLine(settlement.id, line.line_no, line.payment_id, line.payment_no, serial,
                                           line.amount_fen, line.remaining_fen, line.status))
    return result


def _settlement(s: Session, settlement_id: int) -> tuple[DischargeSettlement, SettlementView]:
    settlement = s.get(DischargeSettlement, settlement_id)
    if settlement is None:
        raise NotFound("未找到该出院结算", field="settlement_id", code="settlement_not_found")
    return settlement, settlement_view(s, settlement)


def begin_refund(s: Session, actor: Actor, settlement_id: int, line_no: int, now: datetime) -> CreditRefundRequest:
    admission, settlement = lock_settlement(s, settlement_id)
    ensure_settlement_open(settlement)
    line = find_line(settlement_view(s, settlement), line_no)
    if line.channel != Channel.CREDIT:
        raise ValidationError("这一笔不是信用就医退款", field="line_no")
    if line.remaining_fen <= 0:
        raise Conflict(f"第{line_no}笔信用就医退款已提交", code="line_submitted")
    payment = s.get(Payment, line.payment_id)
    assert payment is not None
    if not payment.bank_serial:
        raise Conflict("原信用就医支付缺少银行流水号，无法退款，请联系信息科", code="no_serial")
    amount = line.remaining_fen
    moved = s.execute(update(Payment).where(Payment.id == payment.id, Payment.refunded_fen + amount <= Payment.amount_fen)
                      .values(refunded_fen=Payment.refunded_fen + amount)
                      .execution_options(synchronize_session=False)).rowcount
    if not moved:
        raise Conflict("退款金额超过该笔信用就医支付的可退金额", code="refund_cap")
    refund = Refund(
        refund_no=numbers.next_number(s, "refund", now.date()), method=RefundMethod.BANK_REFUND.value,
        channel=Channel.CREDIT.value, amount_fen=amount, status=RefundStatus.PENDING.value,
        reason=f"出院结算退信用就医（住院号 {admission.admission_no}）", payment_id=payment.id,
        original_serial=payment.bank_serial, patient_id=admission.patient_id, admission_id=admission.id,
        settlement_id=settlement.id, department_id=actor.department_id or admission.department_id,
        requested_by=actor.staff_id, workstation=actor.workstation, business_date=now.date(), created_at=now,
    )
    s.add(refund)
    s.flush()
    audit.append(s, actor=actor, action="inpatient.credit_refund_submitted", at=now, entity="refund",
                 entity_id=refund.id, detail={"admission_no": admission.admission_no, "refund_no": refund.refund_no,
                                              "payment_no": payment.payment_no, "amount_fen": amount})
    publish(s, admission)
    return CreditRefundRequest(refund.id, refund.refund_no, settlement.id, line_no, payment.id, payment.payment_no,
                               payment.bank_serial, admission.agreement_no, amount, admission.patient_id,
                               admission.id, refund.department_id, now.date())


_OPEN = (RefundStatus.PENDING, RefundStatus.QUEUED)  # a refund the bank may still answer


def record_refund_outcome(s: Session, actor: Actor, refund_id: int, outcome: CreditRefundOutcome | str,
                          now: datetime, *, code: str | None = None, message: str | None = None,
                          bank_serial: str | None = None) -> Refund:
    """The bank's answer to a credit refund: every answer is an attempt in the refund's history; a final
    answer repeated changes nothing; ``unknown`` keeps it pending (resolve by refund query / resend)."""
    outcome = CreditRefundOutcome(outcome)
    refund = s.execute(select(Refund).where(Refund.id == refund_id).with_for_update()
                       .execution_options(populate_existing=True)).scalar_one_or_none()
    if refund is None or refund.channel != Channel.CREDIT or refund.settlement_id is None:
        raise NotFound("未找到该笔出院结算信用就医退款", field="refund_id", code="refund_not_found")
    status = RefundStatus(refund.status)
    if status not in _OPEN:  # success / failed are final
        if outcome.value in (status.value, CreditRefundOutcome.UNKNOWN):
            return refund  # the same final answer again (resolver and desk both reported it), or a late echo
        raise Conflict(f"该笔退款已为“{status.value}”，与银行结果不符，请核对", code="outcome_conflict")
    if outcome is CreditRefundOutcome.QUEUED:
        code = code or BALANCE_INSUFFICIENT
    _attempt(s, actor, refund, outcome, now, code, message)
    if outcome is CreditRefundOutcome.SUCCESS:
        refund.status, refund.completed_at = RefundStatus.SUCCESS.value, now
        refund.bank_serial = (bank_serial or refund.bank_serial or "")[:64] or None
    elif outcome is CreditRefundOutcome.QUEUED:
        refund.status, refund.queued_at = RefundStatus.QUEUED.value, refund.queued_at or now
        notify_refund_failed(s, refund, now)
    elif outcome is CreditRefundOutcome.FAILED:
        refund.status = RefundStatus.FAILED.value
        s.execute(update(Payment).where(Payment.id == refund.payment_id, Payment.refunded_fen >= refund.amount_fen)
                  .values(refunded_fen=Payment.refunded_fen - refund.amount_fen)
                  .execution_options(synchronize_session=False))
    s.flush()
    admission = get_admission(s, refund.admission_id or 0)
    audit.append(s, actor=actor, action=f"inpatient.credit_refund_{outcome.value}", at=now, entity="refund",
                 entity_id=refund.id, detail={"admission_no": admission.admission_no, "refund_no": refund.refund_no,
                                              "amount_fen": refund.amount_fen, "code": code})
    publish(s, admission)
    return refund


def _attempt(s: Session, actor: Actor, refund: Refund, outcome: CreditRefundOutcome, now: datetime,
             code: str | None, message: str | None) -> None:
    refund.attempts += 1
    refund.last_attempt_at = now
    if outcome is not CreditRefundOutcome.SUCCESS and (code or message):
        refund.last_error_code, refund.last_error_message = (code or "")[:30] or None, (message or "")[:200] or None
    s.add(RefundAttempt(refund_id=refund.id, at=now, outcome=outcome.value, code=code, message=(message or "")[:200]
                        or None, by=actor.username))
