"""allocate_refunds: channel caps (no 套现), exact sums, the documented order — for any deposits (hypothesis)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desktop_his.services.enums import Channel
from desktop_his.services.inpatient import ChannelPayment, allocate_refunds
from desktop_his.services.inpatient_alloc import CHANNEL_TIERS

T0 = datetime(2026, 11, 23, 9)


@st.composite
def deposits(draw: st.DrawFn) -> list[ChannelPayment]:
    n = draw(st.integers(0, 8))
    result = []
    for i in range(n):
        amount = draw(st.integers(1, 2_000_000))
        refunded = draw(st.one_of(st.just(0), st.integers(0, amount)))
        result.append(ChannelPayment(
            payment_id=i + 1, channel=draw(st.sampled_from(list(Channel))), amount_fen=amount, refunded_fen=refunded,
            paid_at=draw(st.one_of(st.none(), st.integers(0, 10_000).map(lambda m: T0 + timedelta(minutes=m)))),
            payment_no=f"P{i + 1:03d}"))
    return result


@st.composite
def deposits_and_cost(draw: st.DrawFn) -> tuple[list[ChannelPayment], int]:
    payments = draw(deposits())
    held = sum(p.refundable_fen for p in payments)
    return payments, draw(st.integers(0, held + 3_000_000))


def caps(payments: list[ChannelPayment]) -> tuple[dict[int, int], dict[str, int]]:
    per_payment = {p.payment_id: p.refundable_fen for p in payments}
    per_channel: dict[str, int] = defaultdict(int)
    for p in payments:
        per_channel[p.channel] += p.refundable_fen
    return per_payment, per_channel


@given(deposits_and_cost())
def test_refunds_never_exceed_a_payment_or_a_channel_and_books_balance(case: tuple[list[ChannelPayment], int]) -> None:
    payments, cost = case
    held = sum(p.refundable_fen for p in payments)
    surplus, collect = max(0, held - cost), max(0, cost - held)
    lines = allocate_refunds(payments, surplus)
    per_payment, per_channel = caps(payments)
    back_payment: dict[int, int] = defaultdict(int)
    back_channel: dict[str, int] = defaultdict(int)
    for line in lines:
        assert line.amount_fen > 0
        back_payment[line.payment_id] += line.amount_fen
        back_channel[line.channel] += line.amount_fen
        assert line.channel == next(p.channel for p in payments if p.payment_id == line.payment_id)
    assert all(back_payment[k] <= per_payment[k] for k in back_payment)
    assert all(back_channel[k] <= per_channel[k] for k in back_channel)
    assert sum(line.amount_fen for line in lines) == surplus
    assert held - sum(line.amount_fen for line in lines) + collect == cost  # to the fen
    assert [line.line_no for line in lines] == list(range(1, len(lines) + 1))
    assert len({line.payment_id for line in lines}) == len(lines)


@given(deposits_and_cost())
def test_order_credit_then_electronic_then_cash_newest_first(case: tuple[list[ChannelPayment], int]) -> None:
    payments, cost = case
    surplus = max(0, sum(p.refundable_fen for p in payments) - cost)
    back = {line.payment_id: line.amount_fen for line in allocate_refunds(payments, surplus)}

    def rank(p: ChannelPayment) -> tuple:  # tier; newest first, undated last; later record first
        age = (p.paid_at - T0) // timedelta(minutes=1) if p.paid_at else 0
        return CHANNEL_TIERS[p.channel], p.paid_at is None, -age, -p.payment_id

    for p in payments:
        if back.get(p.payment_id):
            # every payment ahead of one that got money back was refunded in full first
            for q in payments:
                if rank(q) < rank(p):
                    assert back.get(q.payment_id, 0) == q.refundable_fen


def test_a_worked_example() -> None:
    payments = [
        ChannelPayment(1, "cash", 50000, 0, T0, "P1"),
        ChannelPayment(2, "wechat", 80000, 0, T0 + timedelta(minutes=1), "P2"),
        ChannelPayment(3, "credit", 200000, 0, T0 + timedelta(days=1), "P3"),
        ChannelPayment(4, "wechat", 30000, 10000, T0 + timedelta(days=2), "P4"),
    ]
    lines = allocate_refunds(payments, 250000)
    assert [(ln.line_no, ln.payment_no, ln.channel, ln.amount_fen) for ln in lines] == [
        (1, "P3", "credit", 200000), (2, "P4", "wechat", 20000), (3, "P2", "wechat", 30000)]
    assert allocate_refunds(payments, 0) == []
    assert sum(ln.amount_fen for ln in allocate_refunds(payments, 350000)) == 350000


@pytest.mark.parametrize("payments, surplus", [
    ([ChannelPayment(1, "cash", 100)], 101),  # more than was paid in: a caller bug
    ([ChannelPayment(1, "cash", 100, 50)], 51),
    ([ChannelPayment(1, "cash", 100)], -1),
    ([ChannelPayment(1, "cash", 100)], 1.5),
    ([ChannelPayment(1, "cash", 100), ChannelPayment(1, "wechat", 100)], 10),
    ([ChannelPayment(1, "cash", 100, 101)], 0),
    ([ChannelPayment(1, "bitcoin", 100)], 10),
])
def test_impossible_inputs_are_refused(payments: list[ChannelPayment], surplus: int) -> None:
    with pytest.raises(ValueError):
        allocate_refunds(payments, surplus)
