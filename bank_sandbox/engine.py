"""The bank's money interfaces (SPEC §2), run inside one store transaction each.

Idempotency: every money operation is stored in ``op_record`` under (op, the hospital's number) with its
canonical parameters and its first result. The same number with the same parameters returns that result and
moves nothing; with other parameters it is refused with ``XYP005``. One exception, on purpose: a refund whose
stored result is ``DCBS0004PL0974`` (merchant balance short) is attempted again when the same refund number
comes back with the same parameters — that is how the hospital's refund queue retries (plan §二.5).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from bank_sandbox import codes
from bank_sandbox.accounts import Accounts
from bank_sandbox.rules import (
    Invalid,
    Refusal,
    amount,
    available,
    canonical,
    id_type,
    mask_name,
    next_serial,
    only_fields,
    signed_resident,
    text,
)

MONEY_OPS = ("confirm", "lock", "deduct", "cancel", "refund", "pay")
QUERY_OPS = ("pay_query", "after_pay_query", "refund_query")
INTERFACES = ("sign_query",) + MONEY_OPS + ("pay_check",) + QUERY_OPS + ("bill", "merchant_balance")
PREFIX = {"confirm": "CF", "lock": "LK", "deduct": "DD", "cancel": "CX", "refund": "RF", "pay": "PY"}


def ok(**fields: Any) -> dict[str, Any]:
    return {"status": "SUCCESS", "code": codes.OK, "message": codes.message(codes.OK), **fields}


def failed(code: str, message: str | None = None, **fields: Any) -> dict[str, Any]:
    return {"status": "FAILED", "code": code, "message": message or codes.message(code), **fields}


class Bank(Accounts):
    """The interfaces. ``decrypt(field, token)`` turns an encrypted field into text (set by the server)."""

    def handle(self, interface: str, data: dict[str, Any], decrypt: Callable[[str, Any], str]) -> dict:
        """Run one interface call; call inside ``store.tx()``."""
        self.roll_over()
        try:
            return getattr(self, "op_" + interface)(data, decrypt)
        except Invalid as exc:
            return failed(exc.code, exc.message)
        except Refusal as exc:  # refusals of the non-money interfaces
            return failed(exc.code, exc.message, **exc.fields)

    # ------------------------------------------------------------------------------ idempotency

    def _idempotent(self, op: str, number: str, params: dict[str, Any], body: Callable[[], dict]) -> dict:
        canon = canonical(params)
        rec = self.store.one("SELECT * FROM op_record WHERE op = ? AND number = ?", op, number)
        if rec is not None:
            if rec["params"] != canon:
                return failed(codes.IDEMPOTENCY_CONFLICT)
            retry = op == "refund" and rec["code"] == codes.REFUND_BALANCE_SHORT
            if not retry:
                return json.loads(rec["result"])
        self.store.run("SAVEPOINT op")
        try:
            result = body()
            self.store.run("RELEASE op")
        except Refusal as exc:
            self.store.run("ROLLBACK TO op")
            self.store.run("RELEASE op")
            result = failed(exc.code, exc.message, **exc.fields)
            if isinstance(exc, Invalid):
                return result
            if op == "refund" and exc.code == codes.REFUND_BALANCE_SHORT:
                self._movement("refund", number, exc.fields["serial"], params["amount_fen"], "FAILED",
                               exc.code, exc.fields.get("source", ""), None)
        now = self.now().isoformat()
        values = (result["status"], result["code"], result["message"], result.get("serial"),
                  params.get("amount_fen"), json.dumps(result, ensure_ascii=False))
        if rec is None:
            self.store.run("INSERT INTO op_record (op, number, params, status, code, message, serial, amount_fen, "
                           "result, day, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                           op, number, canon, *values, self.today().isoformat(), now, now)
        else:
            self.store.run("UPDATE op_record SET status=?, code=?, message=?, serial=?, amount_fen=?, result=?, "
                           "updated_at=?, attempts = attempts + 1 WHERE op=? AND number=?",
                           *values, now, op, number)
        return result

    def _movement(self, op: str, number: str, serial: str, amount_fen: int, status: str, code: str,
                  source: str, holder_id: int | None) -> None:
        self.store.run("INSERT INTO movement (day, at, serial, op, number, amount_fen, status, code, source, "
                       "holder_id) VALUES (?,?,?,?,?,?,?,?,?,?)", self.today().isoformat(),
                       self.now().isoformat(), serial, op, number, amount_fen, status, code, source, holder_id)

    # ------------------------------------------------------------------------------ non-money

    def op_sign_query(self, data: dict, decrypt: Callable) -> dict:
        only_fields(data, {"name_enc", "id_type", "id_no_enc"})
        kind = id_type(data)
        name, number = decrypt("name_enc", data.get("name_enc")), decrypt("id_no_enc", data.get("id_no_enc"))
        row = self.store.one("SELECT * FROM resident WHERE id_type = ? AND id_number = ?", kind, number)
        if row is None or row["name"] != name or row["state"] != "signed":
            return ok(signed=False, agreement_no=None, role=None, holder_name_masked=None, limit_fen=0,
                      available_fen=0, instalments=[])
        holder = row
        if row["role"] == "member":
            holder = self.store.one("SELECT * FROM resident WHERE id = ?", row["holder_id"])
        return ok(signed=True, agreement_no=row["agreement_no"], role=row["role"],
                  holder_name_masked=mask_name(holder["name"]) if row["role"] == "member" else None,
                  limit_fen=holder["limit_fen"], available_fen=available(holder),
                  instalments=self.instalment_info(holder["id"]) if row["role"] == "holder" else [])

    def op_pay_check(self, data: dict, decrypt: Callable) -> dict:
        only_fields(data, {"agreement_no", "amount_fen"})
        agreement, fen = text(data, "agreement_no"), amount(data)
        _, holder = signed_resident(self.store, agreement)
        return ok(can_pay=fen <= available(holder), available_fen=available(holder))

    def op_merchant_balance(self, data: dict, decrypt: Callable) -> dict:
        only_fields(data, set())
        return ok(as_of=self.now().isoformat(), **self.merchant_figures())

    def op_bill(self, data: dict, decrypt: Callable) -> dict:
        only_fields(data, {"bill_date"})
        try:
            day = date.fromisoformat(text(data, "bill_date", max_len=10))
        except ValueError as exc:
            raise Invalid("字段 bill_date 必须是 YYYY-MM-DD") from exc
        today = self.today()
        if not (today - timedelta(days=31) <= day < today):
            raise Refusal(codes.BILL_NOT_AVAILABLE)
        return ok(**self.bill(day))

    # ------------------------------------------------------------------------------ queries

    def _record(self, op: str, number: str) -> dict:
        rec = self.store.one("SELECT * FROM op_record WHERE op = ? AND number = ?", op, number)
        if rec is None:
            raise Refusal(codes.NOT_FOUND)
        out = {"op": op, "number": number, "status": rec["status"], "code": rec["code"],
               "message": rec["message"], "serial": rec["serial"], "amount_fen": rec["amount_fen"],
               "day": rec["day"], "attempts": rec["attempts"], "result": json.loads(rec["result"])}
        if op == "lock":
            lock = self.store.one("SELECT * FROM lock WHERE lock_no = ?", number)
            if lock is not None:
                out.update(lock_status=lock["status"], deducted_fen=lock["deducted_fen"],
                           refunded_fen=lock["refunded_fen"], deduct_serial=lock["deduct_serial"])
        return ok(record=out)

    def op_pay_query(self, data: dict, decrypt: Callable) -> dict:
        only_fields(data, {"payment_no"})
        return self._record("pay", text(data, "payment_no"))

    def op_refund_query(self, data: dict, decrypt: Callable) -> dict:
        only_fields(data, {"refund_no"})
        return self._record("refund", text(data, "refund_no"))

    def op_after_pay_query(self, data: dict, decrypt: Callable) -> dict:
        only_fields(data, {"visit_no", "lock_no"})
        if ("visit_no" in data) == ("lock_no" in data):
            raise Invalid("请给出 visit_no（查确认）或 lock_no（查锁定）之一")
        if "visit_no" in data:
            return self._record("confirm", text(data, "visit_no"))
        return self._record("lock", text(data, "lock_no"))

    # ------------------------------------------------------------------------------ money

    def op_confirm(self, data: dict, decrypt: Callable) -> dict:
        only_fields(data, {"agreement_no", "visit_no"})
        params = {"agreement_no": text(data, "agreement_no"), "visit_no": text(data, "visit_no")}

        def body() -> dict:
            resident, _ = signed_resident(self.store, params["agreement_no"])
            serial = next_serial(self.store, PREFIX["confirm"], self.today())
            self.store.run("INSERT INTO confirmation VALUES (?,?,?,?,?)", params["visit_no"],
                           params["agreement_no"], resident["id"], serial, self.today().isoformat())
            return ok(serial=serial)

        return self._idempotent("confirm", params["visit_no"], params, body)

    def op_lock(self, data: dict, decrypt: Callable) -> dict:
        only_fields(data, {"agreement_no", "visit_no", "lock_no", "amount_fen"})
        params = {"agreement_no": text(data, "agreement_no"), "visit_no": text(data, "visit_no"),
                  "lock_no": text(data, "lock_no"), "amount_fen": amount(data)}

        def body() -> dict:
            resident, holder = signed_resident(self.store, params["agreement_no"])
            conf = self.store.one("SELECT * FROM confirmation WHERE visit_no = ?", params["visit_no"])
            if conf is None or conf["agreement_no"] != params["agreement_no"]:
                raise Refusal(codes.NOT_CONFIRMED)
            if params["amount_fen"] > available(holder):
                raise Refusal(codes.CREDIT_SHORT, available_fen=available(holder))
            serial = next_serial(self.store, PREFIX["lock"], self.today())
            self.store.run("INSERT INTO lock (lock_no, serial, visit_no, agreement_no, resident_id, holder_id, "
                           "amount_fen, status, day, created_at) VALUES (?,?,?,?,?,?,?,'locked',?,?)",
                           params["lock_no"], serial, params["visit_no"], params["agreement_no"],
                           resident["id"], holder["id"], params["amount_fen"], self.today().isoformat(),
                           self.now().isoformat())
            self.store.run("UPDATE resident SET locked_fen = locked_fen + ? WHERE id = ?",
                           params["amount_fen"], holder["id"])
            return ok(serial=serial, available_fen=available(holder) - params["amount_fen"],
                      family_pay=resident["role"] == "member")

        return self._idempotent("lock", params["lock_no"], params, body)

    def _active_lock(self, lock_no: str, serial: str) -> Any:
        lock = self.store.one("SELECT * FROM lock WHERE lock_no = ?", lock_no)
        if lock is None or lock["serial"] != serial:
            raise Refusal(codes.NOT_FOUND)
        if lock["status"] != "locked":
            raise Refusal(codes.LOCK_NOT_ACTIVE, lock_status=lock["status"])
        return lock

    def op_deduct(self, data: dict, decrypt: Callable) -> dict:
        only_fields(data, {"lock_no", "lock_serial", "amount_fen", "name_enc", "id_type", "id_no_enc"})
        params = {"lock_no": text(data, "lock_no"), "lock_serial": text(data, "lock_serial"),
                  "amount_fen": amount(data), "id_type": id_type(data),
                  "name": decrypt("name_enc", data.get("name_enc")),
                  "id_number": decrypt("id_no_enc", data.get("id_no_enc"))}

        def body() -> dict:
            lock = self.store.one("SELECT * FROM lock WHERE lock_no = ?", params["lock_no"])
            who = lock and self.store.one("SELECT * FROM resident WHERE id = ?", lock["resident_id"])
            if who is not None and (who["name"], who["id_type"], who["id_number"]) != (
                    params["name"], params["id_type"], params["id_number"]):
                raise Refusal(codes.IDENTITY_MISMATCH)
            lock = self._active_lock(params["lock_no"], params["lock_serial"])
            if params["amount_fen"] > lock["amount_fen"]:
                raise Refusal(codes.EXCEEDS_LOCK)
            serial = next_serial(self.store, PREFIX["deduct"], self.today())
            self.store.run("UPDATE lock SET status = 'deducted', deducted_fen = ?, deduct_serial = ?, "
                           "deduct_day = ?, closed_at = ? WHERE lock_no = ?", params["amount_fen"], serial,
                           self.today().isoformat(), self.now().isoformat(), params["lock_no"])
            self.store.run("UPDATE resident SET locked_fen = locked_fen - ?, used_fen = used_fen + ? "
                           "WHERE id = ?", lock["amount_fen"], params["amount_fen"], lock["holder_id"])
            self._collect("deduct", params["lock_no"], serial, params["amount_fen"], lock["holder_id"])
            return ok(serial=serial, lock_serial=lock["serial"],
                      released_fen=lock["amount_fen"] - params["amount_fen"])

        return self._idempotent("deduct", params["lock_no"], params, body)

    def op_cancel(self, data: dict, decrypt: Callable) -> dict:
        only_fields(data, {"lock_no", "lock_serial"})
        params = {"lock_no": text(data, "lock_no"), "lock_serial": text(data, "lock_serial")}

        def body() -> dict:
            lock = self._active_lock(params["lock_no"], params["lock_serial"])
            serial = next_serial(self.store, PREFIX["cancel"], self.today())
            self.store.run("UPDATE lock SET status = 'cancelled', closed_at = ? WHERE lock_no = ?",
                           self.now().isoformat(), params["lock_no"])
            self.store.run("UPDATE resident SET locked_fen = locked_fen - ? WHERE id = ?",
                           lock["amount_fen"], lock["holder_id"])
            return ok(serial=serial, lock_serial=lock["serial"], released_fen=lock["amount_fen"])

        return self._idempotent("cancel", params["lock_no"], params, body)

    def op_pay(self, data: dict, decrypt: Callable) -> dict:
        only_fields(data, {"agreement_no", "payment_no", "amount_fen"})
        params = {"agreement_no": text(data, "agreement_no"), "payment_no": text(data, "payment_no"),
                  "amount_fen": amount(data)}

        def body() -> dict:
            resident, holder = signed_resident(self.store, params["agreement_no"])
            if params["amount_fen"] > available(holder):
                raise Refusal(codes.CREDIT_SHORT, available_fen=available(holder))
            serial = next_serial(self.store, PREFIX["pay"], self.today())
            self.store.run("INSERT INTO payment (payment_no, serial, agreement_no, resident_id, holder_id, "
                           "amount_fen, day, at) VALUES (?,?,?,?,?,?,?,?)", params["payment_no"], serial,
                           params["agreement_no"], resident["id"], holder["id"], params["amount_fen"],
                           self.today().isoformat(), self.now().isoformat())
            self.store.run("UPDATE resident SET used_fen = used_fen + ? WHERE id = ?", params["amount_fen"],
                           holder["id"])
            self._collect("pay", params["payment_no"], serial, params["amount_fen"], holder["id"])
            return ok(serial=serial, available_fen=available(holder) - params["amount_fen"])

        return self._idempotent("pay", params["payment_no"], params, body)

    def _collect(self, op: str, number: str, serial: str, fen: int, holder_id: int) -> None:
        """Money taken from credit today: the merchant's receivables grow, the holder owes a bill line."""
        self._movement(op, number, serial, fen, "SUCCESS", codes.OK, "receivables", holder_id)
        self.adjust_merchant(receivables=fen)
        self.open_debt(holder_id, serial, fen)

    def op_refund(self, data: dict, decrypt: Callable) -> dict:
        only_fields(data, {"refund_no", "original_serial", "amount_fen"})
        params = {"refund_no": text(data, "refund_no"), "original_serial": text(data, "original_serial"),
                  "amount_fen": amount(data)}
        prior = self.store.one("SELECT serial FROM op_record WHERE op = 'refund' AND number = ?",
                               params["refund_no"])

        def body() -> dict:
            origin = self._refund_origin(params["original_serial"])
            fen = params["amount_fen"]
            if fen > origin["refundable"]:
                raise Refusal(codes.EXCEEDS_REFUNDABLE, refundable_fen=origin["refundable"])
            serial = (prior and prior["serial"]) or next_serial(self.store, PREFIX["refund"], self.today())
            source = self.refund_source(origin["day"])
            if fen > self.merchant_figures()[source + "_fen"]:
                raise Refusal(codes.REFUND_BALANCE_SHORT, serial=serial, source=source)
            self.adjust_merchant(**{source: -fen})
            self.store.run(f"UPDATE {origin['table']} SET refunded_fen = refunded_fen + ? WHERE {origin['key']} = ?",
                           fen, origin["number"])
            self.restore_credit(origin["holder_id"], origin["debt_serial"], fen)
            self._movement("refund", params["refund_no"], serial, fen, "SUCCESS", codes.OK, source,
                           origin["holder_id"])
            return ok(serial=serial, source=source, original_serial=params["original_serial"])

        return self._idempotent("refund", params["refund_no"], params, body)

    def _refund_origin(self, serial: str) -> dict[str, Any]:
        """A deducted lock (by lock serial or deduction serial) or a pay (by pay serial)."""
        lock = self.store.one("SELECT * FROM lock WHERE (serial = ? OR deduct_serial = ?) AND status = 'deducted'",
                              serial, serial)
        if lock is not None:
            return {"table": "lock", "key": "lock_no", "number": lock["lock_no"], "day": lock["deduct_day"],
                    "holder_id": lock["holder_id"], "debt_serial": lock["deduct_serial"],
                    "refundable": lock["deducted_fen"] - lock["refunded_fen"]}
        pay = self.store.one("SELECT * FROM payment WHERE serial = ?", serial)
        if pay is not None:
            return {"table": "payment", "key": "payment_no", "number": pay["payment_no"], "day": pay["day"],
                    "holder_id": pay["holder_id"], "debt_serial": pay["serial"],
                    "refundable": pay["amount_fen"] - pay["refunded_fen"]}
        raise Refusal(codes.NOT_FOUND, "原交易流水号不存在或未扣款")
