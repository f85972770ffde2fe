"""The doctor station's dialogs: the two mandated 信用就医 pop-ups (SPEC §6, texts from ``services.texts``
only), the revoke reason, and the executed-with-actual-quantity record.

Every dialog opens with ``open()`` (window-modal, never a nested event loop) and reports through signals."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_his.qt.field_errors import FieldErrors
from desktop_his.qt.widgets import save_cancel_row
from desktop_his.services import texts
from desktop_his.services.errors import ValidationError
from desktop_his.services.orders import OrderView
from desktop_his.views.inpatient.common import label, yuan

NOTICE_STYLE = ("color: #922b21; background: #fdedec; border: 2px solid #c0392b; border-radius: 4px;"
                "padding: 10px; font-size: 16pt; font-weight: bold;")
TOTAL_STYLE = ("color: #1a5276; background: #eaf2f8; border: 2px solid #1a5276; border-radius: 4px;"
               "padding: 10px; font-size: 15pt; font-weight: bold;")
MARK_STYLE = "color: white; background: #c0392b; padding: 2px 8px; border-radius: 3px; font-weight: bold;"


def _ok_row(dialog: QDialog, name: str, text: str = "知道了 (Enter)") -> QHBoxLayout:
    button = QPushButton(text)
    button.setObjectName(name)
    button.setDefault(True)
    button.clicked.connect(dialog.accept)
    row = QHBoxLayout()
    row.addStretch(1)
    row.addWidget(button)
    return row


class CreditNoticeDialog(QDialog):
    """SPEC §6: shown when the doctor opens a credit visit — 该患者本次就诊已确认使用“信用就医”服务."""

    def __init__(self, patient: str, mark: str | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("credit_notice_dialog")
        self.setWindowTitle(texts.SERVICE_NAME)
        self.notice = label("credit_notice_text", texts.DOCTOR_CREDIT_NOTICE, style=NOTICE_STYLE)
        self.notice.setAlignment(Qt.AlignmentFlag.AlignCenter)
        who = label("credit_notice_patient", f"患者：{patient}")
        layout = QVBoxLayout(self)
        layout.addWidget(who)
        if mark == texts.SLIP_MARK_FAMILY:
            family = label("credit_notice_mark", mark, style=MARK_STYLE, wrap=False)
            row = QHBoxLayout()
            row.addWidget(family, 0, Qt.AlignmentFlag.AlignVCenter)
            row.addWidget(label("credit_notice_family", "使用亲属（额度主体人）的“信用就医”额度"), 1)
            layout.addLayout(row)
        layout.addWidget(self.notice)
        layout.addLayout(_ok_row(self, "credit_notice_ok"))
        self.setMinimumWidth(480)


class CreditTotalDialog(QDialog):
    """SPEC §6: after an order is submitted — 患者本次使用“信用就医”额度支付总费用 followed by the amount."""

    def __init__(self, total_text: str, detail: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("credit_total_dialog")
        self.setWindowTitle(texts.SERVICE_NAME)
        self.total = label("credit_total_text", total_text, style=TOTAL_STYLE)
        self.total.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.addWidget(self.total)
        self.detail = label("credit_total_detail", detail)
        self.detail.setVisible(bool(detail))
        layout.addWidget(self.detail)
        layout.addLayout(_ok_row(self, "credit_total_ok"))
        self.setMinimumWidth(520)


class RevokeDialog(QDialog):
    """Why the order is revoked (audited); ``confirmed`` carries the reason."""

    confirmed = Signal(str)

    def __init__(self, order: OrderView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("revoke_dialog")
        self.setWindowTitle(f"撤销医嘱 {order.order_no}")
        general = label("revoke_form_error")
        general.hide()
        self.errors = FieldErrors(self, general=general)
        items = "、".join(i.name for i in order.items)
        money = ("“信用就医”锁定将取消（已扣款则退款）" if order.credit
                 else "已在窗口缴费的，请患者到收费窗口退费" if order.fee_status == "paid" else "尚未缴费，直接作废")
        info = label("revoke_info", f"{items}\n金额 {yuan(order.total_fen)}；{money}。")
        self.reason = QLineEdit()
        self.reason.setObjectName("revoke_reason")
        self.reason.setPlaceholderText("撤销原因（必填）")
        buttons, self.ok_button, _cancel = save_cancel_row(self, "revoke", "撤销 (Enter)", self.submit, save_name="ok")
        layout = QVBoxLayout(self)
        layout.addWidget(info)
        layout.addWidget(self.errors.add("reason", self.reason))
        layout.addWidget(general)
        layout.addLayout(buttons)
        self.setMinimumWidth(440)
        self.reason.setFocus()

    def submit(self) -> None:
        reason = self.reason.text().strip()
        if not reason:
            self.errors.show(ValidationError("请填写撤销原因", field="reason"))
            return
        self.confirmed.emit(reason)


class ExecuteDialog(QDialog):
    """The order was carried out: the actual quantity per item (a drug not dispensed in full). The T-day
    deduction takes the actual amount; ``confirmed`` carries ``{item id: quantity}``."""

    confirmed = Signal(object)

    def __init__(self, order: OrderView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("execute_dialog")
        self.setWindowTitle(f"登记执行 {order.order_no}")
        self.order = order
        general = label("execute_form_error")
        general.hide()
        self.errors = FieldErrors(self, general=general)
        self.table = QTableWidget(len(order.items), 4)
        self.table.setObjectName("execute_items")
        self.table.setHorizontalHeaderLabels(["项目", "开立数量", "实际数量", "单价"])
        self.table.verticalHeader().hide()
        self.spins: dict[int, QSpinBox] = {}
        for row, item in enumerate(order.items):
            self.table.setItem(row, 0, QTableWidgetItem(item.name))
            self.table.setItem(row, 1, QTableWidgetItem(f"{item.quantity}{item.unit}"))
            spin = QSpinBox()
            spin.setObjectName(f"execute_quantity_{row}")
            spin.setRange(0, item.quantity)
            spin.setValue(item.quantity)
            spin.valueChanged.connect(self._show_total)
            self.spins[item.id] = spin
            self.table.setCellWidget(row, 2, spin)
            self.table.setItem(row, 3, QTableWidgetItem(yuan(item.unit_price_fen)))
        self.table.resizeColumnsToContents()
        self.total = label("execute_total")
        self.ok_button = QPushButton("确认执行 (Enter)")
        self.ok_button.setObjectName("execute_ok")
        self.ok_button.setDefault(True)
        self.ok_button.clicked.connect(lambda: self.confirmed.emit(self.actual()))
        cancel = QPushButton("取消 (Esc)")
        cancel.setObjectName("execute_cancel")
        cancel.setAutoDefault(False)
        cancel.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.ok_button)
        buttons.addWidget(cancel)
        layout = QVBoxLayout(self)
        layout.addWidget(self.errors.add("actual", self.table))
        layout.addWidget(self.total)
        layout.addWidget(general)
        layout.addLayout(buttons)
        self.setMinimumWidth(480)
        self._show_total()

    def actual(self) -> dict[int, int]:
        return {item_id: spin.value() for item_id, spin in self.spins.items()}

    def _show_total(self, *_: object) -> None:
        prices = {i.id: i.unit_price_fen for i in self.order.items}
        actual = sum(prices[i] * q for i, q in self.actual().items())
        self.total.setText(f"开立金额 {yuan(self.order.total_fen)}，实际金额 {yuan(actual)}"
                           + ("（信用就医按实际金额扣款，其余额度释放）" if self.order.credit and actual < self.order.total_fen
                              else ""))
