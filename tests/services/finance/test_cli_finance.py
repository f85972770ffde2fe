"""desktop-his-cli settle / refunds / reconcile / report against a real database and the bank sandbox."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from desktop_his import cli
from desktop_his.services.bank.adapter import BankKeys
from desktop_his.services.db import Database, upgrade
from desktop_his.services.models import CreditLock
from tests.conftest import connect_test_bank, make_services
from tests.services.finance.finfix import T, add_locks, bank_deductions, credit_visit, finance_world


@pytest.fixture
def run(tmp_path, monkeypatch, clock, bank_sandbox_running) -> Iterator:  # noqa: ANN001
    """``run(*argv) -> (code, stdout, stderr)``; the CLI talks to the test sandbox with the demo keys and runs on
    the test clock."""
    url = f"sqlite:///{tmp_path / 'his.sqlite3'}"
    for key, value in {"CONFIG_FILE": tmp_path / "settings.toml", "DATA_DIR": tmp_path / "data",
                       "LOG_DIR": tmp_path / "logs", "DATABASE_URL": url, "BANK_URL": bank_sandbox_running.url}.items():
        monkeypatch.setenv(f"DESKTOP_HIS_{key}", str(value))
    monkeypatch.setattr(BankKeys, "for_settings", classmethod(lambda cls, settings: cls.demo(settings.bank_merchant_id)))
    monkeypatch.setattr("desktop_his.services.container.SystemClock", lambda: clock)

    def invoke(*argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        monkeypatch.setattr("sys.stdout", out)
        monkeypatch.setattr("sys.stderr", err)
        code = cli.main(list(argv))
        return code, out.getvalue(), err.getvalue()

    db = Database.from_url(url)
    upgrade(db)
    invoke.db = db
    yield invoke
    db.dispose()
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_desktop_his", False)]:
        root.removeHandler(handler)
        handler.close()


def test_settle_refunds_reconcile_report(run, clock, tmp_path, bank_sandbox_running) -> None:  # noqa: ANN001
    services = connect_test_bank(make_services(run.db, clock, tmp_path / "app"), bank_sandbox_running)
    cashier, finance, slot_id = finance_world(services)
    visit = credit_visit(services, cashier, "陈静", slot_id)
    add_locks(services, visit, [1500, 2500, 3500])
    code, out, _ = run("settle", "--date", T.isoformat(), "--status")
    assert code == cli.EXIT_FAILED and "待扣款 4 笔 ¥85.00" in out  # not settled yet: the job says so
    code, out, err = run("settle", "--date", T.isoformat(), "--workers", "4")
    assert code == cli.EXIT_OK, err
    assert "新发送 4 笔" in out and "成功 4 笔 ¥85.00" in out and "待扣款 0 笔" in out
    assert set(bank_deductions(services).values()) == {1}
    code, out, _ = run("settle", "--date", T.isoformat())
    assert code == cli.EXIT_OK and "新发送 0 笔" in out
    assert run("refunds", "retry")[1].strip() == "退款队列为空"
    # T+1: a refund is queued for want of reserve
    bank_sandbox_running.admin.advance(days=1)
    clock.advance(timedelta(days=1))
    bank_sandbox_running.admin.set_merchant(reserve_fen=0, has_reserve=True)
    with services.db.reader() as s:
        lock_id = s.execute(select(CreditLock.id).where(CreditLock.purpose == "order")).scalars().first()
    assert services.credit.return_credit(cashier, lock_id, 1500, "退费").status == "queued"
    code, out, _ = run("refunds", "retry")
    assert code == cli.EXIT_FAILED and "暂收金额" in out and "仍未成功" in out
    code, out, _ = run("refunds", "list")
    assert "共 1 笔排队" in out and "陈静" in out
    bank_sandbox_running.admin.set_merchant(reserve_fen=10_000)
    code, out, _ = run("refunds", "retry")
    assert code == cli.EXIT_OK and "成功 1 笔" in out and "退款队列已清空" in out
    code, out, _ = run("reconcile", "--date", T.isoformat(), "--xlsx", str(tmp_path / "r.xlsx"),
                       "--csv", str(tmp_path / "r.csv"))
    assert code == cli.EXIT_OK and "一致 4 笔" in out and "无差异" in out
    assert load_workbook(tmp_path / "r.xlsx")["汇总"]["A1"].value == "账单日期"
    assert (tmp_path / "r.csv").read_text(encoding="utf-8-sig").startswith("账单日期")
    code, _, err = run("reconcile", "--date", (T - timedelta(days=40)).isoformat())
    assert code == cli.EXIT_FAILED and "最近一个月" in err
    code, out, _ = run("report", "day", "--date", T.isoformat(), "--xlsx", str(tmp_path / "d.xlsx"))
    assert code == cli.EXIT_OK and "全院合计" in out and "信用就医" in out and (tmp_path / "d.xlsx").exists()
    services.close()


def test_bad_dates_are_usage_errors(run) -> None:  # noqa: ANN001
    with pytest.raises(SystemExit) as usage:
        run("settle", "--date", "2026-13-40")
    assert usage.value.code == cli.EXIT_USAGE
    code, _, err = run("settle", "--workers", "0")
    assert code == cli.EXIT_FAILED and "--workers" in err
