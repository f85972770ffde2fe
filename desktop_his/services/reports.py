"""Shift (交班) and day-end (日结) reports: per cashier and per day, totals by channel, refunds, cancellations.

Public API (finance view, ``desktop-his-cli report day``, the ``scale`` branch)::

    svc = ReportService(db, clock)                       # built by container.build_services
    svc.shift(actor, day, cashier_id=None, start=None, end=None)   # -> ShiftReport (one cashier; own by default)
    svc.day_end(actor, day)                              # -> DayReport: one ShiftReport per cashier + the total
    export_xlsx(day_report, path) / export_csv(day_report, path) / to_html(day_report)  # printable HTML

Where the figures come from (integer fen throughout):

- **income by channel**: ``payment`` rows that succeeded (cash, WeChat, Alipay, UnionPay card, insurance, and
  信用就医 pays at the admission desk), by ``cashier_id`` and ``business_date``; plus 信用就医 locks taken by
  that staff member on that day (registration fees, vaccine slips, orders): deducted locks at the deducted
  amount, still-locked ones at their actual amount (to be deducted by 24:00);
- **refunds**: ``refund`` rows requested by that staff member that day, per channel — successful ones reduce
  the net, queued (``DCBS0004PL0974``) and pending ones are listed apart (not yet paid out);
- **cancellations**: same-day 信用就医 cancels (``bank_cancel`` refunds) by that staff member, and
  registrations cancelled that day (day total; a visit records no canceller).

``to_html`` is plain HTML for a QTextDocument (the view prints it to a printer or a PDF with QPrinter); this
module imports no Qt.
"""

from __future__ import annotations

import csv
import html
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import case, func, select

from desktop_his.services.clock import Clock
from desktop_his.services.db import Database
from desktop_his.services.enums import CHANNEL_LABELS, Channel, LockStatus, RefundMethod, RefundStatus
from desktop_his.services.models import CreditLock, Payment, Refund, Staff, Visit
from desktop_his.services.money import format_fen
from desktop_his.services.permissions import Action, Actor, require_any

CHANNELS = (Channel.CREDIT, Channel.CASH, Channel.WECHAT, Channel.ALIPAY, Channel.UNIONPAY, Channel.INSURANCE)


@dataclass
class ChannelLine:
    channel: str
    count: int = 0
    income_fen: int = 0
    refund_count: int = 0
    refund_fen: int = 0  # successful refunds

    @property
    def label(self) -> str:
        return CHANNEL_LABELS.get(Channel(self.channel), self.channel) if self.channel in Channel.__members__.values() \
            else self.channel

    @property
    def net_fen(self) -> int:
        return self.income_fen - self.refund_fen


@dataclass
class ShiftReport:
    day: date
    cashier_id: int | None  # None: the whole day (every cashier)
    cashier: str
    lines: list[ChannelLine] = field(default_factory=lambda: [ChannelLine(str(c)) for c in CHANNELS])
    waiting_refund_count: int = 0  # queued / pending: not paid out yet
    waiting_refund_fen: int = 0
    cancellations: int = 0  # 信用就医 same-day cancels
    cancellation_fen: int = 0
    cancelled_visits: int = 0  # registrations cancelled (day total only)

    def line(self, channel: Channel | str) -> ChannelLine:
        for line in self.lines:
            if line.channel == str(channel):
                return line
        line = ChannelLine(str(channel))
        self.lines.append(line)
        return line

    @property
    def income_fen(self) -> int:
        return sum(x.income_fen for x in self.lines)

    @property
    def refund_fen(self) -> int:
        return sum(x.refund_fen for x in self.lines)

    @property
    def net_fen(self) -> int:
        return self.income_fen - self.refund_fen

    @property
    def count(self) -> int:
        return sum(x.count for x in self.lines)

    def add(self, other: ShiftReport) -> None:
        for src in other.lines:
            dst = self.line(src.channel)
            dst.count += src.count
            dst.income_fen += src.income_fen
            dst.refund_count += src.refund_count
            dst.refund_fen += src.refund_fen
        self.waiting_refund_count += other.waiting_refund_count
        self.waiting_refund_fen += other.waiting_refund_fen
        self.cancellations += other.cancellations
        self.cancellation_fen += other.cancellation_fen


@dataclass
class DayReport:
    day: date
    generated_at: datetime
    cashiers: list[ShiftReport]
    total: ShiftReport


def _span(day: date, start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    return (start or datetime.combine(day, time.min), end or datetime.combine(day + timedelta(days=1), time.min))


class ReportService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def shift(self, actor: Actor, day: date, *, cashier_id: int | None = None, start: datetime | None = None,
              end: datetime | None = None) -> ShiftReport:
        """One cashier's shift (default: the actor's own; another's needs the reports right). ``start``/``end``
        narrow it to a shift within the day (by the time each row was written)."""
        target = actor.staff_id if cashier_id is None else cashier_id
        if target != actor.staff_id:
            require_any(actor, Action.REPORTS)
        else:
            require_any(actor, Action.SHIFT_REPORT_OWN, Action.REPORTS)
        reports = self._collect(day, start, end, only=target)
        return reports.get(target) or ShiftReport(day, target, self._name(target))

    def day_end(self, actor: Actor, day: date) -> DayReport:
        require_any(actor, Action.REPORTS, Action.DAY_END)
        per = self._collect(day, None, None, only=None)
        total = ShiftReport(day, None, "全院合计")
        for rep in per.values():
            total.add(rep)
        lo, hi = _span(day, None, None)
        with self.db.reader() as s:
            total.cancelled_visits = s.execute(select(func.count()).select_from(Visit).where(
                Visit.cancelled_at >= lo, Visit.cancelled_at < hi)).scalar_one()
        cashiers = sorted(per.values(), key=lambda r: (r.cashier_id is None, r.cashier))
        return DayReport(day, self.clock.now(), cashiers, total)

    def _name(self, staff_id: int | None) -> str:
        if staff_id is None:
            return "系统/未记录"
        with self.db.reader() as s:
            staff = s.get(Staff, staff_id)
            return staff.full_name if staff else f"#{staff_id}"

    def _collect(self, day: date, start: datetime | None, end: datetime | None, *, only: int | None
                 ) -> dict[int | None, ShiftReport]:
        lo, hi = _span(day, start, end)
        out: dict[int | None, ShiftReport] = {}

        def rep(staff_id: int | None) -> ShiftReport:
            if staff_id not in out:
                out[staff_id] = ShiftReport(day, staff_id, "")
            return out[staff_id]

        def mine(col):  # noqa: ANN001, ANN202
            return col == only if only is not None else True

        with self.db.reader() as s:
            for staff_id, channel, n, fen in s.execute(
                    select(Payment.cashier_id, Payment.channel, func.count(), func.coalesce(func.sum(Payment.amount_fen), 0))
                    .where(Payment.business_date == day, Payment.status == "success", Payment.created_at >= lo,
                           Payment.created_at < hi, mine(Payment.cashier_id))
                    .group_by(Payment.cashier_id, Payment.channel)):
                line = rep(staff_id).line(channel)
                line.count += n
                line.income_fen += int(fen)
            credit_fen = func.coalesce(func.sum(case(
                (CreditLock.status == LockStatus.LOCKED.value,
                 func.coalesce(CreditLock.actual_fen, CreditLock.amount_fen)), else_=CreditLock.deducted_fen)), 0)
            for staff_id, n, fen in s.execute(
                    select(CreditLock.created_by, func.count(), credit_fen)
                    .where(CreditLock.business_date == day, CreditLock.created_at >= lo, CreditLock.created_at < hi,
                           CreditLock.status.in_([LockStatus.LOCKED.value, LockStatus.DEDUCTED.value,
                                                  LockStatus.REFUNDED.value]), mine(CreditLock.created_by))
                    .group_by(CreditLock.created_by)):
                line = rep(staff_id).line(Channel.CREDIT)
                line.count += n
                line.income_fen += int(fen)
            refund_q = (select(Refund.requested_by, Refund.channel, Refund.method, Refund.status, func.count(),
                               func.coalesce(func.sum(Refund.amount_fen), 0))
                        .where(Refund.business_date == day, Refund.created_at >= lo, Refund.created_at < hi,
                               mine(Refund.requested_by))
                        .group_by(Refund.requested_by, Refund.channel, Refund.method, Refund.status))
            for staff_id, channel, method, status, n, fen in s.execute(refund_q):
                r = rep(staff_id)
                if method == RefundMethod.BANK_CANCEL:
                    if status == RefundStatus.SUCCESS:
                        r.cancellations += n
                        r.cancellation_fen += int(fen)
                        # a cancelled lock is no longer income: its amount left the credit line above
                    continue
                if status == RefundStatus.SUCCESS:
                    line = r.line(channel)
                    line.refund_count += n
                    line.refund_fen += int(fen)
                elif status in (RefundStatus.QUEUED, RefundStatus.PENDING):
                    r.waiting_refund_count += n
                    r.waiting_refund_fen += int(fen)
            names = dict(s.execute(select(Staff.id, Staff.full_name).where(
                Staff.id.in_([k for k in out if k is not None]))).all()) if out else {}
        for staff_id, r in out.items():
            r.cashier = names.get(staff_id, "系统/未记录" if staff_id is None else f"#{staff_id}")
        return out


# ---------------------------------------------------------------------------------- output

HEADERS = ("收费员", "渠道", "笔数", "收入(元)", "退款笔数", "退款(元)", "净额(元)")


def table_rows(report: DayReport) -> list[list]:
    rows = []
    for r in [*report.cashiers, report.total]:
        for line in r.lines:
            if line.count or line.refund_count or r is report.total:
                rows.append([r.cashier, line.label, line.count, format_fen(line.income_fen), line.refund_count,
                             format_fen(line.refund_fen), format_fen(line.net_fen)])
        rows.append([r.cashier, "小计", r.count, format_fen(r.income_fen), sum(x.refund_count for x in r.lines),
                     format_fen(r.refund_fen), format_fen(r.net_fen)])
    return rows


def note_rows(report: DayReport) -> list[list]:
    t = report.total
    return [["信用就医当日取消", f"{t.cancellations} 笔", format_fen(t.cancellation_fen)],
            ["排队/处理中的退款（未付出）", f"{t.waiting_refund_count} 笔", format_fen(t.waiting_refund_fen)],
            ["当日退号", f"{t.cancelled_visits} 笔", ""]]


def export_csv(report: DayReport, path: Path | str) -> Path:
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        w = csv.writer(fh)
        w.writerow([f"日结报表 {report.day:%Y-%m-%d}", f"生成于 {report.generated_at:%Y-%m-%d %H:%M}"])
        w.writerow(HEADERS)
        w.writerows(table_rows(report))
        w.writerow([])
        w.writerows(note_rows(report))
    return path


def export_xlsx(report: DayReport, path: Path | str) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    path = Path(path)
    wb = Workbook()
    ws = wb.active
    ws.title = "日结"
    ws.append([f"日结报表 {report.day:%Y-%m-%d}", f"生成于 {report.generated_at:%Y-%m-%d %H:%M}"])
    ws.append(list(HEADERS))
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for row in table_rows(report):
        ws.append(row)
    ws.append([])
    for row in note_rows(report):
        ws.append(row)
    for col, width in zip("ABCDEFG", (16, 12, 8, 14, 10, 14, 14), strict=True):
        ws.column_dimensions[col].width = width
    wb.save(path)
    return path


def to_html(report: DayReport, *, hospital: str = "") -> str:
    """The printable page (A4): a table per cashier, the day's total, the notes."""
    e = html.escape
    parts = [f"<h2 style='text-align:center'>{e(hospital)} 收费日结报表</h2>",
             f"<p>业务日期：{report.day:%Y-%m-%d}　　打印时间：{report.generated_at:%Y-%m-%d %H:%M}</p>",
             "<table border='1' cellspacing='0' cellpadding='4' width='100%'>",
             "<tr>" + "".join(f"<th>{h}</th>" for h in HEADERS) + "</tr>"]
    for row in table_rows(report):
        bold = row[1] == "小计"
        cells = "".join(f"<td{' align=right' if i >= 2 else ''}>{'<b>' if bold else ''}{e(str(v))}"
                        f"{'</b>' if bold else ''}</td>" for i, v in enumerate(row))
        parts.append(f"<tr>{cells}</tr>")
    parts.append("</table><br/><table border='1' cellspacing='0' cellpadding='4'>")
    for row in note_rows(report):
        parts.append("<tr>" + "".join(f"<td>{e(str(v))}</td>" for v in row) + "</tr>")
    parts.append("</table><p>收费员签字：＿＿＿＿＿＿　　财务签字：＿＿＿＿＿＿</p>")
    return "\n".join(parts)


__all__ = ["CHANNELS", "ChannelLine", "DayReport", "ReportService", "ShiftReport", "export_csv", "export_xlsx",
           "to_html"]
