"""A registration made at one window reaches another window (and the doctors' topics) without a refresh."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit

from desktop_his.services.container import Services
from tests.gui import wait_ops
from tests.views.registration.regwinfix import make_world, open_window


def test_a_registration_elsewhere_updates_the_remaining_places(qtbot, sqlite_bank_services: Services) -> None:  # noqa: ANN001
    world = make_world(sqlite_bank_services)
    window = open_window(qtbot, world)
    doctor = window.findChild(QLineEdit, "reg_doctor_search")
    qtbot.keyClicks(doctor, "lm")
    qtbot.waitUntil(lambda: window.slots.model.rowCount() == 2)
    slot_row = window.slots.model.find(lambda s: s.id == world.slots["lm"])
    assert window.slots.model.row(slot_row).remaining == 30
    received: list[set[str]] = []
    window.live.changed.connect(received.append)
    # another PC registers a patient for 李明 through the services
    world.services.registration.register(world.cashier, world.patient("陈静"), world.slots["lm"])
    qtbot.waitUntil(lambda: any(f"doctor:{world.doctors['lm']}" in t for t in received), timeout=10_000)
    qtbot.waitUntil(lambda: window.slots.model.row(window.slots.model.find(
        lambda s: s.id == world.slots["lm"])).remaining == 29, timeout=10_000)
    wait_ops(qtbot)
    qtbot.keyClick(doctor, Qt.Key.Key_Escape)  # nothing else happens
