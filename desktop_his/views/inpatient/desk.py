"""住院处 workstation: the patients in hospital on the left, the selected one's running account on the right,
and the desk's acts — 办理入院 (Ctrl+N), 计床位费 (F8), 预交金 by another channel (F6), 信用就医缴费 (F7),
出院结算 (F9). Every change anywhere (another desk, the nightly bed-day job, the bank resolver) arrives through
the live feed and refreshes what is on screen."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QPushButton, QSplitter, QVBoxLayout, QWidget

from desktop_his.dialogs import messages
from desktop_his.qt import ops
from desktop_his.qt.live_bridge import LiveSignal
from desktop_his.qt.table_model import Column, FilterProxy, RecordTableModel
from desktop_his.qt.widgets import action_button
from desktop_his.services.enums import AdmissionStatus
from desktop_his.services.inpatient_bank import CreditPayResult
from desktop_his.views.inpatient.account_panel import AccountPanel
from desktop_his.views.inpatient.admit_dialog import AdmitDialog
from desktop_his.views.inpatient.common import OK_STYLE, label, table, yuan
from desktop_his.views.inpatient.credit_flow import CreditPayFlow
from desktop_his.views.inpatient.deposit_dialog import DepositDialog
from desktop_his.views.inpatient.settlement_dialog import SettlementDialog

if TYPE_CHECKING:
    from desktop_his.services.container import Services
    from desktop_his.services.inpatient import AdmissionView, BedChargeRun, PaymentLine
    from desktop_his.services.permissions import Actor

ADMISSION_COLUMNS = [  # department and doctor are in the account header (and found by the filter)
    Column("病区", lambda a: a.ward), Column("床号", lambda a: a.bed), Column("姓名", lambda a: a.patient_name),
    Column("住院号", lambda a: a.admission_no),
    Column("入院", lambda a: f"{a.admitted_at:%m-%d}", sort=lambda a: a.admitted_at),
    Column("状态", lambda a: a.status_label),
]


class AdmissionDesk(QWidget):
    def __init__(self, services: Services, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inpatient_page")
        self.services, self.actor = services, actor
        self.current: AdmissionView | None = None
        self.admit_dialog: AdmitDialog | None = None
        self.deposit_dialog: DepositDialog | None = None
        self.settlement_dialog: SettlementDialog | None = None
        self.credit_flow: CreditPayFlow | None = None
        self.model = RecordTableModel(ADMISSION_COLUMNS, search=_search_text,
                                      muted=lambda a: a.status != AdmissionStatus.ADMITTED, parent=self)
        self.proxy = FilterProxy(self.model, self)
        self._build()
        self.live = LiveSignal(services.feed, ["inpatient:"], self)
        self.live.changed.connect(self._live_changed)
        self.refresh()

    # ------------------------------------------------------------------------------------------ layout

    def _build(self) -> None:
        self.filter = QLineEdit()
        self.filter.setObjectName("inpatient_filter")
        self.filter.setPlaceholderText("筛选：姓名、拼音首字母、住院号、病区或床号（Ctrl+F）")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.proxy.set_text)
        toolbar = QHBoxLayout()
        toolbar.addWidget(self.filter, 1)
        toolbar.addWidget(self._button("办理入院 (Ctrl+N)", "inpatient_admit", self.open_admit, "Ctrl+N"))
        toolbar.addWidget(self._button("刷新 (F5)", "inpatient_refresh", self.refresh, "F5"))
        self.table = table("inpatient_table", self.proxy, self, sortable=True)
        self.table.selectionModel().currentRowChanged.connect(self._selected)
        self.account = AccountPanel(self)
        self.bed_button = self._button("计床位费 (F8)", "inpatient_bed_charges", self.post_bed_charges, "F8")
        self.deposit_button = self._button("预交金 (F6)", "inpatient_deposit", self.open_deposit, "F6")
        self.credit_button = self._button("“信用就医”缴费 (F7)", "inpatient_credit", self.start_credit, "F7")
        self.settle_button = self._button("出院结算 (F9)", "inpatient_settle", self.open_settlement, "F9")
        self.message = label("inpatient_message", style=OK_STYLE)
        actions = QHBoxLayout()
        for button in (self.bed_button, self.deposit_button, self.credit_button, self.settle_button):
            actions.addWidget(button)
        actions.addStretch(1)
        right = QWidget()
        right_box = QVBoxLayout(right)
        right_box.setContentsMargins(0, 0, 0, 0)
        right_box.addWidget(self.account, 1)
        right_box.addLayout(actions)
        right_box.addWidget(self.message)
        splitter = QSplitter()
        splitter.addWidget(self.table)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([460, 640])
        layout = QVBoxLayout(self)
        layout.addLayout(toolbar)
        layout.addWidget(splitter, 1)
        shortcut = QShortcut(QKeySequence("Ctrl+F"), self, self.filter.setFocus)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self._enable_actions()

    def _button(self, text: str, name: str, slot: Any, shortcut: str) -> QPushButton:
        return action_button(text, name, slot, shortcut, scope=self)

    def _enable_actions(self) -> None:
        admitted = self.current is not None and self.current.status == AdmissionStatus.ADMITTED
        for button in (self.bed_button, self.deposit_button, self.credit_button):
            button.setEnabled(admitted)
        self.settle_button.setEnabled(self.current is not None)
        bank = self.services.inpatient_credit is not None
        self.credit_button.setToolTip("" if bank else f"“信用就医”暂不可用：{self.services.bank_problem or '银行未连接'}")

    # ------------------------------------------------------------------------------------------ loading

    def refresh(self) -> None:
        inpatient, actor = self.services.inpatient, self.actor
        ops.run(self, lambda: inpatient.current_admissions(actor), on_success=self._loaded)

    def _loaded(self, rows: list[AdmissionView]) -> None:
        keep = self.current.id if self.current is not None else None
        self.model.set_rows(rows)
        row = self.model.find(lambda a: a.id == keep) if keep is not None else -1
        if row < 0:
            self.current = None
            self.account.clear()
            self._enable_actions()
            return
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        self.table.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                                                    | QItemSelectionModel.SelectionFlag.Rows)
        self.current = self.model.row(row)
        self.load_account()

    def select_admission(self, admission_id: int) -> None:
        """Select the admission in the list (after admitting; tests and scripts)."""
        row = self.model.find(lambda a: a.id == admission_id)
        if row >= 0:
            self.table.selectRow(self.proxy.mapFromSource(self.model.index(row, 0)).row())

    def _selected(self, current: Any, _previous: Any) -> None:
        admission = self.proxy.row_at(current)
        if admission is None:
            return
        changed = self.current is None or admission.id != self.current.id
        shown = self.account.account is not None and self.account.account.admission.id == admission.id
        if not changed and shown:
            return
        if changed:
            self.message.clear()  # the last patient's message does not belong to this one
        self.current = admission
        self._enable_actions()
        self.load_account()

    def load_account(self) -> None:
        if self.current is None:
            return
        inpatient, actor, admission_id = self.services.inpatient, self.actor, self.current.id

        def work() -> tuple[Any, list]:
            return inpatient.account(actor, admission_id), inpatient.consents(actor, admission_id)

        ops.run(self, work, on_success=self._account_loaded)

    def _account_loaded(self, data: tuple[Any, list]) -> None:
        account, consents = data
        if self.current is None or account.admission.id != self.current.id:
            return  # another patient was chosen meanwhile
        self.current = account.admission
        self.account.show_account(account, consents)
        self._enable_actions()

    def _live_changed(self, topics: set[str]) -> None:
        if "inpatient:admissions" in topics:
            self.refresh()
        elif self.current is not None and f"inpatient:admission:{self.current.id}" in topics:
            self.load_account()

    # ------------------------------------------------------------------------------------------ admit

    def open_admit(self) -> None:
        if self.admit_dialog is not None:
            self.admit_dialog.deleteLater()
        self.admit_dialog = AdmitDialog(self.services, self.actor, self)
        self.admit_dialog.admitted.connect(self._admitted)
        self.admit_dialog.open()

    def _admitted(self, admission: AdmissionView) -> None:
        self.current = admission
        self.message.setText(f"已办理入院：{admission.patient_name}，住院号 {admission.admission_no}，"
                             f"{admission.ward} {admission.bed}床")
        self.refresh()

    # ------------------------------------------------------------------------------------------ money

    def post_bed_charges(self) -> None:
        if self.current is None:
            return
        inpatient, actor, admission_id = self.services.inpatient, self.actor, self.current.id
        today = self.services.clock.today()
        ops.run(self, lambda: inpatient.post_bed_charges(actor, today, admission_id=admission_id),
                on_success=self._bed_charged, wait="正在计床位费…", disable=[self.bed_button])

    def _bed_charged(self, run: BedChargeRun) -> None:
        if run.days_posted:
            self.message.setText(f"已计床位费 {run.days_posted} 天，合计 {yuan(run.amount_fen)}")
        else:
            self.message.setText("床位费已计至今天，无需补计")
        self.load_account()

    def open_deposit(self, amount_fen: int | None = None) -> None:
        if self.current is None:
            return
        inpatient, actor, admission = self.services.inpatient, self.actor, self.current

        def submit(channel: str, amount: int, reference: str, cash: int | None) -> PaymentLine:
            return inpatient.take_deposit(actor, admission.id, channel, amount, reference, cash)

        if self.deposit_dialog is not None:
            self.deposit_dialog.deleteLater()
        self.deposit_dialog = DepositDialog(f"收取预交金 — {admission.patient_name}", submit, amount_fen=amount_fen,
                                            note=f"住院号 {admission.admission_no}", parent=self)
        self.deposit_dialog.paid.connect(self._deposit_taken)
        self.deposit_dialog.open()

    def _deposit_taken(self, payment: PaymentLine) -> None:
        self.message.setText(f"已收预交金 {yuan(payment.amount_fen)}（{payment.channel_label}，缴费单 "
                             f"{payment.payment_no}）")
        self.load_account()

    def start_credit(self) -> None:
        if self.current is None:
            return
        if self.credit_flow is not None:
            if self.credit_flow.running:
                return  # F7 pressed again while the sign query runs
            self.credit_flow.deleteLater()
        self.credit_flow = CreditPayFlow(self.services, self.actor, self.current, purpose="deposit", parent=self)
        self.credit_flow.finished.connect(self._credit_done)
        self.credit_flow.start()

    def _credit_done(self, result: CreditPayResult | None) -> None:
        self.load_account()
        if result is None:
            return
        if result.paid or result.state == "pending":
            self.message.setText(result.message)
            return
        if messages.confirm(self, "是否改用其他方式（现金、微信、支付宝、银联卡、医保）收取预交金？", default_yes=True):
            self.open_deposit(result.amount_fen)

    # ------------------------------------------------------------------------------------- settlement

    def open_settlement(self) -> None:
        if self.current is None:
            return
        if self.settlement_dialog is not None:
            self.settlement_dialog.deleteLater()
        self.settlement_dialog = SettlementDialog(self.services, self.actor, self.current, self)
        self.settlement_dialog.completed.connect(lambda _view: self.refresh())
        self.settlement_dialog.open()


def _search_text(a: AdmissionView) -> str:
    return f"{a.patient_name} {a.admission_no} {a.ward} {a.bed} {a.department_name} {a.doctor_name}"
