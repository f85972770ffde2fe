"""Shared pieces of the bank's rules: refusals, field validation, serials, resident look-ups, dates."""

from __future__ import annotations

import calendar
import json
import sqlite3
from datetime import date, timedelta
from typing import Any

from bank_sandbox import codes
from bank_sandbox.store import Store

MAX_AMOUNT_FEN = 10_000_000_000  # 一亿元: nothing a hospital sends is larger
ID_TYPES = ("01", "02", "03", "04")
MAX_FAMILY = 8


class Refusal(Exception):
    """A definite business refusal: FAILED with ``code``; nothing moved."""

    def __init__(self, code: str, message: str | None = None, **fields: Any) -> None:
        super().__init__(message or codes.message(code))
        self.code = code
        self.message = message or codes.message(code)
        self.fields = fields


class Invalid(Refusal):
    """The request itself is malformed (never stored as an operation's result)."""

    def __init__(self, message: str) -> None:
        super().__init__(codes.VALIDATION, message)


def text(data: dict[str, Any], name: str, *, max_len: int = 64, required: bool = True) -> str | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > max_len:
        raise Invalid(f"字段 {name} 必须是 1–{max_len} 个字符的字符串")
    return value


def amount(data: dict[str, Any], name: str = "amount_fen") -> int:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not (0 < value <= MAX_AMOUNT_FEN):
        raise Invalid(f"字段 {name} 必须是正整数（分）")
    return value


def id_type(data: dict[str, Any]) -> str:
    value = data.get("id_type")
    if value not in ID_TYPES:
        raise Invalid("字段 id_type 必须是 01 / 02 / 03 / 04")
    return value


def only_fields(data: dict[str, Any], allowed: set[str]) -> None:
    extra = set(data) - allowed
    if extra:
        raise Invalid(f"未知字段：{', '.join(sorted(extra))}")


def canonical(params: dict[str, Any]) -> str:
    return json.dumps(params, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def next_serial(store: Store, prefix: str, day: date) -> str:
    """``LK20261123000000042``: op prefix, business day, then a sequence unique across the whole sandbox.

    The counter row is bumped in the caller's transaction (a rolled-back operation gives its number back)."""
    seq = store.run("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'serial_seq' "
                    "RETURNING value").fetchone()
    if seq is None:
        store.set_meta("serial_seq", 1)
        seq = (1,)
    return f"{prefix}{day:%Y%m%d}{int(seq[0]):09d}"


def signed_resident(store: Store, agreement_no: str) -> tuple[sqlite3.Row, sqlite3.Row]:
    """(resident, holder) for a valid agreement; a family member's holder must be signed too."""
    row = store.one("SELECT * FROM resident WHERE agreement_no = ? AND state = 'signed'", agreement_no)
    if row is None:
        raise Refusal(codes.NOT_SIGNED)
    if row["role"] == "member":
        holder = store.one("SELECT * FROM resident WHERE id = ? AND state = 'signed'", row["holder_id"])
        if holder is None:
            raise Refusal(codes.NOT_SIGNED)
        return row, holder
    return row, row


def available(holder: sqlite3.Row) -> int:
    return max(0, holder["limit_fen"] - holder["used_fen"] - holder["locked_fen"])


def add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def mask_name(name: str) -> str:
    return name[0] + "*" * (len(name) - 1) if len(name) > 1 else "*"


def days(start: date, end: date) -> list[date]:
    """Every day after ``start`` up to and including ``end``."""
    return [start + timedelta(days=i) for i in range(1, (end - start).days + 1)]
