"""The inpatient admission desk (住院处): admit, the running account, deposits, the written consent for
信用就医, and the discharge settlement (多退少补) — everything that does not need the bank or a window.

One service, :class:`InpatientService`; the work is done by session-level functions in
``inpatient_charges`` (costs), ``inpatient_consent`` (书面确权), ``inpatient_settlement`` (多退少补),
``inpatient_credit`` (the seams around the bank's pay and refund interfaces), ``inpatient_account`` (the
read side) and the pure ``inpatient_alloc`` (which payment gets how much back). Shapes are in
``inpatient_types`` and re-exported here. ``docs/inpatient.md`` tells the whole flow.

Live topics: ``inpatient:admission:<id>`` (that account changed), ``inpatient:admissions`` (the list / beds).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from desktop_his.services import audit, numbers, payments
from desktop_his.services import inpatient_charges as charges
from desktop_his.services import inpatient_consent as consent
from desktop_his.services import inpatient_credit as credit
from desktop_his.services import inpatient_settlement as settle
from desktop_his.services.clock import Clock
from desktop_his.services.db import Database
from desktop_his.services.enums import AdmissionStatus, DepartmentKind
from desktop_his.services.errors import Conflict, NotFound, ValidationError
from desktop_his.services.inpatient_account import admission_view, get_admission, load_account, payment_lines
from desktop_his.services.inpatient_alloc import CHANNEL_ORDER, allocate_refunds
from desktop_his.services.inpatient_credit import (
    CreditOutcome,
    CreditPaymentPlan,
    CreditPaymentRequest,
    CreditRefundLine,
    CreditRefundOutcome,
    CreditRefundRequest,
)
from desktop_his.services.inpatient_types import (
    BALANCE_INSUFFICIENT,
    MAX_BED,
    MAX_DIAGNOSIS,
    MAX_WARD,
    Account,
    AdmissionView,
    BedChargeRun,
    ChannelPayment,
    ChannelPlan,
    ChannelTotals,
    ChargeView,
    ConsentInfo,
    ConsentView,
    PaymentLine,
    ProxyInput,
    RefundLine,
    RefundView,
    SettlementLine,
    SettlementPlan,
    SettlementView,
    Statement,
)
from desktop_his.services.models import (
    Admission,
    Department,
    DischargeSettlement,
    Doctor,
    InpatientCharge,
    Patient,
    Staff,
)
from desktop_his.services.permissions import Action, Actor, require, require_any

__all__ = [  # the service and every shape its callers handle
    "InpatientService", "allocate_refunds", "CHANNEL_ORDER", "BALANCE_INSUFFICIENT", "Account", "AdmissionView",
    "BedChargeRun", "ChannelPayment", "ChannelPlan", "ChannelTotals", "ChargeView", "ConsentInfo", "ConsentView",
    "CreditOutcome", "CreditPaymentPlan", "CreditPaymentRequest", "CreditRefundLine", "CreditRefundOutcome",
    "CreditRefundRequest", "PaymentLine", "ProxyInput", "RefundLine", "RefundView", "SettlementLine",
    "SettlementPlan", "SettlementView", "Statement", "PaymentHook", "RefundHook",
]
MAX_DAILY_BED_FEN = 1_000_000  # ¥10,000.00 a day: anything above is a typing error
PaymentHook = Callable[[Session, CreditPaymentRequest], None]
RefundHook = Callable[[Session, CreditRefundRequest], None]
_READ = (Action.ADMIT, Action.INPATIENT_CHARGE, Action.DEPOSIT, Action.DISCHARGE_SETTLE)


def _charge_view(s: Session, charge: InpatientCharge) -> ChargeView:
    reversal = s.execute(select(InpatientCharge.id).where(InpatientCharge.admission_id == charge.admission_id,
                                                          InpatientCharge.reversed_charge_id == charge.id)
                         ).scalar_one_or_none()
    return ChargeView(charge.id, charge.charge_date, charge.source, charge.category, charge.description,
                      charge.quantity, charge.amount_fen, charge.order_id, charge.catalog_item_id, charge.posted_at,
                      charge.reversed_charge_id, reversal)


def _natural(text: str) -> list[tuple[int, int | str]]:
    """Bed "2" before bed "12": digit runs compare as numbers."""
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", text) if part]


def _bed_fen(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError("床位费必须为不小于零的整数（分）", field="daily_bed_fen")
    if value > MAX_DAILY_BED_FEN:
        raise ValidationError("床位费过高，请核对（每日不超过 ¥10,000.00）", field="daily_bed_fen")
    return value


class InpatientService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    # ------------------------------------------------------------------------------------- admission

    def admit(self, actor: Actor, patient_id: int, *, department_id: int, ward: str, bed: str, doctor_id: int,
              diagnosis: str, daily_bed_fen: int) -> AdmissionView:
        """Admit a patient to a bed (audited). Refused: a bed held by another current admission, a patient
        already in hospital, an inactive department/doctor or a doctor of another department."""
        require(actor, Action.ADMIT)
        ward = charges.clean_text(ward, field="ward", limit=MAX_WARD, what="病区")
        bed = charges.clean_text(bed, field="bed", limit=MAX_BED, what="床号")
        diagnosis = charges.clean_text(diagnosis, field="diagnosis", limit=MAX_DIAGNOSIS, what="入院诊断")
        bed_fen = _bed_fen(daily_bed_fen)
        now = self.clock.now()
        with self.db.session() as s:
            self._check_admit(s, patient_id, department_id, doctor_id, ward, bed)
            admission = Admission(
                admission_no=numbers.next_number(s, "admission", now.date()), patient_id=patient_id,
                department_id=department_id, doctor_id=doctor_id, ward=ward, bed=bed, diagnosis=diagnosis,
                daily_bed_fen=bed_fen, status=AdmissionStatus.ADMITTED.value, admitted_at=now,
                admitted_by=actor.staff_id, family_pay=False,
            )
            s.add(admission)
            try:
                s.flush()
            except IntegrityError as exc:  # another desk took the bed (or admitted the patient) just now
                raise Conflict("该床位或该患者刚刚已被办理入院，请刷新后重试", field="bed", code="admit_race") from exc
            audit.append(s, actor=actor, action="inpatient.admitted", at=now, entity="admission",
                         entity_id=admission.id, detail={"admission_no": admission.admission_no, "ward": ward,
                                                         "bed": bed, "department_id": department_id,
                                                         "doctor_id": doctor_id, "daily_bed_fen": bed_fen})
            charges.publish(s, admission)
            return admission_view(s, admission, now.date())

    @staticmethod
    def _check_admit(s: Session, patient_id: int, department_id: int, doctor_id: int, ward: str, bed: str) -> None:
        if s.get(Patient, patient_id) is None:
            raise NotFound("未找到该患者", field="patient_id", code="patient_not_found")
        department = s.get(Department, department_id)
        if department is None or not department.active or department.kind not in (DepartmentKind.CLINICAL,
                                                                                    DepartmentKind.WARD):
            raise ValidationError("请选择在用的临床科室", field="department_id")
        doctor = s.get(Doctor, doctor_id)
        if doctor is None or not doctor.active:
            raise ValidationError("请选择在职的主治医生", field="doctor_id")
        if doctor.department_id != department_id:
            raise ValidationError(f"{doctor.name}不是{department.name}的医生", field="doctor_id")
        current = (Admission.status != AdmissionStatus.SETTLED)
        held = s.execute(select(Admission).where(Admission.patient_id == patient_id, current)).scalar_one_or_none()
        if held is not None:
            raise Conflict(f"该患者已在院（住院号 {held.admission_no}，{held.ward} {held.bed}床），不能重复入院",
                           field="patient_id", code="already_admitted")
        taken = s.execute(select(Admission.admission_no).where(Admission.ward == ward, Admission.bed == bed,
                                                               current)).scalar_one_or_none()
        if taken is not None:
            raise Conflict(f"{ward} {bed}床已有在院患者（住院号 {taken}），请选择其他床位", field="bed",
                           code="bed_taken")

    def admission(self, actor: Actor, admission_id: int) -> AdmissionView:
        require_any(actor, *_READ)
        with self.db.reader() as s:
            return admission_view(s, get_admission(s, admission_id), self.clock.today())

    def current_admissions(self, actor: Actor, *, ward: str | None = None) -> list[AdmissionView]:
        """Patients in hospital (admitted or being settled), by ward and bed."""
        require_any(actor, *_READ)
        with self.db.reader() as s:
            stmt = select(Admission).where(Admission.status != AdmissionStatus.SETTLED)
            if ward:
                stmt = stmt.where(Admission.ward == ward)
            rows = sorted(s.execute(stmt).scalars(), key=lambda a: (a.ward, _natural(a.bed)))
            return [admission_view(s, a, self.clock.today()) for a in rows]

    def current_admission_of(self, actor: Actor, patient_id: int) -> AdmissionView | None:
        require_any(actor, *_READ)
        with self.db.reader() as s:
            a = s.execute(select(Admission).where(Admission.patient_id == patient_id,
                                                  Admission.status != AdmissionStatus.SETTLED)).scalar_one_or_none()
            return admission_view(s, a, self.clock.today()) if a else None

    # ------------------------------------------------------------------------------- running account

    def post_bed_charges(self, actor: Actor, up_to_day: date, *, admission_id: int | None = None) -> BedChargeRun:
        """Charge every admitted patient's bed days up to ``up_to_day`` (≤ today) not charged yet — running
        it twice, or on two PCs, never charges a day twice. One transaction per admission (resumable)."""
        require(actor, Action.INPATIENT_CHARGE)
        today = self.clock.today()
        if isinstance(up_to_day, datetime):
            up_to_day = up_to_day.date()
        if not isinstance(up_to_day, date) or up_to_day > today:
            raise ValidationError("床位费只能计到今天为止", field="up_to_day")
        with self.db.reader() as s:
            looked_at, due = charges.admissions_missing_bed_days(s, up_to_day, admission_id)
        posted = amount = 0
        for one in due:  # each in its own transaction: a crash half-way is resumed by the next run
            with self.db.session() as s:
                n = charges.bed_charge_admission(s, actor, one, up_to_day, self.clock.now())
                amount += n * (s.get(Admission, one).daily_bed_fen if n else 0)  # type: ignore[union-attr]
                posted += n
        return BedChargeRun(looked_at, posted, amount)

    def post_order_charges(self, actor: Actor, order_id: int) -> list[ChargeView]:
        """A submitted (or executed) inpatient order's items onto its admission's account — once."""
        require(actor, Action.INPATIENT_CHARGE)
        with self.db.session() as s:
            return [_charge_view(s, c) for c in charges.post_order(s, actor, order_id, self.clock.now())]

    def reverse_order_charges(self, actor: Actor, order_id: int, reason: str) -> list[ChargeView]:
        """Reverse every standing charge of an order (e.g. revoked after it was posted)."""
        require(actor, Action.INPATIENT_CHARGE)
        with self.db.session() as s:
            return [_charge_view(s, c) for c in charges.reverse_order(s, actor, order_id, reason, self.clock.now())]

    def post_charge(self, actor: Actor, admission_id: int, *, catalog_item_id: int | None = None,
                    description: str = "", unit_price_fen: int | None = None, quantity: int = 1,
                    category: str | None = None, charge_date: date | None = None) -> ChargeView:
        """A manual charge: a catalogue item × quantity, or a description with a unit price (category
        default 其他); dated between the admission day and today (default today)."""
        require(actor, Action.INPATIENT_CHARGE)
        with self.db.session() as s:
            charge = charges.post_manual(s, actor, admission_id, self.clock.now(), catalog_item_id=catalog_item_id,
                                         description=description, unit_price_fen=unit_price_fen, quantity=quantity,
                                         category=category, charge_date=charge_date)
            return _charge_view(s, charge)

    def reverse_charge(self, actor: Actor, charge_id: int, reason: str) -> ChargeView:
        """The negative row cancelling a charge (never an edit or a delete); returns the reversal row."""
        require(actor, Action.INPATIENT_CHARGE)
        with self.db.session() as s:
            return _charge_view(s, charges.reverse(s, actor, charge_id, reason, self.clock.now()))

    def account(self, actor: Actor, admission_id: int) -> Account:
        """Costs by day and category, money in and out per channel, the balance in fen."""
        require_any(actor, *_READ)
        with self.db.reader() as s:
            return load_account(s, get_admission(s, admission_id), self.clock.today())

    # ------------------------------------------------------------------------------------- deposits

    def take_deposit(self, actor: Actor, admission_id: int, channel: str, amount_fen: int, reference_no: str = "",
                     cash_received_fen: int | None = None) -> PaymentLine:
        """A deposit or top-up (预交金/补缴) by cash, WeChat, Alipay, UnionPay card or insurance, with its
        reference; 信用就医 goes through :meth:`start_credit_payment`. Only while the patient is admitted."""
        require(actor, Action.DEPOSIT)
        now = self.clock.now()
        with self.db.session() as s:
            admission = get_admission(s, admission_id, for_update=True)
            charges.ensure_open(admission, "收取预交金（欠费请在出院结算中补缴）")
            payment = payments.record_in_session(
                s, actor, now, patient_id=admission.patient_id, purpose="deposit", amount_fen=amount_fen,
                channel=channel, reference_no=reference_no, cash_received_fen=cash_received_fen,
                admission_id=admission.id)
            audit.append(s, actor=actor, action="inpatient.deposit_taken", at=now, entity="payment",
                         entity_id=payment.id, detail={"admission_no": admission.admission_no,
                                                       "payment_no": payment.payment_no, "channel": payment.channel,
                                                       "amount_fen": payment.amount_fen})
            charges.publish(s, admission)
            return next(p for p in payment_lines(s, admission.id) if p.id == payment.id)

    # --------------------------------------------------------------------------- consent (书面确权)

    def create_consent(self, actor: Actor, admission_id: int, *, proxy: ProxyInput | None = None) -> ConsentView:
        """A new written consent for the admission, optionally naming a proxy (validated document)."""
        require(actor, Action.DEPOSIT)
        with self.db.session() as s:
            return consent.consent_view(consent.create(s, actor, admission_id, proxy, self.clock.now()))

    def mark_consent_printed(self, actor: Actor, consent_id: int) -> ConsentInfo:
        """Record the print (a second one is a reprint, audited) and return what the paper needs — with the
        full ID numbers, so the actor must be allowed to see them."""
        require(actor, Action.DEPOSIT)
        require(actor, Action.PATIENT_VIEW_FULL_ID)
        with self.db.session() as s:
            return consent.mark_printed(s, actor, consent_id, self.clock.now())

    def mark_consent_received(self, actor: Actor, consent_id: int) -> ConsentView:
        """The clerk confirms the signed paper is in the file: from now on 信用就医 may be charged."""
        require(actor, Action.DEPOSIT)
        with self.db.session() as s:
            return consent.consent_view(consent.mark_received(s, actor, consent_id, self.clock.now()))

    def consents(self, actor: Actor, admission_id: int) -> list[ConsentView]:
        require_any(actor, *_READ)
        with self.db.reader() as s:
            return consent.consents(s, admission_id)

    # ------------------------------------------------------------------ 信用就医 pay (the bank seam)

    def prepare_credit_payment(self, actor: Actor, admission_id: int, amount_fen: int, *,
                               purpose: str = "deposit") -> CreditPaymentPlan:
        """Check a 信用就医 deposit (``deposit``) or discharge collection (``settlement``) before the bank's
        pay check: refused without a received consent, after the settlement started (deposit) or beyond
        the shortfall (settlement). Nothing is written."""
        require(actor, Action.DEPOSIT if purpose == "deposit" else Action.DISCHARGE_SETTLE)
        require(actor, Action.PATIENT_VIEW_FULL_ID)
        with self.db.reader() as s:
            return credit.plan_payment(s, admission_id, amount_fen, purpose)

    def start_credit_payment(self, actor: Actor, admission_id: int, amount_fen: int, *, agreement_no: str,
                             family_pay: bool, purpose: str = "deposit",
                             attach: PaymentHook | None = None) -> CreditPaymentRequest:
        """After a positive pay check: the ``pending`` credit Payment (its ``payment_no`` is what the bank's
        pay is sent with); ``attach(session, request)`` journals the pay in the same transaction."""
        require(actor, Action.DEPOSIT if purpose == "deposit" else Action.DISCHARGE_SETTLE)
        with self.db.session() as s:
            request = credit.begin_payment(s, actor, admission_id, amount_fen, self.clock.now(),
                                           agreement_no=agreement_no, family_pay=family_pay, purpose=purpose)
            if attach is not None:
                attach(s, request)
            return request

    def record_credit_payment_outcome(self, actor: Actor, payment_id: int, outcome: CreditOutcome | str, *,
                                      bank_serial: str | None = None, code: str | None = None,
                                      message: str | None = None) -> PaymentLine:
        """The pay's final answer in its own transaction (the gateway may call the session function
        :func:`inpatient_credit.record_payment_outcome` inside its journal transaction instead)."""
        require_any(actor, Action.DEPOSIT, Action.DISCHARGE_SETTLE, Action.REFUND_QUEUE)
        with self.db.session() as s:
            return credit.record_payment_outcome(s, actor, payment_id, outcome, self.clock.now(),
                                                 bank_serial=bank_serial, code=code, message=message)

    # ----------------------------------------------------------------------- discharge settlement

    def plan_settlement(self, actor: Actor, admission_id: int) -> SettlementPlan:
        """What settling today would do (nothing is written): cost incl. the bed days still to post, deposits
        net of refunds, the refund lines per payment or the amount to collect."""
        require(actor, Action.DISCHARGE_SETTLE)
        with self.db.reader() as s:
            return settle.compute_plan(s, get_admission(s, admission_id), self.clock.today())

    def start_settlement(self, actor: Actor, admission_id: int, *,
                         expected_balance_fen: int | None = None) -> SettlementView:
        """Freeze the plan (admission → ``discharging``; no more charges or deposits). Pass the balance the
        clerk confirmed: if the account changed meanwhile the start is refused."""
        require(actor, Action.DISCHARGE_SETTLE)
        with self.db.session() as s:
            settlement = settle.start(s, actor, admission_id, self.clock.now(), expected_balance_fen)
            return settle.settlement_view(s, settlement)

    def settlement(self, actor: Actor, settlement_id: int) -> SettlementView:
        require_any(actor, *_READ)
        with self.db.reader() as s:
            _admission, view = self._settlement(s, settlement_id)
            return view

    def settlement_of(self, actor: Actor, admission_id: int) -> SettlementView | None:
        require_any(actor, *_READ)
        with self.db.reader() as s:
            found = settle.settlement_for(s, admission_id)
            return settle.settlement_view(s, found) if found else None

    def refund_settlement_line(self, actor: Actor, settlement_id: int, line_no: int, *,
                               reference_no: str = "") -> SettlementView:
        """Record one non-credit refund line as paid back (cash handed over / the terminal's refund done)."""
        require(actor, Action.DISCHARGE_SETTLE)
        with self.db.session() as s:
            settle.refund_other(s, actor, settlement_id, line_no, reference_no, self.clock.now())
            return self._settlement(s, settlement_id)[1]

    def collect_shortfall(self, actor: Actor, settlement_id: int, channel: str, amount_fen: int,
                          reference_no: str = "", cash_received_fen: int | None = None) -> SettlementView:
        """Collect (part of) the shortfall by another channel; 信用就医: :meth:`start_credit_payment` with
        ``purpose="settlement"``."""
        require(actor, Action.DISCHARGE_SETTLE)
        with self.db.session() as s:
            settle.collect(s, actor, settlement_id, self.clock.now(), channel=channel, amount_fen=amount_fen,
                           reference_no=reference_no, cash_received_fen=cash_received_fen)
            return self._settlement(s, settlement_id)[1]

    def credit_refund_lines(self, actor: Actor, settlement_id: int) -> list[CreditRefundLine]:
        """The settlement's 信用就医 refund lines, with what is still to submit to the bank."""
        require(actor, Action.DISCHARGE_SETTLE)
        with self.db.reader() as s:
            return credit.refund_lines(s, settlement_id)

    def submit_credit_refund(self, actor: Actor, settlement_id: int, line_no: int, *,
                             attach: RefundHook | None = None) -> CreditRefundRequest:
        """The ``pending`` Refund of a credit line (amount reserved on the payment); ``attach(session,
        request)`` journals the bank's refund in the same transaction."""
        require(actor, Action.DISCHARGE_SETTLE)
        with self.db.session() as s:
            request = credit.begin_refund(s, actor, settlement_id, line_no, self.clock.now())
            if attach is not None:
                attach(s, request)
            return request

    def record_credit_refund_outcome(self, actor: Actor, refund_id: int, outcome: CreditRefundOutcome | str, *,
                                     code: str | None = None, message: str | None = None,
                                     bank_serial: str | None = None) -> SettlementView:
        """The refund's answer: success / queued (DCBS0004PL0974, department notified) / failed / unknown."""
        require_any(actor, Action.DISCHARGE_SETTLE, Action.REFUND_QUEUE)
        with self.db.session() as s:
            refund = credit.record_refund_outcome(s, actor, refund_id, outcome, self.clock.now(), code=code,
                                                  message=message, bank_serial=bank_serial)
            return self._settlement(s, refund.settlement_id or 0)[1]

    def complete_settlement(self, actor: Actor, settlement_id: int) -> SettlementView:
        """Close it once every refund line is done or queued and the shortfall is collected (books at zero);
        the admission becomes ``settled`` and its bed is free."""
        require(actor, Action.DISCHARGE_SETTLE)
        with self.db.session() as s:
            settle.complete(s, actor, settlement_id, self.clock.now())
            return self._settlement(s, settlement_id)[1]

    def statement(self, actor: Actor, settlement_id: int) -> Statement:
        """What the printed settlement statement shows (:func:`inpatient_docs.settlement_statement`)."""
        require_any(actor, *_READ)
        with self.db.reader() as s:
            admission, view = self._settlement(s, settlement_id)
            created_by = s.execute(select(DischargeSettlement.created_by)
                                   .where(DischargeSettlement.id == settlement_id)).scalar_one()
            clerk = s.get(Staff, created_by) if created_by is not None else None
            return Statement(load_account(s, admission, self.clock.today()), view, clerk.full_name if clerk else "")

    @staticmethod
    def _settlement(s: Session, settlement_id: int) -> tuple[Admission, SettlementView]:
        found = s.get(DischargeSettlement, settlement_id)
        if found is None:
            raise NotFound("未找到该出院结算", field="settlement_id", code="settlement_not_found")
        return get_admission(s, found.admission_id), settle.settlement_view(s, found)
