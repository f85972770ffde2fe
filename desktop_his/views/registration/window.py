"""挂号收费 — the registration window. Keyboard first: a returning signed patient takes four actions —

    1. read the card (F2, or a wedge reader / the cashier types the ID number and Enter)
    2. type the doctor's or department's pinyin initials (``lm``, ``nk``)      3. Enter (registers)
    4. Enter on the 信用就医 pop-up                                          → the guide slip prints by itself

The sign-status query starts the moment the patient is chosen (bank lane, its state shown beside the patient),
so it has usually answered before the pop-up is due. Rule violations are listed one per line; nothing is saved
then. On the patient's registrations below: 缴费 F4, 取号 F6, 改用信用就医 F7, 退号 F8, 补打 F9, 门诊缴费 F10;
停诊 and 日终爽约 for those allowed. Registrations anywhere arrive through the live feed (remaining places)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QHBoxLayout,
    QListWidget,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop_his.dialogs import messages
from desktop_his.qt import ops
from desktop_his.qt.live_bridge import LiveSignal
from desktop_his.qt.table_model import Column, RecordTableModel
from desktop_his.qt.widgets import action_button
from desktop_his.services.enums import FeeStatus
from desktop_his.services.errors import RuleViolation
from desktop_his.services.permissions import Action
from desktop_his.services.registration_rules import RegistrationRefused
from desktop_his.views.inpatient.common import (
    BAD_STYLE,
    OK_STYLE,
    WARN_STYLE,
    label,
    print_document,
    table,
    yuan,
)
from desktop_his.views.registration.cancel_dialog import CancelDialog, SuspendDialog
from desktop_his.views.registration.fee_flow import FeeFlow, SignQuery
from desktop_his.views.registration.orders_dialog import OrdersDialog
from desktop_his.views.registration.patient_panel import PatientPanel
from desktop_his.views.registration.payment_dialog import PaymentDialog
from desktop_his.views.registration.printer_dialog import PrinterDialog, load_settings
from desktop_his.views.registration.slot_panel import SlotPanel

if TYPE_CHECKING:
    from desktop_his.printing import PrintResult
    from desktop_his.services.container import Services
    from desktop_his.services.patients import PatientRow
    from desktop_his.services.permissions import Actor
    from desktop_his.services.registration import SlotRow
    from desktop_his.services.registration_desk import CancelOutcome
    from desktop_his.services.registration_views import VisitInfo

HISTORY_COLUMNS = [
    Column("就诊日期", lambda v: f"{v.visit_date:%Y-%m-%d} {v.period_label}", sort=lambda v: v.visit_date),
    Column("科室", lambda v: v.department_name), Column("医生", lambda v: v.doctor_name),
    Column("号", lambda v: str(v.queue_no or "")), Column("挂号费", lambda v: yuan(v.fee_fen)),
    Column("支付", lambda v: v.mark), Column("缴费状态", lambda v: v.fee_status_label),
    Column("状态", lambda v: v.status_label), Column("补打", lambda v: str(v.reprint_count or "")),
    Column("就诊号", lambda v: v.visit_no),
]
OPEN = ("registered", "checked_in", "called")


class RegistrationWindow(QWidget):
    def __init__(self, services: Services, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("registration_page")
        self.services, self.actor = services, actor
        self.patient: PatientRow | None = None
        self.query: SignQuery | None = None
        self.flow: FeeFlow | None = None
        self.dialog: QDialog | None = None
        self.last_print: PrintResult | None = None
        self.last_visit: VisitInfo | None = None
        self.patients = PatientPanel(services, actor, self)
        self.patients.selected.connect(self.patient_chosen)
        self.slots = SlotPanel(services, self)
        self.slots.register_requested.connect(self.register)
        self.history = RecordTableModel(HISTORY_COLUMNS, muted=lambda v: v.status not in OPEN, parent=self)
        self._build()
        self.live = LiveSignal(services.feed, ["doctor:", "department:", "visit:"], self)
        self.live.changed.connect(self._live_changed)

    # ------------------------------------------------------------------------------------------ layout

    def _build(self) -> None:
        self.sign_label = label("reg_sign_status")
        self.violations = QListWidget()
        self.violations.setObjectName("reg_violations")
        self.violations.setStyleSheet(BAD_STYLE)
        self.violations.setMaximumHeight(90)
        self.violations.hide()
        self.message = label("reg_message", style=OK_STYLE)
        self.history_table = table("reg_history_table", self.history, self)
        self.history_table.selectionModel().currentRowChanged.connect(lambda *_: self._enable())
        top = QGroupBox("患者")
        top_box = QVBoxLayout(top)
        top_box.addWidget(self.patients)
        top_box.addWidget(self.sign_label)
        slots = QGroupBox("科室 / 医生 / 号源")
        slot_box = QVBoxLayout(slots)
        slot_box.addWidget(self.slots)
        slot_box.addWidget(self.violations)
        history = QGroupBox("本患者挂号记录")
        history_box = QVBoxLayout(history)
        history_box.addWidget(self.history_table, 1)
        history_box.addLayout(self._actions())
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(slots)
        splitter.addWidget(history)
        splitter.setSizes([380, 260])
        layout = QVBoxLayout(self)
        layout.addWidget(top)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.message)
        for key, act in (("F2", self.patients.read_button.click), ("F3", self.patients.new_button.click),
                         ("Ctrl+F", self.patients.search.setFocus)):
            shortcut = QShortcut(QKeySequence(key), self, act)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self._enable()

    def _actions(self) -> QHBoxLayout:
        row = QHBoxLayout()
        a = self.actor
        self.pay_button = self._button(row, "缴费 (F4)", "reg_pay", self.pay_selected, "F4")
        self.check_in_button = self._button(row, "取号 (F6)", "reg_check_in", self.check_in, "F6",
                                            a.can(Action.CHECK_IN))
        self.switch_button = self._button(row, "改用信用就医 (F7)", "reg_switch_credit", self.switch_to_credit, "F7",
                                          a.can(Action.SWITCH_TO_CREDIT))
        self.cancel_button = self._button(row, "退号 (F8)", "reg_cancel", self.cancel_selected, "F8",
                                          a.can(Action.REGISTRATION_CANCEL))
        self.reprint_button = self._button(row, "补打 (F9)", "reg_reprint", self.reprint, "F9", a.can(Action.REPRINT))
        self.orders_button = self._button(row, "门诊缴费 (F10)", "reg_orders", self.open_orders, "F10",
                                          a.can(Action.TAKE_PAYMENT))
        row.addStretch(1)
        self.suspend_button = self._button(row, "停诊…", "reg_suspend", self.suspend, "",
                                           a.can(Action.SCHEDULE_SUSPEND))
        self.noshow_button = self._button(row, "日终爽约…", "reg_noshow", self.mark_no_shows, "", a.can(Action.DAY_END))
        self._button(row, "打印设置…", "reg_printer_settings", self.printer_settings, "")
        return row

    def _button(self, row: QHBoxLayout, text: str, name: str, slot: Any, key: str, allowed: bool = True
                ) -> QPushButton:
        button = action_button(text, name, slot, key if allowed else None, scope=self)
        button.setVisible(allowed)
        row.addWidget(button)
        return button

    def _enable(self) -> None:
        visit = self.selected_visit()
        open_visit = visit is not None and visit.status in OPEN
        self.pay_button.setEnabled(open_visit and visit.fee_status == FeeStatus.UNPAID and visit.fee_fen > 0)
        self.check_in_button.setEnabled(open_visit and visit.status == "registered")
        self.switch_button.setEnabled(open_visit and not visit.credit and self.services.registration_desk.credit
                                      is not None)
        self.cancel_button.setEnabled(open_visit)
        self.reprint_button.setEnabled(visit is not None and visit.status != "cancelled")
        self.orders_button.setEnabled(self.patient is not None)
        self.suspend_button.setEnabled(True)

    def say(self, text: str, style: str = OK_STYLE) -> None:
        self.message.setStyleSheet(style)
        self.message.setText(text)

    # ------------------------------------------------------------------------------------------ patient

    def patient_chosen(self, row: PatientRow) -> None:
        self.patient = row
        self.violations.hide()
        self.say("")
        if self.query is None or self.query.patient_id != row.id or self.query.error:
            self._new_query(row.id)
        self._show_sign()
        self.load_history()
        self.slots.search.setFocus()
        self.slots.search.selectAll()

    def _new_query(self, patient_id: int) -> None:
        old, self.query = self.query, SignQuery(self.services, self.actor, patient_id, self)
        if old is not None and not old.running and (self.flow is None or self.flow.query is not old
                                                    or not self.flow.running):
            old.deleteLater()  # answered and no longer shown: one per patient would pile up all day
        self.query.done.connect(self._show_sign)
        self.query.start()

    def _show_sign(self) -> None:
        if self.query is None:
            return
        style = WARN_STYLE if self.query.running or self.query.error else OK_STYLE
        self.sign_label.setStyleSheet(style)
        self.sign_label.setText(self.query.text())

    def load_history(self) -> None:
        if self.patient is None:
            return
        registration, actor, patient_id = self.services.registration, self.actor, self.patient.id
        ops.run(self, lambda: registration.history(actor, patient_id), on_success=self._history_loaded)

    def _history_loaded(self, rows: list[VisitInfo]) -> None:
        if self.patient is None or (rows and rows[0].patient_id != self.patient.id):
            return
        keep = self.selected_visit()
        self.history.set_rows(rows)
        wanted = keep.id if keep is not None else (self.last_visit.id if self.last_visit is not None else None)
        row = self.history.find(lambda v: v.id == wanted) if wanted is not None else -1
        if rows:
            self.history_table.selectRow(max(row, 0))
        self._enable()

    def selected_visit(self) -> VisitInfo | None:
        index = self.history_table.currentIndex()
        if not index.isValid():
            return None
        return self.history.row(index.row())

    # ------------------------------------------------------------------------------------------ register

    def register(self, slot: SlotRow) -> None:
        if self.patient is None:
            self.say("请先读卡或查找患者", BAD_STYLE)
            self.patients.search.setFocus()
            return
        if self.flow is not None and self.flow.running:
            return
        registration, actor, patient_id = self.services.registration, self.actor, self.patient.id
        self.violations.hide()
        ops.run(self, lambda: registration.register(actor, patient_id, slot.id), on_success=self._registered,
                on_failure=self._refused, wait="正在挂号…")

    def _refused(self, error: BaseException) -> None:
        if isinstance(error, RuleViolation):
            items = error.violations if isinstance(error, RegistrationRefused) else [error]
            self.violations.clear()
            for v in items:
                self.violations.addItem(v.message)
            self.violations.show()
            self.say("不能挂号，未保存任何内容：请看上方原因", BAD_STYLE)
            self.slots.reload()
            return
        ops.report_error(self, error)

    def _registered(self, visit: VisitInfo) -> None:
        self.last_visit = visit
        self.say(f"已挂号：{visit.patient_name} {visit.department_name} {visit.doctor_name} {visit.queue_no}号"
                 f"（就诊号 {visit.visit_no}）")
        self.slots.reload()
        self.load_history()
        if visit.fee_fen == 0:
            self.print_slip(visit.id)
            return
        self._settle_fee(visit, switch=False)

    def _settle_fee(self, visit: VisitInfo, *, switch: bool) -> None:
        if self.query is None or self.query.patient_id != visit.patient_id or (self.query.error and switch):
            self._new_query(visit.patient_id)
            self._show_sign()
        if self.flow is not None and not self.flow.running:
            self.flow.deleteLater()  # finished: let it go (one per registration would pile up all day)
        self.flow = FeeFlow(self.services, self.actor, visit, self.query, self, switch=switch)
        self.flow.message.connect(lambda text: self.say(text, WARN_STYLE if "处理中" in text else OK_STYLE))
        self.flow.finished.connect(lambda v: self._fee_done(v, switch))
        self.flow.start()

    def _fee_done(self, visit: VisitInfo | None, switch: bool) -> None:
        self.load_history()
        if visit is None:
            return
        self.last_visit = visit
        if switch:
            self.say(f"本次就诊已改用“信用就医”（{visit.mark}）")
            return
        self.print_slip(visit.id, auto=True)

    # ------------------------------------------------------------------------------------------ printing

    def print_slip(self, visit_id: int, *, reprint: bool = False, auto: bool = False) -> None:
        services, actor, desk = self.services, self.actor, self.services.registration_desk

        def work() -> PrintResult | None:
            if auto and not load_settings(services).auto_print:
                return None
            return print_document(services, desk.slip(actor, visit_id, reprint=reprint))

        ops.run(self, work, on_success=self._printed, on_failure=self._print_failed, wait="正在打印导诊单…", lane="io")

    def _printed(self, result: PrintResult | None) -> None:
        self.load_history()
        self.patients.search.setFocus()  # ready for the next patient
        if result is None:
            self.say(self.message.text() + "\u3000（未设自动打印：按 F9 打印导诊单）")
            return
        self.last_print = result
        where = f"PDF：{result.target}" if result.kind == "pdf" else f"打印机：{result.target}"
        self.say(f"{self.message.text()}\u3000导诊单已打印（{where}）")

    def _print_failed(self, error: BaseException) -> None:
        self.load_history()
        self.say(f"导诊单未能打印：{getattr(error, 'message', '程序内部错误')}。检查打印机后按 F9 补打。", BAD_STYLE)
        if not hasattr(error, "message"):
            ops.report_error(self, error)

    def reprint(self) -> None:
        visit = self.selected_visit()
        if visit is not None:
            self.say(f"补打导诊单：{visit.visit_no}")
            self.print_slip(visit.id)  # the service marks every print after the first 补打

    def printer_settings(self) -> None:
        dialog = PrinterDialog(self.services, self.actor, self)
        dialog.accepted.connect(self._settings_saved)
        self._open(dialog)

    def _settings_saved(self) -> None:
        self.patients.reader = None  # the next F2 builds the reader the setting now names
        self.say("本机设置已保存")

    # ------------------------------------------------------------------------------------------ visit acts

    def pay_selected(self) -> None:
        visit = self.selected_visit()
        if visit is None or visit.fee_status != FeeStatus.UNPAID:
            return
        desk, actor = self.services.registration_desk, self.actor
        dialog = PaymentDialog("挂号缴费", visit.fee_fen, lambda payment: desk.pay_fee(actor, visit.id, payment),
                               note=f"{visit.patient_name}\u3000{visit.department_name} {visit.doctor_name}", parent=self)
        dialog.paid.connect(lambda v: self._fee_done(v, False))
        self._open(dialog)

    def check_in(self) -> None:
        visit = self.selected_visit()
        if visit is None:
            return
        registration, actor = self.services.registration, self.actor
        ops.run(self, lambda: registration.check_in(actor, visit.id),
                on_success=lambda v: (self.say(f"已取号：{v.department_name} {v.queue_no}号"), self.load_history()))

    def switch_to_credit(self) -> None:
        visit = self.selected_visit()
        if visit is None or visit.credit or (self.flow is not None and self.flow.running):
            return
        self._settle_fee(visit, switch=True)

    def cancel_selected(self) -> None:
        visit = self.selected_visit()
        if visit is None:
            return
        registration, actor = self.services.registration, self.actor
        ops.run(self, lambda: registration.prepare_cancellation(actor, visit.id), on_success=self._cancel_plan)

    def _cancel_plan(self, plan: Any) -> None:
        dialog = CancelDialog(self.services, self.actor, plan, self)
        dialog.done.connect(self._cancelled)
        self._open(dialog)

    def _cancelled(self, outcome: CancelOutcome) -> None:
        self.load_history()
        self.slots.reload()
        if outcome.queued:
            messages.warning(self, outcome.message)  # told plainly: the money comes later
        self.say(outcome.message, WARN_STYLE if outcome.queued or not outcome.cancelled else OK_STYLE)

    def open_orders(self) -> None:
        if self.patient is not None:
            self._open(OrdersDialog(self.services, self.actor, self.patient, self))

    def suspend(self) -> None:
        slot = self.slots.selected_slot()
        if slot is None:
            self.say("请先在号源列表中选中要停诊的医生时段", BAD_STYLE)
            return
        dialog = SuspendDialog(self.services, self.actor, slot, self)
        dialog.done.connect(lambda _o: (self.slots.reload(), self.load_history()))
        self._open(dialog)

    def mark_no_shows(self) -> None:
        dialog = QDialog(self)
        dialog.setObjectName("noshow_dialog")
        dialog.setWindowTitle("日终爽约处理")
        day = QDateEdit(dialog)
        day.setObjectName("noshow_date")
        day.setCalendarPopup(True)
        day.setDisplayFormat("yyyy-MM-dd")
        day.setDate(self.services.clock.today() - timedelta(days=1))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.setObjectName("noshow_buttons")
        buttons.accepted.connect(dialog.accept)
        buttons.rejected.connect(dialog.reject)
        box = QVBoxLayout(dialog)
        box.addWidget(label("noshow_note", "把该日已挂号、既未取号也未退号的记录记为爽约（可重复运行）："))
        box.addWidget(day)
        box.addWidget(buttons)
        dialog.accepted.connect(lambda: self._run_no_shows(day.date().toPython()))
        self._open(dialog)

    def _run_no_shows(self, day: Any) -> None:
        noshow, actor = self.services.noshow, self.actor
        ops.run(self, lambda: noshow.mark_no_shows(actor, day), wait="正在处理爽约…",
                on_success=lambda r: self.say(f"{day:%Y-%m-%d} 日终爽约：记爽约 {len(r.marked)} 人次，"
                                              f"新列入黑名单 {len(r.blacklisted)} 人"
                                              + (f"，{r.left_for_later} 个时段尚未结束" if r.left_for_later else "")))

    def _open(self, dialog: QDialog) -> None:
        if self.dialog is not None and self.dialog is not dialog:
            self.dialog.deleteLater()
        self.dialog = dialog
        dialog.open()

    # ------------------------------------------------------------------------------------------ live

    def _live_changed(self, topics: set[str]) -> None:
        self.slots.reload()
        if self.patient is not None and self.history.rowCount():
            ids = {f"visit:{v.id}" for v in self.history.rows()}
            if ids & topics or any(t.startswith(("doctor:", "department:")) for t in topics):
                self.load_history()

