"""Discharge settlement (多退少补): planning, the bed-day rule at discharge, execution by other channels and
through the 信用就医 refund seam (DCBS0004PL0974 → queue + notice), shortfall collection, completion."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from desktop_his.services import texts
from desktop_his.services.db import Database
from desktop_his.services.errors import Conflict, NotFound, ValidationError
from desktop_his.services.models import (
    Admission,
    AuditRecord,
    DischargeSettlement,
    InpatientCharge,
    Notification,
    Payment,
    Refund,
    RefundAttempt,
)
from desktop_his.services.payments import PaymentService
from tests.services.inpatientfix import World, make_world

MON = date(2026, 11, 23)


@pytest.fixture
def w(db: Database, clock) -> World:  # noqa: ANN001
    return make_world(db, clock)


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 11, 23 + day, hour)


def three_channel_stay(w: World) -> int:
    """Mon: cash ¥500 + WeChat ¥800; Tue: 信用就医 ¥2,000; Wed: WeChat ¥300. Discharged Thu; cost 3 bed days."""
    a = w.admit(daily_bed_fen=10000)
    w.svc.take_deposit(w.clerk, a.id, "cash", 50000, cash_received_fen=50000)
    w.svc.take_deposit(w.clerk, a.id, "wechat", 80000, "134567890123456789")
    w.clock.set(at(1))
    w.received_consent(a.id)
    w.credit_pay(a.id, 200000)
    w.clock.set(at(2))
    w.svc.take_deposit(w.clerk, a.id, "wechat", 30000, "134567890123456790")
    w.clock.set(at(3))
    return a.id


def test_plan_surplus_across_three_channels_credit_first_cash_last(w: World, db: Database) -> None:
    a = three_channel_stay(w)
    plan = w.svc.plan_settlement(w.clerk, a)
    assert plan.bed_days_to_post == (MON, MON + timedelta(1), MON + timedelta(2))  # 计入不计出: Thu is free
    assert (plan.total_cost_fen, plan.paid_in_fen, plan.balance_fen, plan.collect_fen) == (30000, 360000, 330000, 0)
    assert [(ln.line_no, ln.channel, ln.amount_fen) for ln in plan.refund_lines] == [
        (1, "credit", 200000), (2, "wechat", 30000), (3, "wechat", 80000), (4, "cash", 20000)]
    assert [(c.channel, c.paid_in_fen, c.refund_fen) for c in plan.channels] == [
        ("credit", 200000, 200000), ("wechat", 110000, 110000), ("cash", 50000, 20000)]
    with db.reader() as s:  # a plan writes nothing
        assert s.execute(select(InpatientCharge)).first() is None


def test_full_surplus_settlement_with_queued_credit_refund(w: World, db: Database) -> None:
    a = three_channel_stay(w)
    plan = w.svc.plan_settlement(w.clerk, a)
    view = w.svc.start_settlement(w.clerk, a, expected_balance_fen=plan.balance_fen)
    assert (view.status, view.balance_fen, view.total_cost_fen, view.discharge_date) == ("open", 330000, 30000,
                                                                                          MON + timedelta(3))
    assert [ln.status for ln in view.lines] == ["planned"] * 4
    account = w.svc.account(w.clerk, a)
    assert account.admission.status == "discharging" and account.total_cost_fen == 30000
    # nothing more on this account
    with pytest.raises(Conflict):
        w.svc.post_charge(w.clerk, a, description="陪护", unit_price_fen=100)
    with pytest.raises(Conflict):
        w.svc.take_deposit(w.clerk, a, "cash", 100, cash_received_fen=100)
    with pytest.raises(Conflict):
        w.svc.start_settlement(w.clerk, a)
    with pytest.raises(Conflict, match="还不能完成出院结算"):
        w.svc.complete_settlement(w.clerk, view.id)
    # other channels: each line paid back with its terminal reference
    with pytest.raises(ValidationError) as exc:
        w.svc.refund_settlement_line(w.clerk, view.id, 1)
    assert exc.value.field == "line_no"
    w.svc.refund_settlement_line(w.clerk, view.id, 2, reference_no="wx-refund-1")
    w.svc.refund_settlement_line(w.clerk, view.id, 3, reference_no="wx-refund-2")
    view = w.svc.refund_settlement_line(w.clerk, view.id, 4)
    assert [ln.status for ln in view.lines] == ["planned", "done", "done", "done"]
    with pytest.raises(Conflict, match="已办理"):
        w.svc.refund_settlement_line(w.clerk, view.id, 4)
    with pytest.raises(NotFound):
        w.svc.refund_settlement_line(w.clerk, view.id, 9)
    # 信用就医: the bank answers DCBS0004PL0974 → queued, the admission office is told
    [line] = w.svc.credit_refund_lines(w.clerk, view.id)
    assert (line.line_no, line.amount_fen, line.remaining_fen, line.original_serial[:2]) == (1, 200000, 200000, "BS")
    request = w.credit_refund(view.id, 1, outcome="queued")
    assert request.original_serial == line.original_serial and request.department_id == w.office_id
    view = w.svc.settlement(w.clerk, view.id)
    assert view.lines[0].status == "queued" and view.can_complete
    with db.reader() as s:
        refund = s.get(Refund, request.refund_id)
        assert (refund.status, refund.method, refund.last_error_code, refund.settlement_id, refund.attempts) == (
            "queued", "bank_refund", "DCBS0004PL0974", view.id, 1)
        notice = s.execute(select(Notification)).scalar_one()
        assert notice.title == texts.REFUND_FAILED_NOTICE == "该居民退款失败"
        assert notice.department_id == w.office_id and notice.amount_fen == 200000 and notice.refund_id == refund.id
        assert "孙丽" in notice.body and "¥2,000.00" in notice.body and "2026-11-26" in notice.body
        assert s.execute(select(RefundAttempt.outcome)).scalars().all() == ["queued"]
    done = w.svc.complete_settlement(w.clerk, view.id)
    assert done.status == "done" and done.completed_at == at(3)
    account = w.svc.account(w.clerk, a)
    assert account.admission.status == "settled" and account.balance_fen == 0
    credit_totals = next(c for c in account.channels if c.channel == "credit")
    assert (credit_totals.in_fen, credit_totals.refund_queued_fen, credit_totals.net_fen) == (200000, 200000, 0)
    assert w.admit(w.patients[1], bed="1").bed == "1"  # the bed is free again
    with db.reader() as s:
        actions = s.execute(select(AuditRecord.action).where(AuditRecord.action.like("inpatient.settlement%"))
                            .order_by(AuditRecord.seq)).scalars().all()
    assert actions == ["inpatient.settlement_started", "inpatient.settlement_completed"]


def test_refunds_are_recorded_with_the_settlement_and_never_exceed_the_payment(w: World, db: Database) -> None:
    a = three_channel_stay(w)
    view = w.svc.start_settlement(w.clerk, a)
    for line_no in (2, 3, 4):
        w.svc.refund_settlement_line(w.clerk, view.id, line_no)
    w.credit_refund(view.id, 1)
    with db.reader() as s:
        refunds = s.execute(select(Refund).where(Refund.settlement_id == view.id)).scalars().all()
        assert {(r.channel, r.method, r.status) for r in refunds} == {
            ("wechat", "recorded", "success"), ("cash", "recorded", "success"), ("credit", "bank_refund", "success")}
        for p in s.execute(select(Payment)).scalars():
            assert p.refunded_fen <= p.amount_fen
            assert p.refunded_fen == sum(r.amount_fen for r in refunds if r.payment_id == p.id)
    assert w.svc.complete_settlement(w.clerk, view.id).status == "done"


def test_a_refused_credit_refund_is_released_and_can_be_submitted_again(w: World, db: Database) -> None:
    a = three_channel_stay(w)
    view = w.svc.start_settlement(w.clerk, a)
    first = w.credit_refund(view.id, 1, outcome="failed")
    view = w.svc.settlement(w.clerk, view.id)
    assert view.lines[0].status == "planned" and view.lines[0].last_error == "拒绝"
    with db.reader() as s:
        assert s.get(Payment, first.payment_id).refunded_fen == 0
    with pytest.raises(Conflict):  # a definite answer is final
        w.svc.record_credit_refund_outcome(w.clerk, first.refund_id, "success")
    second = w.svc.submit_credit_refund(w.clerk, view.id, 1)
    assert second.refund_no != first.refund_no
    with pytest.raises(Conflict, match="已提交"):
        w.svc.submit_credit_refund(w.clerk, view.id, 1)
    assert w.svc.settlement(w.clerk, view.id).lines[0].status == "pending"
    w.svc.record_credit_refund_outcome(w.clerk, second.refund_id, "unknown")  # PROCESSING: stays pending
    assert w.svc.settlement(w.clerk, view.id).lines[0].status == "pending"
    w.svc.record_credit_refund_outcome(w.clerk, second.refund_id, "success", bank_serial="RS1")
    w.svc.record_credit_refund_outcome(w.clerk, second.refund_id, "success")  # the resolver, again: no change
    with db.reader() as s:
        assert s.get(Refund, second.refund_id).attempts == 2
        assert s.get(Payment, second.payment_id).refunded_fen == 200000


def test_the_queue_can_later_pay_a_queued_refund(w: World, db: Database) -> None:
    a = three_channel_stay(w)
    view = w.svc.start_settlement(w.clerk, a)
    request = w.credit_refund(view.id, 1, outcome="queued")
    w.svc.record_credit_refund_outcome(w.clerk, request.refund_id, "queued", code="DCBS0004PL0974")
    w.svc.record_credit_refund_outcome(w.clerk, request.refund_id, "success", bank_serial="RS9")
    with db.reader() as s:
        assert s.get(Refund, request.refund_id).status == "success"
        assert len(s.execute(select(Notification)).scalars().all()) == 2  # every failure tells the office
    assert w.svc.settlement(w.clerk, view.id).lines[0].status == "done"


def test_shortfall_collected_by_cash_and_credit(w: World, db: Database) -> None:
    a = w.admit(daily_bed_fen=20000).id
    w.svc.take_deposit(w.clerk, a, "cash", 10000, cash_received_fen=10000)
    w.clock.set(at(3))
    plan = w.svc.plan_settlement(w.clerk, a)
    assert (plan.total_cost_fen, plan.balance_fen, plan.collect_fen, plan.refund_lines) == (60000, -50000, 50000, ())
    view = w.svc.start_settlement(w.clerk, a, expected_balance_fen=-50000)
    assert view.collect_fen == 50000 and view.remaining_collect_fen == 50000
    with pytest.raises(ValidationError) as exc:
        w.svc.collect_shortfall(w.clerk, view.id, "cash", 50001, cash_received_fen=60000)
    assert exc.value.field == "amount_fen"
    view = w.svc.collect_shortfall(w.clerk, view.id, "cash", 20000, cash_received_fen=20000)
    assert view.remaining_collect_fen == 30000
    # 信用就医 for the rest: consent first, then the same seam as deposits with purpose "settlement"
    with pytest.raises(Conflict):
        w.svc.prepare_credit_payment(w.clerk, a, 30000, purpose="settlement")
    w.received_consent(a)
    with pytest.raises(ValidationError):
        w.svc.prepare_credit_payment(w.clerk, a, 30001, purpose="settlement")
    with pytest.raises(Conflict):  # a deposit after the settlement started is refused
        w.svc.prepare_credit_payment(w.clerk, a, 30000, purpose="deposit")
    plan = w.svc.prepare_credit_payment(w.clerk, a, 30000, purpose="settlement")
    assert plan.max_amount_fen == 30000
    request = w.credit_pay(a, 30000, purpose="settlement", outcome="unknown")
    view = w.svc.settlement(w.clerk, view.id)
    assert view.collect_pending_fen == 30000 and "信用就医补缴结果确认中" in view.outstanding
    with pytest.raises(Conflict):
        w.svc.complete_settlement(w.clerk, view.id)
    w.svc.record_credit_payment_outcome(w.clerk, request.payment_id, "success", bank_serial="BK9")
    done = w.svc.complete_settlement(w.clerk, view.id)
    assert done.status == "done" and done.collected_fen == 50000
    account = w.svc.account(w.clerk, a)
    assert account.balance_fen == 0 and account.collected_fen == 50000 and account.credit_used
    with pytest.raises(Conflict):
        w.svc.collect_shortfall(w.clerk, view.id, "cash", 1, cash_received_fen=1)


def test_nothing_to_settle_completes_at_once(w: World) -> None:
    a = w.admit(daily_bed_fen=0).id
    view = w.svc.start_settlement(w.clerk, a)
    assert (view.balance_fen, view.lines, view.collect_fen, view.can_complete) == (0, (), 0, True)
    with pytest.raises(Conflict, match="无需再补缴"):
        w.svc.collect_shortfall(w.clerk, view.id, "cash", 1, cash_received_fen=1)
    assert w.svc.complete_settlement(w.clerk, view.id).status == "done"
    with pytest.raises(Conflict, match="已完成"):
        w.svc.complete_settlement(w.clerk, view.id)


def test_same_day_discharge_is_one_bed_day_and_a_discharge_day_posted_ahead_is_reversed(w: World, db: Database) -> None:
    same_day = w.admit(daily_bed_fen=5000).id
    assert w.svc.plan_settlement(w.clerk, same_day).bed_days_to_post == (MON,)
    ahead = w.admit(w.patients[1], daily_bed_fen=5000).id
    w.clock.set(at(2, 8))
    w.svc.post_bed_charges(w.clerk, MON + timedelta(2))  # Mon, Tue, Wed charged in the morning …
    plan = w.svc.plan_settlement(w.clerk, ahead)  # … and the patient leaves on Wednesday
    assert plan.bed_day_to_reverse == MON + timedelta(2) and plan.total_cost_fen == 10000
    view = w.svc.start_settlement(w.clerk, ahead)
    assert view.total_cost_fen == 10000
    with db.reader() as s:
        rows = s.execute(select(InpatientCharge.charge_date, InpatientCharge.amount_fen, InpatientCharge.description)
                         .where(InpatientCharge.admission_id == ahead).order_by(InpatientCharge.id)).all()
    assert [r[1] for r in rows] == [5000, 5000, 5000, -5000]
    assert rows[-1][0] == MON + timedelta(2) and "出院当日不计床位费" in rows[-1][2]


def test_unposted_inpatient_orders_are_posted_at_start(w: World, db: Database) -> None:
    from tests import factories as f

    a = w.admit(daily_bed_fen=0).id
    with db.session() as s:
        drug = s.get(f.CatalogItem, w.drug_id)
        order = f.make_inpatient_order(s, s.get(Admission, a), [(drug, 3)], at=at(0))
    plan = w.svc.plan_settlement(w.clerk, a)
    assert plan.total_cost_fen == 13650
    view = w.svc.start_settlement(w.clerk, a)
    assert view.total_cost_fen == 13650 and view.collect_fen == 13650
    with db.reader() as s:
        assert s.execute(select(InpatientCharge.order_id)).scalars().all() == [order.id]


def test_start_refused_when_the_account_changed_or_a_credit_pay_is_in_flight(w: World, db: Database) -> None:
    a = w.admit(daily_bed_fen=0).id
    w.svc.take_deposit(w.clerk, a, "cash", 10000, cash_received_fen=10000)
    plan = w.svc.plan_settlement(w.clerk, a)
    w.svc.post_charge(w.clerk, a, description="陪护", unit_price_fen=3000)  # another desk, meanwhile
    with pytest.raises(Conflict, match="已发生变化"):
        w.svc.start_settlement(w.clerk, a, expected_balance_fen=plan.balance_fen)
    w.received_consent(a)
    w.credit_pay(a, 5000, outcome="unknown")
    assert w.svc.plan_settlement(w.clerk, a).pending_fen == 5000
    with pytest.raises(Conflict, match="正在确认中"):
        w.svc.start_settlement(w.clerk, a)
    with db.reader() as s:
        assert s.execute(select(DischargeSettlement)).first() is None
        assert s.get(Admission, a).status == "admitted"


def test_refunds_during_the_stay_count_and_the_window_cannot_refund_while_settling(w: World, db: Database) -> None:
    a = w.admit(daily_bed_fen=0).id
    cash = w.svc.take_deposit(w.clerk, a, "cash", 10000, cash_received_fen=10000)
    w.svc.take_deposit(w.clerk, a, "wechat", 10000, "134567890123456789")
    payments = PaymentService(w.db, w.clock)
    payments.record_refund(w.clerk, cash.id, 4000, "患者取回部分预交金")
    plan = w.svc.plan_settlement(w.clerk, a)
    assert (plan.refunded_before_fen, plan.net_deposit_fen, plan.balance_fen) == (4000, 16000, 16000)
    assert [(ln.channel, ln.amount_fen) for ln in plan.refund_lines] == [("wechat", 10000), ("cash", 6000)]
    view = w.svc.start_settlement(w.clerk, a)
    with pytest.raises(Conflict, match="请在出院结算中退还"):
        payments.record_refund(w.clerk, cash.id, 100, "窗口退费")
    w.svc.refund_settlement_line(w.clerk, view.id, 1)
    w.svc.refund_settlement_line(w.clerk, view.id, 2)
    assert w.svc.complete_settlement(w.clerk, view.id).status == "done"
    assert w.svc.account(w.clerk, a).balance_fen == 0


def test_statement_data(w: World) -> None:
    a = three_channel_stay(w)
    view = w.svc.start_settlement(w.clerk, a)
    statement = w.svc.statement(w.clerk, view.id)
    assert statement.clerk_name == "刘住院" and statement.settlement.id == view.id
    assert statement.account.total_cost_fen == 30000 and statement.account.credit_used
    assert w.svc.settlement_of(w.clerk, a).id == view.id
    assert w.svc.settlement_of(w.clerk, w.admit(w.patients[1]).id) is None


def test_who_may_settle_and_the_resolver_may_report_outcomes(w: World, db: Database) -> None:
    from desktop_his.services.enums import Role
    from desktop_his.services.errors import PermissionDenied
    from desktop_his.services.permissions import Actor
    from tests import factories as f

    a = three_channel_stay(w)
    with db.session() as s:
        cashier = f.actor_for(f.make_staff(s, Role.CASHIER))
    for call in (lambda: w.svc.plan_settlement(cashier, a), lambda: w.svc.start_settlement(cashier, a)):
        with pytest.raises(PermissionDenied):
            call()
    view = w.svc.start_settlement(w.clerk, a)
    request = w.svc.submit_credit_refund(w.clerk, view.id, 1)
    resolver = Actor.system("FIN-01", "journal-resolver")  # start-up resolution runs with finance rights
    with pytest.raises(PermissionDenied):
        w.svc.submit_credit_refund(resolver, view.id, 1)
    after = w.svc.record_credit_refund_outcome(resolver, request.refund_id, "success", bank_serial="RS1")
    assert after.lines[0].status == "done"
    with db.reader() as s:
        assert s.execute(select(RefundAttempt.by)).scalar_one() == "system:journal-resolver"
