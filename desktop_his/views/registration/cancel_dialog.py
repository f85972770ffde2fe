"""退号 with the money back (the plan's table 1), and 停诊 from the window.

:class:`CancelDialog` shows what the service's cancellation plan says — allowed or why not (deadlines per
hospital), and each amount going back: 取消锁定 (信用就医, before deduction), 银行退款 (after deduction), or the
recorded refund of another channel. Enter cancels; a refund the bank queues (``DCBS0004PL0974``) is told plainly.
:class:`SuspendDialog` suspends one slot (停诊), settles its registrations and lists the patients to phone."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_his.qt import ops
from desktop_his.qt.field_errors import FieldErrors
from desktop_his.qt.table_model import Column, RecordTableModel
from desktop_his.views.inpatient.common import BAD_STYLE, OK_STYLE, label, table, yuan

if TYPE_CHECKING:
    from desktop_his.services.container import Services
    from desktop_his.services.permissions import Actor
    from desktop_his.services.registration import AffectedVisit, CancellationPlan, SlotRow
    from desktop_his.services.registration_desk import CancelOutcome, SuspendOutcome


def _buttons(ok: QPushButton, cancel: QPushButton) -> QHBoxLayout:
    ok.setDefault(True)
    cancel.setAutoDefault(False)
    row = QHBoxLayout()
    row.addStretch(1)
    row.addWidget(ok)
    row.addWidget(cancel)
    return row


class CancelDialog(QDialog):
    done = Signal(object)  # CancelOutcome

    def __init__(self, services: Services, actor: Actor, plan: CancellationPlan, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cancel_dialog")
        self.setWindowTitle("退号")
        self.services, self.actor, self.plan = services, actor, plan
        v = plan.visit
        general = label("cancel_form_error")
        general.hide()
        self.errors = FieldErrors(self, general=general)
        summary = label("cancel_summary", f"{v.patient_name}\u3000{v.visit_date:%Y-%m-%d} {v.period_label}\u3000"
                                          f"{v.department_name} {v.doctor_name}\u3000{v.queue_no}号\u3000"
                                          f"挂号费 {yuan(v.fee_fen)}（{v.fee_status_label}，{v.mark}）")
        if not plan.allowed:
            verdict_text, style = plan.refusal, BAD_STYLE
        elif plan.blocked:
            verdict_text, style = plan.blocked, BAD_STYLE
        else:
            verdict_text, style = plan.refusal or "可以退号", OK_STYLE
        verdict = label("cancel_verdict", verdict_text, style=style)
        money = "\n".join(f"· {m.description}" for m in plan.money) or "· 无需退费"
        self.money = label("cancel_money", f"退还：\n{money}")
        self.reason = QLineEdit("患者要求退号")
        self.reason.setObjectName("cancel_reason")
        self.ok_button = QPushButton("确认退号 (Enter)")
        self.ok_button.setObjectName("cancel_confirm")
        self.ok_button.clicked.connect(self.submit)
        self.ok_button.setEnabled(plan.allowed and not plan.blocked)
        close = QPushButton("关闭 (Esc)")
        close.setObjectName("cancel_close")
        close.clicked.connect(self.reject)
        form = QFormLayout()
        form.addRow(summary)
        form.addRow(verdict)
        form.addRow(self.money)
        form.addRow("退号原因", self.errors.add("reason", self.reason))
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(general)
        layout.addLayout(_buttons(self.ok_button, close))
        self.setMinimumWidth(520)
        self.reason.selectAll()
        self.reason.setFocus()

    def submit(self) -> None:
        if not self.ok_button.isEnabled():
            return
        desk, actor, plan, reason = self.services.registration_desk, self.actor, self.plan, self.reason.text()
        ops.run(self, lambda: desk.cancel(actor, plan.visit.id, reason, plan=plan), on_success=self._done,
                errors=self.errors, wait="正在退费并退号…", disable=[self.ok_button], lane="bank")

    def _done(self, outcome: CancelOutcome) -> None:
        self.done.emit(outcome)
        self.accept()


PHONE_COLUMNS = [
    Column("姓名", lambda a: a.visit.patient_name), Column("候诊号", lambda a: str(a.visit.queue_no or "")),
    Column("电话", lambda a: a.phone or ""), Column("监护人电话", lambda a: a.guardian_phone or ""),
    Column("就诊号", lambda a: a.visit.visit_no), Column("缴费", lambda a: a.visit.mark),
]


class SuspendDialog(QDialog):
    """停诊 one slot: reason → suspend, cancel and refund its registrations → the list to phone."""

    done = Signal(object)  # SuspendOutcome

    def __init__(self, services: Services, actor: Actor, slot: SlotRow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("suspend_dialog")
        self.setWindowTitle("停诊")
        self.services, self.actor, self.slot = services, actor, slot
        general = label("suspend_form_error")
        general.hide()
        self.errors = FieldErrors(self, general=general)
        summary = label("suspend_summary", f"{slot.date:%Y-%m-%d} {slot.period_label}\u3000{slot.department_name} "
                                           f"{slot.doctor_name}\u3000已挂 {slot.taken} 人")
        self.reason = QLineEdit()
        self.reason.setObjectName("suspend_reason")
        self.reason.setPlaceholderText("如：医生临时外出会诊")
        self.result = label("suspend_result")
        self.model = RecordTableModel(PHONE_COLUMNS, parent=self)
        self.table = table("suspend_phone_table", self.model, self)
        self.table.hide()
        self.ok_button = QPushButton("确认停诊 (Enter)")
        self.ok_button.setObjectName("suspend_confirm")
        self.ok_button.clicked.connect(self.submit)
        close = QPushButton("关闭 (Esc)")
        close.setObjectName("suspend_close")
        close.clicked.connect(self.reject)
        form = QFormLayout()
        form.addRow(summary)
        form.addRow("停诊原因", self.errors.add("reason", self.reason))
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(general)
        layout.addWidget(self.result)
        layout.addWidget(self.table, 1)
        layout.addLayout(_buttons(self.ok_button, close))
        self.setMinimumWidth(640)

    def submit(self) -> None:
        if not self.ok_button.isEnabled():
            return
        desk, actor, slot_id, reason = self.services.registration_desk, self.actor, self.slot.id, self.reason.text()
        ops.run(self, lambda: desk.suspend(actor, slot_id, reason), on_success=self._done, errors=self.errors,
                wait="正在停诊并退费…", disable=[self.ok_button], lane="bank")

    def _done(self, outcome: SuspendOutcome) -> None:
        phone: list[AffectedVisit] = list(outcome.result.to_phone)
        self.model.set_rows(phone)
        self.table.setVisible(bool(phone))
        lines = [f"已停诊。受影响 {len(phone)} 人，请逐一电话通知："]
        if any(s.queued for s in outcome.settled):
            lines.append("部分“信用就医”退款已进入退款队列（商户退款余额不足），系统将每日自动重试。")
        lines += [f"未能办结：{p}" for p in outcome.problems]
        self.result.setText("\n".join(lines))
        self.result.setStyleSheet(BAD_STYLE if outcome.problems else OK_STYLE)
        self.ok_button.setEnabled(False)
        self.done.emit(outcome)
