"""The doctor's queue, calling, seen, opening a visit (SPEC §6 notice), history and the guide slip — on both
databases, plus two PCs on one PostgreSQL database."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from desktop_his.services import live
from desktop_his.services.db import Database
from desktop_his.services.doctor_queue import DoctorQueueService
from desktop_his.services.enums import FeeStatus, Period, Sex
from desktop_his.services.errors import Conflict, PermissionDenied, ValidationError
from desktop_his.services.models import AuditRecord, Base
from desktop_his.services.orders import OrderLine, OrderService, move_fee_status
from desktop_his.services.permissions import Actor
from tests.factories import Hospital, make_doctor, make_hospital, make_patient, make_slot, make_visit

NOTICE = "该患者本次就诊已确认使用“信用就医”服务"


class Sink:
    def __init__(self) -> None:
        self.topics: set[str] = set()
        self.event = threading.Event()

    def __call__(self, topics: set[str]) -> None:
        self.topics |= topics
        self.event.set()


@pytest.fixture
def h(db: Database, clock) -> Hospital:  # noqa: ANN001
    with db.session() as s:
        return make_hospital(s, clock.today())


@pytest.fixture
def queue(db: Database, clock) -> DoctorQueueService:  # noqa: ANN001
    return DoctorQueueService(db, clock)


@pytest.fixture
def day_of_visits(db: Database, h: Hospital, clock) -> dict[str, int]:  # noqa: ANN001
    """Morning: #1 seen, #2 registered, #3 checked in, #4 cancelled, #5 checked in (credit, 亲情付), #6 called;
    afternoon: #1 checked in. Plus another doctor's and yesterday's visits that must not show."""
    with db.session() as s:
        pm = make_slot(s, h.doctor, clock.today(), Period.AFTERNOON)
        mk = lambda status, slot=h.slot, **kw: make_visit(s, make_patient(s), slot, status=status, **kw).id  # noqa: E731
        ids = {"seen": mk("seen"), "registered": mk("registered"), "waiting3": mk("checked_in"),
               "cancelled": mk("cancelled"), "family5": mk("checked_in", credit=True, family_pay=True),
               "called": mk("called"), "pm1": mk("checked_in", pm)}
        other = make_doctor(s, h.internal, "王医生")
        make_visit(s, make_patient(s), make_slot(s, other, clock.today()))
        make_visit(s, make_patient(s), make_slot(s, h.doctor, clock.today() - timedelta(days=1)))
    return ids


def test_queue_order_sections_and_flags(queue: DoctorQueueService, h: Hospital, day_of_visits) -> None:  # noqa: ANN001
    entries = queue.today_queue(h.doctor_actor)
    ids = day_of_visits
    assert [e.visit_id for e in entries] == [ids["called"], ids["waiting3"], ids["family5"], ids["pm1"],
                                             ids["registered"], ids["seen"], ids["cancelled"]]
    assert [e.section for e in entries] == ["in_room", "waiting", "waiting", "waiting", "not_arrived", "seen",
                                            "closed"]
    family = next(e for e in entries if e.visit_id == ids["family5"])
    assert (family.credit, family.family_pay, family.pay_mark, family.credit_notice) == (True, True, "亲情付",
                                                                                         NOTICE)
    plain = next(e for e in entries if e.visit_id == ids["waiting3"])
    assert (plain.credit, plain.pay_mark, plain.credit_notice, plain.status_label) == (False, None, None, "候诊")
    assert (plain.queue_no, plain.period, plain.sex_label, plain.age) == (3, "AM", "男", 41)
    assert "*" in plain.id_masked and len(plain.id_masked) == 18
    assert queue.today_queue(h.doctor_actor, day=date(2026, 11, 24)) == []


def test_patient_name_kept_intact(queue: DoctorQueueService, h: Hospital, db: Database) -> None:
    with db.session() as s:
        make_visit(s, make_patient(s, "𠮷野", sex=Sex.MALE, birth=date(1992, 12, 12)), h.slot)
    assert queue.today_queue(h.doctor_actor)[0].patient_name == "𠮷野"


def test_unpaid_orders_are_counted(queue: DoctorQueueService, h: Hospital, db: Database, clock) -> None:  # noqa: ANN001
    with db.session() as s:
        visit = make_visit(s, make_patient(s), h.slot).id
    orders = OrderService(db, clock)
    for item in (h.drug, h.exam):
        orders.submit(h.doctor_actor, orders.create_draft(h.doctor_actor, visit, [OrderLine(item.id)]).id)
    orders.create_draft(h.doctor_actor, visit, [OrderLine(h.lab_test.id)])  # a draft is not owed
    assert queue.today_queue(h.doctor_actor)[0].unpaid_orders == 2


def test_call_next_takes_the_first_waiting_patient(queue: DoctorQueueService, h: Hospital, db: Database,
                                                   day_of_visits) -> None:  # noqa: ANN001
    sink = Sink()
    watcher = live.ChangeWatcher(db, sink, prefixes=[f"doctor:{h.doctor.id}"], poll_interval=0.05).start()
    try:
        called = queue.call_next(h.doctor_actor)
        assert called is not None and called.visit_id == day_of_visits["waiting3"]
        assert (called.status, called.section) == ("called", "in_room")
        assert sink.event.wait(5) and sink.topics == {f"doctor:{h.doctor.id}"}
    finally:
        watcher.stop()
    assert queue.call_next(h.doctor_actor).visit_id == day_of_visits["family5"]
    assert queue.call_next(h.doctor_actor).visit_id == day_of_visits["pm1"]
    assert queue.call_next(h.doctor_actor) is None  # the registered patient has not checked in
    with db.reader() as s:
        assert len(s.execute(select(AuditRecord).where(AuditRecord.action == "visit.called")).all()) == 3


def test_two_pcs_calling_at_once_call_different_patients(queue: DoctorQueueService, h: Hospital,
                                                         day_of_visits) -> None:  # noqa: ANN001
    barrier, got = threading.Barrier(2), []

    def call() -> None:
        barrier.wait()
        got.append(queue.call_next(h.doctor_actor).visit_id)

    threads = [threading.Thread(target=call) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(got) == sorted([day_of_visits["waiting3"], day_of_visits["family5"]])


def test_call_and_mark_seen(queue: DoctorQueueService, h: Hospital, day_of_visits) -> None:  # noqa: ANN001
    doc, ids = h.doctor_actor, day_of_visits
    assert queue.call(doc, ids["pm1"]).status == "called"
    assert queue.call(doc, ids["pm1"]).status == "called"  # call again
    assert queue.mark_seen(doc, ids["pm1"]).section == "seen"
    assert queue.mark_seen(doc, ids["pm1"]).section == "seen"  # idempotent
    with pytest.raises(Conflict, match="尚未取号"):
        queue.call(doc, ids["registered"])
    with pytest.raises(Conflict, match="尚未取号"):
        queue.mark_seen(doc, ids["registered"])
    with pytest.raises(Conflict, match="已退号"):
        queue.mark_seen(doc, ids["cancelled"])


def test_permissions_and_doctor_identity(queue: DoctorQueueService, h: Hospital) -> None:
    with pytest.raises(PermissionDenied):
        queue.today_queue(h.cashier_actor, h.doctor.id)
    no_doctor = Actor(h.doctor.staff_id, "x", "x", h.doctor_actor.roles, "WS")
    with pytest.raises(ValidationError) as err:
        queue.today_queue(no_doctor)
    assert err.value.field == "doctor_id"
    assert queue.today_queue(no_doctor, h.doctor.id) == []


def test_open_visit_shows_the_exact_notice_and_the_credit_total(queue: DoctorQueueService, h: Hospital,
                                                                db: Database, clock) -> None:  # noqa: ANN001
    with db.session() as s:
        credit = make_visit(s, make_patient(s, "张伟"), h.slot, credit=True).id
        plain = make_visit(s, make_patient(s, "刘洋"), h.slot).id
    orders = OrderService(db, clock)
    order = orders.submit(h.doctor_actor, orders.create_draft(h.doctor_actor, credit, [OrderLine(h.drug.id, 2)]).id)
    with db.session() as s:
        move_fee_status(s, order.order.id, FeeStatus.LOCKED)
    detail = queue.open_visit(h.doctor_actor, credit)
    assert detail.credit_notice == NOTICE
    assert (detail.entry.patient_name, detail.department_name, detail.doctor_name) == ("张伟", "内科", "李医生")
    assert [o.order_no for o in detail.orders] == [order.order.order_no]
    assert detail.credit_total.total_fen == 1000 + 2500
    assert queue.open_visit(h.doctor_actor, plain).credit_notice is None


def test_patient_history_newest_first_with_orders(queue: DoctorQueueService, h: Hospital, db: Database,
                                                  clock) -> None:  # noqa: ANN001
    days = [clock.today() - timedelta(days=n) for n in (30, 7, 0)]
    with db.session() as s:
        patient = make_patient(s)
        visits = [make_visit(s, patient, make_slot(s, h.doctor, d, Period.EVENING), status="seen").id for d in days]
        make_visit(s, patient, make_slot(s, h.doctor, days[1], Period.AFTERNOON), status="cancelled")
    orders = OrderService(db, clock)
    sub = orders.submit(h.doctor_actor, orders.create_draft(h.doctor_actor, visits[1],
                                                            [OrderLine(h.drug.id, 2, "口服")]).id)
    history = queue.patient_history(h.doctor_actor, patient.id)
    assert [v.visit_id for v in history] == visits[::-1]
    assert [len(v.orders) for v in history] == [0, 1, 0]
    assert history[1].orders[0].order_no == sub.order.order_no
    assert history[1].orders[0].items[0].usage == "口服"
    assert (history[0].department_name, history[0].doctor_name) == ("内科", "李医生")
    assert [v.visit_id for v in queue.patient_history(h.doctor_actor, patient.id, 1,
                                                      exclude_visit_id=visits[2])] == [visits[1]]
    with pytest.raises(ValidationError):
        queue.patient_history(h.doctor_actor, patient.id, 0)


def test_order_slip(queue: DoctorQueueService, h: Hospital, db: Database, clock) -> None:  # noqa: ANN001
    with db.session() as s:
        visit = make_visit(s, make_patient(s, "李娜", sex=Sex.FEMALE, birth=date(1987, 7, 21)), h.slot,
                           credit=True, family_pay=True).id
    orders, doc = OrderService(db, clock), h.doctor_actor
    covered = orders.submit(doc, orders.create_draft(doc, visit, [OrderLine(h.drug.id, 2)]).id).order
    refused = orders.submit(doc, orders.create_draft(doc, visit, [OrderLine(h.exam.id, 1)]).id).order
    revoked = orders.submit(doc, orders.create_draft(doc, visit, [OrderLine(h.lab_test.id, 1)]).id).order
    with db.session() as s:
        move_fee_status(s, covered.id, FeeStatus.LOCKED)
        move_fee_status(s, refused.id, FeeStatus.UNPAID)
        move_fee_status(s, revoked.id, FeeStatus.LOCKED)
    orders.revoke(doc, revoked.id, "患者拒绝")
    slip = queue.order_slip(doc, visit)
    assert (slip.patient_name, slip.mark, slip.sex_label, slip.age) == ("李娜", "亲情付", "女", 39)
    assert "*" in slip.id_masked
    assert [(ln.name, ln.exec_location, ln.amount_fen, ln.paid_by) for ln in slip.lines] == [
        ("胸部X线摄影", "放射科（医技楼一楼）", 8000, "请到收费窗口缴费"),
        ("阿莫西林胶囊", "西药房（门诊楼一楼）", 2500, "亲情付"),
    ]
    assert slip.total_fen == 10500 and slip.credit_total.total_fen == 1000 + 2500


# ---------------------------------------------------------------------------- two PCs, one PostgreSQL


def test_registration_at_another_pc_appears_live(pg_schema, clock) -> None:  # noqa: ANN001
    window, station = pg_schema.database(), pg_schema.database()  # two PCs: separate engines
    try:
        Base.metadata.create_all(window.engine)
        with window.session() as s:
            h = make_hospital(s, clock.today())
        queue = DoctorQueueService(station, clock)
        assert queue.today_queue(h.doctor_actor) == []
        sink = Sink()
        watcher = live.ChangeWatcher(station, sink, prefixes=[f"doctor:{h.doctor.id}"], poll_interval=0.05)
        watcher.start()
        try:
            with window.session() as s:  # the registering transaction publishes doctor:<id>
                make_visit(s, make_patient(s, "陈静", sex=Sex.FEMALE, birth=date(1965, 5, 18)), h.slot,
                           status="registered", credit=True)
            assert sink.event.wait(10)
            assert sink.topics == {f"doctor:{h.doctor.id}"}
        finally:
            watcher.stop()
        [entry] = queue.today_queue(h.doctor_actor)
        assert (entry.patient_name, entry.credit, entry.credit_notice) == ("陈静", True, NOTICE)
    finally:
        window.dispose()
        station.dispose()
