"""Shift and day-end reports: totals by channel per cashier and for the day, refunds, cancellations; exports."""

from __future__ import annotations

import csv

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from desktop_his.services.container import Services
from desktop_his.services.enums import Role
from desktop_his.services.errors import PermissionDenied
from desktop_his.services.models import CreditLock, Slot, Visit
from desktop_his.services.payments import PaymentService
from desktop_his.services.reports import export_csv, export_xlsx, to_html
from tests.factories import actor_for, make_demo_patient, make_staff, make_visit
from tests.services.finance.finfix import T, credit_visit, finance_world


def unpaid_visit(services: Services, name: str, slot_id: int) -> tuple[int, int]:
    with services.db.session() as s:
        patient = make_demo_patient(s, name)
        visit = make_visit(s, patient, s.get(Slot, slot_id), status="registered", fee_status="unpaid")
        return visit.id, patient.id


@pytest.fixture
def takings(bank_services: Services):  # noqa: ANN201
    services = bank_services
    cashier, finance, slot_id = finance_world(services)
    with services.db.session() as s:
        other = actor_for(make_staff(s, Role.CASHIER, username="cashier10", full_name="王收费"))
    pay = PaymentService(services.db, services.clock)
    v1, p1 = unpaid_visit(services, "刘洋", slot_id)
    cash = pay.record(cashier, patient_id=p1, purpose="registration", amount_fen=1000, channel="cash",
                      cash_received_fen=2000, visit_id=v1)
    pay.record_refund(cashier, cash.id, 400, "部分退费")
    v2, p2 = unpaid_visit(services, "吴敏", slot_id)
    pay.record(other, patient_id=p2, purpose="registration", amount_fen=1000, channel="wechat",
               reference_no="134567890123456789", visit_id=v2)
    credit_visit(services, cashier, "张伟", slot_id)  # ¥10.00 locked by the cashier
    cancelled = credit_visit(services, cashier, "陈静", slot_id)
    with services.db.reader() as s:
        lock_id = s.execute(select(CreditLock.id).where(CreditLock.visit_id == cancelled)).scalar_one()
    assert services.credit.return_credit(cashier, lock_id, 1000, "退号").method == "bank_cancel"
    with services.db.session() as s:
        s.get(Visit, cancelled).cancelled_at = services.clock.now()
    return services, cashier, other, finance


def test_shift_report_of_one_cashier(takings) -> None:  # noqa: ANN001
    services, cashier, other, _ = takings
    mine = services.reports.shift(cashier, T)
    assert (mine.line("cash").count, mine.line("cash").income_fen, mine.line("cash").refund_fen) == (1, 1000, 400)
    assert (mine.line("credit").count, mine.line("credit").income_fen) == (1, 1000)  # the cancelled lock is not income
    assert mine.line("wechat").count == 0
    assert (mine.income_fen, mine.refund_fen, mine.net_fen) == (2000, 400, 1600)
    assert (mine.cancellations, mine.cancellation_fen) == (1, 1000)
    with pytest.raises(PermissionDenied):
        services.reports.shift(cashier, T, cashier_id=other.staff_id)


def test_day_end_report_and_its_exports(takings, tmp_path) -> None:  # noqa: ANN001
    services, cashier, other, finance = takings
    day = services.reports.day_end(finance, T)
    assert {r.cashier: r.net_fen for r in day.cashiers} == {cashier.display_name: 1600, "王收费": 1000}
    t = day.total
    assert (t.line("cash").net_fen, t.line("wechat").income_fen, t.line("credit").income_fen) == (600, 1000, 1000)
    assert (t.income_fen, t.refund_fen, t.net_fen, t.cancelled_visits) == (3000, 400, 2600, 1)
    rows = [r for r in load_workbook(export_xlsx(day, tmp_path / "d.xlsx")).active.iter_rows(values_only=True)]
    assert ("全院合计", "小计", 3, "30.00", 1, "4.00", "26.00") in rows
    with export_csv(day, tmp_path / "d.csv").open(encoding="utf-8-sig") as fh:
        lines = list(csv.reader(fh))
    assert ["王收费", "微信", "1", "10.00", "0", "0.00", "10.00"] in lines
    page = to_html(day, hospital="演示医院")
    assert "收费日结报表" in page and "全院合计" in page and "信用就医当日取消" in page
    with pytest.raises(PermissionDenied):
        services.reports.day_end(cashier, T)
