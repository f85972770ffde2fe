"""How the registration fee is settled, step by step, never blocking the window:

    sign-status query (bank lane, started as soon as the patient is chosen; a visible wait state)
      signed   → the mandated pop-up (:class:`CreditConfirmDialog`)
                   Enter → confirm + lock of the fee (bank lane) → locked: done (the slip prints)
                                                              → still unknown: resolved in the background
                                                              → refused: the payment dialog
                   Esc   → the payment dialog
      unsigned → the payment dialog (with the QR code of the bank's signing page)
      no answer / no bank → the payment dialog, with the reason

The registration is saved before any of this: a bank failure never undoes it, and the fee stays payable by
another channel. ``finished`` carries the visit (fee settled) or None (left unpaid / pending)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from desktop_his.dialogs import messages
from desktop_his.qt import ops
from desktop_his.services.errors import HisError
from desktop_his.services.money import format_fen
from desktop_his.services.registration_desk import fee_settled
from desktop_his.views.registration.credit_dialog import CreditConfirmDialog
from desktop_his.views.registration.payment_dialog import PaymentDialog

if TYPE_CHECKING:
    from desktop_his.services.bank import SignStatus
    from desktop_his.services.container import Services
    from desktop_his.services.credit import CreditResult
    from desktop_his.services.permissions import Actor
    from desktop_his.services.registration_views import VisitInfo

PENDING_POLL_MS = 2000
NOT_SIGNED = "该患者未签约“信用就医”，请选择其他方式缴费（可出示签约二维码供患者签约）。"


class SignQuery(QObject):
    """One patient's 签约查询, run once on the bank lane; ``done`` fires when it has answered or failed."""

    done = Signal()

    def __init__(self, services: Services, actor: Actor, patient_id: int, parent: QWidget) -> None:
        super().__init__(parent)
        self.patient_id = patient_id
        self.sign: SignStatus | None = None
        self.error = ""
        self.running = False
        self._view, self._services, self._actor = parent, services, actor

    def start(self) -> SignQuery:
        desk, actor, patient_id = self._services.registration_desk, self._actor, self.patient_id
        if desk.credit is None:
            self.error = f"“信用就医”暂不可用：{self._services.bank_problem or '银行未连接'}"
            return self
        self.running = True
        ops.run(self._view, lambda: desk.sign_status(actor, patient_id), on_success=self._answered,
                on_failure=self._failed, lane="bank")
        return self

    def _answered(self, sign: SignStatus) -> None:
        self.sign, self.running = sign, False
        self.done.emit()

    def _failed(self, error: BaseException) -> None:
        self.running = False
        self.error = f"“信用就医”签约查询未成功：{error.message}" if isinstance(error, HisError) else \
            "“信用就医”签约查询未成功（程序内部错误，已写入日志）"
        if not isinstance(error, HisError):
            ops.report_error(None, error)
        self.done.emit()

    @property
    def signed(self) -> bool:
        return self.sign is not None and self.sign.signed and bool(self.sign.agreement_no)

    def text(self) -> str:
        if self.running:
            return "正在查询“信用就医”签约状态…"
        if self.error:
            return self.error
        if self.sign is None:
            return ""
        if not self.signed:
            return "未签约“信用就医”"
        who = f"亲情付（额度主体人 {self.sign.holder_name_masked}）" if self.sign.family_pay else "已签约“信用就医”"
        return f"{who}，可用额度 {format_fen(self.sign.available_fen, symbol=True)}"


class FeeFlow(QObject):
    finished = Signal(object)  # VisitInfo | None
    message = Signal(str)  # progress for the window's message line

    def __init__(self, services: Services, actor: Actor, visit: VisitInfo, query: SignQuery, parent: QWidget, *,
                 switch: bool = False) -> None:
        super().__init__(parent)
        self.services, self.actor, self.visit, self.query = services, actor, visit, query
        self.view, self.switch = parent, switch
        self.confirm_dialog: CreditConfirmDialog | None = None
        self.payment_dialog: PaymentDialog | None = None
        self.poll = QTimer(self, interval=PENDING_POLL_MS)
        self.poll.timeout.connect(self._poll)
        self._polling = False
        self.running = False
        self.late = False  # the bank's answer is awaited in the background; the window serves others meanwhile

    def start(self) -> None:
        self.running = True
        if self.query.running:
            self.message.emit(self.query.text())
            self.query.done.connect(self._signed)
        else:
            self._signed()

    def _signed(self) -> None:
        if self.query.running:
            return
        if self.query.signed:
            assert self.query.sign is not None
            self.confirm_dialog = CreditConfirmDialog(self.visit.patient_name, self.visit.fee_fen, self.query.sign,
                                                      self.view)
            self.confirm_dialog.accepted.connect(self._confirmed)
            self.confirm_dialog.rejected.connect(lambda: self._other_channel("患者未选择“信用就医”。"))
            self.confirm_dialog.open()
            return
        reason = self.query.error or NOT_SIGNED
        if self.switch:
            messages.warning(self.view, reason if self.query.error else "该患者未签约“信用就医”，不能改用“信用就医”。")
            self._finish(None)
            return
        self._other_channel(reason)

    def _confirmed(self) -> None:
        desk, actor, visit_id, sign = self.services.registration_desk, self.actor, self.visit.id, self.query.sign
        ops.run(self.view, lambda: desk.use_credit(actor, visit_id, sign), on_success=self._credit_result,
                on_failure=self._credit_failed, wait="正在通过“信用就医”确认并锁定挂号费…", lane="bank")

    def _credit_result(self, result: CreditResult) -> None:
        if result.state in ("locked", "confirmed"):
            self.message.emit(result.message)
            self._reload_and_finish()
        elif result.state == "pending":
            self.message.emit(f"{self.visit.patient_name}（就诊号 {self.visit.visit_no}）：{result.message}")
            self.late, self.running = True, False  # the cashier may register the next patient meanwhile
            self.poll.start()
        elif self.late:  # refused after all: the patient pays at the window (F4), no dialog over someone else
            self.message.emit(f"{self.visit.patient_name}（就诊号 {self.visit.visit_no}）：{result.message}。"
                              "请选中该记录按 F4 以其他方式缴费。")
            self._finish(None)
        else:
            self._other_channel(result.message)

    def _credit_failed(self, error: BaseException) -> None:
        if not isinstance(error, HisError):
            ops.report_error(self.view, error)
        self._other_channel(f"“信用就医”未能办理：{error.message}" if isinstance(error, HisError) else "")

    def _poll(self) -> None:
        if self._polling:
            return
        self._polling = True
        desk, visit_id = self.services.registration_desk, self.visit.id

        def done(result: Any) -> None:
            self._polling = False
            if result.state != "pending":
                self.poll.stop()
                self._credit_result(result)

        def failed(error: BaseException) -> None:
            self._polling = False  # the bank still does not answer: ask again at the next tick

        ops.run(self.view, lambda: desk.resolve_credit(visit_id), on_success=done, on_failure=failed, lane="bank")

    def _other_channel(self, reason: str) -> None:
        if self.switch:
            if reason:
                messages.warning(self.view, reason)
            self._finish(None)
            return
        desk, actor, visit_id = self.services.registration_desk, self.actor, self.visit.id
        sign_url = ""
        if desk.credit is not None and self.query.sign is not None and not self.query.signed:
            sign_url = desk.sign_page_url()
        note = f"{reason}\n" if reason else ""
        note += f"{self.visit.patient_name}\u3000{self.visit.department_name} {self.visit.doctor_name}\u3000挂号费"
        self.payment_dialog = PaymentDialog("挂号缴费", self.visit.fee_fen,
                                            lambda payment: desk.pay_fee(actor, visit_id, payment),
                                            note=note, sign_url=sign_url, parent=self.view)
        self.payment_dialog.paid.connect(self._finish)
        self.payment_dialog.rejected.connect(self._unpaid)
        self.payment_dialog.open()

    def _unpaid(self) -> None:
        self.message.emit(f"挂号已保存（就诊号 {self.visit.visit_no}），挂号费尚未缴纳：可选中该记录按 F4 缴费，或 F8 退号。")
        self._finish(None)

    def _reload_and_finish(self) -> None:
        registration, actor, visit_id = self.services.registration, self.actor, self.visit.id
        ops.run(self.view, lambda: registration.visit(actor, visit_id), on_success=self._finish)

    def _finish(self, visit: VisitInfo | None) -> None:
        self.poll.stop()
        self.running = False
        for dialog in (self.confirm_dialog, self.payment_dialog):  # a window serves hundreds a day: free them
            if dialog is not None:
                dialog.deleteLater()
        self.confirm_dialog = self.payment_dialog = None
        if visit is not None and not (fee_settled(visit) or (self.switch and visit.credit)):
            visit = None
        self.finished.emit(visit)
