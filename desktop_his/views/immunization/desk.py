"""预防接种登记台: find the patient, register today's vaccine visit, 签约查询 (and the patient's confirmation to use
信用就医), the vaccine charge slip from the catalogue locked like an order (开单即锁额), the slip printed for the
vaccination room; a refused lock (or no 信用就医) → another channel at the desk before the patient goes in;
接种完成 records the vaccination (actual doses).

Keys: Ctrl+F find, F2 register, F3 sign query, F9 charge slip, F6 pay by another channel, Ctrl+P print,
F8 vaccinated, F5 refresh."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QPushButton, QSplitter, QVBoxLayout, QWidget

from desktop_his.dialogs import messages
from desktop_his.qt import ops
from desktop_his.qt.live_bridge import LiveSignal
from desktop_his.qt.table_model import RIGHT, Column, RecordTableModel
from desktop_his.qt.widgets import action_button
from desktop_his.services.enums import FeeStatus, OrderStatus
from desktop_his.services.errors import HisError
from desktop_his.services.immunization import cleared_for_vaccination
from desktop_his.services.payments import PaymentInput
from desktop_his.views.doctor.composer import OrderComposer
from desktop_his.views.doctor.slip import print_order_slip
from desktop_his.views.immunization.prompt import CreditPromptDialog
from desktop_his.views.inpatient.common import (
    BAD_STYLE,
    OK_STYLE,
    WARN_STYLE,
    label,
    printed_text,
    table,
    yuan,
)
from desktop_his.views.inpatient.deposit_dialog import DepositDialog

if TYPE_CHECKING:
    from desktop_his.services.bank import SignStatus
    from desktop_his.services.container import Services
    from desktop_his.services.immunization import VaccineVisit
    from desktop_his.services.order_credit import OrderLockResult
    from desktop_his.services.orders import OrderView
    from desktop_his.services.patients import PatientRow
    from desktop_his.services.permissions import Actor

FOLLOW_UP_MS = 3000
NOT_SIGNED = "该患者未签约“信用就医”，按现有流程缴费。"
PATIENT_COLUMNS = [
    Column("姓名", lambda p: p.name), Column("性别", lambda p: p.sex_label), Column("年龄", lambda p: p.age, align=RIGHT),
    Column("证件号", lambda p: p.id_number_masked), Column("电话", lambda p: p.phone),
]
VISIT_COLUMNS = [
    Column("号", lambda v: v.queue_no, align=RIGHT), Column("姓名", lambda v: v.patient_name),
    Column("年龄", lambda v: v.age, align=RIGHT), Column("信用就医", lambda v: v.pay_mark or ""),
    Column("状态", lambda v: {"checked_in": "候种", "called": "接种中", "seen": "已接种"}.get(v.status, v.status)),
]
SLIP_COLUMNS = [
    Column("收费单号", lambda o: o.order_no or ""), Column("疫苗", lambda o: "、".join(
        f"{i.name}×{i.quantity}" for i in o.items)),
    Column("金额", lambda o: yuan(o.total_fen), sort=lambda o: o.total_fen, align=RIGHT),
    Column("收费", lambda o: o.fee_status_label), Column("状态", lambda o: o.status_label),
    Column("可进入接种室", lambda o: "是" if cleared_for_vaccination(o) else ""),
]


class ImmunizationDesk(QWidget):
    def __init__(self, services: Services, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("immunization_page")
        self.services, self.actor = services, actor
        self.imm, self.flow = services.immunization, services.order_credit
        self.current: VaccineVisit | None = None
        self.sign: SignStatus | None = None
        self.prompt: CreditPromptDialog | None = None
        self.pay_dialog: DepositDialog | None = None
        self.pending: set[int] = set()  # slips whose lock is still with the bank
        self._following: set[int] = set()  # follow-up queries in flight
        self.last_print = None
        self.settle_within = 2.0
        self.patients = RecordTableModel(PATIENT_COLUMNS, parent=self)
        self.visits = RecordTableModel(VISIT_COLUMNS, muted=lambda v: v.status == "seen", parent=self)
        self.slips = RecordTableModel(SLIP_COLUMNS, muted=lambda o: o.status == OrderStatus.REVOKED, parent=self)
        self._build()
        self.follow_timer = QTimer(self, interval=FOLLOW_UP_MS)
        self.follow_timer.timeout.connect(self.follow_up)
        self.live = LiveSignal(services.feed, ["department:", "orders:visit:", "visit:"], self)
        self.live.changed.connect(self._live_changed)
        self.refresh()

    # ------------------------------------------------------------------------------------------ layout

    def _build(self) -> None:
        self.search = QLineEdit()
        self.search.setObjectName("imm_search")
        self.search.setPlaceholderText("查找患者：姓名、拼音首字母、证件号或电话（Ctrl+F），Enter 查找")
        self.search.returnPressed.connect(self.find_patients)
        find = self._button("查找", "imm_search_button", self.find_patients)
        self.register_button = self._button("登记 (F2)", "imm_register", self.register, "F2")
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        for widget in (find, self.register_button, self._button("刷新 (F5)", "imm_refresh", self.refresh, "F5")):
            top.addWidget(widget)
        self.patient_table = table("imm_patients", self.patients, self)
        self.patient_table.doubleClicked.connect(lambda _i: self.register())
        self.visit_table = table("imm_visits", self.visits, self)
        self.visit_table.selectionModel().currentRowChanged.connect(self._visit_selected)
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.patient_table)
        left.addWidget(self.visit_table)
        self.visit_info = label("imm_visit", "请查找患者并登记，或在下方选择今日登记")
        self.sign_status = label("imm_sign_status")
        self.sign_button = self._button("签约查询 (F3)", "imm_sign", self.query_sign, "F3")
        sign_row = QHBoxLayout()
        sign_row.addWidget(self.sign_status, 1)
        sign_row.addWidget(self.sign_button)
        self.composer = OrderComposer(lambda q: self.imm.search_vaccines(self.actor, q), prefix="imm_vaccine",
                                      submit_text="开具收费单并锁定 (F9)", parent=self)
        self.composer.submit_requested.connect(self.charge)
        self.slip_table = table("imm_slips", self.slips, self, stretch=False)
        self.slip_table.selectionModel().currentRowChanged.connect(lambda *_: self._enable())
        self.pay_button = self._button("其他方式缴费 (F6)", "imm_pay", self.open_pay, "F6")
        self.print_button = self._button("打印接种单 (Ctrl+P)", "imm_print", self.print_slip, "Ctrl+P")
        self.done_button = self._button("接种完成 (F8)", "imm_vaccinated", self.mark_vaccinated, "F8")
        actions = QHBoxLayout()
        for button in (self.pay_button, self.print_button, self.done_button):
            actions.addWidget(button)
        actions.addStretch(1)
        self.message = label("imm_message", style=OK_STYLE)
        right = QWidget()
        box = QVBoxLayout(right)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.visit_info)
        box.addLayout(sign_row)
        box.addWidget(self.composer, 3)
        box.addWidget(self.slip_table, 1)
        box.addLayout(actions)
        box.addWidget(self.message)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setSizes([420, 720])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        key = QShortcut(QKeySequence("Ctrl+F"), self, self.search.setFocus)
        key.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self._enable()

    def _button(self, text: str, name: str, slot: Any, shortcut: str | None = None) -> QPushButton:
        return action_button(text, name, slot, shortcut, scope=self)

    def _enable(self) -> None:
        open_visit = self.current is not None and self.current.status in ("checked_in", "called")
        self.composer.setEnabled(open_visit)
        self.sign_button.setEnabled(self.current is not None and self.services.credit is not None)
        slip = self.selected_slip()
        live = slip is not None and slip.status == OrderStatus.SUBMITTED
        self.pay_button.setEnabled(live and slip.fee_status == FeeStatus.UNPAID)
        self.done_button.setEnabled(live and cleared_for_vaccination(slip))
        self.print_button.setEnabled(self.current is not None and bool(self.slips.rowCount()))

    def say(self, text: str, style: str = OK_STYLE) -> None:
        self.message.setStyleSheet(style)
        self.message.setText(text)

    def selected_slip(self) -> OrderView | None:
        row = self.slip_table.currentIndex().row() if hasattr(self, "slip_table") else -1
        return self.slips.row(row) if 0 <= row < self.slips.rowCount() else None

    # ------------------------------------------------------------------------------------------ patient / visit

    def find_patients(self) -> None:
        patients, actor, query = self.services.patients, self.actor, self.search.text().strip()
        if query:
            ops.run(self, lambda: patients.search(actor, query), on_success=self._patients_found)

    def _patients_found(self, rows: list[PatientRow]) -> None:
        self.patients.set_rows(rows)
        if rows:
            self.patient_table.selectRow(0)
            self.patient_table.setFocus()
        else:
            self.say("未找到该患者，请到挂号窗口建档", WARN_STYLE)

    def register(self) -> None:
        row = self.patient_table.currentIndex().row()
        if not 0 <= row < self.patients.rowCount():
            self.say("请先查找并选择患者", WARN_STYLE)
            return
        imm, actor, patient_id = self.imm, self.actor, self.patients.row(row).id
        ops.run(self, lambda: imm.register(actor, patient_id), on_success=self._registered,
                disable=[self.register_button])

    def _registered(self, visit: VaccineVisit) -> None:
        self.say(f"已登记：{visit.patient_name}，{visit.queue_no} 号")
        self.current, self.sign = visit, None
        self.refresh()
        self._show_visit()
        if not visit.credit and self.services.credit is not None:
            self.query_sign()

    def refresh(self) -> None:
        imm, actor = self.imm, self.actor
        ops.run(self, lambda: imm.today_visits(actor), on_success=self._visits_loaded)

    def _visits_loaded(self, visits: list[VaccineVisit]) -> None:
        keep = self.current.visit_id if self.current is not None else None
        self.visits.set_rows(visits)
        row = self.visits.find(lambda v: v.visit_id == keep) if keep is not None else -1
        if row >= 0:
            self.current = self.visits.row(row)
            self.visit_table.selectionModel().setCurrentIndex(
                self.visits.index(row, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows)
            self._show_visit()
            self.load_slips()

    def select_visit(self, visit_id: int) -> None:
        row = self.visits.find(lambda v: v.visit_id == visit_id)
        if row >= 0:
            self.visit_table.selectRow(row)

    def _visit_selected(self, current: Any, _previous: Any) -> None:
        if not current.isValid():
            return
        visit = self.visits.row(current.row())
        if self.current is None or visit.visit_id != self.current.visit_id:
            self.sign = None
            self.sign_status.clear()
            self.composer.clear()
            self.message.clear()
        self.current = visit
        self._show_visit()
        self.load_slips()

    def _show_visit(self) -> None:
        v = self.current
        if v is None:
            return
        mark = f"\u3000【{v.pay_mark}】" if v.pay_mark else ""
        self.visit_info.setText(f"{v.patient_name}\u3000{v.age}岁\u3000{v.id_masked}\u3000{v.department_name} "
                                f"{v.queue_no} 号\u3000就诊号 {v.visit_no}{mark}")
        self._enable()

    def load_slips(self) -> None:
        if self.current is None:
            return
        orders, actor, visit_id = self.services.orders, self.actor, self.current.visit_id
        ops.run(self, lambda: orders.visit_orders(actor, visit_id), on_success=lambda rows: self._slips(visit_id, rows))

    def _slips(self, visit_id: int, rows: list[OrderView]) -> None:
        if self.current is None or self.current.visit_id != visit_id:
            return
        keep = self.selected_slip()
        self.slips.set_rows([o for o in rows if o.status != OrderStatus.DRAFT])
        row = self.slips.find(lambda o: keep is not None and o.id == keep.id)
        self.slip_table.selectRow(row if row >= 0 else self.slips.rowCount() - 1)
        self._enable()

    def _live_changed(self, topics: set[str]) -> None:
        if "*" in topics or any(t.startswith("department:") for t in topics):
            self.refresh()
        elif self.current is not None and ({f"orders:visit:{self.current.visit_id}", f"visit:{self.current.visit_id}"}
                                           & topics):
            self.refresh()

    # ------------------------------------------------------------------------------------------ 信用就医

    def query_sign(self) -> None:
        credit = self.services.credit
        if self.current is None or credit is None:
            return
        actor, visit = self.actor, self.current
        self.sign_status.setText("正在查询“信用就医”签约状态…")
        ops.run(self, lambda: credit.sign_status(actor, visit.patient_id), on_success=lambda s: self._signed(visit, s),
                on_failure=self._sign_failed, lane="bank", disable=[self.sign_button])

    def _sign_failed(self, error: BaseException) -> None:
        if not isinstance(error, HisError):
            ops.report_error(self, error)
            return
        self.sign_status.setStyleSheet(WARN_STYLE)
        self.sign_status.setText(f"签约查询未成功：{error.message}。可稍后重试（F3），或以其他方式缴费。")

    def _signed(self, visit: VaccineVisit, sign: SignStatus) -> None:
        if self.current is None or self.current.visit_id != visit.visit_id:
            return
        self.sign = sign
        if not sign.signed:
            self.sign_status.setStyleSheet(WARN_STYLE)
            self.sign_status.setText(NOT_SIGNED)
            return
        family = "（亲情付）" if sign.family_pay else ""
        self.sign_status.setStyleSheet(OK_STYLE)
        self.sign_status.setText(f"已签约“信用就医”{family}，可用额度 {yuan(sign.available_fen)}"
                                 + ("，本次已确认使用" if self.current.credit else ""))
        if self.current.credit:
            return
        if self.prompt is not None:
            self.prompt.deleteLater()
        self.prompt = CreditPromptDialog(visit.patient_name, sign, self)
        self.prompt.accepted.connect(lambda: self._use_credit(visit, sign))
        self.prompt.rejected.connect(lambda: self.say("患者未选择“信用就医”，开单后请以其他方式缴费", WARN_STYLE))
        self.prompt.open()

    def _use_credit(self, visit: VaccineVisit, sign: SignStatus) -> None:
        credit, actor = self.services.credit, self.actor
        ops.run(self, lambda: credit.use_credit(actor, visit.visit_id, sign), on_success=self._credit_used,
                wait="正在确认使用“信用就医”…", lane="bank")

    def _credit_used(self, result: Any) -> None:
        self.say(result.message, OK_STYLE if result.state in ("confirmed", "locked") else WARN_STYLE)
        self.refresh()

    # ------------------------------------------------------------------------------------------ the slip

    def charge(self, lines: list) -> None:
        if self.current is None:
            return
        flow, actor, visit_id, settle = self.flow, self.actor, self.current.visit_id, self.settle_within
        ops.run(self, lambda: flow.charge_vaccine(actor, visit_id, lines, settle_within=settle),
                on_success=self._charged, wait="正在开具疫苗收费单…", disable=[self.composer.submit_button],
                lane="bank")

    def _charged(self, result: OrderLockResult) -> None:
        self.composer.clear()
        self.load_slips()
        self._lock_answer(result)

    def _lock_answer(self, result: OrderLockResult) -> None:
        order = result.order
        if result.state == "pending":
            self.pending.add(order.id)
            self.follow_timer.start()
            self.say(f"收费单 {order.order_no} 已开具。{result.message}", WARN_STYLE)
            return
        self.pending.discard(order.id)
        if result.state == "locked":
            self.say(f"“信用就医”已锁定 {yuan(order.total_fen)}（{result.total_text}）。请患者持接种单进入接种室。")
            self.print_slip()
        elif result.state == "refused":
            self.say(result.message, BAD_STYLE)
            messages.warning(self, result.message)
            self.open_pay(order)
        else:
            self.say(f"收费单 {order.order_no}：{result.message}", WARN_STYLE)
            if order.fee_status == FeeStatus.UNPAID:
                self.open_pay(order)

    def follow_up(self) -> None:
        if not self.pending:
            self.follow_timer.stop()
            return
        flow, actor = self.flow, self.actor
        for order_id in self.pending - self._following:
            self._following.add(order_id)
            ops.run(self, lambda o=order_id: flow.follow_up(actor, o), on_success=self._followed,
                    on_failure=lambda _e, o=order_id: self._following.discard(o), lane="bank")

    def _followed(self, result: OrderLockResult) -> None:
        self._following.discard(result.order.id)
        if result.order.id in self.pending and result.settled:
            self._lock_answer(result)
            self.load_slips()

    def open_pay(self, order: OrderView | None = None) -> None:
        order = order or self.selected_slip()
        if order is None:
            return
        imm, actor, order_id = self.imm, self.actor, order.id

        def submit(channel: str, _amount: int, reference: str, cash: int | None) -> OrderView:
            return imm.pay_slip(actor, order_id, PaymentInput(channel, reference, cash))

        if self.pay_dialog is not None:
            self.pay_dialog.deleteLater()
        self.pay_dialog = DepositDialog(f"疫苗收费单缴费 — {order.order_no}", submit, amount_fen=order.total_fen,
                                        note="“信用就医”未能支付，请患者以其他方式缴费后再进入接种室。", parent=self)
        self.pay_dialog.amount.setReadOnly(True)
        self.pay_dialog.paid.connect(self._paid)
        self.pay_dialog.open()

    def _paid(self, order: OrderView) -> None:
        self.say(f"收费单 {order.order_no} 已缴费 {yuan(order.total_fen)}，请患者持接种单进入接种室。")
        self.load_slips()
        self.print_slip()

    def print_slip(self) -> None:
        if self.current is None:
            return
        services, actor, visit_id = self.services, self.actor, self.current.visit_id
        ops.run(self, lambda: print_order_slip(services, actor, visit_id, vaccine=True), on_success=self._printed,
                wait="正在打印接种单…", lane="io")

    def _printed(self, result: Any) -> None:
        self.last_print = result
        self.message.setText(f"{self.message.text()}\n接种单{printed_text(result)}".strip())

    def mark_vaccinated(self) -> None:
        slip = self.selected_slip()
        if slip is None:
            return
        imm, actor = self.imm, self.actor
        ops.run(self, lambda: imm.mark_vaccinated(actor, slip.id), on_success=self._vaccinated)

    def _vaccinated(self, result: Any) -> None:
        self.say(f"收费单 {result.order.order_no} 已登记接种完成")
        self.refresh()
