"""Turning answers into typed results; ``require`` raises for a plain call that did not succeed."""

from __future__ import annotations

from datetime import date
from typing import Any

from desktop_his.services.bank.protocol import (
    BankResult,
    BankStatus,
    Bill,
    BillLine,
    Code,
    Instalment,
    MerchantBalance,
    OpRecord,
    OutcomeState,
    SignStatus,
    message_for,
)
from desktop_his.services.errors import BankError, BankOutcomeUnknown


def require(result: BankResult) -> BankResult:
    if result.state is OutcomeState.SUCCESS:
        return result
    text = f"{result.message or message_for(result.code)}（{result.code}）"
    if result.state is OutcomeState.UNKNOWN:
        raise BankOutcomeUnknown(f"暂时无法从银行得到结果：{text}，请稍后重试", code=result.code)
    raise BankError(text, code=result.code)


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if value else None


def sign_status(result: BankResult) -> SignStatus:
    d = result.data
    plans = tuple(Instalment(p["plan_no"], p["principal_fen"], p["periods"], p["paid_periods"],
                             date.fromisoformat(p["start_date"]), p["annual_rate_bp"], _day(p.get("next_due_date")),
                             p["next_amount_fen"], p["remaining_fen"]) for p in d.get("instalments") or [])
    return SignStatus(bool(d["signed"]), d.get("agreement_no"), d.get("role"), d.get("holder_name_masked"),
                      int(d.get("limit_fen") or 0), int(d.get("available_fen") or 0), plans)


def merchant_balance(result: BankResult) -> MerchantBalance:
    d = result.data
    return MerchantBalance(d["balance_fen"], d["receivables_fen"], d["reserve_fen"], bool(d["has_reserve"]),
                           d["cleared_total_fen"], d["as_of"])


def bill(result: BankResult) -> Bill:
    d, t = result.data, result.data["totals"]
    lines = tuple(BillLine(x["serial"], x["op"], x["number"], x["amount_fen"], x["status"], x["code"], x["source"],
                           x["time"]) for x in d["lines"])
    return Bill(date.fromisoformat(d["bill_date"]), lines, t["deductions_fen"], t["pays_fen"],
                t["refunds_receivables_fen"], t["refunds_reserve_fen"], t["net_fen"], d.get("clearing_fen"),
                _day(d.get("cleared_on")))


def record_result(answer: BankResult) -> BankResult:
    """The queried operation's own result, as if its original reply had arrived (plus the lock's state)."""
    rec = answer.data["record"]
    data = dict(rec.get("result") or {})
    for extra in ("lock_status", "deducted_fen", "refunded_fen", "deduct_serial"):
        if extra in rec:
            data[extra] = rec[extra]
    return BankResult(BankStatus(rec["status"]), rec["code"], rec["message"], rec.get("serial"), data)


def op_record(answer: BankResult) -> OpRecord | None:
    """A query's answer: the record, or None when the bank never saw the number."""
    if answer.status is BankStatus.FAILED and answer.code == Code.NOT_FOUND:
        return None
    require(answer)
    rec = answer.data["record"]
    found = record_result(answer)
    return OpRecord(rec["op"], rec["number"], BankStatus(rec["status"]), rec["code"], rec["message"],
                    rec.get("serial"), rec.get("amount_fen"), date.fromisoformat(rec["day"]), found.data)
