"""The refund queue over several days (SPEC §4, plan §二.四.4): the merchant's refund money is short for three
days, then restored — every refund succeeds, in submission order, with its same refund number; nothing is lost
across restarts (new Services each day); each failed attempt tells the asking department 该居民退款失败."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from desktop_his.services.container import Services
from desktop_his.services.enums import NotificationKind, RefundStatus
from desktop_his.services.models import CreditLock, Notification, Refund, RefundAttempt
from desktop_his.services.permissions import Actor
from tests.conftest import connect_test_bank, make_services
from tests.services.finance.finfix import T, add_locks, credit_visit, finance_world


def restart(old: Services, tmp_path) -> Services:  # noqa: ANN001
    """The next day's start: a new process on the same database and bank."""
    sandbox = old.sandbox
    old.sandbox = None  # the sandbox outlives the app (it is the bank)
    old.close()
    return connect_test_bank(make_services(old.db, old.clock, tmp_path), sandbox)


def notices(services: Services, actor: Actor) -> list:
    return [n for n in services.notifications.inbox(actor) if n.kind == NotificationKind.REFUND_FAILED]


def test_short_for_three_days_then_restored(bank_services: Services, tmp_path) -> None:  # noqa: ANN001
    services = bank_services
    cashier, finance, slot_id = finance_world(services)
    visit = credit_visit(services, cashier, "陈静", slot_id)
    lock_ids = add_locks(services, visit, [3000, 1000, 2000])
    assert services.deduction.run(finance, T).deducted == 4
    admin = services.sandbox.admin
    admin.advance(days=1)  # T+1: refunds come out of the refund reserve …
    services.clock.advance(timedelta(days=1))
    admin.set_merchant(reserve_fen=0, has_reserve=True)  # … which is empty
    refunds = [services.credit.return_credit(cashier, lock_id, fen, f"退费{i}")
               for i, (lock_id, fen) in enumerate(zip(lock_ids, (3000, 1000, 2000), strict=True))]
    assert [r.status for r in refunds] == [RefundStatus.QUEUED] * 3
    ids = [r.refund_id for r in refunds]
    with services.db.reader() as s:
        numbers = [s.get(Refund, i).refund_no for i in ids]
    assert len(notices(services, cashier)) == 3  # the cashier's department sees each failure
    for day in range(3):  # three days short: each daily run stops at the head
        admin.advance(days=1)
        services.clock.advance(timedelta(days=1))
        services = restart(services, tmp_path)
        if day == 1:
            admin.set_merchant(reserve_fen=1500)  # enough for the later ones, not for the head
        balance = services.reconciliation.merchant_balance(finance)
        assert balance.reserve_fen in (0, 1500)
        report = services.refunds.retry(finance)
        assert report.succeeded == [] and report.stopped_at == numbers[0] and report.left == 3
        assert [q.id for q in services.refunds.queued(finance)] == ids  # nothing lost, order kept
        assert len(notices(services, cashier)) == 3 + day + 1
    admin.advance(days=1)
    services.clock.advance(timedelta(days=1))
    services = restart(services, tmp_path)
    admin.set_merchant(reserve_fen=10_000)  # restored
    report = services.refunds.retry(finance)
    assert report.succeeded == numbers and report.left == 0
    with services.db.reader() as s:
        assert [s.get(Refund, i).status for i in ids] == [RefundStatus.SUCCESS] * 3
        done = s.scalars(select(RefundAttempt).where(RefundAttempt.outcome == "success").order_by(RefundAttempt.id))
        assert [a.refund_id for a in done] == ids  # in submission order
        assert {s.get(CreditLock, i).refunded_fen for i in lock_ids} == {1000, 2000, 3000}
        failed = s.scalars(select(Notification).where(Notification.kind == NotificationKind.REFUND_FAILED)).all()
        assert len(failed) == 6 and all(n.title == "该居民退款失败" and "陈静" in n.body for n in failed)
        assert any("¥30.00" in n.body and f"{T + timedelta(days=1):%Y-%m-%d}" in n.body for n in failed)
    moves = [m for m in admin.ledger()["movements"] if m["op"] == "refund"]
    assert [m["number"] for m in moves if m["status"] == "SUCCESS"] == numbers  # the bank saw the same numbers
    assert sum(1 for m in moves if m["status"] == "FAILED") == 6
    services.close()
