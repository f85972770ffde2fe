"""Money by the channels that are not 信用就医 (cash, WeChat, Alipay, UnionPay card, medical insurance): the
admission desk's deposit / top-up (预交金) and the discharge collection (结算补缴).

The caller gives ``submit(channel, amount_fen, reference_no, cash_received_fen)`` — the service call that
records it (``InpatientService.take_deposit`` / ``collect_shortfall``), run on the database worker; the
service validates (reference format per channel, cash received ≥ amount, duplicate references) and its
errors land at their field. (A minimal dialog of the desk's own: the registration window's shared payment
dialog was not on ``main`` yet.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from desktop_his.qt import ops
from desktop_his.qt.field_errors import FieldErrors
from desktop_his.qt.money_edit import MoneyEdit
from desktop_his.qt.widgets import save_cancel_row
from desktop_his.services.enums import CHANNEL_LABELS, Channel
from desktop_his.services.errors import ValidationError
from desktop_his.services.payments import REFERENCE_HINTS
from desktop_his.views.inpatient.common import label, yuan

Submit = Callable[[str, int, str, "int | None"], Any]
class DepositDialog(QDialog):
    """One payment by another channel; ``paid`` carries what ``submit`` returned."""

    paid = Signal(object)

    def __init__(self, title: str, submit: Submit, *, amount_fen: int | None = None, note: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("deposit_dialog")
        self.setWindowTitle(title)
        self._submit = submit
        general = label("deposit_form_error")
        general.hide()
        self.errors = FieldErrors(self, general=general)
        self.channel = QComboBox()
        self.channel.setObjectName("deposit_channel")
        for channel in Channel:
            if channel is not Channel.CREDIT:
                self.channel.addItem(CHANNEL_LABELS[channel], channel.value)
        self.channel.currentIndexChanged.connect(self._channel_changed)
        self.amount = MoneyEdit()
        self.amount.setObjectName("deposit_amount")
        self.amount.set_fen(amount_fen)
        self.amount.textChanged.connect(self._show_change)
        self.reference = QLineEdit()
        self.reference.setObjectName("deposit_reference")
        self.reference_label = QLabel()
        self.cash = MoneyEdit()
        self.cash.setObjectName("deposit_cash_received")
        self.cash.textChanged.connect(self._show_change)
        self.cash_label = QLabel("实收现金（元）")
        self.change = label("deposit_change")
        form = QFormLayout()
        if note:
            form.addRow(label("deposit_note", note))
        form.addRow("支付方式", self.errors.add("channel", self.channel))
        form.addRow("金额（元）", self.errors.add("amount_fen", self.amount))
        form.addRow(self.cash_label, self.errors.add("cash_received_fen", self.cash))
        form.addRow("", self.change)
        form.addRow(self.reference_label, self.errors.add("reference_no", self.reference))
        buttons, self.save_button, _cancel = save_cancel_row(self, "deposit", "确认收款 (Enter)", self.save)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(general)
        layout.addLayout(buttons)
        self._channel_changed()
        self.amount.setFocus(Qt.FocusReason.OtherFocusReason)

    def set_channel(self, channel: str) -> None:
        self.channel.setCurrentIndex(self.channel.findData(channel))

    def _channel_changed(self, *_: Any) -> None:
        channel = Channel(self.channel.currentData())
        text, hint = REFERENCE_HINTS[channel]
        self.reference_label.setText(text)
        self.reference.setPlaceholderText(hint)
        cash = channel is Channel.CASH
        for widget in (self.cash, self.cash_label, self.change):
            widget.setVisible(cash)
        self._show_change()

    def _show_change(self, *_: Any) -> None:
        amount, received = self.amount.fen(), self.cash.fen()
        if amount is not None and received is not None and received >= amount:
            self.change.setText(f"找零 {yuan(received - amount)}")
        else:
            self.change.setText("")

    def save(self) -> None:
        if not self.save_button.isEnabled():
            return
        amount = self.amount.fen()
        if amount is None:
            self.errors.show(ValidationError("请输入金额（元，最多两位小数）", field="amount_fen"))
            return
        channel = self.channel.currentData()
        cash = self.cash.fen() if channel == Channel.CASH else None
        if channel == Channel.CASH and cash is None:
            self.errors.show(ValidationError("请输入实收现金金额", field="cash_received_fen"))
            return
        submit, reference = self._submit, self.reference.text()
        ops.run(self, lambda: submit(channel, amount, reference, cash), on_success=self._done, errors=self.errors,
                wait="正在登记收款…", disable=[self.save_button])

    def _done(self, result: Any) -> None:
        self.paid.emit(result)
        self.accept()
