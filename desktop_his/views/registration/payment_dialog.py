"""Paying by another channel at the window: cash (received and change), WeChat / Alipay (付款码 or transaction
number), UnionPay card (POS reference), medical insurance (settlement number) — each with its reference number.

The amount is fixed (the fee or the order that is due). ``submit(PaymentInput)`` is the service call, run on
the database worker; its errors (reference format per channel, too little cash, a duplicate reference) land at
their field. Keys: 1–5 choose the channel, Enter records, Esc closes (the registration stays, unpaid). For an
unsigned patient the dialog can show the QR code of the bank's 信用就医 signing page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from desktop_his.qt import ops
from desktop_his.qt.field_errors import FieldErrors
from desktop_his.qt.money_edit import MoneyEdit
from desktop_his.services.enums import CHANNEL_LABELS, Channel
from desktop_his.services.errors import ValidationError
from desktop_his.services.money import format_fen
from desktop_his.services.payments import OTHER_CHANNELS, REFERENCE_HINTS, PaymentInput
from desktop_his.views.registration.qr import QrDialog


class PaymentDialog(QDialog):
    """``paid`` carries what ``submit`` returned."""

    paid = Signal(object)

    def __init__(self, title: str, amount_fen: int, submit: Callable[[PaymentInput], Any], *, note: str = "",
                 sign_url: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("payment_dialog")
        self.setWindowTitle(title)
        self.amount_fen, self._submit, self.sign_url = amount_fen, submit, sign_url
        self.qr_dialog: QrDialog | None = None
        general = QLabel()
        general.setObjectName("payment_form_error")
        general.hide()
        self.errors = FieldErrors(self, general=general)
        self.group = QButtonGroup(self)
        channels = QHBoxLayout()
        for i, channel in enumerate(OTHER_CHANNELS, 1):
            button = QRadioButton(f"{i} {CHANNEL_LABELS[channel]}")
            button.setObjectName(f"payment_channel_{channel.value}")
            self.group.addButton(button, i)
            channels.addWidget(button)
            key = QShortcut(QKeySequence(str(i)), self, lambda b=button: self._choose(b))
            key.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.group.button(1).setChecked(True)
        self.group.idToggled.connect(lambda *_: self._channel_changed())
        channel_box = QWidget()
        channel_box.setObjectName("payment_channel")
        channel_box.setLayout(channels)
        self.amount = QLabel(format_fen(amount_fen, symbol=True))
        self.amount.setObjectName("payment_amount")
        font = self.amount.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.amount.setFont(font)
        self.cash = MoneyEdit()
        self.cash.setObjectName("payment_cash_received")
        self.cash.textChanged.connect(self._show_change)
        self.cash_label = QLabel("实收现金（元）")
        self.change = QLabel()
        self.change.setObjectName("payment_change")
        self.reference = QLineEdit()
        self.reference.setObjectName("payment_reference")
        self.reference_label = QLabel()
        form = QFormLayout()
        if note:
            note_label = QLabel(note)
            note_label.setObjectName("payment_note")
            note_label.setWordWrap(True)
            form.addRow(note_label)
        form.addRow("支付方式", self.errors.add("channel", channel_box))
        form.addRow("应收金额", self.errors.add("amount_fen", self.amount, "purpose"))
        form.addRow(self.cash_label, self.errors.add("cash_received_fen", self.cash))
        form.addRow("", self.change)
        form.addRow(self.reference_label, self.errors.add("reference_no", self.reference))
        self.save_button = QPushButton("确认收款 (Enter)")
        self.save_button.setObjectName("payment_save")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        cancel = QPushButton("暂不缴费 (Esc)")
        cancel.setObjectName("payment_cancel")
        cancel.setAutoDefault(False)
        cancel.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        if sign_url:
            qr = QPushButton("“信用就医”签约二维码 (F11)")
            qr.setObjectName("payment_sign_qr")
            qr.setAutoDefault(False)
            qr.clicked.connect(self.show_sign_qr)
            QShortcut(QKeySequence("F11"), self, self.show_sign_qr)
            buttons.addWidget(qr)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(cancel)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(general)
        layout.addLayout(buttons)
        self.setMinimumWidth(560)
        self._channel_changed()

    def channel(self) -> Channel:
        return OTHER_CHANNELS[self.group.checkedId() - 1]

    def set_channel(self, channel: str) -> None:
        self._choose(self.group.button(OTHER_CHANNELS.index(Channel(channel)) + 1))

    def _choose(self, button: QRadioButton) -> None:
        button.setChecked(True)

    def _channel_changed(self) -> None:
        channel = self.channel()
        text, hint = REFERENCE_HINTS[channel]
        self.reference_label.setText(text)
        self.reference.setPlaceholderText(hint)
        cash = channel is Channel.CASH
        for widget in (self.cash, self.cash_label, self.change):
            widget.setVisible(cash)
        self._show_change()
        (self.cash if cash else self.reference).setFocus(Qt.FocusReason.OtherFocusReason)

    def _show_change(self, *_: Any) -> None:
        received = self.cash.fen()
        if received is not None and received >= self.amount_fen:
            self.change.setText(f"找零 {format_fen(received - self.amount_fen, symbol=True)}")
        elif received is not None:
            self.change.setText(f"还差 {format_fen(self.amount_fen - received, symbol=True)}")
        else:
            self.change.setText("")

    def save(self) -> None:
        if not self.save_button.isEnabled():
            return
        channel = self.channel()
        cash = self.cash.fen() if channel is Channel.CASH else None
        if channel is Channel.CASH and cash is None:
            self.errors.show(ValidationError("请输入实收现金金额（元，最多两位小数）", field="cash_received_fen"))
            return
        payment = PaymentInput(channel.value, self.reference.text(), cash)
        submit = self._submit
        ops.run(self, lambda: submit(payment), on_success=self._done, errors=self.errors, wait="正在登记收款…",
                disable=[self.save_button])

    def _done(self, result: Any) -> None:
        self.paid.emit(result)
        self.accept()

    def show_sign_qr(self) -> None:
        if not self.sign_url:
            return
        self.qr_dialog = QrDialog("“信用就医”签约", self.sign_url,
                                  "请患者用手机扫描二维码，在银行页面完成“信用就医”签约。签约后下次就诊即可使用。", self)
        self.qr_dialog.open()
