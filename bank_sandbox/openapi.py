"""The OpenAPI 3 document served at ``/openapi.json`` — the same interfaces and fields as docs/bank-api.md."""

from __future__ import annotations

from typing import Any

from bank_sandbox import codes

S, I, B, A, O = "string", "integer", "boolean", "array", "object"  # noqa: E741

# interface: (summary, request fields, reply fields); a field is (type, description, required?)
INTERFACES: dict[str, tuple[str, dict[str, tuple], dict[str, tuple]]] = {
    "sign_query": ("签约查询 sign-status query", {
        "name_enc": (S, "SM4-GCM encrypted name", True), "id_type": (S, "01 身份证 / 02 港澳 / 03 台湾 / 04 护照", True),
        "id_no_enc": (S, "SM4-GCM encrypted ID number", True)}, {
        "signed": (B, "signed now", True), "agreement_no": (S, "签约协议号 (null when not signed)", False),
        "role": (S, "holder (额度主体人) / member (额度共享人, 亲情付) / null", False),
        "holder_name_masked": (S, "the holder's masked name, for a member", False),
        "limit_fen": (I, "the holder's credit limit", True), "available_fen": (I, "available credit", True),
        "instalments": (A, "分期付 plans of a holder (plan_no, principal_fen, periods, paid_periods, start_date, "
                           "annual_rate_bp, next_due_date, next_amount_fen, remaining_fen)", True)}),
    "confirm": ("确认 confirm (keyed by visit_no)", {
        "agreement_no": (S, "签约协议号", True), "visit_no": (S, "the hospital's visit number", True)}, {
        "serial": (S, "confirmation serial", False)}),
    "lock": ("锁定 lock (keyed by lock_no)", {
        "agreement_no": (S, "签约协议号", True), "visit_no": (S, "a confirmed visit", True),
        "lock_no": (S, "the hospital's lock / order number", True), "amount_fen": (I, "amount to lock", True)}, {
        "serial": (S, "lock serial", False), "available_fen": (I, "available credit after the lock", False),
        "family_pay": (B, "locked on a 亲情付 holder's credit", False)}),
    "deduct": ("扣除 deduct (keyed by lock_no)", {
        "lock_no": (S, "the lock's number", True), "lock_serial": (S, "the lock serial", True),
        "amount_fen": (I, "actual amount, ≤ the lock; the rest is released", True),
        "name_enc": (S, "SM4-GCM encrypted name", True), "id_type": (S, "ID type", True),
        "id_no_enc": (S, "SM4-GCM encrypted ID number", True)}, {
        "serial": (S, "deduction serial", False), "lock_serial": (S, "the lock serial", False),
        "released_fen": (I, "lock amount not deducted (released)", False)}),
    "cancel": ("取消 cancel (keyed by lock_no)", {
        "lock_no": (S, "the lock's number", True), "lock_serial": (S, "the lock serial", True)}, {
        "serial": (S, "cancel serial", False), "released_fen": (I, "credit released", False)}),
    "refund": ("退款 refund (keyed by refund_no)", {
        "refund_no": (S, "the hospital's refund number (the same on every retry)", True),
        "original_serial": (S, "lock serial or deduction serial of a deducted lock, or a pay serial", True),
        "amount_fen": (I, "≤ deducted/paid minus earlier refunds", True)}, {
        "serial": (S, "refund serial (the same for every attempt of this refund number)", False),
        "source": (S, "receivables / reserve", False), "original_serial": (S, "as sent", False)}),
    "pay_check": ("支付校验 pay check", {
        "agreement_no": (S, "签约协议号", True), "amount_fen": (I, "amount to pay", True)}, {
        "can_pay": (B, "the whole amount can be paid", False), "available_fen": (I, "available credit", False)}),
    "pay": ("支付 pay (keyed by payment_no)", {
        "agreement_no": (S, "签约协议号", True), "payment_no": (S, "the hospital's payment number", True),
        "amount_fen": (I, "amount", True)}, {
        "serial": (S, "pay serial", False), "available_fen": (I, "available credit after paying", False)}),
    "pay_query": ("支付查询 pay query", {"payment_no": (S, "payment number", True)},
                  {"record": (O, "the pay's record (see Record)", False)}),
    "after_pay_query": ("医后付查询 after-pay query (confirm or lock)", {
        "visit_no": (S, "query a confirm (exactly one of visit_no / lock_no)", False),
        "lock_no": (S, "query a lock", False)}, {"record": (O, "the record, with lock_status for a lock", False)}),
    "refund_query": ("退款查询 refund query", {"refund_no": (S, "refund number", True)},
                     {"record": (O, "the refund's record", False)}),
    "bill": ("下载账单 bill download (any finished day of the last 31 days)", {
        "bill_date": (S, "YYYY-MM-DD", True)}, {
        "bill_date": (S, "the day", False),
        "lines": (A, "serial, op (deduct/pay/refund), number, amount_fen, status, code, source, time", False),
        "totals": (O, "deductions_fen, pays_fen, refunds_receivables_fen, refunds_reserve_fen, net_fen", False),
        "clearing_fen": (I, "amount cleared on the next day (null before then)", False),
        "cleared_on": (S, "clearing day", False)}),
    "merchant_balance": ("暂收金额查询 merchant balance", {}, {
        "balance_fen": (I, "暂收金额 = receivables_fen + reserve_fen", False),
        "receivables_fen": (I, "today's uncleared receivables net of refunds taken from them", False),
        "reserve_fen": (I, "refund reserve (退款预留金额) left", False), "has_reserve": (B, "reserve kept", False),
        "cleared_total_fen": (I, "everything cleared to the hospital so far", False), "as_of": (S, "bank time", False)}),
}


def _schema(fields: dict[str, tuple]) -> dict[str, Any]:
    props = {name: {"type": t, "description": d} for name, (t, d, _) in fields.items()}
    required = [name for name, (_, _, req) in fields.items() if req]
    out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        out["required"] = required
    return out


def _envelope(name: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": ["version", "merchant_id", "interface", "timestamp", "nonce", "data",
                                           "sign"],
            "properties": {"version": {"type": S, "enum": ["1"]}, "merchant_id": {"type": S},
                           "interface": {"type": S, "enum": [name]},
                           "timestamp": {"type": S, "description": "Unix time in milliseconds (real time)"},
                           "nonce": {"type": S, "description": "16–64 characters, never reused"},
                           "data": data, "sign": {"type": S, "description": "hex HMAC-SM3 of the canonical string"}}}


def document() -> dict[str, Any]:
    common = {"status": (S, "SUCCESS / FAILED / PROCESSING", True), "code": (S, "result code", True),
              "message": (S, "Chinese text", True)}
    paths = {}
    for name, (summary, req, rsp) in INTERFACES.items():
        paths[f"/api/v1/{name}"] = {"post": {
            "operationId": name, "summary": summary,
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": _envelope(name, _schema(req))}}},
            "responses": {"200": {"description": "signed reply (kind RSP, echoing the request nonce)",
                                  "content": {"application/json": {"schema": _envelope(
                                      name, _schema({**common, **rsp}))}}}}}}
    return {"openapi": "3.0.3",
            "info": {"title": "信用就医 bank protocol v1 (desktop_his sandbox)", "version": "1",
                     "description": "See docs/bank-api.md: canonical string, HMAC-SM3, SM4-GCM, idempotency."},
            "paths": paths,
            "components": {"schemas": {"ResultCodes": {"type": S, "enum": sorted(codes.MESSAGES),
                                                       "description": "; ".join(f"{k} {v}" for k, v in
                                                                                sorted(codes.MESSAGES.items()))}}}}
