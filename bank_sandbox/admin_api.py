"""The admin API (``/admin/<name>``): the bank's back office and the test harness's controls.

Every call needs the admin token in ``X-Admin-Token``. Bodies and replies are plain JSON (not signed: the
admin API is a test and demo tool, not part of the bank protocol). Errors: 400 bad input, 401 bad token,
404 unknown route, 409 refused by the bank's rules (``{"code", "message"}``).
"""

from __future__ import annotations

import hmac
import json
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from bank_sandbox import codes
from bank_sandbox.rules import ID_TYPES, MAX_AMOUNT_FEN, Refusal

if TYPE_CHECKING:
    from bank_sandbox.server import Sandbox


def _fen(body: dict[str, Any], name: str, *, allow_zero: bool = True) -> int:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < (0 if allow_zero else 1) \
            or value > MAX_AMOUNT_FEN:
        raise ValueError(f"{name} must be a non-negative integer number of fen")
    return value


class AdminApi:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sb = sandbox
        self.bank = sandbox.bank
        self.routes = {
            ("POST", "resident"): self.resident, ("POST", "sign"): self.sign,
            ("POST", "terminate"): self.terminate, ("POST", "bind"): self.bind, ("POST", "unbind"): self.unbind,
            ("POST", "limit"): self.limit, ("POST", "repay"): self.repay, ("POST", "account"): self.account,
            ("GET", "merchant"): self.merchant, ("POST", "merchant"): self.set_merchant,
            ("GET", "clock"): self.clock, ("POST", "clock"): self.set_clock,
            ("POST", "settings"): self.settings, ("GET", "faults"): self.list_faults,
            ("POST", "faults"): self.add_fault, ("POST", "faults/clear"): self.clear_faults,
            ("GET", "ledger"): self.ledger, ("GET", "summary"): self.summary, ("POST", "seed_demo"): self.seed_demo,
        }

    def dispatch(self, method: str, path: str, raw: bytes, token: str | None) -> tuple[int, dict[str, Any]]:
        if not path.startswith("/admin/"):
            return 404, {"code": codes.UNKNOWN_INTERFACE, "message": "not found"}
        if not hmac.compare_digest((token or "").encode(), self.sb.admin_token.encode()):
            return 401, {"code": "ADMIN401", "message": "admin token missing or wrong"}
        route = self.routes.get((method, path.removeprefix("/admin/")))
        if route is None:
            return 404, {"code": codes.UNKNOWN_INTERFACE, "message": f"no admin route {method} {path}"}
        try:
            body = json.loads(raw.decode("utf-8")) if raw else {}
            if not isinstance(body, dict):
                raise ValueError("body must be a JSON object")
            with self.sb.store.tx():
                self.bank.roll_over()
                return 200, route(body)
        except Refusal as exc:
            return 409, {"code": exc.code, "message": exc.message}
        except (ValueError, KeyError, TypeError) as exc:
            return 400, {"code": codes.VALIDATION, "message": str(exc)}

    def _who(self, body: dict[str, Any], prefix: str = "") -> int:
        kind, number = body[prefix + "id_type"], body[prefix + "id_number"]
        if kind not in ID_TYPES or not isinstance(number, str):
            raise ValueError("id_type must be 01/02/03/04 and id_number a string")
        return self.bank.resident(kind, number)["id"]

    # residents ------------------------------------------------------------------------------------
    def resident(self, b: dict) -> dict:
        if b.get("id_type") not in ID_TYPES or not b.get("name") or not b.get("id_number"):
            raise ValueError("name, id_type (01–04) and id_number are required")
        return self.bank.create_resident(b["name"], b["id_type"], b["id_number"], b.get("phone", ""))

    def sign(self, b: dict) -> dict:
        return self.bank.sign(self._who(b), _fen(b, "limit_fen"), b.get("agreement_no"))

    def terminate(self, b: dict) -> dict:
        return self.bank.terminate(self._who(b))

    def bind(self, b: dict) -> dict:
        return self.bank.bind(self._who(b, "holder_"), self._who(b), b.get("agreement_no"))

    def unbind(self, b: dict) -> dict:
        return self.bank.unbind(self._who(b))

    def limit(self, b: dict) -> dict:
        return self.bank.set_limit(self._who(b), _fen(b, "limit_fen"))

    def repay(self, b: dict) -> dict:
        return self.bank.repay(self._who(b), _fen(b, "amount_fen", allow_zero=False))

    def account(self, b: dict) -> dict:
        return self.bank.account(self._who(b))

    # merchant, clock, settings ---------------------------------------------------------------------
    def merchant(self, b: dict) -> dict:
        return self.bank.merchant_figures()

    def set_merchant(self, b: dict) -> dict:
        rec = _fen(b, "receivables_fen") if "receivables_fen" in b else None
        res = _fen(b, "reserve_fen") if "reserve_fen" in b else None
        has = b.get("has_reserve")
        if has is not None and not isinstance(has, bool):
            raise ValueError("has_reserve must be true or false")
        return self.bank.set_merchant(rec, res, has)

    def clock(self, b: dict) -> dict:
        return {"now": self.bank.now().isoformat(), "frozen": self.bank.clock.frozen,
                "today": self.bank.today().isoformat()}

    def set_clock(self, b: dict) -> dict:
        """``set`` (ISO time), ``advance_days``, ``advance_seconds``, ``end_of_day`` (to 23:59:59), ``frozen``."""
        now = self.bank.now()
        if "set" in b:
            now = datetime.fromisoformat(b["set"])
        now += timedelta(days=int(b.get("advance_days", 0)), seconds=int(b.get("advance_seconds", 0)))
        if b.get("end_of_day"):
            now = datetime.combine(now.date(), time(23, 59, 59))
        if now < self.bank.now() - timedelta(seconds=1) and not b.get("allow_backwards"):
            raise ValueError("the bank's clock does not go backwards")
        self.bank.clock.set(now, frozen=b.get("frozen"))
        self.bank.roll_over()
        return self.clock({})

    def settings(self, b: dict) -> dict:
        return self.bank.set_settings(**{key: _fen(b, key) for key in ("interest_free_days", "annual_rate_bp")
                                         if key in b})

    # faults -----------------------------------------------------------------------------------------
    def list_faults(self, b: dict) -> dict:
        return {"seed": self.sb.faults.seed, "faults": self.sb.faults.list()}

    def add_fault(self, b: dict) -> dict:
        rule = self.sb.faults.add(
            str(b.get("interface", "*")), str(b["kind"]), count=b.get("count"),
            probability=float(b.get("probability", 1.0)), delay_ms=int(b.get("delay_ms", 0)),
            code=b.get("code"), message=b.get("message"), commit=b.get("commit"))
        return rule.public()

    def clear_faults(self, b: dict) -> dict:
        return {"cleared": self.sb.faults.clear(b.get("interface"))}

    # ledger -----------------------------------------------------------------------------------------
    def ledger(self, b: dict) -> dict:
        def rows(sql: str) -> list[dict]:
            return [dict(r) for r in self.sb.store.all(sql)]

        return {"op_records": rows("SELECT op, number, status, code, serial, amount_fen, day, attempts "
                                   "FROM op_record ORDER BY created_at, op, number"),
                "locks": rows("SELECT * FROM lock ORDER BY created_at"),
                "payments": rows("SELECT * FROM payment ORDER BY at"),
                "movements": rows("SELECT * FROM movement ORDER BY id"),
                "clearing": rows("SELECT * FROM clearing ORDER BY day"),
                "merchant": self.bank.merchant_figures(), "today": self.bank.today().isoformat()}

    def summary(self, b: dict) -> dict:
        """Per (op, status): count and amount — for comparing a journal with the bank to the fen."""
        rows = self.sb.store.all("SELECT op, status, COUNT(*) AS n, COALESCE(SUM(amount_fen), 0) AS fen "
                                 "FROM op_record GROUP BY op, status ORDER BY op, status")
        moves = self.sb.store.all("SELECT op, status, COUNT(*) AS n, COALESCE(SUM(amount_fen), 0) AS fen "
                                  "FROM movement GROUP BY op, status ORDER BY op, status")
        return {"op_records": [dict(r) for r in rows], "movements": [dict(r) for r in moves]}

    def seed_demo(self, b: dict) -> dict:
        from bank_sandbox.demo import seed_demo

        return {"seeded": seed_demo(self.bank, in_tx=True)}
