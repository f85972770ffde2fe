"""The bank's rules (SPEC §2, plan §二.5 table 1), exercised over HTTP exactly as the hospital would."""

from __future__ import annotations

import pytest

from bank_sandbox import AdminError, RunningSandbox
from desktop_his.services.bank.client import BankClient
from desktop_his.services.bank.protocol import (
    BankResult,
    CancelRequest,
    ConfirmRequest,
    DeductRequest,
    LockRequest,
    PayRequest,
    RefundRequest,
)
from tests.services.bank.helpers import (
    CHEN_JING,
    CJ_AGREEMENT,
    LI_NA,
    LIU_YANG,
    LN_AGREEMENT,
    WF_AGREEMENT,
    WU_MIN,
    ZHANG_WEI,
    ZW_AGREEMENT,
    demo_client,
    running_sandbox,
)


def ok(result: BankResult) -> BankResult:
    assert result.status == "SUCCESS", result
    return result


def failed(result: BankResult, code: str) -> BankResult:
    assert (result.status, result.code) == ("FAILED", code), result
    return result


def available(bank: BankClient, person: tuple[str, str, str]) -> int:
    return ok(bank.sign_query(*person)).data["available_fen"]


def locked(bank: BankClient, agreement: str, visit: str, lock_no: str, fen: int) -> str:
    ok(bank.confirm(ConfirmRequest(agreement, visit)))
    return ok(bank.lock(LockRequest(agreement, visit, lock_no, fen))).serial


def deducted(bank: BankClient, person: tuple, agreement: str, lock_no: str, fen: int) -> tuple[str, str]:
    serial = locked(bank, agreement, "V" + lock_no, lock_no, fen)
    ok(bank.deduct(DeductRequest(lock_no, serial, fen, *person)))
    return serial, lock_no


# --------------------------------------------------------------------------------------------- signing


def test_sign_status_of_demo_people(bank: BankClient) -> None:
    holder = ok(bank.sign_query(*ZHANG_WEI)).data
    assert (holder["signed"], holder["role"], holder["agreement_no"], holder["available_fen"]) == (
        True, "holder", ZW_AGREEMENT, 500_000)
    member = ok(bank.sign_query(*LI_NA)).data
    assert (member["role"], member["agreement_no"], member["holder_name_masked"]) == ("member", LN_AGREEMENT, "张*")
    assert member["available_fen"] == 500_000  # the holder's credit
    for person in (LIU_YANG, WU_MIN):
        assert ok(bank.sign_query(*person)).data["signed"] is False
    assert ok(bank.sign_query("张三", *ZHANG_WEI[1:])).data["signed"] is False  # name must match
    assert ok(bank.sign_query("𠮷野", "01", "510108199212123019")).data["available_fen"] == 200_000


def test_terminated_agreement_cannot_lock(bank: BankClient, sandbox: RunningSandbox) -> None:
    failed(bank.confirm(ConfirmRequest("XYDEMO000006", "V1")), "XYB001")


# ------------------------------------------------------------------------------------------ locks


def test_lock_needs_confirmation_and_credit(bank: BankClient) -> None:
    failed(bank.lock(LockRequest(ZW_AGREEMENT, "V1", "L1", 100)), "XYB003")
    ok(bank.confirm(ConfirmRequest(WF_AGREEMENT, "V2")))
    result = failed(bank.lock(LockRequest(WF_AGREEMENT, "V2", "L2", 3_001)), "XYB002")
    assert result.data["available_fen"] == 3_000
    ok(bank.lock(LockRequest(WF_AGREEMENT, "V2", "L3", 3_000)))
    failed(bank.lock(LockRequest(WF_AGREEMENT, "V2", "L4", 1)), "XYB002")


def test_family_member_locks_on_the_holders_credit(bank: BankClient) -> None:
    ok(bank.confirm(ConfirmRequest(LN_AGREEMENT, "V1")))
    result = ok(bank.lock(LockRequest(LN_AGREEMENT, "V1", "L1", 12_000)))
    assert result.data["family_pay"] is True
    assert available(bank, ZHANG_WEI) == available(bank, LI_NA) == 488_000


def test_deduct_at_most_the_lock_and_the_rest_is_released(bank: BankClient) -> None:
    s1, s2 = locked(bank, ZW_AGREEMENT, "V1", "L1", 10_000), locked(bank, ZW_AGREEMENT, "V2", "L2", 1_000)
    failed(bank.deduct(DeductRequest("L2", s2, 1_001, *ZHANG_WEI)), "XYB005")
    failed(bank.deduct(DeductRequest("L2", s2, 1_001, *ZHANG_WEI)), "XYB005")  # the first result, again
    failed(bank.deduct(DeductRequest("L2", s2, 500, *ZHANG_WEI)), "XYP005")  # one deduction per lock
    s3 = locked(bank, ZW_AGREEMENT, "V3", "L3", 1_000)
    failed(bank.deduct(DeductRequest("L3", s3, 500, *LI_NA)), "XYB007")  # not the lock's resident
    result = ok(bank.deduct(DeductRequest("L1", s1, 7_500, *ZHANG_WEI)))
    assert result.data["released_fen"] == 2_500 and result.serial.startswith("DD")
    assert available(bank, ZHANG_WEI) == 500_000 - 7_500 - 1_000 - 1_000  # L2, L3 still locked


def test_same_number_same_parameters_is_the_same_operation(bank: BankClient, sandbox: RunningSandbox) -> None:
    serial = locked(bank, ZW_AGREEMENT, "V1", "L1", 10_000)
    first = ok(bank.deduct(DeductRequest("L1", serial, 9_000, *ZHANG_WEI)))
    again = ok(bank.deduct(DeductRequest("L1", serial, 9_000, *ZHANG_WEI)))
    assert again.serial == first.serial
    failed(bank.deduct(DeductRequest("L1", serial, 8_000, *ZHANG_WEI)), "XYP005")
    failed(bank.lock(LockRequest(ZW_AGREEMENT, "V1", "L1", 10_001)), "XYP005")
    failed(bank.confirm(ConfirmRequest(CJ_AGREEMENT, "V1")), "XYP005")
    assert available(bank, ZHANG_WEI) == 500_000 - 9_000
    moves = [m for m in sandbox.admin.ledger()["movements"] if m["op"] == "deduct"]
    assert [(m["number"], m["amount_fen"]) for m in moves] == [("L1", 9_000)]


def test_cancel_releases_before_deduction_only(bank: BankClient) -> None:
    serial = locked(bank, ZW_AGREEMENT, "V1", "L1", 10_000)
    assert ok(bank.cancel(CancelRequest("L1", serial))).data["released_fen"] == 10_000
    assert available(bank, ZHANG_WEI) == 500_000
    assert failed(bank.deduct(DeductRequest("L1", serial, 1, *ZHANG_WEI)), "XYB004").data["lock_status"] == "cancelled"
    serial2 = locked(bank, ZW_AGREEMENT, "V2", "L2", 10_000)
    ok(bank.deduct(DeductRequest("L2", serial2, 10_000, *ZHANG_WEI)))
    failed(bank.cancel(CancelRequest("L2", serial2)), "XYB004")
    failed(bank.cancel(CancelRequest("L3", "LK-none")), "XYP006")


def test_locks_not_deducted_by_midnight_are_released(bank: BankClient, sandbox: RunningSandbox) -> None:
    s1 = locked(bank, ZW_AGREEMENT, "V1", "L1", 10_000)
    s2 = locked(bank, ZW_AGREEMENT, "V1", "L2", 20_000)
    sandbox.admin.end_of_day()  # 23:59:59 of T: still day T
    ok(bank.deduct(DeductRequest("L1", s1, 10_000, *ZHANG_WEI)))
    assert available(bank, ZHANG_WEI) == 500_000 - 30_000
    sandbox.admin.advance(seconds=1)  # 00:00:00 of T+1
    result = failed(bank.deduct(DeductRequest("L2", s2, 20_000, *ZHANG_WEI)), "XYB004")
    assert result.data["lock_status"] == "expired"
    assert available(bank, ZHANG_WEI) == 500_000 - 10_000
    record = ok(bank.after_pay_query(lock_no="L2")).data["record"]
    assert (record["status"], record["lock_status"]) == ("SUCCESS", "expired")


# ------------------------------------------------------------------------------------- refunds & clearing


def test_refund_on_day_t_comes_from_that_days_receivables(bank: BankClient, sandbox: RunningSandbox) -> None:
    serial, _ = deducted(bank, ZHANG_WEI, ZW_AGREEMENT, "L1", 10_000)
    assert sandbox.admin.merchant()["receivables_fen"] == 10_000
    refund = ok(bank.refund(RefundRequest("R1", serial, 4_000)))
    assert refund.data["source"] == "receivables"
    figures = sandbox.admin.merchant()
    assert (figures["receivables_fen"], figures["reserve_fen"]) == (6_000, 2_000_000)  # reserve untouched on T
    assert available(bank, ZHANG_WEI) == 500_000 - 6_000  # credit given back
    failed(bank.refund(RefundRequest("R2", serial, 6_001)), "XYB006")
    failed(bank.refund(RefundRequest("R2", serial, 6_001)), "XYB006")  # R2's first result stands
    failed(bank.refund(RefundRequest("R2", serial, 5_000)), "XYP005")  # R2 was used with other parameters
    sandbox.admin.set_merchant(receivables_fen=1_000)
    failed(bank.refund(RefundRequest("R3", serial, 2_000)), "DCBS0004PL0974")


def test_refund_on_t_plus_n_uses_the_reserve_or_receivables(bank: BankClient, sandbox: RunningSandbox) -> None:
    serial, _ = deducted(bank, ZHANG_WEI, ZW_AGREEMENT, "L1", 10_000)
    sandbox.admin.advance(days=3)
    assert ok(bank.refund(RefundRequest("R1", serial, 3_000))).data["source"] == "reserve"
    assert sandbox.admin.merchant()["reserve_fen"] == 2_000_000 - 3_000
    sandbox.admin.set_merchant(reserve_fen=1_000)
    short = failed(bank.refund(RefundRequest("R2", serial, 2_000)), "DCBS0004PL0974")
    assert short.data["source"] == "reserve"
    sandbox.admin.set_merchant(has_reserve=False)  # no reserve kept: receivables, which are 0 today
    failed(bank.refund(RefundRequest("R3", serial, 2_000)), "DCBS0004PL0974")
    deducted(bank, CHEN_JING, CJ_AGREEMENT, "L9", 5_000)  # today's receivables now 5,000
    assert ok(bank.refund(RefundRequest("R3", serial, 2_000))).data["source"] == "receivables"


def test_resent_refund_after_balance_short_is_a_new_attempt(bank: BankClient, sandbox: RunningSandbox) -> None:
    serial, _ = deducted(bank, ZHANG_WEI, ZW_AGREEMENT, "L1", 10_000)
    sandbox.admin.set_merchant(receivables_fen=0)
    first = failed(bank.refund(RefundRequest("R1", serial, 5_000)), "DCBS0004PL0974")
    assert failed(bank.refund(RefundRequest("R1", serial, 5_000)), "DCBS0004PL0974").serial == first.serial
    sandbox.admin.set_merchant(receivables_fen=5_000)
    again = ok(bank.refund(RefundRequest("R1", serial, 5_000)))
    assert again.serial == first.serial  # one refund number, one serial, whatever the attempts
    assert ok(bank.refund(RefundRequest("R1", serial, 5_000))).serial == first.serial  # now the first SUCCESS
    record = ok(bank.refund_query("R1")).data["record"]
    assert (record["status"], record["attempts"]) == ("SUCCESS", 3)
    refunds = [m for m in sandbox.admin.ledger()["movements"] if m["op"] == "refund"]
    assert [(m["status"], m["serial"]) for m in refunds] == [("FAILED", first.serial)] * 2 + [("SUCCESS", first.serial)]
    assert available(bank, ZHANG_WEI) == 500_000 - 5_000


def test_t_plus_1_clearing_is_net_of_the_days_refunds(bank: BankClient, sandbox: RunningSandbox) -> None:
    serial, _ = deducted(bank, ZHANG_WEI, ZW_AGREEMENT, "L1", 10_000)
    ok(bank.pay(PayRequest(CJ_AGREEMENT, "P1", 30_000)))
    ok(bank.refund(RefundRequest("R1", serial, 1_500)))
    failed(bank.bill(sandbox_day(sandbox)), "XYB008")  # today's bill is not finished
    sandbox.admin.advance(days=1)
    bill = ok(bank.bill(sandbox_day(sandbox, -1))).data
    assert bill["totals"] == {"deductions_fen": 10_000, "pays_fen": 30_000, "refunds_receivables_fen": 1_500,
                              "refunds_reserve_fen": 0, "net_fen": 38_500}
    assert bill["clearing_fen"] == 38_500 and bill["cleared_on"] == sandbox_day(sandbox).isoformat()
    assert [(x["op"], x["number"], x["amount_fen"], x["status"]) for x in bill["lines"]] == [
        ("deduct", "L1", 10_000, "SUCCESS"), ("pay", "P1", 30_000, "SUCCESS"), ("refund", "R1", 1_500, "SUCCESS")]
    assert all(x["serial"] for x in bill["lines"])
    figures = ok(bank.merchant_balance()).data
    assert (figures["receivables_fen"], figures["cleared_total_fen"]) == (0, 38_500)
    assert figures["balance_fen"] == figures["receivables_fen"] + figures["reserve_fen"]


def sandbox_day(sandbox: RunningSandbox, offset: int = 0):  # noqa: ANN201
    from datetime import date, timedelta

    return date.fromisoformat(sandbox.admin.clock()["today"]) + timedelta(days=offset)


def test_bill_only_for_the_last_month(bank: BankClient, sandbox: RunningSandbox) -> None:
    sandbox.admin.advance(days=40)
    ok(bank.bill(sandbox_day(sandbox, -31)))
    failed(bank.bill(sandbox_day(sandbox, -32)), "XYB008")


def test_pay_check_pay_and_pay_query(bank: BankClient) -> None:
    assert ok(bank.pay_check(WF_AGREEMENT, 3_000)).data["can_pay"] is True
    assert ok(bank.pay_check(WF_AGREEMENT, 3_001)).data["can_pay"] is False
    failed(bank.pay(PayRequest(WF_AGREEMENT, "P1", 3_001)), "XYB002")
    paid = ok(bank.pay(PayRequest(WF_AGREEMENT, "P2", 2_000)))
    record = ok(bank.pay_query("P2")).data["record"]
    assert (record["status"], record["serial"], record["amount_fen"]) == ("SUCCESS", paid.serial, 2_000)
    failed(bank.pay_query("P404"), "XYP006")
    assert available(bank, ("王芳", "01", "510105199001052020")) == 1_000
    assert ok(bank.refund(RefundRequest("R1", paid.serial, 2_000))).data["source"] == "receivables"


# ------------------------------------------------------------------------------------------ family


def test_family_group_rules(sandbox: RunningSandbox) -> None:
    admin = sandbox.admin
    for i in range(6):  # 张伟 already has two members
        admin.create_resident(f"亲属{i}", "01", f"5101041990010100{i:02d}")
        admin.bind(ZHANG_WEI[1:], ("01", f"5101041990010100{i:02d}"))
    admin.create_resident("第九人", "01", "510104199001010099")
    with pytest.raises(AdminError, match="最多绑定 8"):
        admin.bind(ZHANG_WEI[1:], ("01", "510104199001010099"))
    with pytest.raises(AdminError, match="只能被一个"):
        admin.bind(CHEN_JING[1:], LI_NA[1:])
    with pytest.raises(AdminError, match="需先解约"):
        admin.bind(CHEN_JING[1:], ZHANG_WEI[1:])
    admin.unbind(*LI_NA[1:])
    admin.bind(CHEN_JING[1:], LI_NA[1:])  # free again: may join another holder
    admin.bind(ZHANG_WEI[1:], ("01", "510104199001010099"))
    # a holder with no debt terminates, then may join a group
    admin.terminate(*("01", "510105199001052020"))
    admin.bind(CHEN_JING[1:], ("01", "510105199001052020"))
    assert admin.account(*CHEN_JING[1:])["members"] == [LI_NA[2], "510105199001052020"]


def test_holder_with_debt_cannot_terminate(bank: BankClient, sandbox: RunningSandbox) -> None:
    deducted(bank, ZHANG_WEI, ZW_AGREEMENT, "L1", 1_000)
    with pytest.raises(AdminError, match="还清"):
        sandbox.admin.terminate(*ZHANG_WEI[1:])
    sandbox.admin.repay(*ZHANG_WEI[1:], 1_000)
    sandbox.admin.terminate(*ZHANG_WEI[1:])
    assert ok(bank.sign_query(*LI_NA)).data["signed"] is False  # members go with the holder


# -------------------------------------------------------------------------------------- instalments


def test_unpaid_bill_after_the_interest_free_period_becomes_six_instalments(bank: BankClient,
                                                                           sandbox: RunningSandbox) -> None:
    sandbox.admin.settings(interest_free_days=20, annual_rate_bp=1200)
    deducted(bank, ZHANG_WEI, ZW_AGREEMENT, "L1", 100_001)
    sandbox.admin.advance(days=20)
    assert ok(bank.sign_query(*ZHANG_WEI)).data["instalments"] == []  # the last interest-free day
    sandbox.admin.advance(days=1)
    plans = ok(bank.sign_query(*ZHANG_WEI)).data["instalments"]
    assert len(plans) == 1
    plan = plans[0]
    assert (plan["principal_fen"], plan["periods"], plan["paid_periods"]) == (100_001, 6, 0)
    assert plan["next_amount_fen"] == 16_666 + 1_000  # principal / 6 + 1 % a month on 100,001
    account = sandbox.admin.account(*ZHANG_WEI[1:])
    assert account["used_fen"] == 100_001 and account["owed_fen"] > 100_001
    assert ok(bank.sign_query(*LI_NA)).data["instalments"] == []  # shown to the holder only
    sandbox.admin.repay(*ZHANG_WEI[1:], plan["next_amount_fen"])
    plan = ok(bank.sign_query(*ZHANG_WEI)).data["instalments"][0]
    assert plan["paid_periods"] == 1
    assert sandbox.admin.account(*ZHANG_WEI[1:])["used_fen"] == 100_001 - 16_666


def test_instalment_principal_remainder_goes_on_the_last_period(sandbox: RunningSandbox, bank: BankClient) -> None:
    sandbox.admin.settings(interest_free_days=1, annual_rate_bp=0)
    deducted(bank, ZHANG_WEI, ZW_AGREEMENT, "L1", 1_001)
    sandbox.admin.advance(days=2)
    plan = ok(bank.sign_query(*ZHANG_WEI)).data["instalments"][0]
    assert plan["next_amount_fen"] == 166 and plan["remaining_fen"] == 1_001
    for _ in range(5):
        sandbox.admin.repay(*ZHANG_WEI[1:], 166)
    last = ok(bank.sign_query(*ZHANG_WEI)).data["instalments"][0]
    assert (last["paid_periods"], last["next_amount_fen"]) == (5, 171)


# ------------------------------------------------------------------------------------------ persistence


def test_state_survives_a_restart(tmp_path) -> None:  # noqa: ANN001
    with running_sandbox(tmp_path / "bank.sqlite3") as first:
        bank = demo_client(first.url)
        serial = locked(bank, ZW_AGREEMENT, "V1", "L1", 10_000)
        first.admin.end_of_day()
        bank.close()
    with running_sandbox(tmp_path / "bank.sqlite3") as second:  # demo seeding skips a non-empty database
        second.admin.set_clock("2026-11-23T23:59:59")
        bank = demo_client(second.url)
        assert ok(bank.lock(LockRequest(ZW_AGREEMENT, "V1", "L1", 10_000))).serial == serial
        assert available(bank, ZHANG_WEI) == 490_000
        ok(bank.deduct(DeductRequest("L1", serial, 10_000, *ZHANG_WEI)))
        bank.close()
