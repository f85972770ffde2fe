"""The whole account, end to end through the service, for any deposits and any costs (hypothesis, on SQLite and
PostgreSQL): refunds never exceed a payment or a channel, and the books balance to the fen."""

from __future__ import annotations

import itertools
from collections import defaultdict

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from desktop_his.services.db import Database
from desktop_his.services.models import Payment, Refund
from desktop_his.services.payments import PaymentService
from tests.services.inpatientfix import World, make_world

_refs = itertools.count(1)
OTHER = ("cash", "wechat", "alipay", "unionpay", "insurance")


def reference(channel: str) -> str:
    n = next(_refs)
    return {"cash": "", "wechat": f"13{n:016d}", "alipay": f"28{n:014d}", "unionpay": f"POS-{n:06d}",
            "insurance": f"YB{n:08d}"}[channel]


def deposit(w: World, admission_id: int, channel: str, amount: int) -> None:
    if channel == "credit":
        w.credit_pay(admission_id, amount)
    else:
        w.svc.take_deposit(w.clerk, admission_id, channel, amount, reference(channel),
                           cash_received_fen=amount if channel == "cash" else None)


stay = st.fixed_dictionaries({
    "bed_fen": st.integers(0, 20_000),
    "deposits": st.lists(st.tuples(st.sampled_from(("credit", *OTHER)), st.integers(1, 500_000)), max_size=6),
    "charges": st.lists(st.integers(1, 400_000), max_size=5),
    "reverse_first": st.booleans(),
    "refund_during_stay": st.integers(0, 100),  # percent of the first non-credit deposit given back mid-stay
    "credit_refunds": st.sampled_from(("success", "queued")),
    "collect_by": st.lists(st.sampled_from(("credit", *OTHER)), min_size=1, max_size=3),
})


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(case=stay)
def test_books_balance_for_any_stay(db: Database, clock, case: dict) -> None:  # noqa: ANN001
    w = _world(db, clock)
    admission = w.admit(w.new_patient(), daily_bed_fen=case["bed_fen"]).id
    w.received_consent(admission)
    for channel, amount in case["deposits"]:
        deposit(w, admission, channel, amount)
    posted = [w.svc.post_charge(w.clerk, admission, description="治疗", unit_price_fen=fen)
              for fen in case["charges"]]
    if posted and case["reverse_first"]:
        w.svc.reverse_charge(w.clerk, posted[0].id, "录入错误")
    first_other = next((p for p in w.svc.account(w.clerk, admission).payments if p.channel != "credit"), None)
    if first_other is not None and first_other.amount_fen * case["refund_during_stay"] // 100:
        PaymentService(w.db, w.clock).record_refund(
            w.clerk, first_other.id, first_other.amount_fen * case["refund_during_stay"] // 100, "取回部分预交金")
    before = w.svc.account(w.clerk, admission)
    assert before.balance_fen == before.held_fen - before.total_cost_fen

    plan = w.svc.plan_settlement(w.clerk, admission)
    view = w.svc.start_settlement(w.clerk, admission, expected_balance_fen=plan.balance_fen)
    _check_plan_caps(db, admission, plan)
    for line in view.lines:
        if line.channel == "credit":
            w.credit_refund(view.id, line.line_no, outcome=case["credit_refunds"])
        else:
            w.svc.refund_settlement_line(w.clerk, view.id, line.line_no)
    _collect(w, view.id, admission, plan.collect_fen, case["collect_by"])
    assert w.svc.complete_settlement(w.clerk, view.id).status == "done"

    account = w.svc.account(w.clerk, admission)
    assert account.deposited_fen - account.refunded_fen + account.collected_fen == account.total_cost_fen
    assert account.balance_fen == 0
    for channel in account.channels:
        assert 0 <= channel.out_fen <= channel.in_fen
    _check_payment_refunds(db, admission)


_world_cache: list[World] = []


def _world(db: Database, clock) -> World:  # noqa: ANN001 - one world per test database, many stays in it
    if not _world_cache or _world_cache[0].db is not db:
        _world_cache[:] = [make_world(db, clock, patients=1)]
    return _world_cache[0]


def _collect(w: World, settlement_id: int, admission_id: int, owed: int, channels: list[str]) -> None:
    parts = len(channels)
    for n, channel in enumerate(channels):
        amount = owed // parts + (owed % parts if n == parts - 1 else 0)
        if amount <= 0:
            continue
        if channel == "credit":
            w.credit_pay(admission_id, amount, purpose="settlement")
        else:
            w.svc.collect_shortfall(w.clerk, settlement_id, channel, amount, reference(channel),
                                    cash_received_fen=amount if channel == "cash" else None)


def _check_plan_caps(db: Database, admission_id: int, plan) -> None:  # noqa: ANN001
    with db.reader() as s:
        paid = {p.id: p for p in s.execute(select(Payment).where(Payment.admission_id == admission_id)).scalars()}
    back: dict[str, int] = defaultdict(int)
    for line in plan.refund_lines:
        assert line.amount_fen <= paid[line.payment_id].amount_fen - paid[line.payment_id].refunded_fen
        back[line.channel] += line.amount_fen
    for channel, fen in back.items():
        assert fen <= sum(p.amount_fen - p.refunded_fen for p in paid.values()
                          if p.channel == channel and p.status == "success")
    assert plan.refund_fen == max(0, plan.balance_fen)


def _check_payment_refunds(db: Database, admission_id: int) -> None:
    with db.reader() as s:
        refunds = s.execute(select(Refund).where(Refund.admission_id == admission_id)).scalars().all()
        for p in s.execute(select(Payment).where(Payment.admission_id == admission_id)).scalars():
            standing = sum(r.amount_fen for r in refunds if r.payment_id == p.id and r.status != "failed")
            assert p.refunded_fen == standing <= p.amount_fen
