"""Two PCs on one PostgreSQL database: the registration window's PC registers, checks in and switches a visit to
信用就医; the doctor's station (another Services, another connection pool, LISTEN/NOTIFY) shows each change by
itself, without a refresh."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from desktop_his.services.container import Services
from desktop_his.services.models import Base
from desktop_his.services.registration import RegistrationService
from desktop_his.views.doctor.station import MARK_COLUMN, DoctorStation
from tests.conftest import PgSchema, connect_test_bank, make_services
from tests.factories import Hospital, make_demo_patient, make_hospital
from tests.gui import wait_ops


@pytest.fixture
def two_pcs(pg_schema: PgSchema, clock, tmp_path, bank_sandbox_running) -> Iterator[tuple[Services, Services]]:  # noqa: ANN001
    doctor_db, window_db = pg_schema.database(), pg_schema.database()
    Base.metadata.create_all(doctor_db.engine)
    doctor_pc = make_services(doctor_db, clock, tmp_path / "doctor-pc")
    window_pc = connect_test_bank(make_services(window_db, clock, tmp_path / "window-pc"), bank_sandbox_running)
    yield doctor_pc, window_pc
    for services in (window_pc, doctor_pc):
        services.close()
        services.db.dispose()


def test_another_pcs_registration_appears_live(qtbot, two_pcs, clock) -> None:  # noqa: ANN001
    doctor_pc, window_pc = two_pcs
    with window_pc.db.session() as s:
        h: Hospital = make_hospital(s, clock.today())
        patient_id = make_demo_patient(s, "张伟").id
    station = DoctorStation(doctor_pc, h.doctor_actor)
    qtbot.addWidget(station)
    station.show()
    wait_ops(qtbot)
    assert station.model.rowCount() == 0
    qtbot.waitUntil(lambda: doctor_pc.feed._watcher is not None and doctor_pc.feed._watcher.wait_ready(0), timeout=5000)
    cashier = h.cashier_actor
    registration = RegistrationService(window_pc.db, window_pc.clock)
    visit = registration.register(cashier, patient_id, h.slot.id)
    qtbot.waitUntil(lambda: station.model.rowCount() == 1, timeout=10_000)
    entry = station.model.row(0)
    assert (entry.visit_id, entry.patient_name, entry.status_label, entry.pay_mark) == (visit.id, "张伟", "未取号", None)
    # The patient accepts the 信用就医 pop-up at the window: confirmed, fee locked.
    sign = window_pc.credit.sign_status(cashier, patient_id)
    assert window_pc.credit.use_credit(cashier, visit.id, sign).state == "locked"
    qtbot.waitUntil(lambda: station.model.row(0).pay_mark == "信用就医", timeout=10_000)
    registration.check_in(cashier, visit.id)
    qtbot.waitUntil(lambda: station.model.row(0).status_label == "候诊", timeout=10_000)
    assert station.model.index(0, MARK_COLUMN).data() == "信用就医"
    wait_ops(qtbot)
