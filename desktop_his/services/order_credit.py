"""开单即锁额 and its undo, for the doctor station and the immunization desk: the order workflows
(:mod:`orders`, :mod:`immunization`) joined to the 信用就医 bank side (:mod:`credit`).

- **Submit** an order (or write a vaccine charge slip): on a credit visit the lock's intent is journaled in the
  submit transaction (``CreditService.lock_hook``), then sent. The answer decides where the order's money
  stands: ``locked`` (the pop-up shows the visit's total on credit), ``refused`` (the order goes to the window
  — the doctor tells the patient), or ``pending`` (PROCESSING / no answer: :meth:`OrderCreditService.follow_up`
  asks again by query with the SAME number while the doctor keeps working; the resolver and the live feed
  finish it too). A non-credit visit's order is simply ``window`` (paid at the cashier window).
- **Revoke** a submitted, not executed order: its lock is cancelled (【取消】, before deduction) or what was
  deducted is refunded (【退款】) — journaled in the revoke transaction, so the order is never revoked without
  its money going back, and never given back twice. Paid at a window → the window refunds it.

Without a bank connection a credit visit's order is refused before anything is saved (its money would have
nowhere to go); a non-credit visit's order works as usual.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop_his.services import texts
from desktop_his.services.bank import Code
from desktop_his.services.bank.protocol import message_for
from desktop_his.services.clock import Clock
from desktop_his.services.credit import LOCK, CreditService, ReturnResult, start_credit_return
from desktop_his.services.db import Database, newest
from desktop_his.services.enums import BankOp, FeeStatus, LockStatus, OrderKind, RefundStatus
from desktop_his.services.errors import Conflict, HisError, NotFound
from desktop_his.services.immunization import ImmunizationService
from desktop_his.services.models import BankJournal, CreditLock, Visit
from desktop_his.services.money import format_fen
from desktop_his.services.orders import (
    CREDIT_HELD,
    CreditTotal,
    MoneyUndo,
    OrderLine,
    OrderService,
    OrderView,
    RevokedOrder,
    SubmittedOrder,
    credit_total,
)
from desktop_his.services.permissions import Actor

LOCK_PENDING = "“信用就医”锁定结果确认中，可继续接诊，结果确认后自动更新。"
NO_BANK = "银行未连接，“信用就医”暂不可用（{problem}）。请稍后再开立，或请患者改用其他方式缴费。"


@dataclass(frozen=True)
class OrderLockResult:
    """Where a submitted order's (or vaccine slip's) money stands after 开单即锁额."""

    order: OrderView
    state: str  # "locked" | "refused" | "pending" | "window" (not on credit: pay at the window) | "free"
    message: str
    credit_total: CreditTotal  # the visit's money on 信用就医 (the SPEC §6 after-submit pop-up)
    code: str | None = None  # the bank's refusal code ("XYB002": not enough credit)

    @property
    def settled(self) -> bool:
        return self.state != "pending"

    @property
    def total_text(self) -> str:
        """SPEC §6: 患者本次使用“信用就医”额度支付总费用：¥…"""
        return self.credit_total.text


@dataclass(frozen=True)
class RevokeResult:
    order: OrderView
    undo: MoneyUndo
    message: str
    credit_return: ReturnResult | None  # the cancel / refund of the order's lock (None if nothing to return)
    credit_total: CreditTotal

    @property
    def settled(self) -> bool:
        return self.credit_return is None or self.credit_return.status != RefundStatus.PENDING


class OrderCreditService:
    """Built once; ``credit`` is set when the bank side is connected (``container.connect_bank``)."""

    def __init__(self, db: Database, clock: Clock, orders: OrderService, immunization: ImmunizationService,
                 credit: CreditService | None = None, bank_problem: str = "") -> None:
        self.db = db
        self.clock = clock
        self.orders = orders
        self.immunization = immunization
        self.credit = credit
        self.bank_problem = bank_problem

    # ------------------------------------------------------------------------------------ submit + lock

    def submit(self, actor: Actor, order_id: int, *, settle_within: float = 2.0) -> OrderLockResult:
        """Submit a draft; on a credit visit lock its amount and wait up to ``settle_within`` s for the answer."""
        hook, journal_ids = self._lock_hook(actor)
        submitted = self.orders.submit(actor, order_id, attach=hook)
        return self._sent(actor, submitted, journal_ids, settle_within)

    def submit_lines(self, actor: Actor, visit_id: int, lines: list[OrderLine], *, note: str = "",
                     settle_within: float = 2.0) -> OrderLockResult:
        """The doctor's composed order in one go: draft, submit, lock. A refused submit leaves no draft."""
        draft = self.orders.create_draft(actor, visit_id, lines, note=note)
        hook, journal_ids = self._lock_hook(actor)
        try:
            submitted = self.orders.submit(actor, draft.id, attach=hook)
        except HisError:
            self.orders.discard_draft(actor, draft.id)
            raise
        return self._sent(actor, submitted, journal_ids, settle_within)

    def charge_vaccine(self, actor: Actor, visit_id: int, lines: list[OrderLine], *,
                       settle_within: float = 2.0) -> OrderLockResult:
        """The immunization desk's vaccine charge slip, locked like an order."""
        hook, journal_ids = self._lock_hook(actor)
        submitted = self.immunization.charge_slip(actor, visit_id, lines, attach=hook)
        return self._sent(actor, submitted, journal_ids, settle_within)

    def follow_up(self, actor: Actor, order_id: int, *, settle_within: float = 0.0) -> OrderLockResult:
        """Ask again about a lock still pending (query, or resend the same number); where the order stands."""
        journal_id = self._lock_journal(order_id)
        if journal_id is not None and self.credit is not None:
            self.credit.execute(journal_id, settle_within=settle_within)
        return self.state(actor, order_id)

    def state(self, actor: Actor, order_id: int) -> OrderLockResult:
        """Where the order's money stands now (no bank call)."""
        order = self.orders.get_order(actor, order_id)
        with self.db.reader() as s:
            visit = s.get(Visit, order.visit_id) if order.visit_id else None
            total = credit_total(s, visit) if visit is not None else CreditTotal(0, 0, 0)
            failed = newest(s, select(CreditLock.id, CreditLock.failure_code, CreditLock.failure_message)
                            .where(CreditLock.order_id == order_id, CreditLock.status == LockStatus.FAILED))
        return _result(order, total, (failed.failure_code, failed.failure_message) if failed else None)

    def _sent(self, actor: Actor, submitted: SubmittedOrder, journal_ids: list[int],
              settle_within: float) -> OrderLockResult:
        if journal_ids and self.credit is not None:
            self.credit.execute(journal_ids[0], settle_within=settle_within)
        return self.state(actor, submitted.order.id)

    def _lock_hook(self, actor: Actor):  # noqa: ANN202 - (attach, journal ids)
        if self.credit is not None:
            return self.credit.lock_hook(actor)
        problem = self.bank_problem or "未配置银行连接"

        def refuse(_s: Session, submitted: SubmittedOrder) -> None:
            if submitted.lock_request is not None:
                raise Conflict(NO_BANK.format(problem=problem), code="no_bank")

        return refuse, []

    def _lock_journal(self, order_id: int) -> int | None:
        with self.db.reader() as s:
            row = newest(s, select(BankJournal.id).join(CreditLock, CreditLock.id == BankJournal.credit_lock_id)
                         .where(CreditLock.order_id == order_id, BankJournal.op == BankOp.LOCK.value,
                                BankJournal.purpose == LOCK))
            return row.id if row is not None else None

    # ------------------------------------------------------------------------------------ revoke

    def revoke(self, actor: Actor, order_id: int, reason: str, *, settle_within: float = 2.0) -> RevokeResult:
        """Revoke a submitted, not executed order and give its money back (table 1 of the plan)."""
        returns: list[tuple[int, int]] = []  # (refund id, journal id)

        def attach(s: Session, revoked: RevokedOrder) -> None:
            if revoked.undo not in (MoneyUndo.CANCEL_LOCK, MoneyUndo.REFUND_CREDIT):
                return
            if self.credit is None:
                raise Conflict(NO_BANK.format(problem=self.bank_problem or "未配置银行连接"), code="no_bank")
            lock = _held_lock(s, revoked.order.id)
            amount = lock.amount_fen if lock.status == LockStatus.LOCKED else lock.deducted_fen - lock.refunded_fen
            refund, journal_id = start_credit_return(
                s, self.credit.gateway, lock_id=lock.id, amount_fen=amount, reason=f"撤销医嘱：{revoked.reason}",
                department_id=actor.department_id, now=self.clock.now(), actor=actor)
            returns.append((refund.id, journal_id))

        revoked = self.orders.revoke(actor, order_id, reason, attach=attach)
        credit_return = None
        if returns:
            refund_id, journal_id = returns[0]
            self.credit.execute(journal_id, settle_within=settle_within)
            credit_return = self.credit.return_state(refund_id)
        return self._revoked(actor, revoked, credit_return)

    def _revoked(self, actor: Actor, revoked: RevokedOrder, credit_return: ReturnResult | None) -> RevokeResult:
        order = self.orders.get_order(actor, revoked.order.id)
        with self.db.reader() as s:
            visit = s.get(Visit, order.visit_id) if order.visit_id else None
            total = credit_total(s, visit) if visit is not None else CreditTotal(0, 0, 0)
        if credit_return is not None:
            message = f"医嘱已撤销。{credit_return.message}"
        elif revoked.undo is MoneyUndo.REFUND_PAYMENT:
            message = (f"医嘱已撤销。该医嘱已在窗口缴费{format_fen(revoked.amount_fen, symbol=True)}，"
                       "请患者持缴费凭证到收费窗口办理退费。")
        else:
            message = "医嘱已撤销。"
        return RevokeResult(order, revoked.undo, message, credit_return, total)


def _held_lock(s: Session, order_id: int) -> CreditLock:
    locks = s.scalars(select(CreditLock).where(CreditLock.order_id == order_id,
                                               CreditLock.status.in_((LockStatus.LOCKED, LockStatus.DEDUCTED)))).all()
    lock = max(locks, key=lambda x: x.id, default=None)  # the newest (see db.newest)
    if lock is None:
        raise NotFound("未找到该医嘱的“信用就医”锁定记录，请联系信息科", code="lock_not_found")
    return lock


def _result(order: OrderView, total: CreditTotal, failure: tuple[str | None, str | None] | None) -> OrderLockResult:
    fee = FeeStatus(order.fee_status)
    vaccine = order.kind == OrderKind.VACCINE
    if order.credit and fee in CREDIT_HELD:
        return OrderLockResult(order, "locked", total.text, total)
    if fee is FeeStatus.PENDING:
        return OrderLockResult(order, "pending", LOCK_PENDING, total)
    if fee is FeeStatus.UNPAID and failure is not None:
        code, why = failure
        if code == Code.CREDIT_SHORT:
            message = texts.VACCINE_LOCK_REFUSED if vaccine else texts.ORDER_LOCK_REFUSED
        else:
            where = "在登记台以其他方式缴费后再进入接种室" if vaccine else "到收费窗口以其他方式缴费"
            message = f"“信用就医”锁定未成功（{why or message_for(code)}），请患者{where}。"
        return OrderLockResult(order, "refused", message, total, code)
    if fee is FeeStatus.UNPAID:
        where = "在登记台缴费后再进入接种室" if vaccine else "到收费窗口缴费"
        return OrderLockResult(order, "window", f"已提交，金额 {format_fen(order.total_fen, symbol=True)}，请患者{where}。",
                               total)
    if order.total_fen == 0:
        return OrderLockResult(order, "free", "已提交（无需缴费）。", total)
    return OrderLockResult(order, "window" if fee is FeeStatus.PAID else str(fee), order.fee_status_label, total)

