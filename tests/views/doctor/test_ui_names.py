"""Every object name docs/ui-automation.md promises for the doctor station and the immunization desk exists;
each is in the sidebar of its own role (and only there)."""

from __future__ import annotations

import pytest

from desktop_his.services.bank import SignStatus
from desktop_his.services.container import Services
from desktop_his.services.enums import Role
from desktop_his.services.orders import OrderLine
from desktop_his.views.doctor.dialogs import (
    CreditNoticeDialog,
    CreditTotalDialog,
    ExecuteDialog,
    RevokeDialog,
)
from desktop_his.views.doctor.station import DoctorStation
from desktop_his.views.immunization.desk import ImmunizationDesk
from desktop_his.views.immunization.prompt import CreditPromptDialog
from desktop_his.views.main_window import MainWindow
from tests.factories import make_demo_patient, make_hospital, make_visit
from tests.gui import wait_ops
from tests.helpers import add_staff
from tests.views.test_ui_automation_doc import SECTIONS, missing


@pytest.fixture
def hospital(sqlite_services: Services):  # noqa: ANN201
    with sqlite_services.db.session() as s:
        h = make_hospital(s, sqlite_services.clock.today())
        make_visit(s, make_demo_patient(s, "刘洋"), h.slot)
    return h


def test_station_desk_and_dialogs_have_the_documented_names(qtbot, sqlite_services: Services, hospital) -> None:  # noqa: ANN001
    station = DoctorStation(sqlite_services, hospital.doctor_actor)
    qtbot.addWidget(station)
    wait_ops(qtbot)
    assert missing(station, SECTIONS["DoctorStation"]) == []
    desk = ImmunizationDesk(sqlite_services, hospital.nurse_actor)
    qtbot.addWidget(desk)
    wait_ops(qtbot)
    assert missing(desk, SECTIONS["ImmunizationDesk"]) == []
    assert missing(CreditNoticeDialog("李娜", "亲情付", station), SECTIONS["CreditNoticeDialog"]) == []
    assert missing(CreditTotalDialog("患者本次使用“信用就医”额度支付总费用：¥1.00", "x", station),
                   SECTIONS["CreditTotalDialog"]) == []
    [entry] = station.model.rows()
    order = sqlite_services.order_credit.submit_lines(hospital.doctor_actor, entry.visit_id,
                                                      [OrderLine(hospital.drug.id)]).order
    assert missing(RevokeDialog(order, station), SECTIONS["RevokeDialog"]) == []
    assert missing(ExecuteDialog(order, station), SECTIONS["ExecuteDialog"]) == []
    sign = SignStatus(True, "XYDEMO000001", "holder", None, 500_000, 500_000)
    assert missing(CreditPromptDialog("张伟", sign, desk), SECTIONS["CreditPromptDialog"]) == []


@pytest.mark.parametrize(("role", "key", "cls"), [(Role.DOCTOR, "doctor", DoctorStation),
                                                   (Role.IMMUNIZATION, "immunization", ImmunizationDesk)])
def test_each_workstation_is_in_its_roles_sidebar_only(qtbot, sqlite_services: Services, hospital, role, key,
                                                       cls) -> None:  # noqa: ANN001
    user = add_staff(sqlite_services, f"{key}9", role)
    main = MainWindow(sqlite_services, user, hospital_name="演示医院", idle_timeout_ms=0)
    qtbot.addWidget(main)
    wait_ops(qtbot)
    assert key in [e.key for e in main.entries]
    assert isinstance(main.view(key), cls)
    cashier = add_staff(sqlite_services, "cashier9", Role.CASHIER)
    other = MainWindow(sqlite_services, cashier, hospital_name="演示医院", idle_timeout_ms=0)
    qtbot.addWidget(other)
    wait_ops(qtbot)
    assert key not in [e.key for e in other.entries]
