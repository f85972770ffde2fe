"""A tiny simulated day (bench/day.py with 20 visits): every phase through the real services against the bank
sandbox, and the balance check — the journal equals the bank's ledger, zero reconciliation mismatches."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _day_module():  # noqa: ANN202
    # importable by name: the day's worker processes (spawned) import it again from sys.path
    if str(ROOT / "bench") not in sys.path:
        sys.path.insert(0, str(ROOT / "bench"))
    return importlib.import_module("day")


@pytest.mark.parametrize("procs", [1, 2], ids=["threads", "two-PCs"])
def test_a_small_day_balances(tmp_path, procs: int) -> None:  # noqa: ANN001
    pytest.importorskip("desktop_his.services.deduction", reason="the T-day run comes from branch finance")
    mod = _day_module()
    day = mod.Day(visits=20, windows=3, doctors=3, latency_ms=0, url=None, workdir=tmp_path, procs=procs,
                  log=lambda _t: None)
    try:
        day.setup()
        result = day.run()
    finally:
        day.close()
    names = [p.name for p in result.phases]
    assert names[:4] == ["registration", "orders", "refunds on T", "no-shows"]
    assert {"T-day deduction", "T+1 clearing", "refunds on T+1", "reconciliation"} <= set(names)
    assert not result.waiting and not result.errors, (result.waiting, result.errors)
    assert result.problems == [] and result.reconciliation_mismatches == 0
    registration = result.phases[0]
    assert registration.count == 20
    journal, bank = result.totals["per operation (journal, bank) fen"]["deduct"]
    assert journal == bank > 0
