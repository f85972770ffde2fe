"""Fault injection: each kind does what it says, counts run out, probabilities are deterministic by seed."""

from __future__ import annotations

import time

import pytest

from bank_sandbox import AdminError, RunningSandbox
from bank_sandbox.faults import Faults
from desktop_his.services.bank.client import BankClient
from desktop_his.services.bank.protocol import ConfirmRequest, LockRequest
from tests.services.bank.helpers import ZW_AGREEMENT, demo_client


def lock_numbers(sandbox: RunningSandbox) -> list[str]:
    return [x["lock_no"] for x in sandbox.admin.ledger()["locks"]]


def confirmed(bank: BankClient) -> None:
    assert bank.confirm(ConfirmRequest(ZW_AGREEMENT, "V1")).status == "SUCCESS"


def test_refuse_executes_nothing(bank: BankClient, sandbox: RunningSandbox) -> None:
    confirmed(bank)
    sandbox.admin.add_fault("lock", "refuse", count=1)
    result = bank.lock(LockRequest(ZW_AGREEMENT, "V1", "L1", 100))
    assert (result.status, result.code) == (None, "ADPTSY0005")
    assert lock_numbers(sandbox) == []
    assert bank.lock(LockRequest(ZW_AGREEMENT, "V1", "L1", 100)).status == "SUCCESS"  # count used up


def test_drop_reply_commits_then_hangs_up(bank: BankClient, sandbox: RunningSandbox) -> None:
    confirmed(bank)
    sandbox.admin.add_fault("lock", "drop_reply", count=1)
    assert bank.lock(LockRequest(ZW_AGREEMENT, "V1", "L1", 100)).code == "ADPTSY0005"
    assert lock_numbers(sandbox) == ["L1"]


def test_processing_on_money_commits_on_queries_only_answers(bank: BankClient, sandbox: RunningSandbox) -> None:
    confirmed(bank)
    sandbox.admin.add_fault("lock", "processing", count=1)
    sandbox.admin.add_fault("after_pay_query", "processing", count=2)
    assert bank.lock(LockRequest(ZW_AGREEMENT, "V1", "L1", 100)).status == "PROCESSING"
    assert lock_numbers(sandbox) == ["L1"]
    assert [bank.after_pay_query(lock_no="L1").status for _ in range(3)] == ["PROCESSING", "PROCESSING", "SUCCESS"]


def test_garbage_and_error_codes(bank: BankClient, sandbox: RunningSandbox) -> None:
    confirmed(bank)
    sandbox.admin.add_fault("lock", "garbage", count=1)
    assert bank.lock(LockRequest(ZW_AGREEMENT, "V1", "L1", 100)).code == "ADPTSY0008"
    assert lock_numbers(sandbox) == ["L1"]  # garbage after committing
    sandbox.admin.add_fault("lock", "error", count=1, code="ADPTSY0004")
    result = bank.lock(LockRequest(ZW_AGREEMENT, "V1", "L2", 100))
    assert (result.status, result.code) == ("FAILED", "ADPTSY0004") and result.state == "UNKNOWN"
    assert lock_numbers(sandbox) == ["L1"]  # not committed by default
    sandbox.admin.add_fault("lock", "error", count=1, code="ADPTSY0006", commit=True)
    assert bank.lock(LockRequest(ZW_AGREEMENT, "V1", "L3", 100)).code == "ADPTSY0006"
    assert lock_numbers(sandbox) == ["L1", "L3"]
    with pytest.raises(AdminError):
        sandbox.admin.add_fault("lock", "error")  # needs a code
    with pytest.raises(AdminError):
        sandbox.admin.add_fault("lock", "explode")


def test_delay_and_read_timeout(sandbox: RunningSandbox) -> None:
    bank = demo_client(sandbox.url, read_timeout=0.3)
    sandbox.admin.add_fault("merchant_balance", "delay", delay_ms=150, count=1)
    start = time.monotonic()
    assert bank.merchant_balance().status == "SUCCESS"
    assert time.monotonic() - start >= 0.15
    sandbox.admin.add_fault("merchant_balance", "delay", delay_ms=800, count=1)
    assert bank.merchant_balance().code == "ADPTSY0004"
    bank.close()


def test_wildcard_and_clear(bank: BankClient, sandbox: RunningSandbox) -> None:
    sandbox.admin.add_fault("*", "refuse")
    assert bank.merchant_balance().code == "ADPTSY0005"
    assert sandbox.admin.clear_faults() == 1
    assert bank.merchant_balance().status == "SUCCESS"


def test_probability_is_deterministic_by_seed() -> None:
    def pattern(seed: int) -> list[bool]:
        faults = Faults(seed)
        faults.add("lock", "refuse", probability=0.3)
        return [bool(faults.draw("lock")) for _ in range(200)]

    assert pattern(7) == pattern(7)
    assert pattern(7) != pattern(8)
    assert 30 < sum(pattern(7)) < 90


def test_connection_refused_when_the_bank_is_down(sandbox: RunningSandbox) -> None:
    bank = demo_client(sandbox.url)
    assert bank.merchant_balance().status == "SUCCESS"
    sandbox.stop()
    assert bank.merchant_balance().code in ("ADPTSY0003", "ADPTSY0005")  # pooled connection, then a new one
    assert bank.merchant_balance().code == "ADPTSY0003"
    bank.close()


def test_http_error_answers_5xx_and_commits_only_when_asked(bank: BankClient, sandbox: RunningSandbox) -> None:
    confirmed(bank)
    sandbox.admin.add_fault("lock", "http_error", count=1, code="502")
    result = bank.lock(LockRequest(ZW_AGREEMENT, "V1", "L1", 100))
    assert result.status is None and result.state == "UNKNOWN"
    assert lock_numbers(sandbox) == []
    sandbox.admin.add_fault("lock", "http_error", count=1, commit=True)
    assert bank.lock(LockRequest(ZW_AGREEMENT, "V1", "L2", 100)).state == "UNKNOWN"
    assert lock_numbers(sandbox) == ["L2"]
    with pytest.raises(AdminError):
        sandbox.admin.add_fault("lock", "http_error", code="404")
