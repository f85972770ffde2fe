"""The fault soak, short: the 信用就医 workflows under injected faults at every request and crashes at every
step, then recovery, then the check against the bank sandbox's ledger (``bench/soak.py`` is the long run)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from sqlalchemy import select, update

from desktop_his.services.models import BankJournal

ROOT = Path(__file__).resolve().parents[1]


def _soak_module():  # noqa: ANN202
    spec = importlib.util.spec_from_file_location("bench_soak", ROOT / "bench" / "soak.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_soak"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def soak_run(tmp_path_factory):  # noqa: ANN001, ANN201
    soak_mod = _soak_module()
    soak = soak_mod.Soak(seed=8, workdir=tmp_path_factory.mktemp("soak"), fault_rate=0.4, crash_rate=0.12,
                         patients=10, ops_per_day=50, log=lambda _text: None)
    stats = soak.run(150)
    yield soak, stats
    soak.close()


def test_no_discrepancy_after_faults_crashes_and_recovery(soak_run) -> None:  # noqa: ANN001
    soak, stats = soak_run
    assert stats.discrepancies == []
    assert stats.money_operations >= 150 and stats.days >= 3
    assert {"confirm+lock", "order lock", "deduction"} <= set(stats.operations)
    assert sum(stats.crashes.values()) >= 8 and len(stats.crashes) >= 3  # several steps of several operations
    assert stats.faults >= 0.25 * stats.calls  # about a third of all requests (queries and retries too)


def test_the_check_finds_a_journal_that_disagrees_with_the_bank(soak_run) -> None:  # noqa: ANN001
    soak, _ = soak_run
    with soak.db.session() as s:
        entry = s.execute(select(BankJournal).where(BankJournal.op == "lock", BankJournal.state == "success")
                          .limit(1)).scalar_one()
        s.execute(update(BankJournal).where(BankJournal.id == entry.id).values(amount_fen=entry.amount_fen + 1))
    soak.stats.discrepancies.clear()
    found = soak.check()
    assert any(entry.number in d for d in found) and any(d.startswith("lock:") for d in found)
