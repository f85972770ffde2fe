"""Order money rules without Qt, on SQLite and PostgreSQL: exact fen, positive integer quantities, actual ≤
ordered, no double submit (also from two sessions at once), no revoke after execution, credit hand-over."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from desktop_his.services import live
from desktop_his.services import orders as om
from desktop_his.services.db import Database
from desktop_his.services.doctor_queue import DoctorQueueService
from desktop_his.services.enums import CatalogKind, FeeStatus, OrderStatus
from desktop_his.services.errors import Conflict, NotFound, PermissionDenied, ValidationError
from desktop_his.services.models import AuditRecord, CreditLock, MedicalOrder, NumberCounter
from desktop_his.services.orders import MoneyUndo, OrderLine, OrderService
from tests.factories import Hospital, make_catalog_item, make_hospital, make_patient, make_visit


@pytest.fixture
def h(db: Database, clock) -> Hospital:  # noqa: ANN001
    with db.session() as s:
        return make_hospital(s, clock.today())


@pytest.fixture
def svc(db: Database, clock) -> OrderService:  # noqa: ANN001
    return OrderService(db, clock)


def new_visit(db: Database, h: Hospital, **kw) -> int:  # noqa: ANN003
    with db.session() as s:
        return make_visit(s, make_patient(s), h.slot, **kw).id


def set_fee(db: Database, order_id: int, *path: FeeStatus) -> None:
    with db.session() as s:
        for step in path:
            om.move_fee_status(s, order_id, step)


def count_orders(db: Database) -> int:
    with db.reader() as s:
        return s.execute(select(func.count(MedicalOrder.id))).scalar_one()


# ------------------------------------------------------------------------------------------- catalogue


def test_search_by_pinyin_initials_chinese_and_code(svc: OrderService, h: Hospital) -> None:
    doc = h.doctor_actor
    assert [x.name for x in svc.search_catalog(doc, "amxl")] == ["阿莫西林胶囊"]
    assert [x.name for x in svc.search_catalog(doc, "AMXL")] == ["阿莫西林胶囊"]
    assert [x.name for x in svc.search_catalog(doc, "血常")] == ["血常规"]
    hit = svc.search_catalog(doc, h.exam.code.lower())[0]
    assert (hit.name, hit.price_fen, hit.kind_label, hit.exec_location) == ("胸部X线摄影", 8000, "检查",
                                                                           "放射科（医技楼一楼）")


def test_search_respects_kind_active_and_wildcards(svc: OrderService, h: Hospital, db: Database) -> None:
    with db.session() as s:
        make_catalog_item(s, "阿莫西林颗粒", CatalogKind.DRUG, 900, active=False)
        make_catalog_item(s, "普通挂号", CatalogKind.REGISTRATION, 100)
    doc = h.doctor_actor
    assert [x.name for x in svc.search_catalog(doc, "amxl")] == ["阿莫西林胶囊"]  # inactive left out
    assert svc.search_catalog(doc, "pt") == []  # registration fees are not orderable
    assert svc.search_catalog(doc, "%") == [] and svc.search_catalog(doc, "_") == []
    assert [x.name for x in svc.search_catalog(doc, "", kinds=[CatalogKind.VACCINE])] == ["流感疫苗"]
    assert len(svc.search_catalog(doc, "")) == 5


# ----------------------------------------------------------------------------------------------- drafts


def test_draft_amounts_are_price_times_quantity_in_fen(svc: OrderService, h: Hospital, db: Database) -> None:
    visit = new_visit(db, h)
    draft = svc.create_draft(h.doctor_actor, visit, [OrderLine(h.drug.id, 3, " 口服  一次2粒 "),
                                                     OrderLine(h.lab_test.id, 1)])
    assert draft.order_no is None and draft.status == OrderStatus.DRAFT
    assert [(i.quantity, i.unit_price_fen, i.amount_fen) for i in draft.items] == [(3, 1250, 3750), (1, 2500, 2500)]
    assert draft.total_fen == 6250
    assert draft.items[0].usage == "口服 一次2粒"
    assert draft.items[0].exec_location == "西药房（门诊楼一楼）"
    draft = svc.update_item(h.doctor_actor, draft.items[0].id, quantity=7)
    assert draft.total_fen == 7 * 1250 + 2500
    draft = svc.remove_item(h.doctor_actor, draft.items[1].id)
    assert draft.total_fen == 8750
    draft = svc.add_item(h.doctor_actor, draft.id, OrderLine(h.exam.id, 2))
    assert draft.total_fen == 8750 + 16000


BAD_QUANTITIES = [0, -1, 1.5, "2", True, None, 10_000]


def test_bad_quantity_is_refused_and_nothing_saved(svc: OrderService, h: Hospital, db: Database) -> None:
    visit = new_visit(db, h)
    for quantity in BAD_QUANTITIES:
        with pytest.raises(ValidationError) as err:
            svc.create_draft(h.doctor_actor, visit, [OrderLine(h.drug.id, 1), OrderLine(h.drug.id, quantity)])
        assert err.value.field == "quantity" and err.value.message
    assert count_orders(db) == 0


@pytest.mark.parametrize("quantity", BAD_QUANTITIES)
def test_check_quantity(quantity: object) -> None:
    with pytest.raises(ValidationError):
        om.check_quantity(quantity)


def test_bad_quantity_on_edit_keeps_the_draft(svc: OrderService, h: Hospital, db: Database) -> None:
    draft = svc.create_draft(h.doctor_actor, new_visit(db, h), [OrderLine(h.drug.id, 2)])
    with pytest.raises(ValidationError):
        svc.update_item(h.doctor_actor, draft.items[0].id, quantity=0)
    assert svc.get_order(h.doctor_actor, draft.id).total_fen == 2500


def test_unknown_inactive_or_wrong_kind_item_refused(svc: OrderService, h: Hospital, db: Database) -> None:
    with db.session() as s:
        gone = make_catalog_item(s, "停用药", active=False).id
        reg = make_catalog_item(s, "挂号费", CatalogKind.REGISTRATION, 500).id
    visit = new_visit(db, h)
    for item_id in (999_999, gone, reg):
        with pytest.raises(ValidationError):
            svc.create_draft(h.doctor_actor, visit, [OrderLine(item_id, 1)])
    assert count_orders(db) == 0


def test_no_orders_on_a_cancelled_visit(svc: OrderService, h: Hospital, db: Database) -> None:
    visit = new_visit(db, h, status="cancelled")
    with pytest.raises(Conflict):
        svc.create_draft(h.doctor_actor, visit, [OrderLine(h.drug.id, 1)])
    with pytest.raises(NotFound):
        svc.create_draft(h.doctor_actor, 424242, [])


def test_roles(svc: OrderService, h: Hospital, db: Database) -> None:
    visit = new_visit(db, h)
    for actor in (h.cashier_actor, h.nurse_actor):  # the nurse writes vaccine slips, not doctor's orders
        with pytest.raises(PermissionDenied):
            svc.create_draft(actor, visit, [OrderLine(h.drug.id, 1)])
    with pytest.raises(PermissionDenied):
        svc.search_catalog(h.cashier_actor, "amxl")
    with pytest.raises(PermissionDenied):
        svc.unpaid_orders_for_window(h.doctor_actor, visit_id=visit)


# ----------------------------------------------------------------------------------------------- submit


def test_submit_on_a_non_credit_visit_goes_to_the_window(svc: OrderService, h: Hospital, db: Database) -> None:
    visit = new_visit(db, h)
    draft = svc.create_draft(h.doctor_actor, visit, [OrderLine(h.drug.id, 2)])
    result = svc.submit(h.doctor_actor, draft.id)
    order = result.order
    assert result.lock_request is None
    assert (order.status, order.credit, order.fee_status, order.order_no) == (
        OrderStatus.SUBMITTED, False, FeeStatus.UNPAID, "O20261123000001")
    assert [o.id for o in svc.unpaid_orders_for_window(h.cashier_actor, visit_id=visit)] == [draft.id]
    assert [o.id for o in svc.unpaid_orders_for_window(h.cashier_actor, patient_id=order.patient_id)] == [draft.id]
    with db.reader() as s:
        rec = s.execute(select(AuditRecord).where(AuditRecord.action == "order.submitted")).scalar_one()
    assert rec.detail["total_fen"] == 2500 and rec.actor_id == h.doctor.staff_id


def test_submit_on_a_credit_visit_hands_over_the_lock(svc: OrderService, h: Hospital, db: Database, clock) -> None:  # noqa: ANN001
    visit = new_visit(db, h, credit=True, family_pay=True)
    draft = svc.create_draft(h.doctor_actor, visit, [OrderLine(h.drug.id, 1), OrderLine(h.exam.id, 1)])
    seen: list[om.SubmittedOrder] = []
    result = svc.submit(h.doctor_actor, draft.id, attach=lambda s, sub: seen.append(sub))
    assert seen == [result]
    assert (result.order.credit, result.order.fee_status) == (True, FeeStatus.PENDING)
    lock = result.lock_request
    assert lock is not None
    assert (lock.order_id, lock.order_no, lock.purpose, lock.amount_fen, lock.family_pay, lock.business_date) == (
        draft.id, result.order.order_no, "order", 9250, True, clock.today())
    assert lock.visit_id == visit and lock.agreement_no.startswith("AG") and lock.visit_no.startswith("V")
    assert svc.unpaid_orders_for_window(h.cashier_actor, visit_id=visit) == []


def test_failing_attach_rolls_the_submit_back(svc: OrderService, h: Hospital, db: Database) -> None:
    draft = svc.create_draft(h.doctor_actor, new_visit(db, h, credit=True), [OrderLine(h.drug.id, 1)])

    def journal_fails(s, sub) -> None:  # noqa: ANN001
        raise RuntimeError("journal down")

    with pytest.raises(RuntimeError):
        svc.submit(h.doctor_actor, draft.id, attach=journal_fails)
    assert svc.get_order(h.doctor_actor, draft.id).status == OrderStatus.DRAFT
    assert svc.submit(h.doctor_actor, draft.id).order.order_no == "O20261123000001"  # number given back


def test_double_submit_is_refused(svc: OrderService, h: Hospital, db: Database) -> None:
    draft = svc.create_draft(h.doctor_actor, new_visit(db, h), [OrderLine(h.drug.id, 1)])
    first = svc.submit(h.doctor_actor, draft.id).order
    with pytest.raises(Conflict, match="不能重复提交"):
        svc.submit(h.doctor_actor, draft.id)
    assert svc.get_order(h.doctor_actor, draft.id) == first
    with pytest.raises(Conflict):
        svc.add_item(h.doctor_actor, draft.id, OrderLine(h.drug.id, 1))
    with pytest.raises(Conflict):
        svc.discard_draft(h.doctor_actor, draft.id)


def test_concurrent_submit_from_two_sessions_submits_once(svc: OrderService, h: Hospital, db: Database) -> None:
    draft = svc.create_draft(h.doctor_actor, new_visit(db, h), [OrderLine(h.drug.id, 1)])
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def go() -> None:
        barrier.wait()
        try:
            outcomes.append(svc.submit(h.doctor_actor, draft.id).order.order_no)
        except Conflict as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(map(type, outcomes), key=str) == sorted([str, Conflict], key=str)
    with db.reader() as s:
        assert s.execute(select(NumberCounter.value).where(NumberCounter.name == "order")).scalar_one() == 1
        assert s.execute(select(func.count(AuditRecord.id))
                         .where(AuditRecord.action == "order.submitted")).scalar_one() == 1


def test_empty_or_withdrawn_item_draft_cannot_be_submitted(svc: OrderService, h: Hospital, db: Database) -> None:
    empty = svc.create_draft(h.doctor_actor, new_visit(db, h))
    with pytest.raises(ValidationError) as err:
        svc.submit(h.doctor_actor, empty.id)
    assert err.value.field == "items"
    draft = svc.create_draft(h.doctor_actor, new_visit(db, h), [OrderLine(h.drug.id, 1)])
    with db.session() as s:
        s.get(type(h.drug), h.drug.id).active = False
    with pytest.raises(ValidationError, match="已停用"):
        svc.submit(h.doctor_actor, draft.id)


def test_price_is_the_snapshot_taken_when_composed(svc: OrderService, h: Hospital, db: Database) -> None:
    draft = svc.create_draft(h.doctor_actor, new_visit(db, h), [OrderLine(h.drug.id, 2)])
    with db.session() as s:
        s.get(type(h.drug), h.drug.id).price_fen = 9999
    assert svc.submit(h.doctor_actor, draft.id).order.total_fen == 2500


def test_credit_visit_without_agreement_number_is_refused(svc: OrderService, h: Hospital, db: Database) -> None:
    visit = new_visit(db, h, credit=True, agreement_no=None)
    draft = svc.create_draft(h.doctor_actor, visit, [OrderLine(h.drug.id, 1)])
    with pytest.raises(Conflict, match="签约协议号"):
        svc.submit(h.doctor_actor, draft.id)


# ------------------------------------------------------------------------------------ money afterwards


def submitted(svc: OrderService, h: Hospital, db: Database, *, credit: bool, lines=None) -> om.OrderView:  # noqa: ANN001
    lines = lines or [OrderLine(h.drug.id, 2), OrderLine(h.lab_test.id, 1)]
    draft = svc.create_draft(h.doctor_actor, new_visit(db, h, credit=credit), lines)
    return svc.submit(h.doctor_actor, draft.id).order


def test_lock_refused_sends_the_order_to_the_window(svc: OrderService, h: Hospital, db: Database) -> None:
    order = submitted(svc, h, db, credit=True)
    set_fee(db, order.id, FeeStatus.UNPAID)
    now = svc.get_order(h.doctor_actor, order.id)
    assert (now.credit, now.fee_status) == (False, FeeStatus.UNPAID)
    assert [o.id for o in svc.unpaid_orders_for_window(h.cashier_actor, visit_id=order.visit_id)] == [order.id]
    set_fee(db, order.id, FeeStatus.PAID)
    assert svc.unpaid_orders_for_window(h.cashier_actor, visit_id=order.visit_id) == []


ILLEGAL_MOVES = [
    ((), FeeStatus.PAID),  # a credit order is not paid at the window while its lock is pending
    ((FeeStatus.LOCKED,), FeeStatus.PAID),
    ((FeeStatus.LOCKED,), FeeStatus.REFUNDED),  # nothing deducted yet: cancel, not refund
    ((FeeStatus.LOCKED, FeeStatus.DEDUCTED), FeeStatus.CANCELLED),
]


def test_illegal_fee_moves_are_refused(svc: OrderService, h: Hospital, db: Database) -> None:
    for path, bad in ILLEGAL_MOVES:
        order = submitted(svc, h, db, credit=True)
        set_fee(db, order.id, *path)
        before = svc.get_order(h.doctor_actor, order.id)
        with pytest.raises(Conflict):
            set_fee(db, order.id, bad)
        assert svc.get_order(h.doctor_actor, order.id) == before


# Every (from, to) pair of fee states, written out independently of orders.FEE_MOVES.
ALLOWED_MOVES = {
    (FeeStatus.PENDING, FeeStatus.LOCKED), (FeeStatus.PENDING, FeeStatus.UNPAID), (FeeStatus.LOCKED, FeeStatus.UNPAID),
    (FeeStatus.UNPAID, FeeStatus.PAID), (FeeStatus.LOCKED, FeeStatus.DEDUCTED), (FeeStatus.LOCKED, FeeStatus.CANCELLED),
    (FeeStatus.UNPAID, FeeStatus.CANCELLED), (FeeStatus.DEDUCTED, FeeStatus.REFUNDED), (FeeStatus.PAID, FeeStatus.REFUNDED),
    (FeeStatus.PARTLY_REFUNDED, FeeStatus.REFUNDED), (FeeStatus.DEDUCTED, FeeStatus.PARTLY_REFUNDED),
    (FeeStatus.PAID, FeeStatus.PARTLY_REFUNDED),
}


def test_every_fee_move_is_allowed_or_refused_exactly_as_the_rules_say(svc: OrderService, h: Hospital,
                                                                       db: Database) -> None:
    order = submitted(svc, h, db, credit=True)
    for start in FeeStatus:
        for to in FeeStatus:
            with db.session() as s:
                s.get(MedicalOrder, order.id).fee_status, s.get(MedicalOrder, order.id).credit = start, True
            try:
                with db.session() as s:
                    om.move_fee_status(s, order.id, to)
                moved = True
            except Conflict:
                moved = False
            assert moved == ((start, to) in ALLOWED_MOVES), (start, to)
            now = svc.get_order(h.doctor_actor, order.id)
            assert now.fee_status == (to if moved else start)
            assert now.credit == (not (moved and to == FeeStatus.UNPAID))


def test_bulk_fee_moves_follow_the_same_rules_and_announce_the_same_topics(svc: OrderService, h: Hospital,
                                                                          db: Database, monkeypatch) -> None:  # noqa: ANN001
    """``move_fee_statuses`` (the T-day run's group commits) against ``move_fee_status`` one by one."""
    orders = [submitted(svc, h, db, credit=True) for _ in range(3)]
    announced: list[tuple[str, ...]] = []
    monkeypatch.setattr(om.live, "publish", lambda _s, *topics: announced.append(topics))

    def start(fee: FeeStatus) -> None:
        with db.session() as s:
            for o in orders:
                s.get(MedicalOrder, o.id).fee_status = fee

    start(FeeStatus.LOCKED)
    with db.session() as s:
        for o in orders:
            om.move_fee_status(s, o.id, FeeStatus.DEDUCTED)
    one_by_one, announced[:] = sorted(t for topics in announced for t in topics), []
    start(FeeStatus.LOCKED)
    with db.session() as s:
        rows = s.scalars(select(MedicalOrder).where(MedicalOrder.id.in_([o.id for o in orders]))
                         .with_for_update()).all()
        om.move_fee_statuses(s, [(row, FeeStatus.DEDUCTED) for row in rows])
    assert sorted(t for topics in announced for t in topics) == one_by_one and len(announced) == 1
    assert {svc.get_order(h.doctor_actor, o.id).fee_status for o in orders} == {FeeStatus.DEDUCTED}
    with pytest.raises(Conflict), db.session() as s:  # deducted → deducted is refused, as one by one
        om.move_fee_statuses(s, [(s.get(MedicalOrder, orders[0].id), FeeStatus.DEDUCTED)])
    start(FeeStatus.LOCKED)
    with db.session() as s:
        om.move_fee_statuses(s, [(s.get(MedicalOrder, o.id), FeeStatus.UNPAID) for o in orders])
    assert all(not svc.get_order(h.doctor_actor, o.id).credit for o in orders)
    assert "orders:unpaid" in announced[-1]


def test_visit_credit_total(svc: OrderService, h: Hospital, db: Database) -> None:
    visit = new_visit(db, h, credit=True)  # registration fee ¥10.00 locked
    doc = h.doctor_actor

    def order(*lines: OrderLine) -> int:
        return svc.submit(doc, svc.create_draft(doc, visit, list(lines)).id).order.id

    locked = order(OrderLine(h.drug.id, 2))  # 25.00
    set_fee(db, locked, FeeStatus.LOCKED)
    executed = order(OrderLine(h.exam.id, 1))  # 80.00, lock held, executed at 0: deducts 0
    set_fee(db, executed, FeeStatus.LOCKED)
    svc.mark_executed(doc, executed, {svc.get_order(doc, executed).items[0].id: 0})
    pending = order(OrderLine(h.lab_test.id, 1))  # 25.00 in flight
    refused = order(OrderLine(h.treatment.id, 1))  # 15.00 refused → window
    set_fee(db, refused, FeeStatus.UNPAID)
    revoked = order(OrderLine(h.drug.id, 1))  # 12.50 locked then revoked
    set_fee(db, revoked, FeeStatus.LOCKED)
    svc.revoke(doc, revoked, "开错了")
    total = svc.visit_credit_total(doc, visit)
    assert (total.registration_fen, total.orders_fen, total.pending_fen, total.total_fen) == (1000, 2500, 2500, 3500)
    assert total.text == "患者本次使用“信用就医”额度支付总费用：¥35.00"
    assert pending
    # The doctor's opened visit computes it from the orders already loaded: the same figure.
    assert DoctorQueueService(db, svc.clock).open_visit(doc, visit).credit_total == total


def test_non_credit_visit_total_is_zero(svc: OrderService, h: Hospital, db: Database) -> None:
    order = submitted(svc, h, db, credit=False)
    assert svc.visit_credit_total(h.doctor_actor, order.visit_id).total_fen == 0


# ------------------------------------------------------------------------------------------------ revoke


@pytest.mark.parametrize(("credit", "path", "undo", "fee_after"), [
    (False, (), MoneyUndo.NONE, FeeStatus.CANCELLED),
    (False, (FeeStatus.PAID,), MoneyUndo.REFUND_PAYMENT, FeeStatus.PAID),
    (True, (FeeStatus.LOCKED,), MoneyUndo.CANCEL_LOCK, FeeStatus.LOCKED),
    (True, (FeeStatus.LOCKED, FeeStatus.DEDUCTED), MoneyUndo.REFUND_CREDIT, FeeStatus.DEDUCTED),
])
def test_revoke_says_what_money_to_undo(svc: OrderService, h: Hospital, db: Database, credit, path, undo,  # noqa: ANN001
                                        fee_after) -> None:  # noqa: ANN001
    order = submitted(svc, h, db, credit=credit)
    set_fee(db, order.id, *path)
    hooked: list[om.RevokedOrder] = []
    result = svc.revoke(h.doctor_actor, order.id, " 患者拒绝检查 ", attach=lambda s, r: hooked.append(r))
    assert hooked == [result]
    assert (result.undo, result.amount_fen, result.reason) == (undo, 0 if undo is MoneyUndo.NONE else 5000,
                                                               "患者拒绝检查")
    assert (result.order.status, result.order.fee_status) == (OrderStatus.REVOKED, fee_after)
    with db.reader() as s:
        assert om.orders_awaiting_bank(s)[1] == ([order.id] if credit else [])


def test_revoke_refusals(svc: OrderService, h: Hospital, db: Database) -> None:
    doc = h.doctor_actor
    pending = submitted(svc, h, db, credit=True)
    with pytest.raises(Conflict, match="确认中"):
        svc.revoke(doc, pending.id, "x")
    order = submitted(svc, h, db, credit=False)
    with pytest.raises(ValidationError) as err:
        svc.revoke(doc, order.id, "   ")
    assert err.value.field == "reason"
    set_fee(db, order.id, FeeStatus.PAID)
    svc.mark_executed(doc, order.id)
    with pytest.raises(Conflict, match="已执行"):
        svc.revoke(doc, order.id, "患者要求")
    with pytest.raises(PermissionDenied):
        svc.revoke(h.cashier_actor, order.id, "x")
    draft = svc.create_draft(doc, order.visit_id, [OrderLine(h.drug.id, 1)])
    with pytest.raises(Conflict, match="草稿"):
        svc.revoke(doc, draft.id, "x")


def test_revoked_order_cannot_be_executed_or_revoked_again(svc: OrderService, h: Hospital, db: Database) -> None:
    order = submitted(svc, h, db, credit=False)
    svc.revoke(h.doctor_actor, order.id, "重复开单")
    with pytest.raises(Conflict):
        svc.revoke(h.doctor_actor, order.id, "重复开单")
    with pytest.raises(Conflict):
        svc.mark_executed(h.doctor_actor, order.id)


# ---------------------------------------------------------------------------------------------- execute


def test_actual_amounts_per_item_and_order(svc: OrderService, h: Hospital, db: Database, clock) -> None:  # noqa: ANN001
    order = submitted(svc, h, db, credit=True, lines=[OrderLine(h.drug.id, 3), OrderLine(h.lab_test.id, 1)])
    set_fee(db, order.id, FeeStatus.LOCKED)
    with db.session() as s:  # the lock row the bank workflow keeps for this order
        s.add(CreditLock(lock_no="L1", patient_id=order.patient_id, visit_id=order.visit_id, order_id=order.id,
                         purpose="order", agreement_no="AG1", amount_fen=6250, status="locked",
                         business_date=clock.today(), created_at=clock.now()))
    drug, lab = order.items
    result = svc.mark_executed(h.doctor_actor, order.id, {drug.id: 1})  # two boxes not dispensed
    done = result.order
    assert [(i.actual_quantity, i.actual_amount_fen) for i in done.items] == [(1, 1250), (1, 2500)]
    assert (done.status, done.total_fen, done.actual_fen, done.charge_fen) == (OrderStatus.EXECUTED, 6250, 3750, 3750)
    assert result.over_collected_fen == 0  # only locked: the deduction takes 37.50, the bank releases the rest
    with db.reader() as s:
        assert s.execute(select(CreditLock.actual_fen)).scalar_one() == 3750
    with pytest.raises(Conflict):
        svc.mark_executed(h.doctor_actor, order.id)


def test_paid_order_executed_short_reports_what_to_refund(svc: OrderService, h: Hospital, db: Database) -> None:
    order = submitted(svc, h, db, credit=False, lines=[OrderLine(h.drug.id, 4)])
    set_fee(db, order.id, FeeStatus.PAID)
    assert svc.mark_executed(h.doctor_actor, order.id, {order.items[0].id: 3}).over_collected_fen == 1250


def test_actual_never_more_than_ordered_nor_negative(svc: OrderService, h: Hospital, db: Database) -> None:
    order = submitted(svc, h, db, credit=False, lines=[OrderLine(h.drug.id, 2)])
    set_fee(db, order.id, FeeStatus.PAID)
    for actual in (3, -1, 1.0, "1"):
        with pytest.raises(ValidationError) as err:
            svc.mark_executed(h.doctor_actor, order.id, {order.items[0].id: actual})
        assert err.value.field == f"actual:{order.items[0].id}"
    assert svc.get_order(h.doctor_actor, order.id).status == OrderStatus.SUBMITTED


def test_execution_needs_the_money_settled(svc: OrderService, h: Hospital, db: Database) -> None:
    unpaid = submitted(svc, h, db, credit=False)
    with pytest.raises(Conflict, match="尚未缴费"):
        svc.mark_executed(h.doctor_actor, unpaid.id)
    with pytest.raises(ValidationError):
        set_fee(db, unpaid.id, FeeStatus.PAID)
        svc.mark_executed(h.doctor_actor, unpaid.id, {123456: 1})  # not an item of this order
    pending = submitted(svc, h, db, credit=True)
    with pytest.raises(Conflict, match="确认中"):
        svc.mark_executed(h.doctor_actor, pending.id)


# ------------------------------------------------------------------------------------- recovery & feed


def test_orders_awaiting_a_lock_are_found_after_a_crash(svc: OrderService, h: Hospital, db: Database,
                                                        clock) -> None:  # noqa: ANN001
    lost = submitted(svc, h, db, credit=True)  # crash between submit and journaling its lock
    journaled = submitted(svc, h, db, credit=True)
    with db.session() as s:
        s.add(CreditLock(lock_no="L2", patient_id=journaled.patient_id, order_id=journaled.id, purpose="order",
                         agreement_no="AG", amount_fen=journaled.total_fen, business_date=clock.today(),
                         created_at=clock.now() + timedelta(seconds=1)))
    with db.reader() as s:
        assert om.orders_awaiting_bank(s) == ([lost.id], [])


@given(price=st.integers(0, 100_000), qty=st.integers(1, om.MAX_QUANTITY))
def test_line_amount_is_exact(price: int, qty: int) -> None:
    assert om.line_amount(price, qty) == price * qty
    assert isinstance(om.line_amount(price, qty), int)


def test_window_refunds_due(svc: OrderService, h: Hospital, db: Database) -> None:
    revoked = submitted(svc, h, db, credit=False)  # 50.00 paid, then revoked: all of it back
    set_fee(db, revoked.id, FeeStatus.PAID)
    svc.revoke(h.doctor_actor, revoked.id, "患者拒绝")
    short = submitted(svc, h, db, credit=False, lines=[OrderLine(h.drug.id, 4)])  # one box of four not given
    set_fee(db, short.id, FeeStatus.PAID)
    svc.mark_executed(h.doctor_actor, short.id, {short.items[0].id: 3})
    full = submitted(svc, h, db, credit=False)  # executed in full: nothing back
    set_fee(db, full.id, FeeStatus.PAID)
    svc.mark_executed(h.doctor_actor, full.id)
    due = [(r.order.id, r.amount_fen) for r in svc.window_refunds_due(h.cashier_actor, patient_id=short.patient_id)]
    assert due == [(short.id, 1250)]
    due = svc.window_refunds_due(h.cashier_actor, visit_id=revoked.visit_id)
    assert [(r.order.id, r.amount_fen) for r in due] == [(revoked.id, 5000)]
    set_fee(db, short.id, FeeStatus.PARTLY_REFUNDED)  # the cashier paid the difference back
    assert svc.window_refunds_due(h.cashier_actor, patient_id=short.patient_id) == []
    with pytest.raises(ValidationError):
        svc.window_refunds_due(h.cashier_actor)


def test_submit_is_announced_to_the_visit_the_queue_and_the_windows(svc: OrderService, h: Hospital,
                                                                    db: Database) -> None:
    visit = new_visit(db, h)
    draft = svc.create_draft(h.doctor_actor, visit, [OrderLine(h.drug.id, 1)])
    seen: set[str] = set()
    done = threading.Event()
    want = {f"orders:visit:{visit}", f"doctor:{h.doctor.id}", "orders:unpaid"}

    def sink(topics: set[str]) -> None:
        seen.update(topics)
        if want <= seen:
            done.set()

    watcher = live.ChangeWatcher(db, sink, prefixes=["orders:", "doctor:"], poll_interval=0.05).start()
    try:
        svc.submit(h.doctor_actor, draft.id)
        assert done.wait(10), seen
    finally:
        watcher.stop()
