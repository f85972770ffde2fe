"""Reconciliation of a day's bank bill against the journal (SPEC §4): a bill with one of each mismatch kind is
reported exactly; the run is kept; Excel and CSV exports; a refused-then-queued refund is not a mismatch."""

from __future__ import annotations

import csv
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from desktop_his.services.bank import ConfirmRequest, DeductRequest, LockRequest, OutcomeState
from desktop_his.services.container import Services
from desktop_his.services.errors import ValidationError
from desktop_his.services.models import BankJournal, CreditLock, ReconciliationItem
from desktop_his.services.reconciliation import Kind, export_csv, export_xlsx
from tests.services.bank.helpers import CHEN_JING, CJ_AGREEMENT
from tests.services.finance.finfix import T, add_locks, credit_visit, finance_world


@pytest.fixture
def settled(bank_services: Services):  # noqa: ANN201
    services = bank_services
    cashier, finance, slot_id = finance_world(services)
    visit = credit_visit(services, cashier, "陈静", slot_id)
    add_locks(services, visit, [2000, 3000, 4000, 5000, 6000])
    assert services.deduction.run(finance, T).deducted == 6
    return services, cashier, finance


def outside_deduction(services: Services) -> str:
    """The bank deducts a lock this HIS never journaled (another system on the same merchant number)."""
    call = services.bank.client.call
    assert call(ConfirmRequest(CJ_AGREEMENT, "VOUTSIDE1")).state is OutcomeState.SUCCESS
    serial = call(LockRequest(CJ_AGREEMENT, "VOUTSIDE1", "LOUTSIDE1", 700)).serial
    assert call(DeductRequest("LOUTSIDE1", serial, 700, *CHEN_JING)).state is OutcomeState.SUCCESS
    return "LOUTSIDE1"


def next_day(services: Services) -> None:
    services.sandbox.admin.advance(days=1)
    services.clock.advance(timedelta(days=1))


def test_one_of_each_mismatch_kind_is_reported_exactly(settled, tmp_path) -> None:  # noqa: ANN001
    services, cashier, finance = settled
    with services.db.reader() as s:
        deducts = s.scalars(select(BankJournal).where(BankJournal.op == "deduct").order_by(BankJournal.id)).all()
        lock_id = s.execute(select(CreditLock.id).where(CreditLock.purpose == "order")).scalars().first()
    refund = services.credit.return_credit(cashier, lock_id, 500, "部分退费")  # a T-day refund: a bill line too
    assert refund.status == "success"
    outside = outside_deduction(services)
    amount_row, status_row = deducts[1], deducts[2]
    with services.db.session() as s:  # the journal disagrees with the bank on two entries …
        s.execute(update(BankJournal).where(BankJournal.id == amount_row.id).values(amount_fen=amount_row.amount_fen + 1))
        s.execute(update(BankJournal).where(BankJournal.id == status_row.id).values(state="failed"))
        # … and claims a deduction the bank never made
        s.add(BankJournal(op="deduct", number="LGHOST0001", purpose="credit_deduct", params={}, amount_fen=4321,
                          state="success", bank_serial="KK-GHOST", business_date=T, created_at=services.clock.now(),
                          attempts=1))
    next_day(services)
    report = services.reconciliation.run(finance, T)
    assert report.counts == {Kind.MATCHED: 5, Kind.MISSING_LOCAL: 1, Kind.MISSING_BANK: 1, Kind.AMOUNT: 1,
                             Kind.STATUS: 1}
    by_kind = {i.kind: i for i in report.items}
    assert by_kind[Kind.MISSING_LOCAL].number == outside and by_kind[Kind.MISSING_LOCAL].bank_amount_fen == 700
    assert by_kind[Kind.MISSING_BANK].number == "LGHOST0001" and by_kind[Kind.MISSING_BANK].local_amount_fen == 4321
    assert by_kind[Kind.AMOUNT].number == amount_row.number
    assert by_kind[Kind.AMOUNT].local_amount_fen == by_kind[Kind.AMOUNT].bank_amount_fen + 1
    assert by_kind[Kind.STATUS].number == status_row.number and by_kind[Kind.STATUS].local_status == "FAILED"
    assert report.bank_lines == 8  # six deductions of ours, the outsider's, the refund
    assert "金额不符 1 笔" in report.message
    # the run is kept, with its items
    kept = services.reconciliation.load(finance, report.run_id)
    assert kept.counts == report.counts and sorted(i.kind for i in kept.items) == sorted(i.kind for i in report.items)
    assert services.reconciliation.runs(finance)[0].mismatches == 4
    with services.db.reader() as s:
        assert len(s.scalars(select(ReconciliationItem)).all()) == 4
    # exports
    xlsx = export_xlsx(kept, tmp_path / "r.xlsx")
    wb = load_workbook(xlsx)
    detail = list(wb["差异明细"].iter_rows(values_only=True))
    assert detail[0][0] == "差异类型" and len(detail) == 5
    assert {row[0] for row in detail[1:]} == {"本地缺失（银行有、本地无）", "银行缺失（本地成功、账单无）", "金额不符", "状态不符"}
    summary = dict(wb["汇总"].iter_rows(values_only=True))
    assert summary["一致"] == 5 and summary["账单日期"] == T.isoformat()
    with export_csv(kept, tmp_path / "r.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    assert ["一致", "5"] in rows and any(outside in r for r in rows)


def test_a_clean_day_and_a_queued_refund_are_no_mismatch(settled) -> None:  # noqa: ANN001
    services, cashier, finance = settled
    admin = services.sandbox.admin
    with services.db.reader() as s:
        lock_id = s.execute(select(CreditLock.id).where(CreditLock.purpose == "order")).scalars().first()
    next_day(services)
    admin.set_merchant(reserve_fen=0, has_reserve=True)
    queued = services.credit.return_credit(cashier, lock_id, 900, "T+1 退费")
    assert queued.status == "queued"
    day1 = services.clock.today()
    next_day(services)
    first = services.reconciliation.run(finance, day1)  # the refused refund's FAILED line ↔ the queued refund
    assert first.counts[Kind.MATCHED] == 1 and first.mismatches == 0
    admin.set_merchant(reserve_fen=100_000)
    assert services.refunds.retry(finance).left == 0
    day2 = services.clock.today()
    next_day(services)
    second = services.reconciliation.run(finance, day2)  # succeeded on day 2 with the same refund number
    assert second.counts[Kind.MATCHED] == 1 and second.mismatches == 0 and second.bank_total_fen == -900
    again = services.reconciliation.run(finance, day1)  # day 1 still reconciles: the refund succeeded later
    assert again.mismatches == 0
    clean = services.reconciliation.run(finance, T)
    assert clean.counts[Kind.MATCHED] == 6 and clean.mismatches == 0 and clean.bank_total_fen == clean.local_total_fen


def test_only_the_last_month_and_no_future(settled) -> None:  # noqa: ANN001
    services, _, finance = settled
    with pytest.raises(ValidationError, match="最近一个月"):
        services.reconciliation.run(finance, T - timedelta(days=40))
    with pytest.raises(ValidationError, match="已结束日期"):
        services.reconciliation.run(finance, T)
    balance = services.reconciliation.merchant_balance(finance)
    assert balance.balance_fen == balance.receivables_fen + balance.reserve_fen and balance.receivables_fen > 0
