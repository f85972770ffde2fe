"""财务结算 workstation: tabs for the T-day deduction (progress, counts and amounts, the deadline alert, locks to
collect another way), the refund queue (merchant balance, manual retry from the head), reconciliation (runs,
mismatches, Excel/CSV export), the day-end report (print/PDF, Excel/CSV) and the inbox. Every service call runs
off the GUI thread (``qt.ops``); the deduction reports its progress through a queued signal."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate, QObject, Qt, QTime, QTimer, Signal
from PySide6.QtWidgets import (
    QDateEdit,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTabWidget,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from desktop_his.qt import ops
from desktop_his.qt.live_bridge import LiveSignal
from desktop_his.qt.table_model import RIGHT, Column, RecordTableModel
from desktop_his.qt.widgets import action_button
from desktop_his.services.enums import LockStatus
from desktop_his.services.errors import HisError
from desktop_his.services.reconciliation import KIND_LABELS, OP_LABELS, Kind
from desktop_his.views.inbox import InboxWidget
from desktop_his.views.inpatient.common import BAD_STYLE, OK_STYLE, WARN_STYLE, label, table, yuan

if TYPE_CHECKING:
    from desktop_his.services.container import Services
    from desktop_his.services.deduction import DayStatus, ProgressInfo, RunReport
    from desktop_his.services.permissions import Actor
    from desktop_his.services.reconciliation import ReconReport
    from desktop_his.services.refunds import QueuedRefund, RetryReport
    from desktop_his.services.reports import DayReport

ALERT_CHECK_MS = 60_000
STATUS_LABELS = {"SUCCESS": "成功", "FAILED": "失败", "UNRESOLVED": "未确认"}

RELEASED_COLUMNS = [
    Column("锁定编号", lambda r: r.lock_no), Column("患者", lambda r: r.patient_name), Column("电话", lambda r: r.phone),
    Column("应收金额", lambda r: yuan(r.amount_fen), sort=lambda r: r.amount_fen, align=RIGHT),
    Column("用途", lambda r: {"registration": "挂号费", "order": "医嘱", "vaccine": "疫苗"}.get(r.purpose, r.purpose)),
    Column("原因", lambda r: r.reason),
]
QUEUE_COLUMNS = [
    Column("顺序", lambda q: q.position), Column("退款单号", lambda q: q.row.refund_no),
    Column("提交时间", lambda q: f"{q.row.created_at:%Y-%m-%d %H:%M}"), Column("患者", lambda q: q.row.patient_name),
    Column("金额", lambda q: yuan(q.row.amount_fen), align=RIGHT),
    Column("申请科室", lambda q: q.row.department), Column("已试", lambda q: q.row.attempts),
    Column("最近结果", lambda q: q.row.last_error_message or ""),
]
RUN_COLUMNS = [
    Column("账单日期", lambda r: f"{r.bill_date:%Y-%m-%d}"), Column("对账时间", lambda r: f"{r.run_at:%m-%d %H:%M}"),
    Column("银行笔数", lambda r: r.bank_lines), Column("一致", lambda r: r.counts.get("matched", 0)),
    Column("差异", lambda r: r.mismatches), Column("对账人", lambda r: r.run_by),
]
ITEM_COLUMNS = [
    Column("差异类型", lambda i: KIND_LABELS.get(Kind(i.kind), i.kind)), Column("交易", lambda i: OP_LABELS.get(i.op, i.op)),
    Column("医院编号", lambda i: i.number or ""), Column("银行流水号", lambda i: i.serial),
    Column("本地金额", lambda i: "" if i.local_amount_fen is None else yuan(i.local_amount_fen),
           align=RIGHT),
    Column("银行金额", lambda i: "" if i.bank_amount_fen is None else yuan(i.bank_amount_fen),
           align=RIGHT),
    Column("本地状态", lambda i: STATUS_LABELS.get(i.local_status or "", i.local_status or "")),
    Column("银行状态", lambda i: STATUS_LABELS.get(i.bank_status or "", i.bank_status or "")),
    Column("说明", lambda i: i.note),
]
REPORT_COLUMNS = [
    Column("收费员", lambda r: r[0]), Column("渠道", lambda r: r[1]), Column("笔数", lambda r: r[2]),
    Column("收入", lambda r: r[3], align=RIGHT),
    Column("退款笔数", lambda r: r[4]), Column("退款", lambda r: r[5], align=RIGHT),
    Column("净额", lambda r: r[6], align=RIGHT),
]


class _Queued:
    def __init__(self, position: int, row: QueuedRefund) -> None:
        self.position, self.row = position, row


class _Progress(QObject):
    """Carries the deduction's progress from the worker to the GUI thread (a queued connection)."""

    step = Signal(object)


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _pydate(edit: QDateEdit) -> date:
    d = edit.date()
    return date(d.year(), d.month(), d.day())


def _button(text: str, name: str, slot: Any, tip: str = "") -> QPushButton:
    return action_button(text, name, slot, tip=tip)


def _date_edit(name: str, day: date) -> QDateEdit:
    edit = QDateEdit(_qdate(day))
    edit.setObjectName(name)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    return edit


class FinanceDesk(QWidget):
    def __init__(self, services: Services, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("finance_page")
        self.services, self.actor = services, actor
        self.recon: ReconReport | None = None
        self.day_report: DayReport | None = None
        self.last_status: DayStatus | None = None
        self.progress_signal = _Progress(self)
        self.progress_signal.step.connect(self._progress)
        self._build()
        self.live = LiveSignal(services.feed, ["refunds", "notifications:"], self)
        self.live.changed.connect(lambda _topics: self.refresh_queue())
        self.alert_timer = QTimer(self)
        self.alert_timer.setInterval(ALERT_CHECK_MS)
        self.alert_timer.timeout.connect(self.refresh_status)
        self.alert_timer.start()
        if self._bank_ready():
            self.refresh_status()
            self.refresh_queue()
            self.refresh_runs()
            self.refresh_balance()

    # ------------------------------------------------------------------------------------------ layout

    def _build(self) -> None:
        today = self.services.clock.today()
        self.bank_problem = label("finance_bank_problem", style=BAD_STYLE)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("finance_tabs")
        self.tabs.addTab(self._settle_tab(today), "T日扣款")
        self.tabs.addTab(self._refund_tab(), "退款队列")
        self.tabs.addTab(self._recon_tab(today), "对账")
        self.tabs.addTab(self._report_tab(today), "日结报表")
        self.inbox = InboxWidget(self.services, self.actor, self, prefix="finance_inbox")
        self.tabs.addTab(self.inbox, "消息")
        layout = QVBoxLayout(self)
        layout.addWidget(self.bank_problem)
        layout.addWidget(self.tabs, 1)
        self.bank_problem.setVisible(False)

    def _settle_tab(self, today: date) -> QWidget:
        page = QWidget()
        self.settle_date = _date_edit("finance_settle_date", today)
        self.settle_date.dateChanged.connect(lambda _d: self.refresh_status())
        self.settle_button = _button("开始扣款", "finance_settle_run", self.start_settle,
                                     "把该日全部“信用就医”锁定按实际金额扣款；可重复执行，已扣的不会重复扣")
        self.settle_refresh = _button("刷新", "finance_settle_refresh", self.refresh_status)
        self.warn_at = QTimeEdit(QTime(23, 0))
        self.warn_at.setObjectName("finance_warn_at")
        self.warn_at.setDisplayFormat("HH:mm")
        self.warn_at.setToolTip("T日该时间后仍有未扣款或结果未确认的锁定时，本页显示红色提醒")
        self.warn_save = _button("保存提醒时间", "finance_warn_save", self.save_warning_time)
        self.progress = QProgressBar()
        self.progress.setObjectName("finance_settle_progress")
        self.progress.setFormat("%v / %m")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.running = False
        self.alert = label("finance_settle_alert", style=BAD_STYLE + " font-weight: bold;")
        self.alert.setVisible(False)
        self.counts = label("finance_settle_counts")
        self.settle_message = label("finance_settle_message", style=OK_STYLE)
        self.released_model = RecordTableModel(RELEASED_COLUMNS, parent=self)
        self.released_table = table("finance_released_table", self.released_model, self)
        bar = QHBoxLayout()
        bar.addWidget(label("finance_settle_date_label", "业务日期（T日）", wrap=False))
        bar.addWidget(self.settle_date)
        bar.addWidget(self.settle_button)
        bar.addWidget(self.settle_refresh)
        bar.addStretch(1)
        bar.addWidget(label("finance_warn_label", "截止提醒", wrap=False))
        bar.addWidget(self.warn_at)
        bar.addWidget(self.warn_save)
        box = QGroupBox("银行已于24时释放、未能扣款的锁定（须以其他方式收取）")
        inner = QVBoxLayout(box)
        inner.addWidget(self.released_table)
        layout = QVBoxLayout(page)
        layout.addLayout(bar)
        layout.addWidget(self.alert)
        layout.addWidget(self.progress)
        layout.addWidget(self.counts)
        layout.addWidget(self.settle_message)
        layout.addWidget(box, 1)
        return page

    def _refund_tab(self) -> QWidget:
        page = QWidget()
        self.balance = label("finance_balance", "暂收金额：—")
        self.balance_button = _button("查询暂收金额", "finance_balance_refresh", self.refresh_balance)
        self.retry_button = _button("按顺序重试", "finance_refund_retry", self.retry_refunds,
                                    "从队首开始，按提交顺序、用原退款单号重试；队首未成功时其后各笔继续等待")
        self.queue_model = RecordTableModel(QUEUE_COLUMNS, parent=self)
        self.queue_table = table("finance_refund_table", self.queue_model, self)
        self.refund_message = label("finance_refund_message")
        bar = QHBoxLayout()
        bar.addWidget(self.balance, 1)
        bar.addWidget(self.balance_button)
        bar.addWidget(self.retry_button)
        layout = QVBoxLayout(page)
        layout.addLayout(bar)
        layout.addWidget(self.queue_table, 1)
        layout.addWidget(self.refund_message)
        return page

    def _recon_tab(self, today: date) -> QWidget:
        page = QWidget()
        self.recon_date = _date_edit("finance_recon_date", today.fromordinal(today.toordinal() - 1))
        self.recon_button = _button("下载账单并对账", "finance_recon_run", self.run_reconciliation)
        self.export_xlsx_button = _button("导出Excel", "finance_recon_export_xlsx", lambda: self.export_recon("xlsx"))
        self.export_csv_button = _button("导出CSV", "finance_recon_export_csv", lambda: self.export_recon("csv"))
        for b in (self.export_xlsx_button, self.export_csv_button):
            b.setEnabled(False)
        self.runs_model = RecordTableModel(RUN_COLUMNS, parent=self)
        self.runs_table = table("finance_recon_runs", self.runs_model, self)
        self.runs_table.selectionModel().currentRowChanged.connect(lambda cur, _p: self._run_chosen(cur.row()))
        self.items_model = RecordTableModel(ITEM_COLUMNS, parent=self)
        self.items_table = table("finance_recon_items", self.items_model, self)
        self.recon_summary = label("finance_recon_summary")
        bar = QHBoxLayout()
        bar.addWidget(label("finance_recon_date_label", "账单日期", wrap=False))
        bar.addWidget(self.recon_date)
        bar.addWidget(self.recon_button)
        bar.addStretch(1)
        bar.addWidget(self.export_xlsx_button)
        bar.addWidget(self.export_csv_button)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.runs_table)
        split.addWidget(self.items_table)
        split.setSizes([150, 300])
        layout = QVBoxLayout(page)
        layout.addLayout(bar)
        layout.addWidget(self.recon_summary)
        layout.addWidget(split, 1)
        return page

    def _report_tab(self, today: date) -> QWidget:
        page = QWidget()
        self.report_date = _date_edit("finance_report_date", today)
        self.report_button = _button("生成日结报表", "finance_report_run", self.run_report)
        self.print_button = _button("打印/PDF", "finance_report_print", lambda: self.print_report())
        self.report_xlsx_button = _button("导出Excel", "finance_report_export_xlsx", lambda: self.export_report("xlsx"))
        self.report_csv_button = _button("导出CSV", "finance_report_export_csv", lambda: self.export_report("csv"))
        for b in (self.print_button, self.report_xlsx_button, self.report_csv_button):
            b.setEnabled(False)
        self.report_model = RecordTableModel(REPORT_COLUMNS, parent=self)
        self.report_table = table("finance_report_table", self.report_model, self, stretch=False)
        self.report_notes = label("finance_report_notes")
        bar = QHBoxLayout()
        bar.addWidget(label("finance_report_date_label", "业务日期", wrap=False))
        bar.addWidget(self.report_date)
        bar.addWidget(self.report_button)
        bar.addStretch(1)
        for b in (self.print_button, self.report_xlsx_button, self.report_csv_button):
            bar.addWidget(b)
        layout = QVBoxLayout(page)
        layout.addLayout(bar)
        layout.addWidget(self.report_table, 1)
        layout.addWidget(self.report_notes)
        return page

    # ------------------------------------------------------------------------------------------ deduction

    def _bank_ready(self) -> bool:
        if self.services.deduction is None:
            self.bank_problem.setText(f"未连接银行：{self.services.bank_problem or '请在“银行连接”中设置'}。"
                                      "扣款、退款队列与对账不可用；日结报表仍可使用。")
            self.bank_problem.setVisible(True)
            for b in (self.settle_button, self.retry_button, self.recon_button, self.balance_button):
                b.setEnabled(False)
            return False
        return True

    def refresh_status(self) -> None:
        if self.services.deduction is None:
            return
        svc, actor, day = self.services.deduction, self.actor, _pydate(self.settle_date)
        ops.run(self, lambda: (svc.status(actor, day), svc.released(actor, day), svc.warning_time()),
                on_success=self._status_loaded)

    def save_warning_time(self) -> None:
        if self.services.deduction is None:
            return
        from datetime import time as dtime

        svc, actor, t = self.services.deduction, self.actor, self.warn_at.time()
        at = dtime(t.hour(), t.minute())
        ops.run(self, lambda: svc.set_warning_time(actor, at), on_success=lambda _r: self.refresh_status(),
                on_failure=self._settle_failed, disable=[self.warn_save])

    def _status_loaded(self, data: tuple[DayStatus, list, Any]) -> None:
        st, released, warn_at = data
        if not self.warn_at.hasFocus():
            self.warn_at.setTime(QTime(warn_at.hour, warn_at.minute))
        if st.business_date != _pydate(self.settle_date):
            return
        self.last_status = st
        done = st.figures(LockStatus.DEDUCTED)
        self.counts.setText(
            f"{st.business_date:%Y-%m-%d}：已扣款 {done.count} 笔 {yuan(done.fen)}；待扣款 {st.to_deduct.count} 笔 "
            f"{yuan(st.to_deduct.fen)}；结果未确认 {st.in_flight} 笔；锁定处理中 {st.pending_locks} 笔；"
            f"未能扣款 {len(released)} 笔")
        self.alert.setText(st.alert)
        self.alert.setVisible(bool(st.alert))
        self.released_model.set_rows(released)
        if not self.running:  # between runs the bar shows the day: deducted of (deducted + still to deduct)
            self.progress.setRange(0, max(1, done.count + st.to_deduct.count))
            self.progress.setValue(done.count)

    def start_settle(self) -> None:
        if self.services.deduction is None:
            return
        svc, actor, day = self.services.deduction, self.actor, _pydate(self.settle_date)
        self.progress.setRange(0, max(1, self.last_status.to_deduct.count if self.last_status else 1))
        self.progress.setValue(0)
        self.settle_message.setStyleSheet(OK_STYLE)
        self.settle_message.setText("正在扣款…")
        emit = self.progress_signal.step.emit
        self.running = True
        self.settle_op = ops.run(self, lambda: svc.run(actor, day, progress=emit), on_success=self._settled,
                                 on_failure=self._settle_failed, disable=[self.settle_button], lane="bank")

    def _progress(self, info: ProgressInfo) -> None:
        self.progress.setRange(0, max(1, info.total))
        self.progress.setValue(min(info.done, info.total))

    def _settled(self, report: RunReport) -> None:
        self.running = False
        self.progress.setValue(self.progress.maximum())
        bad = report.unknown or report.refused
        self.settle_message.setStyleSheet(WARN_STYLE if bad else OK_STYLE)
        self.settle_message.setText(report.message + f"（用时 {report.seconds:.1f} 秒）")
        self.refresh_status()

    def _settle_failed(self, exc: BaseException) -> None:
        self.running = False
        self.settle_message.setStyleSheet(BAD_STYLE)
        text = exc.message if isinstance(exc, HisError) else f"扣款中断（{type(exc).__name__}），已记录日志；可再次执行，不会重复扣款"
        self.settle_message.setText(text)
        self.refresh_status()

    # ------------------------------------------------------------------------------------------ refunds

    def refresh_queue(self) -> None:
        if self.services.refunds is None:
            return
        svc, actor = self.services.refunds, self.actor
        ops.run(self, lambda: svc.queued(actor), on_success=self._queue_loaded)

    def _queue_loaded(self, rows: list[QueuedRefund]) -> None:
        self.queue_model.set_rows([_Queued(i + 1, r) for i, r in enumerate(rows)])
        self.retry_button.setEnabled(bool(rows) and self.services.refunds is not None)
        if not rows and not self.refund_message.text():
            self.refund_message.setText("退款队列为空")

    def refresh_balance(self) -> None:
        if self.services.reconciliation is None:
            return
        svc, actor = self.services.reconciliation, self.actor
        ops.run(self, lambda: svc.merchant_balance(actor), on_success=self._balance_loaded, lane="bank",
                disable=[self.balance_button], on_failure=self._balance_failed)

    def _balance_loaded(self, b: Any) -> None:
        head = self.queue_model.row(0).row.amount_fen if self.queue_model.rowCount() else 0
        short = head and b.balance_fen < head
        self.balance.setStyleSheet(BAD_STYLE if short else "")
        self.balance.setText(f"暂收金额：{yuan(b.balance_fen)}（当日应收 {yuan(b.receivables_fen)}，退款预留 "
                             f"{yuan(b.reserve_fen)}{'' if b.has_reserve else '，未设预留'}）"
                             + (f"；不足以支付队首退款 {yuan(head)}" if short else ""))

    def _balance_failed(self, exc: BaseException) -> None:
        self.balance.setStyleSheet(BAD_STYLE)
        self.balance.setText(f"暂收金额查询失败：{exc.message if isinstance(exc, HisError) else type(exc).__name__}")

    def retry_refunds(self) -> None:
        if self.services.refunds is None:
            return
        queue, rec, actor = self.services.refunds, self.services.reconciliation, self.actor

        def work() -> tuple[Any, RetryReport]:
            try:
                balance = rec.merchant_balance(actor)  # checked (and shown) before the refunds go out
            except HisError:
                balance = None
            return balance, queue.retry(actor)

        self.refund_message.setText("正在按顺序重试…")
        ops.run(self, work, on_success=self._retried, disable=[self.retry_button], lane="bank")

    def _retried(self, data: tuple[Any, RetryReport]) -> None:
        balance, report = data
        if balance is not None:
            self._balance_loaded(balance)
        self.refund_message.setStyleSheet(OK_STYLE if report.left == 0 else WARN_STYLE)
        self.refund_message.setText(report.message)
        self.refresh_queue()

    # ------------------------------------------------------------------------------------------ reconciliation

    def refresh_runs(self) -> None:
        if self.services.reconciliation is None:
            return
        svc, actor = self.services.reconciliation, self.actor
        ops.run(self, lambda: svc.runs(actor), on_success=self.runs_model.set_rows)

    def run_reconciliation(self) -> None:
        if self.services.reconciliation is None:
            return
        svc, actor, day = self.services.reconciliation, self.actor, _pydate(self.recon_date)
        self.recon_summary.setStyleSheet("")
        self.recon_summary.setText("正在下载账单并核对…")
        ops.run(self, lambda: svc.run(actor, day), on_success=self._reconciled, on_failure=self._recon_failed,
                disable=[self.recon_button], lane="bank")

    def _recon_failed(self, exc: BaseException) -> None:
        self.recon_summary.setStyleSheet(BAD_STYLE)
        self.recon_summary.setText(exc.message if isinstance(exc, HisError) else f"对账失败（{type(exc).__name__}）")

    def _reconciled(self, report: ReconReport) -> None:
        self._show_recon(report)
        self.refresh_runs()

    def _show_recon(self, report: ReconReport) -> None:
        self.recon = report
        self.items_model.set_rows(report.items)
        self.recon_summary.setStyleSheet(WARN_STYLE if report.mismatches else OK_STYLE)
        self.recon_summary.setText(report.message)
        for b in (self.export_xlsx_button, self.export_csv_button):
            b.setEnabled(True)

    def _run_chosen(self, row: int) -> None:
        if row < 0 or self.services.reconciliation is None:
            return
        run_id = self.runs_model.row(row).id
        if self.recon is not None and self.recon.run_id == run_id:
            return
        svc, actor = self.services.reconciliation, self.actor
        ops.run(self, lambda: svc.load(actor, run_id), on_success=self._show_recon)

    def _save_path(self, title: str, suggested: str, kind: str) -> Path | None:
        folder = self.services.settings.data_dir / "exports"
        folder.mkdir(parents=True, exist_ok=True)
        pattern = "Excel 文件 (*.xlsx)" if kind == "xlsx" else "CSV 文件 (*.csv)"
        chosen, _ = QFileDialog.getSaveFileName(self, title, str(folder / suggested), pattern)
        return Path(chosen) if chosen else None

    def export_recon(self, kind: str, path: Path | None = None) -> None:
        from desktop_his.services.reconciliation import export_csv, export_xlsx

        report = self.recon
        if report is None:
            return
        self._export("导出对账结果", f"对账_{report.bill_date:%Y%m%d}_{report.run_id}", kind, path,
                     lambda p: (export_xlsx if kind == "xlsx" else export_csv)(report, p),
                     lambda p: self.recon_summary.setText(f"{report.message}。已导出：{p}"))

    def _export(self, title: str, name: str, kind: str, path: Path | None, write: Callable[[Path], Any],
                done: Callable[[Any], None]) -> None:
        """Write an export (``kind`` xlsx or csv) off the UI thread to ``path``, or where the user chooses."""
        path = path or self._save_path(title, f"{name}.{kind}", kind)
        if path is not None:
            ops.run(self, lambda: write(path), lane="io", on_success=done)

    # ------------------------------------------------------------------------------------------ reports

    def run_report(self) -> None:
        svc, actor, day = self.services.reports, self.actor, _pydate(self.report_date)
        ops.run(self, lambda: svc.day_end(actor, day), on_success=self._report_loaded, disable=[self.report_button])

    def _report_loaded(self, report: DayReport) -> None:
        from desktop_his.services.reports import note_rows, table_rows

        self.day_report = report
        self.report_model.set_rows(table_rows(report))
        self.report_notes.setText("；".join(" ".join(str(x) for x in row if x != "") for row in note_rows(report)))
        for b in (self.print_button, self.report_xlsx_button, self.report_csv_button):
            b.setEnabled(True)

    def export_report(self, kind: str, path: Path | None = None) -> None:
        from desktop_his.services.reports import export_csv, export_xlsx

        report = self.day_report
        if report is None:
            return
        self._export("导出日结报表", f"日结_{report.day:%Y%m%d}", kind, path,
                     lambda p: (export_xlsx if kind == "xlsx" else export_csv)(report, p),
                     lambda p: self.report_notes.setText(f"已导出：{p}"))

    def print_report(self, pdf: Path | None = None) -> Path | None:
        """Print the day-end report: to ``pdf`` when given (or when no printer is installed, a PDF in
        ``<data_dir>/reports``), else through the print dialog. Returns the PDF written, if any."""
        from PySide6.QtGui import QPageSize, QTextDocument
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter, QPrinterInfo

        from desktop_his.services.reports import to_html

        report = self.day_report
        if report is None:
            return None
        doc = QTextDocument()
        doc.setHtml(to_html(report, hospital=self.services.settings.hospital_name))
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
        if pdf is None and not QPrinterInfo.availablePrinters():
            folder = self.services.settings.data_dir / "reports"
            folder.mkdir(parents=True, exist_ok=True)
            pdf = folder / f"日结_{report.day:%Y%m%d}.pdf"
        if pdf is not None:
            printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
            printer.setOutputFileName(str(pdf))
        elif QPrintDialog(printer, self).exec() != QPrintDialog.DialogCode.Accepted:
            return None
        doc.print_(printer)
        self.report_notes.setText(f"已生成PDF文件：{pdf}" if pdf else "已发送到打印机")
        return pdf
