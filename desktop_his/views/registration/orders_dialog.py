"""The cashier's side of the doctors' orders (门诊缴费): orders 信用就医 did not cover — not a credit visit, or
the lock was refused — are paid here by another channel; money a window took for an order later revoked (or
executed short) is paid back here, through the same channel."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop_his.qt import ops
from desktop_his.qt.table_model import Column, RecordTableModel
from desktop_his.services.permissions import Action
from desktop_his.services.texts import PAY_AT_WINDOW
from desktop_his.views.inpatient.common import OK_STYLE, label, table, yuan
from desktop_his.views.registration.payment_dialog import PaymentDialog

if TYPE_CHECKING:
    from desktop_his.services.container import Services
    from desktop_his.services.order_types import OrderView, WindowRefund
    from desktop_his.services.patients import PatientRow
    from desktop_his.services.permissions import Actor

ORDER_COLUMNS = [
    Column("单号", lambda o: o.order_no or ""), Column("开单时间", lambda o: f"{o.submitted_at:%m-%d %H:%M}"
                                                     if o.submitted_at else ""),
    Column("项目", lambda o: "、".join(i.name for i in o.items)[:40]), Column("金额", lambda o: yuan(o.charge_fen)),
]
REFUND_COLUMNS = [
    Column("单号", lambda r: r.order.order_no or ""), Column("状态", lambda r: r.order.status_label),
    Column("应退", lambda r: yuan(r.amount_fen)),
]


class OrdersDialog(QDialog):
    def __init__(self, services: Services, actor: Actor, patient: PatientRow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("orders_dialog")
        self.setWindowTitle(f"门诊缴费 — {patient.name}")
        self.services, self.actor, self.patient = services, actor, patient
        self.payment_dialog: PaymentDialog | None = None
        self.unpaid = RecordTableModel(ORDER_COLUMNS, parent=self)
        self.refunds = RecordTableModel(REFUND_COLUMNS, parent=self)
        self.unpaid_table = table("orders_unpaid_table", self.unpaid, self)
        self.refund_table = table("orders_refund_table", self.refunds, self)
        self.unpaid_table.activated.connect(lambda _i: self.pay())
        self.pay_button = QPushButton("缴费 (Enter)")
        self.pay_button.setObjectName("orders_pay")
        self.pay_button.setDefault(True)
        self.pay_button.clicked.connect(self.pay)
        self.refund_button = QPushButton("退费")
        self.refund_button.setObjectName("orders_refund")
        self.refund_button.setAutoDefault(False)
        self.refund_button.clicked.connect(self.refund)
        close = QPushButton("关闭 (Esc)")
        close.setObjectName("orders_close")
        close.setAutoDefault(False)
        close.clicked.connect(self.accept)
        self.message = label("orders_message", style=OK_STYLE)
        buttons = QHBoxLayout()
        buttons.addWidget(self.message, 1)
        buttons.addWidget(self.pay_button)
        buttons.addWidget(self.refund_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"待缴费的医嘱（未使用“信用就医”或额度不足，{PAY_AT_WINDOW}）"))
        layout.addWidget(self.unpaid_table, 2)
        layout.addWidget(QLabel("应退费的医嘱（已撤销或少执行，原渠道退还）"))
        layout.addWidget(self.refund_table, 1)
        layout.addLayout(buttons)
        self.resize(720, 480)
        self.load()

    def load(self) -> None:
        desk, actor, patient_id = self.services.registration_desk, self.actor, self.patient.id
        can_refund = actor.can(Action.REFUND)

        def work() -> tuple[list[OrderView], list[WindowRefund]]:
            refunds = desk.order_refunds_due(actor, patient_id) if can_refund else []
            return desk.unpaid_orders(actor, patient_id), refunds

        ops.run(self, work, on_success=self._loaded)

    def _loaded(self, data: tuple[list[OrderView], list[WindowRefund]]) -> None:
        unpaid, refunds = data
        self.unpaid.set_rows(unpaid)
        self.refunds.set_rows(refunds)
        if unpaid:
            self.unpaid_table.selectRow(0)
        if refunds:
            self.refund_table.selectRow(0)
        self.pay_button.setEnabled(bool(unpaid))
        self.refund_button.setEnabled(bool(refunds))
        total = sum(o.charge_fen for o in unpaid)
        self.setWindowTitle(f"门诊缴费 — {self.patient.name}（待缴 {yuan(total)}）")

    def pay(self) -> None:
        index = self.unpaid_table.currentIndex()
        if not index.isValid():
            return
        order: OrderView = self.unpaid.row(index.row())
        desk, actor = self.services.registration_desk, self.actor
        self.payment_dialog = PaymentDialog(f"医嘱缴费 {order.order_no}", order.charge_fen,
                                            lambda payment: desk.pay_order(actor, order, payment), parent=self)
        self.payment_dialog.paid.connect(lambda p: self._changed(f"已收费：缴费单 {p.payment_no}"))
        self.payment_dialog.open()

    def refund(self) -> None:
        index = self.refund_table.currentIndex()
        if not index.isValid():
            return
        due: WindowRefund = self.refunds.row(index.row())
        desk, actor = self.services.registration_desk, self.actor
        ops.run(self, lambda: desk.refund_order(actor, due, "医嘱撤销/少执行退费"),
                on_success=lambda lines: self._changed(f"已退费 {yuan(sum(x.amount_fen for x in lines))}"),
                wait="正在退费…", disable=[self.refund_button])

    def _changed(self, text: str) -> None:
        self.message.setText(text)
        self.load()
