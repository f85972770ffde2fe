"""Discharge refunds channel by channel (多退少补, no 套现): which payment gets how much of the surplus back.

The rule that may never break (SPEC §3, plan §二.四): what goes back to a channel — and to each single
payment — never exceeds what it paid in minus what was refunded already. :func:`allocate_refunds` is pure, so
the property tests can throw any deposits at it.

The order, and why (a hospital finance office's reading of the plan):

1. **信用就医 first.** Credit is the bank's money lent to the patient; giving it back first shrinks the
   patient's debt at once (no interest or instalments for a stay that is over) and is what the plan asks:
   "调用【信用就医退款】接口原路及时退还居民“信用就医”额度". It also means the stay's costs are borne by the
   money the patient brought, never by credit that then leaves the hospital as cash.
2. **Electronic channels next** (WeChat, Alipay, UnionPay card, medical insurance): they go back to the very
   account the money came from (原路退回) and leave a trail at the payment provider.
3. **Cash last.** A cash refund is the least traceable; the drawer pays back only what the other routes
   cannot, and never more than was paid in cash.

Within a tier the **most recent payment first**: the last top-up is the money the final bill did not need, and
payment providers accept refunds of a payment only for a limited time after it was made. Ties: the larger
payment id (the later record) first. The order is total, so a plan is reproducible.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from desktop_his.services.enums import Channel
from desktop_his.services.inpatient_types import ChannelPayment, RefundLine

CHANNEL_TIERS: dict[str, int] = {
    Channel.CREDIT: 0,
    Channel.WECHAT: 1, Channel.ALIPAY: 1, Channel.UNIONPAY: 1, Channel.INSURANCE: 1,
    Channel.CASH: 2,
}
# Display order of channels (statements, the account): the refund order.
CHANNEL_ORDER: tuple[str, ...] = (Channel.CREDIT, Channel.WECHAT, Channel.ALIPAY, Channel.UNIONPAY,
                                  Channel.INSURANCE, Channel.CASH)
_US = timedelta(microseconds=1)


def refund_priority(p: ChannelPayment) -> tuple[int, int, int]:
    """Sort key: tier, then newest first, then the later record first."""
    if p.channel not in CHANNEL_TIERS:
        raise ValueError(f"unknown channel {p.channel!r}")
    newest_first = -((p.paid_at - datetime.min) // _US) if p.paid_at is not None else 0
    return CHANNEL_TIERS[p.channel], newest_first, -p.payment_id


def _check(deposits: Sequence[ChannelPayment], surplus_fen: int) -> None:
    if isinstance(surplus_fen, bool) or not isinstance(surplus_fen, int) or surplus_fen < 0:
        raise ValueError("surplus_fen must be a non-negative integer (fen)")
    seen: set[int] = set()
    for p in deposits:
        if p.payment_id in seen:
            raise ValueError(f"payment {p.payment_id} listed twice")
        seen.add(p.payment_id)
        if not (0 <= p.refunded_fen <= p.amount_fen):
            raise ValueError(f"payment {p.payment_id}: refunded {p.refunded_fen} outside 0..{p.amount_fen}")
    available = sum(p.refundable_fen for p in deposits)
    if surplus_fen > available:
        # Cannot happen for a real account (surplus = paid in − refunded − cost ≤ refundable): a caller bug.
        raise ValueError(f"surplus {surplus_fen} exceeds the refundable {available}")


def allocate_refunds(deposits: Sequence[ChannelPayment], surplus_fen: int) -> list[RefundLine]:
    """Spread ``surplus_fen`` over the payments in the documented order, each capped at what it can still
    give back. The lines sum to exactly ``surplus_fen``; line numbers start at 1."""
    _check(deposits, surplus_fen)
    lines: list[RefundLine] = []
    left = surplus_fen
    for p in sorted(deposits, key=refund_priority):
        if left == 0:
            break
        take = min(left, p.refundable_fen)
        if take > 0:
            lines.append(RefundLine(len(lines) + 1, p.payment_id, p.payment_no, p.channel, take))
            left -= take
    return lines
