"""The shared builders make valid data: real ID numbers, unique rows, a bookable queue."""

from __future__ import annotations

from datetime import date

from desktop_his.services.db import Database
from desktop_his.services.enums import IdType, Sex
from desktop_his.services.ids import parse_id
from tests.factories import make_hospital, make_patient, make_visit, resident_id


def test_resident_ids_are_valid_unique_and_match_sex_and_birth() -> None:
    born = date(2018, 6, 15)
    numbers = {resident_id(born, Sex.FEMALE if n % 2 else Sex.MALE) for n in range(3000)}
    assert len(numbers) == 3000
    for number in list(numbers)[:300]:
        parsed = parse_id(IdType.RESIDENT, number)
        assert parsed.birth_date == born
    assert parse_id(IdType.RESIDENT, resident_id(born, Sex.FEMALE)).sex == Sex.FEMALE
    assert parse_id(IdType.RESIDENT, resident_id(born, Sex.MALE)).sex == Sex.MALE


def test_visits_take_queue_numbers_from_the_slot(db: Database, clock) -> None:  # noqa: ANN001
    with db.session() as s:
        h = make_hospital(s, clock.today())
        first, second = (make_visit(s, make_patient(s), h.slot) for _ in range(2))
        assert (first.queue_no, second.queue_no, h.slot.taken, h.slot.next_queue_no) == (1, 2, 2, 3)
        assert first.visit_no != second.visit_no
    assert h.doctor_actor.doctor_id == h.doctor.id and h.doctor_actor.staff_id == h.doctor.staff_id
