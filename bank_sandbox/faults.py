"""Fault injection per interface, deterministic by seed.

A rule fires for a request to its interface (or ``*``) while it has count left (``count=None``: forever) and
its own random stream — seeded from the sandbox seed and the rule's id — draws below ``probability``.
Kinds:

- ``refuse``      reset the connection before reading the request: nothing executed.
- ``delay``       sleep ``delay_ms`` before executing (adds up with other rules).
- ``drop_reply``  execute and commit, then reset the connection: the timeout-after-commit case.
- ``processing``  money interfaces: execute and commit, answer PROCESSING. Queries: answer PROCESSING
                  without looking (use ``count=K`` for "the next K queries").
- ``garbage``     answer bytes that are not a signed envelope (``commit`` true: after executing).
- ``error``       answer FAILED with ``code`` (any code, e.g. ``ADPTSY0004`` or ``DCBS0004PL0974``);
                  ``commit`` true executes first (the bank failed after doing the work).
- ``http_error``  answer an HTTP 5xx (``code``, default ``503``) with an HTML body, as a proxy or gateway in
                  front of the bank does; ``commit`` true executes first (default false).
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

KINDS = ("refuse", "delay", "drop_reply", "processing", "garbage", "error", "http_error")
COMMIT_DEFAULT = {"refuse": False, "delay": True, "drop_reply": True, "processing": True, "garbage": True,
                  "error": False, "http_error": False}


@dataclass
class Fault:
    id: int
    interface: str
    kind: str
    count: int | None = None
    probability: float = 1.0
    delay_ms: int = 0
    code: str | None = None
    message: str | None = None
    commit: bool = True
    fired: int = 0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def public(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("rng")
        return out


class Faults:
    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._rules: list[Fault] = []
        self._next = 1
        self._lock = threading.Lock()

    def add(self, interface: str, kind: str, *, count: int | None = None, probability: float = 1.0,
            delay_ms: int = 0, code: str | None = None, message: str | None = None,
            commit: bool | None = None) -> Fault:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {', '.join(KINDS)}")
        if kind == "error" and not code:
            raise ValueError("an error fault needs a code")
        if kind == "http_error" and not (str(code or 503).isdigit() and 500 <= int(code or 503) <= 599):
            raise ValueError("an http_error fault's code is an HTTP status 500–599")
        if not 0.0 <= probability <= 1.0 or (count is not None and count < 0) or delay_ms < 0:
            raise ValueError("probability 0..1, count ≥ 0, delay_ms ≥ 0")
        with self._lock:
            rule = Fault(self._next, interface, kind, count, probability, delay_ms, code, message,
                         COMMIT_DEFAULT[kind] if commit is None else commit,
                         rng=random.Random(f"{self.seed}:{self._next}"))
            self._next += 1
            self._rules.append(rule)
            return rule

    def clear(self, interface: str | None = None) -> int:
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if interface is not None and r.interface != interface]
            return before - len(self._rules)

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.public() for r in self._rules]

    def draw(self, interface: str) -> list[Fault]:
        """The rules that fire for this request (their counts are used up here)."""
        fired = []
        with self._lock:
            for rule in self._rules:
                if rule.interface not in (interface, "*") or rule.count == 0:
                    continue
                if rule.probability < 1.0 and rule.rng.random() >= rule.probability:
                    continue
                if rule.count is not None:
                    rule.count -= 1
                rule.fired += 1
                fired.append(rule)
        return fired
