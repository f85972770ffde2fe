"""The immunization desk without the bank: vaccine visits and charge slips, on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from desktop_his.services.db import Database
from desktop_his.services.enums import DepartmentKind, FeeStatus, OrderStatus
from desktop_his.services.errors import Conflict, PermissionDenied, ValidationError
from desktop_his.services.immunization import ImmunizationService, cleared_for_vaccination
from desktop_his.services.models import Visit
from desktop_his.services.orders import OrderLine, OrderService, move_fee_status
from tests.factories import Hospital, make_department, make_hospital, make_patient, make_visit


@pytest.fixture
def h(db: Database, clock) -> Hospital:  # noqa: ANN001
    with db.session() as s:
        return make_hospital(s, clock.today())


@pytest.fixture
def desk(db: Database, clock) -> ImmunizationService:  # noqa: ANN001
    return ImmunizationService(db, clock)


def new_patient(db: Database) -> int:
    with db.session() as s:
        return make_patient(s).id


def make_credit(db: Database, visit_id: int, *, family_pay: bool = False) -> None:
    """What the 信用就医 confirmation (built by the bank workflow) leaves on the visit."""
    with db.session() as s:
        visit = s.get(Visit, visit_id)
        visit.credit, visit.family_pay, visit.agreement_no = True, family_pay, "AG0001"


def test_vaccine_visit_numbering_and_reuse(desk: ImmunizationService, h: Hospital, db: Database, clock) -> None:  # noqa: ANN001
    nurse = h.nurse_actor
    first = desk.register(nurse, new_patient(db))
    assert (first.queue_no, first.status, first.department_name, first.visit_no) == (
        1, "checked_in", "预防接种门诊", "V20261123000001")
    assert desk.register(nurse, first.patient_id) == first  # still open: the same visit
    second = desk.register(nurse, new_patient(db))
    assert (second.queue_no, second.visit_no) == (2, "V20261123000002")
    with db.reader() as s:
        visit = s.get(Visit, first.visit_id)
        assert (visit.kind, visit.doctor_id, visit.slot_id, visit.fee_fen, visit.period) == (
            "vaccine", None, None, 0, "AM")
    assert [v.visit_id for v in desk.today_visits(nurse)] == [first.visit_id, second.visit_id]


def test_department_choice(desk: ImmunizationService, h: Hospital, db: Database) -> None:
    patient = new_patient(db)
    with pytest.raises(ValidationError):
        desk.register(h.nurse_actor, patient, department_id=h.internal.id)  # not a vaccination clinic
    with db.session() as s:
        second = make_department(s, "儿童预防接种门诊", kind=DepartmentKind.VACCINATION).id
    with pytest.raises(ValidationError) as err:
        desk.register(h.nurse_actor, patient)
    assert err.value.field == "department_id"
    assert desk.register(h.nurse_actor, patient, department_id=second).department_id == second


def test_no_vaccination_department(db: Database, clock) -> None:  # noqa: ANN001
    with db.session() as s:
        h = make_hospital(s, clock.today())
        s.get(type(h.vaccination), h.vaccination.id).active = False
    with pytest.raises(Conflict, match="预防接种门诊"):
        ImmunizationService(db, clock).register(h.nurse_actor, new_patient(db))


def test_credit_slip_hands_over_a_vaccine_lock(desk: ImmunizationService, h: Hospital, db: Database) -> None:
    visit = desk.register(h.nurse_actor, new_patient(db))
    make_credit(db, visit.visit_id, family_pay=True)
    hooked = []
    result = desk.charge_slip(h.nurse_actor, visit.visit_id, [OrderLine(h.vaccine.id, 1)],
                              attach=lambda s, sub: hooked.append(sub))
    assert hooked == [result]
    order, lock = result.order, result.lock_request
    assert (order.kind, order.status, order.credit, order.fee_status, order.doctor_id) == (
        "vaccine", OrderStatus.SUBMITTED, True, FeeStatus.PENDING, None)
    assert (lock.purpose, lock.amount_fen, lock.family_pay, lock.visit_no) == ("vaccine", 12800, True,
                                                                              visit.visit_no)
    assert not cleared_for_vaccination(order)  # not before the lock holds
    with db.session() as s:
        assert cleared_for_vaccination(move_fee_status(s, order.id, FeeStatus.LOCKED))


def test_refused_lock_means_another_channel_before_the_room(desk: ImmunizationService, h: Hospital,
                                                            db: Database, clock) -> None:  # noqa: ANN001
    visit = desk.register(h.nurse_actor, new_patient(db))
    make_credit(db, visit.visit_id)
    order = desk.charge_slip(h.nurse_actor, visit.visit_id, [OrderLine(h.vaccine.id, 2)]).order
    with db.session() as s:
        refused = move_fee_status(s, order.id, FeeStatus.UNPAID)
    assert not cleared_for_vaccination(refused)
    with pytest.raises(Conflict, match="尚未缴费"):
        desk.mark_vaccinated(h.nurse_actor, order.id)
    unpaid = OrderService(db, clock).unpaid_orders_for_window(h.nurse_actor, visit_id=visit.visit_id)
    assert [(o.id, o.total_fen) for o in unpaid] == [(order.id, 25600)]
    with db.session() as s:
        assert cleared_for_vaccination(move_fee_status(s, order.id, FeeStatus.PAID))
    done = desk.mark_vaccinated(h.nurse_actor, order.id, {order.items[0].id: 1})  # one dose given
    assert (done.order.actual_fen, done.over_collected_fen) == (12800, 12800)
    with db.reader() as s:
        assert s.execute(select(Visit.status).where(Visit.id == visit.visit_id)).scalar_one() == "seen"


def test_slip_rules(desk: ImmunizationService, h: Hospital, db: Database) -> None:
    visit = desk.register(h.nurse_actor, new_patient(db))
    with pytest.raises(ValidationError):
        desk.charge_slip(h.nurse_actor, visit.visit_id, [OrderLine(h.drug.id, 1)])  # only vaccines
    with pytest.raises(ValidationError):
        desk.charge_slip(h.nurse_actor, visit.visit_id, [])
    non_credit = desk.charge_slip(h.nurse_actor, visit.visit_id, [OrderLine(h.vaccine.id, 1)]).order
    assert (non_credit.credit, non_credit.fee_status) == (False, FeeStatus.UNPAID)
    with db.session() as s:
        outpatient = make_visit(s, make_patient(s), h.slot).id
    with pytest.raises(Conflict):
        desk.charge_slip(h.nurse_actor, outpatient, [OrderLine(h.vaccine.id, 1)])
    assert [x.name for x in desk.search_vaccines(h.nurse_actor, "lgym")] == ["流感疫苗"]
    assert desk.search_vaccines(h.nurse_actor, "amxl") == []


def test_roles(desk: ImmunizationService, h: Hospital, db: Database) -> None:
    patient = new_patient(db)
    for actor in (h.doctor_actor, h.cashier_actor):
        with pytest.raises(PermissionDenied):
            desk.register(actor, patient)
    visit = desk.register(h.nurse_actor, patient)
    with pytest.raises(PermissionDenied):  # a doctor writes orders, not vaccine slips
        OrderService(desk.db, desk.clock).create_draft(h.doctor_actor, visit.visit_id, [OrderLine(h.vaccine.id)])
