"""信用就医 at the admission desk, step by step (plan §二.四.2): 签约查询 (bank lane, wait state) → the written
consent if this admission has none received yet (:class:`ConsentDialog`) → the amount → 支付校验 + 支付 (bank
lane) → the result. Used for a deposit / top-up (``purpose="deposit"``) and for the discharge shortfall
(``purpose="settlement"``). Not enough credit: the mandated-style plain message, nothing charged; the caller
offers another channel.

The flow never blocks: each step opens a window-modal dialog with ``open()`` and goes on from its signal.
``finished`` carries the :class:`CreditPayResult` (``None`` when the clerk stopped, or the patient cannot use
信用就医)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QDialog, QFormLayout, QHBoxLayout, QVBoxLayout, QWidget

from desktop_his.dialogs import messages
from desktop_his.qt import ops
from desktop_his.qt.field_errors import FieldErrors
from desktop_his.qt.money_edit import MoneyEdit
from desktop_his.qt.widgets import save_cancel_row
from desktop_his.services import texts
from desktop_his.services.errors import HisError, ValidationError
from desktop_his.views.inpatient.common import MARK_STYLE, OK_STYLE, label, yuan
from desktop_his.views.inpatient.consent_dialog import ConsentDialog

if TYPE_CHECKING:
    from desktop_his.services.bank import SignStatus
    from desktop_his.services.container import Services
    from desktop_his.services.inpatient import AdmissionView
    from desktop_his.services.inpatient_bank import CreditPayResult
    from desktop_his.services.permissions import Actor

NOT_SIGNED = "该患者未签约“信用就医”（或已解约），不能使用“信用就医”缴费，请选择其他方式缴费。"
FAILED_STATES = ("insufficient", "not_signed", "refused", "unreachable")


class CreditAmountDialog(QDialog):
    """How much to pay with 信用就医; shows the available credit from the sign-status answer."""

    submitted = Signal(int)

    def __init__(self, admission: AdmissionView, sign: SignStatus, *, purpose: str, amount_fen: int | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("credit_amount_dialog")
        what = "出院结算补缴" if purpose == "settlement" else "住院预交金"
        self.setWindowTitle(f"“信用就医”{what}")
        general = label("credit_form_error")
        general.hide()
        self.errors = FieldErrors(self, general=general)
        mark = label("credit_mark", texts.SLIP_MARK_FAMILY if sign.family_pay else texts.SLIP_MARK_CREDIT,
                     style=MARK_STYLE, wrap=False)
        holder = f"（额度主体人 {sign.holder_name_masked}）" if sign.family_pay and sign.holder_name_masked else ""
        info = label("credit_info", f"{admission.patient_name}\u3000住院号 {admission.admission_no}\n"
                                    f"“信用就医”可用额度：{yuan(sign.available_fen)}{holder}", style=OK_STYLE)
        self.amount = MoneyEdit()
        self.amount.setObjectName("credit_amount")
        self.amount.set_fen(amount_fen)
        mark_row = QHBoxLayout()
        mark_row.addWidget(mark)
        mark_row.addStretch(1)
        form = QFormLayout()
        form.addRow(mark_row)
        form.addRow(info)
        form.addRow(f"{what}金额（元）", self.errors.add("amount_fen", self.amount, "consent", "purpose"))
        buttons, self.pay_button, _cancel = save_cancel_row(self, "credit", "支付 (Enter)", self.submit, save_name="pay")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(general)
        layout.addLayout(buttons)
        self.setMinimumWidth(460)
        self.amount.setFocus()

    def submit(self) -> None:
        if not self.pay_button.isEnabled():
            return
        fen = self.amount.fen()
        if fen is None or fen <= 0:
            self.errors.show(ValidationError("请输入大于零的金额（元，最多两位小数）", field="amount_fen"))
            return
        self.submitted.emit(fen)


class CreditPayFlow(QObject):
    finished = Signal(object)  # CreditPayResult | None

    def __init__(self, services: Services, actor: Actor, admission: AdmissionView, *, purpose: str = "deposit",
                 amount_fen: int | None = None, parent: QWidget) -> None:
        super().__init__(parent)
        self.services, self.actor, self.admission = services, actor, admission
        self.purpose, self.suggested = purpose, amount_fen
        self.view = parent
        self.sign: SignStatus | None = None
        self.consent_dialog: ConsentDialog | None = None
        self.amount_dialog: CreditAmountDialog | None = None
        self.result: CreditPayResult | None = None
        self.running = False

    def start(self) -> None:
        self.running = True
        credit = self.services.inpatient_credit
        if credit is None:
            problem = self.services.bank_problem or "银行未连接"
            messages.warning(self.view, f"“信用就医”暂不可用：{problem}。请选择其他方式缴费。")
            self._finish(None)
            return
        inpatient, actor, admission_id = self.services.inpatient, self.actor, self.admission.id
        ops.run(self.view, lambda: (credit.sign_status(actor, admission_id), inpatient.consents(actor, admission_id)),
                on_success=self._signed, on_failure=self._sign_failed, wait="正在查询“信用就医”签约状态…",
                lane="bank")

    def _sign_failed(self, error: BaseException) -> None:
        if not isinstance(error, HisError):
            ops.report_error(self.view, error, None)
        else:
            messages.warning(self.view, f"“信用就医”签约查询未成功：{error.message}\n可稍后重试，或选择其他方式缴费。")
        self._finish(None)

    def _signed(self, answer: tuple[SignStatus, list]) -> None:
        self.sign, consents = answer
        if not self.sign.signed or not self.sign.agreement_no:
            messages.warning(self.view, NOT_SIGNED)
            self._finish(None)
            return
        if any(c.received_at is not None for c in consents):
            self._ask_amount()
            return
        printed = consents[-1] if consents and consents[-1].status == "printed" else None
        self.consent_dialog = ConsentDialog(self.services, self.actor, self.admission, printed=printed,
                                            parent=self.view)
        self.consent_dialog.received.connect(lambda _consent: self._ask_amount())
        self.consent_dialog.rejected.connect(lambda: self._finish(None))
        self.consent_dialog.open()

    def _ask_amount(self) -> None:
        assert self.sign is not None
        self.amount_dialog = CreditAmountDialog(self.admission, self.sign, purpose=self.purpose,
                                                amount_fen=self.suggested, parent=self.view)
        self.amount_dialog.submitted.connect(self._pay)
        self.amount_dialog.rejected.connect(lambda: self._finish(None) if self.result is None else None)
        self.amount_dialog.open()

    def _pay(self, amount_fen: int) -> None:
        credit, actor, admission_id = self.services.inpatient_credit, self.actor, self.admission.id
        purpose, sign, dialog = self.purpose, self.sign, self.amount_dialog
        assert credit is not None and dialog is not None
        ops.run(dialog, lambda: credit.pay(actor, admission_id, amount_fen, purpose=purpose, sign=sign),
                on_success=self._paid, errors=dialog.errors, wait="正在通过“信用就医”支付…",
                disable=[dialog.pay_button], lane="bank")

    def _paid(self, result: CreditPayResult) -> None:
        self.result = result
        if self.amount_dialog is not None:
            self.amount_dialog.accept()
        if result.state in FAILED_STATES:
            messages.warning(self.view, result.message)
        elif result.state == "pending":
            messages.info(self.view, result.message)
        self._finish(result)

    def _finish(self, result: Any) -> None:
        self.running = False
        self.finished.emit(result)
