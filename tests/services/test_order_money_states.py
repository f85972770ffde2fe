"""Stateful property test: any sequence of bank answers, window payments, executions and revokes keeps an
order's money consistent with a plain model (SQLite; the SQL is the same on PostgreSQL, covered elsewhere)."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from desktop_his.services import orders as om
from desktop_his.services.clock import ManualClock
from desktop_his.services.db import Database
from desktop_his.services.enums import FeeStatus, OrderStatus
from desktop_his.services.errors import Conflict
from desktop_his.services.models import Base
from tests.factories import make_hospital, make_patient, make_visit

F = FeeStatus
# The money rules written out independently of orders.FEE_MOVES: target → the states it may come from.
MOVES = {
    F.LOCKED: (F.PENDING,), F.UNPAID: (F.PENDING, F.LOCKED), F.PAID: (F.UNPAID,), F.DEDUCTED: (F.LOCKED,),
    F.CANCELLED: (F.LOCKED, F.UNPAID), F.REFUNDED: (F.DEDUCTED, F.PAID, F.PARTLY_REFUNDED),
    F.PARTLY_REFUNDED: (F.DEDUCTED, F.PAID), F.PENDING: (),
}


class OrderMoney(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory()
        self.db = Database.from_url(f"sqlite:///{Path(self.tmp.name) / 'm.sqlite3'}")
        Base.metadata.create_all(self.db.engine)
        self.clock = ManualClock(datetime(2026, 11, 23, 9))
        self.svc = om.OrderService(self.db, self.clock)
        with self.db.session() as s:
            self.h = make_hospital(s, self.clock.today())
            self.visit = make_visit(s, make_patient(s), self.h.slot, credit=True).id
        self.doc = self.h.doctor_actor
        draft = self.svc.create_draft(self.doc, self.visit, [om.OrderLine(self.h.drug.id, 4),
                                                             om.OrderLine(self.h.lab_test.id, 1)])
        self.order = self.svc.submit(self.doc, draft.id).order
        # the model
        self.status, self.fee, self.credit, self.actual = OrderStatus.SUBMITTED, F.PENDING, True, None

    def teardown(self) -> None:
        self.db.dispose()
        self.tmp.cleanup()

    def _move(self, to: FeeStatus, allowed_from: tuple[FeeStatus, ...]) -> None:
        try:
            with self.db.session() as s:
                om.move_fee_status(s, self.order.id, to)
        except Conflict:
            assert self.fee not in allowed_from
            return
        assert self.fee in allowed_from
        self.fee = to
        if to == F.UNPAID:
            self.credit = False

    @rule(to=st.sampled_from(list(MOVES)))
    def bank_or_window_answer(self, to: FeeStatus) -> None:
        self._move(to, MOVES[to])

    @rule(short=st.integers(0, 4))
    def execute(self, short: int) -> None:
        drug = self.order.items[0]
        qty = max(0, drug.quantity - short)
        try:
            result = self.svc.mark_executed(self.doc, self.order.id, {drug.id: qty})
        except Conflict:
            assert self.status != OrderStatus.SUBMITTED or self.fee not in (F.PAID, F.LOCKED, F.DEDUCTED)
            return
        assert self.status == OrderStatus.SUBMITTED and self.fee in (F.PAID, F.LOCKED, F.DEDUCTED)
        self.status, self.actual = OrderStatus.EXECUTED, qty * drug.unit_price_fen + 2500
        collected = self.fee in (F.PAID, F.DEDUCTED)
        assert result.over_collected_fen == (self.order.total_fen - self.actual if collected else 0)

    @rule()
    def revoke(self) -> None:
        try:
            result = self.svc.revoke(self.doc, self.order.id, "测试")
        except Conflict:
            assert self.status != OrderStatus.SUBMITTED or self.fee not in (F.UNPAID, F.PAID, F.LOCKED, F.DEDUCTED)
            return
        assert self.status == OrderStatus.SUBMITTED
        expected = {F.UNPAID: om.MoneyUndo.NONE, F.PAID: om.MoneyUndo.REFUND_PAYMENT,
                    F.LOCKED: om.MoneyUndo.CANCEL_LOCK, F.DEDUCTED: om.MoneyUndo.REFUND_CREDIT}[self.fee]
        assert result.undo == expected
        self.status = OrderStatus.REVOKED
        if self.fee == F.UNPAID:
            self.fee = F.CANCELLED

    @invariant()
    def stored_order_matches_the_model(self) -> None:
        now = self.svc.get_order(self.doc, self.order.id)
        assert (now.status, now.fee_status, now.credit, now.actual_fen) == (
            self.status, self.fee, self.credit, self.actual)
        assert now.actual_fen is None or 0 <= now.actual_fen <= now.total_fen
        assert now.credit or now.fee_status not in (F.PENDING, F.LOCKED, F.DEDUCTED)

    @invariant()
    def credit_total_follows_the_definition(self) -> None:
        total = self.svc.visit_credit_total(self.doc, self.visit)
        held = self.credit and self.status != OrderStatus.REVOKED and self.fee in (F.LOCKED, F.DEDUCTED)
        charge = self.order.total_fen if self.actual is None else self.actual
        assert total.orders_fen == (charge if held else 0)
        assert total.registration_fen == 1000


TestOrderMoney = OrderMoney.TestCase
TestOrderMoney.settings = settings(max_examples=25, stateful_step_count=10, deadline=None)
