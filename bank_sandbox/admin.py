"""``AdminClient``: the admin API from Python (tests, the app's demo seeder, the CLI)."""

from __future__ import annotations

from typing import Any

import requests


class AdminError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class AdminClient:
    def __init__(self, url: str, token: str, *, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self._http = requests.Session()

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, name: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        reply = self._http.request(method, f"{self.url}/admin/{name}", json=body,
                                   headers={"X-Admin-Token": self.token}, timeout=self.timeout)
        payload = reply.json()
        if reply.status_code != 200:
            raise AdminError(reply.status_code, payload.get("code", ""), payload.get("message", ""))
        return payload

    # residents
    def create_resident(self, name: str, id_type: str, id_number: str, phone: str = "") -> dict[str, Any]:
        return self._call("POST", "resident", {"name": name, "id_type": id_type, "id_number": id_number,
                                               "phone": phone})

    def sign(self, id_type: str, id_number: str, limit_fen: int, agreement_no: str | None = None) -> dict:
        body = {"id_type": id_type, "id_number": id_number, "limit_fen": limit_fen}
        if agreement_no:
            body["agreement_no"] = agreement_no
        return self._call("POST", "sign", body)

    def terminate(self, id_type: str, id_number: str) -> dict[str, Any]:
        return self._call("POST", "terminate", {"id_type": id_type, "id_number": id_number})

    def bind(self, holder: tuple[str, str], member: tuple[str, str]) -> dict[str, Any]:
        return self._call("POST", "bind", {"holder_id_type": holder[0], "holder_id_number": holder[1],
                                           "id_type": member[0], "id_number": member[1]})

    def unbind(self, id_type: str, id_number: str) -> dict[str, Any]:
        return self._call("POST", "unbind", {"id_type": id_type, "id_number": id_number})

    def set_limit(self, id_type: str, id_number: str, limit_fen: int) -> dict[str, Any]:
        return self._call("POST", "limit", {"id_type": id_type, "id_number": id_number, "limit_fen": limit_fen})

    def repay(self, id_type: str, id_number: str, amount_fen: int) -> dict[str, Any]:
        return self._call("POST", "repay", {"id_type": id_type, "id_number": id_number, "amount_fen": amount_fen})

    def account(self, id_type: str, id_number: str) -> dict[str, Any]:
        return self._call("POST", "account", {"id_type": id_type, "id_number": id_number})

    # merchant, clock, settings
    def merchant(self) -> dict[str, Any]:
        return self._call("GET", "merchant")

    def set_merchant(self, *, receivables_fen: int | None = None, reserve_fen: int | None = None,
                     has_reserve: bool | None = None) -> dict[str, Any]:
        body = {k: v for k, v in (("receivables_fen", receivables_fen), ("reserve_fen", reserve_fen),
                                  ("has_reserve", has_reserve)) if v is not None}
        return self._call("POST", "merchant", body)

    def clock(self) -> dict[str, Any]:
        return self._call("GET", "clock")

    def set_clock(self, moment: str, *, frozen: bool = True) -> dict[str, Any]:
        return self._call("POST", "clock", {"set": moment, "frozen": frozen, "allow_backwards": True})

    def advance(self, *, days: int = 0, seconds: int = 0) -> dict[str, Any]:
        return self._call("POST", "clock", {"advance_days": days, "advance_seconds": seconds})

    def end_of_day(self) -> dict[str, Any]:
        """Move the clock to 23:59:59 of its current day."""
        return self._call("POST", "clock", {"end_of_day": True})

    def settings(self, **values: int) -> dict[str, Any]:
        return self._call("POST", "settings", values)

    # faults
    def add_fault(self, interface: str, kind: str, *, count: int | None = None, probability: float = 1.0,
                  delay_ms: int = 0, code: str | None = None, message: str | None = None,
                  commit: bool | None = None) -> dict[str, Any]:
        return self._call("POST", "faults", {"interface": interface, "kind": kind, "count": count,
                                             "probability": probability, "delay_ms": delay_ms, "code": code,
                                             "message": message, "commit": commit})

    def clear_faults(self, interface: str | None = None) -> int:
        return self._call("POST", "faults/clear", {"interface": interface})["cleared"]

    def faults(self) -> dict[str, Any]:
        return self._call("GET", "faults")

    # ledger
    def ledger(self) -> dict[str, Any]:
        return self._call("GET", "ledger")

    def summary(self) -> dict[str, Any]:
        return self._call("GET", "summary")

    def seed_demo(self) -> bool:
        return self._call("POST", "seed_demo")["seeded"]
