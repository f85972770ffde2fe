"""门诊医生站: the doctor's queue for today on the left (live: a registration, check-in or switch to credit at any
window shows up by itself), the opened visit on the right — who the patient is, the 信用就医 notice (SPEC §6,
as a banner and as a pop-up on opening a credit visit), order entry, this visit's orders (revoke, record the
actual amount carried out, print the guide slip) and the patient's earlier visits.

Keys: F2 call the next patient, F3 call the selected one, F4 finished, F5 refresh, F9 submit the order,
Ctrl+P print the guide slip. Every database and bank call runs off the UI thread (``qt.ops``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QSplitter, QTabWidget, QVBoxLayout, QWidget

from desktop_his.dialogs import messages
from desktop_his.qt import ops
from desktop_his.qt.live_bridge import LiveSignal
from desktop_his.qt.table_model import CENTER, RIGHT, Column, RecordTableModel
from desktop_his.qt.widgets import action_button
from desktop_his.services import texts
from desktop_his.services.doctor_queue import QueueEntry, VisitDetail
from desktop_his.services.enums import FeeStatus, OrderStatus
from desktop_his.services.errors import HisError
from desktop_his.views.doctor.composer import OrderComposer
from desktop_his.views.doctor.dialogs import (
    CreditNoticeDialog,
    CreditTotalDialog,
    ExecuteDialog,
    RevokeDialog,
)
from desktop_his.views.doctor.history import HistoryPanel
from desktop_his.views.doctor.slip import print_order_slip
from desktop_his.views.inpatient.common import (
    BAD_STYLE,
    OK_STYLE,
    WARN_STYLE,
    label,
    printed_text,
    table,
    yuan,
)

if TYPE_CHECKING:
    from desktop_his.services.container import Services
    from desktop_his.services.order_credit import OrderLockResult, RevokeResult
    from desktop_his.services.orders import OrderView
    from desktop_his.services.permissions import Actor

FOLLOW_UP_MS = 3000  # a lock still with the bank is asked about again this often
PERIODS = {"AM": "上午", "PM": "下午", "EV": "晚间"}
BANNER_STYLE = ("color: white; background: #c0392b; padding: 6px 10px; border-radius: 3px; font-size: 13pt;"
                "font-weight: bold;")
MARK_BG = {texts.SLIP_MARK_CREDIT: QColor("#c0392b"), texts.SLIP_MARK_FAMILY: QColor("#8e44ad")}
_SECTION_TEXT = {"in_room": "就诊中", "waiting": "候诊", "not_arrived": "未取号", "seen": "已就诊", "closed": "已结束"}

QUEUE_COLUMNS = [
    Column("号", lambda e: f"{PERIODS.get(e.period, '')}{e.queue_no or ''}", sort=lambda e: (e.period, e.queue_no)),
    Column("姓名", lambda e: e.patient_name), Column("性别", lambda e: e.sex_label),
    Column("年龄", lambda e: e.age, align=RIGHT), Column("状态", lambda e: e.status_label),
    Column("信用就医", lambda e: e.pay_mark or "", align=CENTER, tooltip=lambda e: e.credit_notice or ""),
    Column("待缴费", lambda e: f"{e.unpaid_orders}单" if e.unpaid_orders else "", align=RIGHT),
]
MARK_COLUMN = 5
ORDER_COLUMNS = [
    Column("医嘱号", lambda o: o.order_no or ""), Column("项目", lambda o: "、".join(i.name for i in o.items)),
    Column("金额", lambda o: yuan(o.total_fen), sort=lambda o: o.total_fen, align=RIGHT),
    Column("实际", lambda o: "" if o.actual_fen is None else yuan(o.actual_fen), align=RIGHT),
    Column("状态", lambda o: o.status_label), Column("收费", lambda o: _fee_text(o)),
]


def _fee_text(order: OrderView) -> str:
    if order.fee_status == FeeStatus.UNPAID and order.status == OrderStatus.SUBMITTED:
        return "待缴费（请到收费窗口）"
    return order.fee_status_label


class QueueModel(RecordTableModel):
    """The queue with the 信用就医 / 亲情付 mark drawn white on red (purple for 亲情付), bold: prominent."""

    def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if index.isValid() and index.column() == MARK_COLUMN and 0 <= index.row() < len(self._rows):
            mark = self._rows[index.row()].pay_mark
            if mark and role == Qt.ItemDataRole.BackgroundRole:
                return QBrush(MARK_BG[mark])
            if mark and role == Qt.ItemDataRole.ForegroundRole:
                return QBrush(QColor("white"))
            if mark and role == Qt.ItemDataRole.FontRole:
                font = QFont()
                font.setBold(True)
                return font
        return super().data(index, role)


class DoctorStation(QWidget):
    def __init__(self, services: Services, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("doctor_page")
        self.services, self.actor = services, actor
        self.queue_svc, self.flow = services.doctor_queue, services.order_credit
        self.current: QueueEntry | None = None
        self.detail: VisitDetail | None = None
        self.noticed: set[int] = set()  # visits whose credit notice was shown this session
        self.pending: dict[int, str] = {}  # order id → patient name: locks still with the bank
        self._following: set[int] = set()  # follow-up queries in flight
        self.notice_dialog: CreditNoticeDialog | None = None
        self.total_dialog: CreditTotalDialog | None = None
        self.revoke_dialog: RevokeDialog | None = None
        self.execute_dialog: ExecuteDialog | None = None
        self.last_print = None
        self.settle_within = 2.0  # seconds a submit waits for the bank before carrying on (then: follow-ups)
        self.model = QueueModel(QUEUE_COLUMNS, muted=lambda e: e.section in ("seen", "closed"), parent=self)
        self.orders = RecordTableModel(ORDER_COLUMNS, muted=lambda o: o.status == OrderStatus.REVOKED, parent=self)
        self._build()
        self.follow_timer = QTimer(self, interval=FOLLOW_UP_MS)
        self.follow_timer.timeout.connect(self.follow_up)
        self.live = LiveSignal(services.feed, ["doctor:", "orders:visit:", "visit:"], self)
        self.live.changed.connect(self._live_changed)
        self.refresh()

    # ------------------------------------------------------------------------------------------ layout

    def _build(self) -> None:
        self.heading = label("doctor_heading", wrap=False)
        toolbar = QHBoxLayout()
        toolbar.addWidget(self.heading, 1)
        self.call_next_button = self._button("叫下一位 (F2)", "doctor_call_next", self.call_next, "F2")
        self.call_button = self._button("叫号 (F3)", "doctor_call", self.call_selected, "F3")
        self.seen_button = self._button("结束就诊 (F4)", "doctor_seen", self.mark_seen, "F4")
        for button in (self.call_next_button, self.call_button, self.seen_button,
                       self._button("刷新 (F5)", "doctor_refresh", self.refresh, "F5")):
            toolbar.addWidget(button)
        self.queue_table = table("doctor_queue", self.model, self)
        self.queue_table.selectionModel().currentRowChanged.connect(self._selected)
        self.patient = label("doctor_patient", "请在左侧选择患者，或按 F2 叫下一位")
        self.banner = label("doctor_credit_banner", style=BANNER_STYLE)
        self.banner.hide()
        self.credit_total = label("doctor_credit_total", style=OK_STYLE)
        self.composer = OrderComposer(lambda q: self.services.orders.search_catalog(self.actor, q), parent=self)
        self.composer.submit_requested.connect(self.submit)
        self.order_table = table("doctor_orders", self.orders, self, stretch=False)
        self.order_table.selectionModel().currentRowChanged.connect(lambda *_: self._enable())
        self.revoke_button = self._button("撤销医嘱", "doctor_revoke", self.open_revoke)
        self.execute_button = self._button("登记执行（实际数量）", "doctor_execute", self.open_execute)
        self.print_button = self._button("打印导诊单 (Ctrl+P)", "doctor_print_slip", self.print_slip, "Ctrl+P")
        order_actions = QHBoxLayout()
        for button in (self.revoke_button, self.execute_button):
            order_actions.addWidget(button)
        order_actions.addStretch(1)
        order_actions.addWidget(self.print_button)
        orders_tab = QWidget()
        orders_box = QVBoxLayout(orders_tab)
        orders_box.addWidget(self.order_table, 1)
        orders_box.addLayout(order_actions)
        self.history = HistoryPanel(self)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("doctor_tabs")
        self.tabs.addTab(self.composer, "开立医嘱")
        self.tabs.addTab(orders_tab, "本次医嘱")
        self.tabs.addTab(self.history, "既往就诊")
        self.message = label("doctor_message", style=OK_STYLE)
        right = QWidget()
        right_box = QVBoxLayout(right)
        right_box.setContentsMargins(0, 0, 0, 0)
        right_box.addWidget(self.patient)
        right_box.addWidget(self.banner)
        right_box.addWidget(self.credit_total)
        right_box.addWidget(self.tabs, 1)
        right_box.addWidget(self.message)
        splitter = QSplitter()
        splitter.addWidget(self.queue_table)
        splitter.addWidget(right)
        splitter.setSizes([430, 700])
        layout = QVBoxLayout(self)
        layout.addLayout(toolbar)
        layout.addWidget(splitter, 1)
        self._enable()

    def _button(self, text: str, name: str, slot: Any, shortcut: str | None = None) -> QPushButton:
        return action_button(text, name, slot, shortcut, scope=self)

    def _enable(self) -> None:
        open_visit = self.current is not None and self.current.section in ("in_room", "waiting")
        self.composer.setEnabled(open_visit)
        self.call_button.setEnabled(self.current is not None and self.current.section in ("in_room", "waiting"))
        self.seen_button.setEnabled(open_visit)
        order = self.selected_order()
        live = order is not None and order.status == OrderStatus.SUBMITTED
        self.revoke_button.setEnabled(live and order.fee_status != FeeStatus.PENDING)
        self.execute_button.setEnabled(live and order.fee_status not in (FeeStatus.PENDING, FeeStatus.UNPAID))
        self.print_button.setEnabled(self.current is not None)

    def say(self, text: str, style: str = OK_STYLE) -> None:
        self.message.setStyleSheet(style)
        self.message.setText(text)

    # ------------------------------------------------------------------------------------------ queue

    def refresh(self) -> None:
        svc, actor = self.queue_svc, self.actor
        ops.run(self, lambda: svc.today_queue(actor), on_success=self._queue_loaded, on_failure=self._queue_failed)

    def _queue_failed(self, error: BaseException) -> None:
        if isinstance(error, HisError):  # e.g. this account is not linked to a doctor
            self.say(error.message, BAD_STYLE)
        else:
            ops.report_error(self, error)

    def _queue_loaded(self, entries: list[QueueEntry]) -> None:
        keep = self.current.visit_id if self.current is not None else None
        self.model.set_rows(entries)
        waiting = sum(e.section == "waiting" for e in entries)
        self.heading.setText(f"{self.actor.display_name} 医生 — 今日 {len(entries)} 人，候诊 {waiting} 人")
        row = self.model.find(lambda e: e.visit_id == keep) if keep is not None else -1
        if row < 0:
            return
        before, self.current = self.current, self.model.row(row)
        self.queue_table.selectionModel().setCurrentIndex(
            self.model.index(row, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows)
        if before != self.current:  # status / credit / unpaid count changed: re-read the visit
            self.open_visit()

    def select_visit(self, visit_id: int) -> None:
        """Select (and open) the visit in the queue (tests and scripts)."""
        row = self.model.find(lambda e: e.visit_id == visit_id)
        if row >= 0:
            self.queue_table.selectRow(row)

    def _selected(self, current: Any, _previous: Any) -> None:
        if not current.isValid():
            return
        entry = self.model.row(current.row())
        if self.current is not None and entry.visit_id == self.current.visit_id and self.detail is not None \
                and self.detail.entry.visit_id == entry.visit_id:
            return
        if self.current is None or entry.visit_id != self.current.visit_id:
            self.message.clear()
            self.composer.clear()
        self.current = entry
        self._enable()
        self.open_visit()

    def call_next(self) -> None:
        svc, actor = self.queue_svc, self.actor
        ops.run(self, lambda: svc.call_next(actor), on_success=self._called, disable=[self.call_next_button])

    def call_selected(self) -> None:
        if self.current is not None:
            svc, actor, visit_id = self.queue_svc, self.actor, self.current.visit_id
            ops.run(self, lambda: svc.call(actor, visit_id), on_success=self._called)

    def _called(self, entry: QueueEntry | None) -> None:
        if entry is None:
            self.say("当前没有已取号候诊的患者", WARN_STYLE)
            return
        self.say(f"请 {entry.queue_no} 号 {entry.patient_name} 就诊")
        self.current = entry
        self.detail = None
        self.composer.clear()
        self.refresh()
        self.open_visit()

    def mark_seen(self) -> None:
        if self.current is not None:
            svc, actor, visit_id = self.queue_svc, self.actor, self.current.visit_id
            ops.run(self, lambda: svc.mark_seen(actor, visit_id), on_success=self._seen)

    def _seen(self, entry: QueueEntry) -> None:
        self.say(f"{entry.patient_name} 就诊结束")
        self.current = entry
        self.refresh()

    # ------------------------------------------------------------------------------------------ visit

    def open_visit(self) -> None:
        if self.current is None:
            return
        svc, actor, entry = self.queue_svc, self.actor, self.current

        def work() -> tuple[VisitDetail, list]:
            detail = svc.open_visit(actor, entry.visit_id)
            return detail, svc.patient_history(actor, entry.patient_id, exclude_visit_id=entry.visit_id)

        ops.run(self, work, on_success=self._visit_loaded)

    def _visit_loaded(self, loaded: tuple[VisitDetail, list]) -> None:
        detail, history = loaded
        if self.current is None or detail.entry.visit_id != self.current.visit_id:
            return  # another patient was chosen meanwhile
        self.detail, self.current = detail, detail.entry
        e = detail.entry
        self.patient.setText(f"{e.patient_name}\u3000{e.sex_label} {e.age}岁\u3000{detail.id_type_label} {e.id_masked}"
                             f"\u3000就诊号 {e.visit_no}\u3000{e.status_label}")
        self._show_credit(detail)
        keep = self.selected_order()
        self.orders.set_rows([o for o in detail.orders])
        if keep is not None:
            row = self.orders.find(lambda o: o.id == keep.id)
            if row >= 0:
                self.order_table.selectRow(row)
        self.history.show_history(history)
        self._enable()
        if detail.credit_notice and e.visit_id not in self.noticed:
            self.noticed.add(e.visit_id)
            self._show_notice(e)

    def _show_credit(self, detail: VisitDetail) -> None:
        e, total = detail.entry, detail.credit_total
        if not e.credit:
            self.banner.hide()
            self.credit_total.setText("")
            return
        family = f"\u3000【{texts.SLIP_MARK_FAMILY}】" if e.family_pay else ""
        self.banner.setText(f"{detail.credit_notice}{family}")
        self.banner.show()
        pending = f"（另有 {yuan(total.pending_fen)} 锁定确认中）" if total.pending_fen else ""
        self.credit_total.setText(total.text + pending)

    def _show_notice(self, entry: QueueEntry) -> None:
        if self.notice_dialog is not None:
            self.notice_dialog.deleteLater()
        self.notice_dialog = CreditNoticeDialog(entry.patient_name, entry.pay_mark, self)
        self.notice_dialog.open()

    def selected_order(self) -> OrderView | None:
        row = self.order_table.currentIndex().row() if hasattr(self, "order_table") else -1
        return self.orders.row(row) if 0 <= row < self.orders.rowCount() else None

    def select_order(self, order_id: int) -> None:
        row = self.orders.find(lambda o: o.id == order_id)
        if row >= 0:
            self.order_table.selectRow(row)
        self._enable()

    def _live_changed(self, topics: set[str]) -> None:
        doctor = self.actor.doctor_id
        # An order paid at a window publishes only its visit: refresh the queue's 待缴费 for our own visits.
        ours = {f"orders:visit:{e.visit_id}" for e in self.model.rows()}
        if "*" in topics or f"doctor:{doctor}" in topics or ours & topics:
            self.refresh()
        if self.current is not None and ({f"orders:visit:{self.current.visit_id}", f"visit:{self.current.visit_id}"}
                                         & topics):
            self.open_visit()

    # ------------------------------------------------------------------------------------------ orders

    def submit(self, lines: list) -> None:
        if self.current is None:
            return
        flow, actor, visit_id, settle = self.flow, self.actor, self.current.visit_id, self.settle_within
        who = self.current.patient_name
        ops.run(self, lambda: flow.submit_lines(actor, visit_id, lines, settle_within=settle),
                on_success=lambda result: self._submitted(result, who),
                wait="正在提交医嘱…", disable=[self.composer.submit_button], lane="bank")

    def _submitted(self, result: OrderLockResult, who: str) -> None:
        self.composer.clear()
        self.open_visit()
        self._lock_answer(result, who)

    def _lock_answer(self, result: OrderLockResult, who: str) -> None:
        order = result.order
        # An answer that arrives after the doctor moved on names the patient it is about.
        elsewhere = self.current is None or self.current.visit_id != order.visit_id
        prefix = f"患者 {who}：" if elsewhere else ""
        if result.state == "pending":
            self.pending[order.id] = who
            self.follow_timer.start()
            self.say(f"医嘱 {order.order_no} 已提交。{result.message}", WARN_STYLE)
            return
        self.pending.pop(order.id, None)
        if result.state == "locked":
            self.say(f"{prefix}医嘱 {order.order_no} 已提交，“信用就医”已锁定 {yuan(order.total_fen)}")
            self._show_total(result, who)
        elif result.state == "refused":
            self.say(f"{prefix}医嘱 {order.order_no}：{result.message}", BAD_STYLE)
            messages.warning(self, prefix + result.message)
        else:
            self.say(f"{prefix}医嘱 {order.order_no} {result.message}")

    def _show_total(self, result: OrderLockResult, who: str) -> None:
        if self.total_dialog is not None:
            self.total_dialog.deleteLater()
        detail = f"患者 {who}　本单 {result.order.order_no}：{yuan(result.order.total_fen)}"
        self.total_dialog = CreditTotalDialog(result.total_text, detail, self)
        self.total_dialog.open()

    def follow_up(self) -> None:
        """Ask the bank again about locks still pending; the doctor keeps working meanwhile."""
        if not self.pending:
            self.follow_timer.stop()
            return
        flow, actor = self.flow, self.actor
        for order_id in set(self.pending) - self._following:
            self._following.add(order_id)
            ops.run(self, lambda o=order_id: flow.follow_up(actor, o), on_success=self._followed,
                    on_failure=lambda _e, o=order_id: self._following.discard(o), lane="bank")

    def _followed(self, result: OrderLockResult) -> None:
        self._following.discard(result.order.id)
        if result.order.id not in self.pending or not result.settled:
            return
        self._lock_answer(result, self.pending[result.order.id])
        if self.current is not None and result.order.visit_id == self.current.visit_id:
            self.open_visit()

    def open_revoke(self) -> None:
        order = self.selected_order()
        if order is None:
            return
        if self.revoke_dialog is not None:
            self.revoke_dialog.deleteLater()
        self.revoke_dialog = RevokeDialog(order, self)
        self.revoke_dialog.confirmed.connect(lambda reason: self._revoke(order.id, reason))
        self.revoke_dialog.open()

    def _revoke(self, order_id: int, reason: str) -> None:
        flow, actor, dialog = self.flow, self.actor, self.revoke_dialog
        ops.run(dialog, lambda: flow.revoke(actor, order_id, reason), on_success=self._revoked,
                errors=dialog.errors, wait="正在撤销医嘱…", disable=[dialog.ok_button], lane="bank")

    def _revoked(self, result: RevokeResult) -> None:
        if self.revoke_dialog is not None:
            self.revoke_dialog.accept()
        self.say(result.message, OK_STYLE if result.settled else WARN_STYLE)
        self.open_visit()

    def open_execute(self) -> None:
        order = self.selected_order()
        if order is None:
            return
        if self.execute_dialog is not None:
            self.execute_dialog.deleteLater()
        self.execute_dialog = ExecuteDialog(order, self)
        self.execute_dialog.confirmed.connect(lambda actual: self._execute(order.id, actual))
        self.execute_dialog.open()

    def _execute(self, order_id: int, actual: dict[int, int]) -> None:
        orders, actor, dialog = self.services.orders, self.actor, self.execute_dialog
        ops.run(dialog, lambda: orders.mark_executed(actor, order_id, actual), on_success=self._executed,
                errors=dialog.errors, disable=[dialog.ok_button])

    def _executed(self, result: Any) -> None:
        if self.execute_dialog is not None:
            self.execute_dialog.accept()
        order = result.order
        extra = (f"；已收取的费用超出实际金额 {yuan(result.over_collected_fen)}，请患者到收费窗口办理退费"
                 if result.over_collected_fen else "")
        self.say(f"医嘱 {order.order_no} 已执行，实际金额 {yuan(order.actual_fen or 0)}{extra}")
        self.open_visit()

    # ------------------------------------------------------------------------------------------ slip

    def print_slip(self) -> None:
        if self.current is None:
            return
        services, actor, visit_id = self.services, self.actor, self.current.visit_id
        ops.run(self, lambda: print_order_slip(services, actor, visit_id), on_success=self._printed,
                wait="正在打印导诊单…", disable=[self.print_button], lane="io")

    def _printed(self, result: Any) -> None:
        self.last_print = result
        self.say(f"导诊单{printed_text(result)}")
