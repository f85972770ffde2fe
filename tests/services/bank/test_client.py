"""Every way an answer can be lost is UNKNOWN, never FAILED; plain calls return typed results or raise."""

from __future__ import annotations

from datetime import date

import pytest

from bank_sandbox import RunningSandbox
from desktop_his.services.bank import BankGateway, ConfirmRequest, LockRequest, OutcomeState
from desktop_his.services.bank.client import BankClient
from desktop_his.services.errors import BankError, BankOutcomeUnknown
from tests.services.bank.helpers import CHEN_JING, LI_NA, LIU_YANG, WF_AGREEMENT, ZW_AGREEMENT, demo_client


@pytest.mark.parametrize(("kind", "extra", "code"), [
    ("refuse", {}, "ADPTSY0005"),
    ("drop_reply", {}, "ADPTSY0005"),
    ("processing", {}, "000001"),
    ("garbage", {}, "ADPTSY0008"),
    ("error", {"code": "ADPTSY0004"}, "ADPTSY0004"),
    ("error", {"code": "ADPTSY0006", "commit": True}, "ADPTSY0006"),
    ("delay", {"delay_ms": 1500}, "ADPTSY0004"),
])
def test_lost_answers_are_unknown(sandbox: RunningSandbox, kind: str, extra: dict, code: str) -> None:
    bank = demo_client(sandbox.url, read_timeout=0.5)
    assert bank.confirm(ConfirmRequest(ZW_AGREEMENT, "V1")).status == "SUCCESS"
    sandbox.admin.add_fault("lock", kind, count=1, **extra)
    result = bank.lock(LockRequest(ZW_AGREEMENT, "V1", "L1", 100))
    assert (result.state, result.code) == (OutcomeState.UNKNOWN, code)
    bank.close()


def test_connection_refused_is_unknown() -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    bank = demo_client(f"http://127.0.0.1:{port}")
    result = bank.lock(LockRequest(ZW_AGREEMENT, "V1", "L1", 100))
    assert (result.state, result.code) == (OutcomeState.UNKNOWN, "ADPTSY0003")


def test_plain_calls_are_typed(gateway: BankGateway, sandbox: RunningSandbox) -> None:
    member = gateway.sign_status(*LI_NA)
    assert member.signed and member.family_pay and member.holder_name_masked == "张*"
    assert member.agreement_no == "QFDEMO000001" and member.available_fen == 500_000
    assert not gateway.sign_status(*LIU_YANG).signed
    assert gateway.sign_status(*CHEN_JING).limit_fen == 2_000_000
    check = gateway.pay_check(WF_AGREEMENT, 3_001)
    assert (check.can_pay, check.available_fen) == (False, 3_000)
    balance = gateway.merchant_balance()
    assert balance.balance_fen == balance.receivables_fen + balance.reserve_fen == 2_000_000
    assert gateway.pay_query("P404") is None and gateway.refund_query("R404") is None
    assert gateway.after_pay_query(lock_no="L404") is None
    bill = gateway.download_bill(date(2026, 11, 22))
    assert bill.lines == () and bill.net_fen == 0
    with pytest.raises(BankError) as refused:
        gateway.download_bill(date(2026, 11, 23))  # today: not finished
    assert refused.value.code == "XYB008"
    with pytest.raises(BankError):
        gateway.pay_check("XYNONE", 100)


def test_plain_call_without_an_answer_raises_unknown(gateway: BankGateway, sandbox: RunningSandbox) -> None:
    sandbox.admin.add_fault("sign_query", "garbage", count=1)
    with pytest.raises(BankOutcomeUnknown) as lost:
        gateway.sign_status(*LI_NA)
    assert lost.value.code == "ADPTSY0008" and "稍后重试" in lost.value.message


def test_pool_is_sized_for_concurrent_mode(sandbox: RunningSandbox) -> None:
    client = BankClient(sandbox.url, demo_client(sandbox.url).adapter, pool_size=48, connect_timeout=1.5,
                        read_timeout=7.0)
    assert client._pool.pool.maxsize == 48  # noqa: SLF001
    assert (client._timeout.connect_timeout, client._timeout.read_timeout) == (1.5, 7.0)  # noqa: SLF001


def test_build_gateway_demo_and_real_keys(sqlite_db, clock, sandbox: RunningSandbox) -> None:  # noqa: ANN001
    from desktop_his.services import secrets
    from desktop_his.services.bank import build_gateway
    from desktop_his.services.bank.adapter import DEMO_DATA_KEY_HEX, DEMO_MERCHANT_KEY_HEX
    from desktop_his.services.config import Settings
    from desktop_his.services.errors import ConfigError

    demo = build_gateway(Settings(bank_connect_timeout=1.0, bank_read_timeout=2.0), sqlite_db, clock,
                         base_url=sandbox.url)
    assert demo.sign_status(*LI_NA).family_pay
    assert demo.client._timeout.read_timeout == 2.0  # noqa: SLF001
    with pytest.raises(ValueError, match="base_url"):
        build_gateway(Settings(), sqlite_db, clock)
    real = Settings(bank_url=sandbox.url)
    with pytest.raises(ConfigError, match="密钥"):
        build_gateway(real, sqlite_db, clock)
    secrets.store_secret(secrets.BANK_MERCHANT_KEY, DEMO_MERCHANT_KEY_HEX)  # the in-memory test keyring
    secrets.store_secret(secrets.BANK_DATA_KEY, DEMO_DATA_KEY_HEX)
    assert build_gateway(real, sqlite_db, clock).merchant_balance().reserve_fen == 2_000_000
    secrets.store_secret(secrets.BANK_DATA_KEY, "zz")
    with pytest.raises(ConfigError, match="格式"):
        build_gateway(real, sqlite_db, clock)
