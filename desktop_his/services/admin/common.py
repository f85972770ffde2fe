"""Small validation and persistence helpers shared by the administration services."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError

from desktop_his.services.errors import Conflict, ValidationError

_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,19}")


def text(value: str | None, *, field: str, label: str, required: bool = True, max_len: int = 50) -> str:
    """Trimmed text; ``label`` names the field in the message (e.g. "科室名称")."""
    cleaned = " ".join((value or "").split())
    if required and not cleaned:
        raise ValidationError(f"请输入{label}", field=field)
    if len(cleaned) > max_len:
        raise ValidationError(f"{label}过长（最多 {max_len} 个字）", field=field)
    return cleaned


def code(value: str | None, *, field: str = "code", label: str = "编码", max_len: int = 20) -> str:
    cleaned = (value or "").strip().upper()
    if not cleaned:
        raise ValidationError(f"请输入{label}", field=field)
    if len(cleaned) > max_len or not _CODE.fullmatch(cleaned):
        raise ValidationError(f"{label}只能由字母、数字和 _ . - 组成（最多 {max_len} 位）", field=field)
    return cleaned


def int_range(value: int | None, *, field: str, label: str, low: int, high: int,
              optional: bool = False) -> int | None:
    if value is None:
        if optional:
            return None
        raise ValidationError(f"请输入{label}", field=field)
    if not low <= int(value) <= high:
        raise ValidationError(f"{label}应在 {low}–{high} 之间", field=field)
    return int(value)


@contextmanager
def unique_guard(message: str, *, field: str) -> Iterator[None]:
    """Turn a unique-constraint race (two PCs saving the same code at once) into a Chinese Conflict."""
    try:
        yield
    except IntegrityError as exc:
        raise Conflict(message, field=field) from exc
