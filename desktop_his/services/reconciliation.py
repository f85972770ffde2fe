"""Reconciliation (SPEC §4, plan §二.5): the bank's bill of one day matched line by line against the journal.

Public API (finance view, ``desktop-his-cli reconcile``, the ``scale`` branch)::

    svc = ReconciliationService(db, clock, gateway)             # built by container.connect_bank
    report = svc.run(actor, day)            # download 【下载账单】 for ``day`` (ended, last 31 days), match, keep the run
    report = svc.reconcile(actor, bill)     # the same for a Bill already in hand (tests, the bench)
    svc.runs(actor) / svc.load(actor, run_id)             # kept runs (RunSummary) / one run's ReconReport
    export_xlsx(report, path) / export_csv(report, path)  # every mismatch, one line each, plus the counts
    svc.merchant_balance(actor)             # 暂收金额查询 (MerchantBalance)
    match(lines, local_rows, day) -> (counts, items)      # the pure matching step

Matching. A bill line (deduct / pay / refund) and a journal entry are the same operation when they carry the
same hospital number for the same interface (``(op, number)``, the journal's unique key); then the bank's serial,
amount and status are compared with the journal's. Kinds:

- ``matched``        same serial (when the journal has one), amount and status;
- ``missing_local``  the bank has the operation, the journal has no such entry;
- ``missing_bank``   the journal says SUCCESS for that day, the bill has no line;
- ``amount``         both have it, the amounts differ;
- ``status``         both have it, the outcome (or the serial) differs — also a journal entry still unresolved.

The journal's side of day D: ``deduct``/``pay`` entries of business date D, and refunds that succeeded on D.
A refund the bank refused ``DCBS0004PL0974`` on D (a FAILED bill line) matches a journal entry that is
failed/queued, or that succeeded on a later day (the refund queue). A refund number with several lines on one
day (refused, then retried successfully) is judged by its last outcome. Each run keeps its counts and every
line that is not ``matched`` (``reconciliation_run`` / ``reconciliation_item``); matched lines are counted.
"""

from __future__ import annotations

import csv
import time as _time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from sqlalchemy import and_, or_, select

from desktop_his.services import audit
from desktop_his.services.bank import BankGateway, Bill, BillLine, MerchantBalance
from desktop_his.services.clock import Clock
from desktop_his.services.db import Database
from desktop_his.services.enums import JournalState
from desktop_his.services.errors import NotFound, ValidationError
from desktop_his.services.models import BankJournal, ReconciliationItem, ReconciliationRun
from desktop_his.services.money import format_fen
from desktop_his.services.permissions import Action, Actor, require, require_any

BILL_OPS = ("deduct", "pay", "refund")
MAX_DAYS_BACK = 31


class Kind(StrEnum):
    MATCHED = "matched"
    MISSING_LOCAL = "missing_local"
    MISSING_BANK = "missing_bank"
    AMOUNT = "amount"
    STATUS = "status"


KIND_LABELS = {Kind.MATCHED: "一致", Kind.MISSING_LOCAL: "本地缺失（银行有、本地无）",
               Kind.MISSING_BANK: "银行缺失（本地成功、账单无）", Kind.AMOUNT: "金额不符", Kind.STATUS: "状态不符"}
OP_LABELS = {"deduct": "扣除", "pay": "支付", "refund": "退款"}
LOCAL_STATUS = {JournalState.SUCCESS.value: "SUCCESS", JournalState.FAILED.value: "FAILED"}


@dataclass(frozen=True)
class LocalRow:
    """What the matching needs of one journal entry."""

    id: int
    op: str
    number: str
    amount_fen: int | None
    state: str
    bank_serial: str | None
    result_code: str | None
    business_date: date
    resolved_at: datetime | None


@dataclass(frozen=True)
class Item:
    kind: str
    serial: str
    op: str | None
    number: str | None
    local_amount_fen: int | None
    bank_amount_fen: int | None
    local_status: str | None
    bank_status: str | None
    journal_id: int | None
    note: str = ""


@dataclass
class ReconReport:
    run_id: int
    bill_date: date
    run_at: datetime
    run_by: str
    bank_lines: int
    local_lines: int
    bank_total_fen: int
    local_total_fen: int
    counts: dict[str, int] = field(default_factory=dict)
    items: list[Item] = field(default_factory=list)  # everything not matched
    seconds: float = 0.0

    @property
    def mismatches(self) -> int:
        return sum(n for k, n in self.counts.items() if k != Kind.MATCHED)

    @property
    def message(self) -> str:
        head = (f"{self.bill_date:%Y-%m-%d} 对账：银行 {self.bank_lines} 笔，本地 {self.local_lines} 笔，"
                f"一致 {self.counts.get(Kind.MATCHED, 0)} 笔")
        if not self.mismatches:
            return head + "，无差异"
        rest = "，".join(f"{KIND_LABELS[Kind(k)]} {n} 笔" for k, n in self.counts.items()
                        if k != Kind.MATCHED and n)
        return f"{head}；差异：{rest}"


@dataclass(frozen=True)
class RunSummary:
    id: int
    bill_date: date
    run_at: datetime
    run_by: str
    bank_lines: int
    local_lines: int
    counts: dict[str, int]

    @property
    def mismatches(self) -> int:
        return sum(n for k, n in self.counts.items() if k != Kind.MATCHED)


def _local_status(row: LocalRow) -> str:
    return LOCAL_STATUS.get(row.state, "UNRESOLVED")


def _collapse(lines: Sequence[BillLine]) -> dict[tuple[str, str], BillLine]:
    """One line per (op, number): the last of the day (a refused refund retried the same day ends SUCCESS)."""
    out = {(line.op, line.number): line for line in lines}
    if len(out) == len(lines):
        return out  # the usual bill: every number once
    out = {}
    for line in lines:
        key = (line.op, line.number)
        prev = out.get(key)
        if prev is None or prev.status != "SUCCESS" or line.status == "SUCCESS":
            out[key] = line
    return out


def _expected_on(row: LocalRow, day: date) -> bool:
    """Whether a journal SUCCESS should appear in ``day``'s bill."""
    if row.op == "refund":
        return row.resolved_at is not None and row.resolved_at.date() == day
    return row.business_date == day


def match(lines: Sequence[BillLine], local_rows: Iterable[LocalRow], day: date, *,
          collapsed: dict[tuple[str, str], BillLine] | None = None,
          of_day: set[tuple[str, str]] | None = None) -> tuple[dict[str, int], list[Item]]:
    """Compare one day's bill with the journal rows that may belong to it (see the module doc). ``local_rows``
    (``LocalRow`` or any row with the same attributes) must contain every journal entry with the ``(op, number)``
    of a bill line, wherever its date. ``of_day``: the keys of the entries that belong to ``day`` when the caller
    knows them already (then rows need no date attributes)."""
    by_key = {(r.op, r.number): r for r in local_rows}
    counts = {k.value: 0 for k in Kind}
    items: list[Item] = []
    bank = collapsed if collapsed is not None else _collapse(lines)
    matched = 0
    success = JournalState.SUCCESS.value
    for key, line in bank.items():
        row = by_key.get(key)
        if row is None:
            counts[Kind.MISSING_LOCAL] += 1
            items.append(Item(Kind.MISSING_LOCAL, line.serial, line.op, line.number, None, line.amount_fen, None,
                              line.status, None, "银行账单有此笔，本地流水无记录"))
            continue
        state, line_status = row.state, line.status
        if (line_status == "SUCCESS" and state == success and row.amount_fen == line.amount_fen
                and (not row.bank_serial or row.bank_serial == line.serial)):
            matched += 1  # the common case, decided without more work
            continue
        status = _local_status(row)
        kind, note = Kind.MATCHED, ""
        if line_status == "SUCCESS":
            if status != "SUCCESS":
                kind, note = Kind.STATUS, "银行成功，本地" + ("失败" if status == "FAILED" else "结果未确认")
            elif row.amount_fen != line.amount_fen:
                kind, note = Kind.AMOUNT, "金额不一致"
            else:
                kind, note = Kind.STATUS, f"银行流水号不一致（本地 {row.bank_serial}）"
        else:  # a refused refund (DCBS0004PL0974): matches a queued / failed / being-retried entry, or a later success
            if status == "SUCCESS" and not (row.resolved_at is not None and row.resolved_at.date() > day):
                kind, note = Kind.STATUS, "银行失败，本地成功"
            elif row.amount_fen != line.amount_fen:
                kind, note = Kind.AMOUNT, "金额不一致"
        counts[kind] += 1
        if kind != Kind.MATCHED:
            items.append(Item(kind, line.serial, line.op, line.number, row.amount_fen, line.amount_fen, status,
                              line.status, row.id, note))
    counts[Kind.MATCHED] += matched
    for key, row in by_key.items():
        if row.state != success or key in bank or not (key in of_day if of_day is not None else _expected_on(row, day)):
            continue
        counts[Kind.MISSING_BANK] += 1
        items.append(Item(Kind.MISSING_BANK, row.bank_serial or "", row.op, row.number, row.amount_fen, None,
                          "SUCCESS", None, row.id, "本地成功，银行账单无此笔"))
    return counts, items


_FAST_COLS = (BankJournal.id, BankJournal.op, BankJournal.number, BankJournal.amount_fen, BankJournal.state,
              BankJournal.bank_serial, BankJournal.result_code)
_LOCAL_COLS = (BankJournal.id, BankJournal.op, BankJournal.number, BankJournal.amount_fen, BankJournal.state,
               BankJournal.bank_serial, BankJournal.result_code, BankJournal.business_date, BankJournal.resolved_at)


class ReconciliationService:
    def __init__(self, db: Database, clock: Clock, gateway: BankGateway) -> None:
        self.db = db
        self.clock = clock
        self.gateway = gateway

    # ------------------------------------------------------------------------------ bank calls

    def merchant_balance(self, actor: Actor) -> MerchantBalance:
        """暂收金额查询. Raises BankOutcomeUnknown / BankError when the bank does not answer."""
        require_any(actor, Action.MERCHANT_BALANCE, Action.REFUND_QUEUE, Action.RECONCILE)
        return self.gateway.merchant_balance()

    def check_day(self, day: date) -> None:
        today = self.clock.today()
        if day >= today:
            raise ValidationError("只能下载已结束日期的账单（当日账单次日起可下载）", code="bill_date")
        if day < today - timedelta(days=MAX_DAYS_BACK):
            raise ValidationError(f"银行只提供最近一个月（{MAX_DAYS_BACK} 天）内的账单", code="bill_date")

    def run(self, actor: Actor, day: date) -> ReconReport:
        """Download ``day``'s bill and reconcile it (kept as a new run)."""
        require(actor, Action.RECONCILE)
        self.check_day(day)
        bill = self.gateway.download_bill(day)
        return self.reconcile(actor, bill)

    # ------------------------------------------------------------------------------ matching

    def _local_rows(self, s, bill: Bill) -> tuple[list, set[tuple[str, str]]]:  # noqa: ANN001 - a Session
        """The journal rows a bill may concern, and the keys of those that belong to its day."""
        day = bill.bill_date
        start, end = datetime.combine(day, datetime.min.time()), datetime.combine(day + timedelta(days=1),
                                                                                  datetime.min.time())
        conn = s.connection()  # Core rows (named attributes, no ORM loading): 100,000 of them in a bill
        # deductions and pays of the day: no date columns (parsing 100,000 dates was most of the query's time)
        q = select(*_FAST_COLS).where(BankJournal.op.in_(("deduct", "pay")), BankJournal.business_date == day)
        rows = {(r.op, r.number): r for r in conn.execute(q)}
        q = select(*_LOCAL_COLS).where(BankJournal.op == "refund", or_(
            BankJournal.business_date == day, and_(BankJournal.resolved_at >= start, BankJournal.resolved_at < end)))
        rows.update({(r.op, r.number): r for r in conn.execute(q)})
        of_day = {key for key, r in rows.items() if key[0] != "refund" or _expected_on(r, day)}
        wanted: dict[str, list[str]] = {}
        for line in bill.lines:
            if (line.op, line.number) not in rows:
                wanted.setdefault(line.op, []).append(line.number)
        for op, numbers in wanted.items():  # operations journaled on another day (refund retries, late sends)
            for i in range(0, len(numbers), 1000):
                for r in conn.execute(select(*_LOCAL_COLS).where(BankJournal.op == op,
                                                                 BankJournal.number.in_(numbers[i:i + 1000]))):
                    rows[(r.op, r.number)] = r
        return list(rows.values()), of_day

    def reconcile(self, actor: Actor, bill: Bill) -> ReconReport:
        require(actor, Action.RECONCILE)
        started = _time.perf_counter()
        now = self.clock.now()
        with self.db.reader() as s:
            local, of_day = self._local_rows(s, bill)
        collapsed = _collapse(bill.lines)
        counts, items = match(bill.lines, local, bill.bill_date, collapsed=collapsed, of_day=of_day)
        success = JournalState.SUCCESS.value
        expected = [r for r in local if r.state == success and (r.op, r.number) in of_day]
        bank_total = sum(x.amount_fen if x.op != "refund" else -x.amount_fen
                         for x in collapsed.values() if x.status == "SUCCESS")
        local_total = sum((r.amount_fen or 0) * (-1 if r.op == "refund" else 1) for r in expected)
        with self.db.session() as s:
            run = ReconciliationRun(bill_date=bill.bill_date, run_at=now, run_by=actor.username[:80],
                                    bank_lines=len(bill.lines), local_lines=len(expected), counts=counts,
                                    bank_total_fen=bank_total, local_total_fen=local_total)
            s.add(run)
            s.flush()
            if items:
                s.connection().execute(ReconciliationItem.__table__.insert(), [
                    {"run_id": run.id, "kind": str(i.kind), "serial": i.serial, "op": i.op, "number": i.number,
                     "local_amount_fen": i.local_amount_fen, "bank_amount_fen": i.bank_amount_fen,
                     "local_status": i.local_status, "bank_status": i.bank_status, "journal_id": i.journal_id}
                    for i in items])
            audit.append(s, actor=actor, action="reconciliation.run", at=now, entity="reconciliation_run",
                         entity_id=run.id, detail={"bill_date": bill.bill_date.isoformat(), "counts": counts})
            run_id = run.id
        return ReconReport(run_id, bill.bill_date, now, actor.username, len(bill.lines), len(expected), bank_total,
                           local_total, counts, items, _time.perf_counter() - started)

    # ------------------------------------------------------------------------------ kept runs

    def runs(self, actor: Actor, *, limit: int = 100) -> list[RunSummary]:
        require(actor, Action.RECONCILE)
        with self.db.reader() as s:
            return [RunSummary(r.id, r.bill_date, r.run_at, r.run_by, r.bank_lines, r.local_lines, dict(r.counts))
                    for r in s.scalars(select(ReconciliationRun).order_by(ReconciliationRun.id.desc()).limit(limit))]

    def load(self, actor: Actor, run_id: int) -> ReconReport:
        require(actor, Action.RECONCILE)
        with self.db.reader() as s:
            run = s.get(ReconciliationRun, run_id)
            if run is None:
                raise NotFound("未找到该次对账", code="reconciliation_not_found")
            items = [Item(i.kind, i.serial, i.op, i.number, i.local_amount_fen, i.bank_amount_fen, i.local_status,
                          i.bank_status, i.journal_id, _note(i))
                     for i in s.scalars(select(ReconciliationItem).where(ReconciliationItem.run_id == run_id)
                                        .order_by(ReconciliationItem.id))]
            return ReconReport(run.id, run.bill_date, run.run_at, run.run_by, run.bank_lines, run.local_lines,
                               run.bank_total_fen, run.local_total_fen, dict(run.counts), items)


def _note(i: ReconciliationItem) -> str:
    if i.kind == Kind.AMOUNT:
        return "金额不一致"
    if i.kind == Kind.STATUS:
        return f"银行{i.bank_status or '无'}，本地{i.local_status or '无'}"
    return KIND_LABELS.get(Kind(i.kind), "") if i.kind in Kind.__members__.values() else ""


# ---------------------------------------------------------------------------------- export

HEADERS = ("差异类型", "交易", "医院编号", "银行流水号", "本地金额(元)", "银行金额(元)", "本地状态", "银行状态",
           "本地流水ID", "说明")


def _cells(item: Item) -> list:
    def yuan(fen: int | None) -> str:
        return "" if fen is None else format_fen(fen)

    return [KIND_LABELS.get(Kind(item.kind), item.kind), OP_LABELS.get(item.op or "", item.op or ""),
            item.number or "", item.serial, yuan(item.local_amount_fen), yuan(item.bank_amount_fen),
            item.local_status or "", item.bank_status or "", item.journal_id or "", item.note]


def _summary_rows(report: ReconReport) -> list[list]:
    rows = [["账单日期", report.bill_date.isoformat()], ["对账时间", f"{report.run_at:%Y-%m-%d %H:%M:%S}"],
            ["对账人", report.run_by], ["银行账单笔数", report.bank_lines], ["本地成功笔数", report.local_lines],
            ["银行净额(元)", format_fen(report.bank_total_fen)], ["本地净额(元)", format_fen(report.local_total_fen)]]
    rows += [[KIND_LABELS[k], report.counts.get(k.value, 0)] for k in Kind]
    return rows


def export_csv(report: ReconReport, path: Path | str) -> Path:
    """UTF-8 with BOM (Excel opens it with the Chinese intact): the counts, a blank line, every mismatch."""
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        w = csv.writer(fh)
        w.writerows(_summary_rows(report))
        w.writerow([])
        w.writerow(HEADERS)
        w.writerows(_cells(i) for i in report.items)
    return path


def export_xlsx(report: ReconReport, path: Path | str) -> Path:
    """Two sheets: 汇总 (counts and totals) and 差异明细 (every line not matched)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    path = Path(path)
    wb = Workbook()
    ws = wb.active
    ws.title = "汇总"
    for row in _summary_rows(report):
        ws.append(row)
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 22
    detail = wb.create_sheet("差异明细")
    detail.append(list(HEADERS))
    for cell in detail[1]:
        cell.font = Font(bold=True)
    for item in report.items:
        detail.append(_cells(item))
    for col, width in zip("ABCDEFGHIJ", (26, 8, 22, 26, 14, 14, 12, 12, 12, 36), strict=True):
        detail.column_dimensions[col].width = width
    detail.freeze_panes = "A2"
    wb.save(path)
    return path
