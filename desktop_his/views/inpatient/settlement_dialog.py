"""出院结算 (多退少补) for one admission, in the order the desk works:

1. **Plan** — total cost (with the bed days the start still posts, 计入不计出) against the deposits; a surplus
   as refund lines, payment by payment (信用就医 first, never more to a channel than it paid in), or the
   shortfall to collect. 确认出院结算 starts it with the balance the clerk saw (another desk's change in the
   meantime refuses the start).
2. **Refund lines**, one at a time: cash/WeChat/Alipay/card/insurance are recorded with their reference; a
   信用就医 line goes through the bank's refund interface — ``DCBS0004PL0974`` puts it in the refund queue
   (plain message; the department is notified) and counts as done for the settlement.
3. **Shortfall** by the patient's choice of channel (信用就医: sign query → consent → pay check → pay).
4. **完成结算**, then the A4 settlement statement is printed (again with 打印结算单).

The dialog follows the account live (a pending bank answer settled by the resolver shows up by itself)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QDialog, QHBoxLayout, QLineEdit, QPushButton, QVBoxLayout, QWidget

from desktop_his.dialogs import messages
from desktop_his.qt import ops
from desktop_his.qt.live_bridge import LiveSignal
from desktop_his.qt.table_model import RIGHT, Column, RecordTableModel
from desktop_his.qt.widgets import action_button
from desktop_his.services.enums import CHANNEL_LABELS, Channel
from desktop_his.services.inpatient import SettlementLine
from desktop_his.views.inpatient.common import (
    BAD_STYLE,
    OK_STYLE,
    WARN_STYLE,
    label,
    print_document,
    printed_text,
    yuan,
)
from desktop_his.views.inpatient.common import table as make_table
from desktop_his.views.inpatient.credit_flow import CreditPayFlow
from desktop_his.views.inpatient.deposit_dialog import DepositDialog

if TYPE_CHECKING:
    from desktop_his.printing import PrintResult
    from desktop_his.services.container import Services
    from desktop_his.services.inpatient import AdmissionView, SettlementPlan, Statement
    from desktop_his.services.inpatient_bank import CreditRefundResult
    from desktop_his.services.permissions import Actor

LINE_COLUMNS = [
    Column("序号", lambda ln: ln.line_no, align=RIGHT), Column("渠道", lambda ln: ln.channel_label),
    Column("原缴费单", lambda ln: ln.payment_no), Column("应退", lambda ln: yuan(ln.amount_fen), align=RIGHT),
    Column("已退", lambda ln: yuan(ln.done_fen), align=RIGHT),
    Column("排队/处理中", lambda ln: yuan(ln.queued_fen + ln.pending_fen), align=RIGHT),
    Column("状态", lambda ln: ln.status_label), Column("银行返回", lambda ln: ln.last_error or ""),
]
CHANNEL_COLUMNS = [
    Column("渠道", lambda c: c.label), Column("缴入", lambda c: yuan(c.in_fen), align=RIGHT),
    Column("退出", lambda c: yuan(c.out_fen), align=RIGHT), Column("净额", lambda c: yuan(c.net_fen), align=RIGHT),
]
PLAN_CHANNEL_COLUMNS = [
    Column("渠道", lambda c: c.label), Column("缴入", lambda c: yuan(c.paid_in_fen), align=RIGHT),
    Column("此前已退", lambda c: yuan(c.refunded_before_fen), align=RIGHT),
    Column("本次应退", lambda c: yuan(c.refund_fen), align=RIGHT),
]


class SettlementDialog(QDialog):
    completed = Signal(object)  # SettlementView

    def __init__(self, services: Services, actor: Actor, admission: AdmissionView,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settlement_dialog")
        self.setWindowTitle(f"出院结算 — {admission.patient_name}（住院号 {admission.admission_no}）")
        self.services, self.actor, self.admission = services, actor, admission
        self.plan: SettlementPlan | None = None
        self.statement: Statement | None = None
        self.credit_flow: CreditPayFlow | None = None
        self.deposit_dialog: DepositDialog | None = None
        self.print_result: PrintResult | None = None
        self._build()
        self.live = LiveSignal(services.feed, [f"inpatient:admission:{admission.id}"], self)
        self.live.changed.connect(lambda _topics: self.reload())
        self.resize(900, 640)
        self.reload()

    # ------------------------------------------------------------------------------------------ layout

    def _build(self) -> None:
        self.summary = label("settlement_summary")
        self.summary.setStyleSheet("font-size: 15px;")
        self.notes = label("settlement_notes")
        self.lines = RecordTableModel(LINE_COLUMNS, parent=self)
        self.lines_table = make_table("settlement_lines", self.lines, self)
        self.channels = RecordTableModel(CHANNEL_COLUMNS, parent=self)
        self.plan_channels = RecordTableModel(PLAN_CHANNEL_COLUMNS, parent=self)
        self.channels_table = make_table("settlement_channels", self.plan_channels, self, stretch=False)
        self.channels_table.setMaximumHeight(170)
        self.start_button = self._button("确认出院结算", "settlement_start", self.start)
        self.reference = QLineEdit()
        self.reference.setObjectName("settlement_reference")
        self.reference.setPlaceholderText("退款凭证号（现金选填；微信/支付宝/银联/医保填退款单号）")
        self.refund_button = self._button("办理选中退款", "settlement_refund", self.refund_selected)
        self.collect_channel = QComboBox()
        self.collect_channel.setObjectName("settlement_collect_channel")
        for channel in Channel:
            self.collect_channel.addItem(CHANNEL_LABELS[channel], channel.value)
        self.collect_button = self._button("补缴", "settlement_collect", self.collect)
        self.outstanding = label("settlement_outstanding")
        self.complete_button = self._button("完成结算", "settlement_complete", self.complete)
        self.print_button = self._button("打印结算单", "settlement_print", self.print_statement)
        self.printed_to = label("settlement_printed_to", style=OK_STYLE)
        self.message = label("settlement_message", style=OK_STYLE)
        close = self._button("关闭", "settlement_close", self.reject)
        refund_row = QHBoxLayout()
        refund_row.addWidget(self.reference, 1)
        refund_row.addWidget(self.refund_button)
        collect_row = QHBoxLayout()
        collect_row.addWidget(label("settlement_collect_label", "补缴方式（患者选择）", wrap=False))
        collect_row.addWidget(self.collect_channel)
        collect_row.addWidget(self.collect_button)
        collect_row.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.outstanding, 1)
        for button in (self.start_button, self.complete_button, self.print_button, close):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.notes)
        layout.addWidget(self.channels_table)
        layout.addWidget(self.lines_table, 1)
        layout.addLayout(refund_row)
        layout.addLayout(collect_row)
        layout.addWidget(self.message)
        layout.addWidget(self.printed_to)
        layout.addLayout(buttons)

    def _button(self, text: str, name: str, slot: Any) -> QPushButton:
        return action_button(text, name, slot)

    # ------------------------------------------------------------------------------------------ loading

    @property
    def settlement_id(self) -> int | None:
        return self.statement.settlement.id if self.statement is not None else None

    def reload(self) -> None:
        inpatient, actor, admission_id = self.services.inpatient, self.actor, self.admission.id

        def work() -> Any:
            view = inpatient.settlement_of(actor, admission_id)
            if view is None:
                return inpatient.plan_settlement(actor, admission_id)
            return inpatient.statement(actor, view.id)

        ops.run(self, work, on_success=self._loaded)

    def _loaded(self, data: Any) -> None:
        from desktop_his.services.inpatient import SettlementPlan

        if isinstance(data, SettlementPlan):
            self._show_plan(data)
        else:
            self._show_statement(data)

    def _show_plan(self, plan: SettlementPlan) -> None:
        self.plan = plan
        balance = plan.balance_fen
        outcome = (f"应退 {yuan(balance)}" if balance > 0 else f"应补缴 {yuan(-balance)}" if balance < 0
                   else "费用与预交金相等，无需退补")
        self.summary.setText(f"出院日期 {plan.discharge_date:%Y-%m-%d}\u3000总费用 {yuan(plan.total_cost_fen)}\u3000"
                             f"预交金（净额）{yuan(plan.net_deposit_fen)}\u3000<b>{outcome}</b>")
        notes = []
        if plan.bed_days_to_post:
            notes.append(f"确认后补记床位费 {len(plan.bed_days_to_post)} 天")
        if plan.bed_day_to_reverse:
            notes.append(f"冲销出院当日（{plan.bed_day_to_reverse:%m-%d}）床位费：计入不计出")
        if plan.pending_fen:
            notes.append(f"有“信用就医”交易{yuan(plan.pending_fen)}银行处理中，结果确认后才能开始结算")
        self.notes.setText("；".join(notes))
        self.notes.setStyleSheet(WARN_STYLE if plan.pending_fen else "")
        self.channels_table.setModel(self.plan_channels)
        self.plan_channels.set_rows(list(plan.channels))
        self.lines.set_rows([SettlementLine(ln.line_no, ln.payment_id, ln.payment_no, ln.channel, ln.amount_fen,
                                            0, 0, 0, None) for ln in plan.refund_lines])
        self.outstanding.setText("请核对后点击“确认出院结算”：确认后不能再记账或收取预交金")
        self._enable(started=False)
        self.start_button.setEnabled(not plan.pending_fen)

    def _show_statement(self, statement: Statement) -> None:
        self.statement = statement
        st, account = statement.settlement, statement.account
        done = st.status == "done"
        outcome = (f"应退 {yuan(st.balance_fen)}" if st.balance_fen > 0
                   else f"应补缴 {yuan(st.collect_fen)}（已补缴 {yuan(st.collected_fen)}）" if st.collect_fen
                   else "无需退补")
        self.summary.setText(f"出院日期 {st.discharge_date:%Y-%m-%d}\u3000总费用 {yuan(st.total_cost_fen)}\u3000"
                             f"预交金（净额）{yuan(st.net_deposit_fen)}\u3000<b>{outcome}</b>"
                             f"\u3000{'已完成结算' if done else '结算中'}")
        self.notes.setText("")
        self.channels_table.setModel(self.channels)
        self.channels.set_rows([c for c in account.channels if c.in_fen or c.out_fen])
        keep = self._selected_line()
        self.lines.set_rows(list(st.lines))
        self._select_line(keep)
        if done:
            self.outstanding.setText("出院结算已完成，床位已释放")
            self.outstanding.setStyleSheet(OK_STYLE)
        else:
            self.outstanding.setText("；".join(st.outstanding) or "可以完成结算")
            self.outstanding.setStyleSheet(BAD_STYLE if st.outstanding else OK_STYLE)
        self._enable(started=True)

    def _enable(self, *, started: bool) -> None:
        st = self.statement.settlement if started and self.statement is not None else None
        open_ = st is not None and st.status == "open"
        self.start_button.setVisible(not started)
        self.start_button.setEnabled(not started)
        has_lines = open_ and any(ln.status == "planned" for ln in st.lines)  # type: ignore[union-attr]
        for widget in (self.reference, self.refund_button):
            widget.setEnabled(has_lines)
        owes = open_ and st.remaining_collect_fen > 0  # type: ignore[union-attr]
        for widget in (self.collect_channel, self.collect_button):
            widget.setEnabled(owes)
        self.complete_button.setEnabled(bool(open_ and st.can_complete))  # type: ignore[union-attr]
        self.print_button.setEnabled(st is not None and st.status == "done")

    def _selected_line(self) -> int | None:
        index = self.lines_table.currentIndex()
        return self.lines.row(index.row()).line_no if index.isValid() else None

    def _select_line(self, line_no: int | None) -> None:
        rows = self.lines.rows()
        target = self.lines.find(lambda ln: ln.line_no == line_no) if line_no is not None else -1
        if target < 0 or rows[target].status != "planned":
            target = next((i for i, ln in enumerate(rows) if ln.status == "planned"), target)
        if target >= 0:
            self.lines_table.selectRow(target)

    # ------------------------------------------------------------------------------------------ actions

    def start(self) -> None:
        plan = self.plan
        if plan is None or not self.start_button.isEnabled():
            return
        balance = plan.balance_fen
        what = f"应退 {yuan(balance)}" if balance > 0 else f"应补缴 {yuan(-balance)}" if balance else "无需退补"
        if not messages.confirm(self, f"确认为{self.admission.patient_name}办理出院结算？\n总费用 "
                                      f"{yuan(plan.total_cost_fen)}，预交金 {yuan(plan.net_deposit_fen)}，{what}。\n"
                                      "确认后不能再记账或收取预交金。", default_yes=True):
            return
        inpatient, actor, admission_id = self.services.inpatient, self.actor, self.admission.id
        ops.run(self, lambda: inpatient.start_settlement(actor, admission_id, expected_balance_fen=balance),
                on_success=lambda _view: self.reload(), on_failure=self._start_failed, wait="正在开始出院结算…",
                disable=[self.start_button])

    def _start_failed(self, error: BaseException) -> None:
        ops.report_error(self, error)
        self.reload()  # the account may have changed at another desk: show the new plan

    def refund_selected(self) -> None:
        line_no, sid = self._selected_line(), self.settlement_id
        if line_no is None or sid is None:
            messages.warning(self, "请先在列表中选择一笔待退款")
            return
        line = self.lines.row(self.lines.find(lambda ln: ln.line_no == line_no))
        if line.status != "planned":
            messages.warning(self, f"第{line_no}笔{line.status_label}，无需再办理")
            return
        actor, disable = self.actor, [self.refund_button]
        if line.channel == Channel.CREDIT:
            credit = self.services.inpatient_credit
            if credit is None:
                messages.warning(self, f"“信用就医”退款暂不可用：{self.services.bank_problem or '银行未连接'}")
                return
            ops.run(self, lambda: credit.refund_line(actor, sid, line_no), on_success=self._credit_refunded,
                    wait="正在通过银行退款接口退回“信用就医”额度…", disable=disable, lane="bank")
            return
        inpatient, reference = self.services.inpatient, self.reference.text()
        ops.run(self, lambda: inpatient.refund_settlement_line(actor, sid, line_no, reference_no=reference),
                on_success=lambda _view: self._other_refunded(line), wait="正在登记退款…", disable=disable)

    def _other_refunded(self, line: SettlementLine) -> None:
        self.reference.clear()
        self.message.setText(f"已退{line.channel_label} {yuan(line.remaining_fen)}（第{line.line_no}笔）")
        self.reload()

    def _credit_refunded(self, result: CreditRefundResult) -> None:
        self.message.setText(result.message)
        if result.state == "failed":
            messages.error(self, result.message)
        elif result.state != "success":  # queued (DCBS0004PL0974) or pending: the queue / resolver pays it
            messages.warning(self, result.message)
        self.reload()

    def collect(self) -> None:
        st = self.statement.settlement if self.statement is not None else None
        if st is None or st.remaining_collect_fen <= 0:
            return
        channel, left = self.collect_channel.currentData(), st.remaining_collect_fen
        if channel == Channel.CREDIT:
            if self.credit_flow is not None:
                if self.credit_flow.running:
                    return
                self.credit_flow.deleteLater()
            self.credit_flow = CreditPayFlow(self.services, self.actor, self.admission, purpose="settlement",
                                             amount_fen=left, parent=self)
            self.credit_flow.finished.connect(lambda _result: self.reload())
            self.credit_flow.start()
            return
        inpatient, actor, sid = self.services.inpatient, self.actor, st.id

        def submit(chan: str, amount: int, reference: str, cash: int | None) -> Any:
            return inpatient.collect_shortfall(actor, sid, chan, amount, reference, cash)

        self.deposit_dialog = DepositDialog("出院结算补缴", submit, amount_fen=left,
                                            note=f"尚需补缴 {yuan(left)}", parent=self)
        self.deposit_dialog.set_channel(channel)
        self.deposit_dialog.paid.connect(lambda _view: self.reload())
        self.deposit_dialog.open()

    def complete(self) -> None:
        sid = self.settlement_id
        if sid is None or not self.complete_button.isEnabled():
            return
        inpatient, actor = self.services.inpatient, self.actor
        ops.run(self, lambda: inpatient.complete_settlement(actor, sid), on_success=self._completed,
                wait="正在完成结算…", disable=[self.complete_button])

    def _completed(self, view: Any) -> None:
        self.completed.emit(view)
        self.reload()
        self.print_statement(force=True)

    def print_statement(self, *, force: bool = False) -> None:
        sid = self.settlement_id
        if sid is None or not (force or self.print_button.isEnabled()):
            return
        from desktop_his.services.inpatient_docs import settlement_statement

        services, actor = self.services, self.actor

        def work() -> PrintResult:
            document = settlement_statement(services.inpatient.statement(actor, sid),
                                            hospital=services.hospital.hospital_name(),
                                            printed_at=services.clock.now(), workstation=services.settings.workstation)
            return print_document(services, document)

        ops.run(self, work, on_success=self._printed, wait="正在打印结算单…", disable=[self.print_button], lane="io")

    def _printed(self, result: PrintResult) -> None:
        self.print_result = result
        self.printed_to.setText(f"结算单{printed_text(result)}")
