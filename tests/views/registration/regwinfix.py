"""The registration window's GUI test world: 内科 (nk) with 李明 (lm), 妇科 (fk) with 赵敏, 儿科 (ek) with 钱多
(today's morning slots and tomorrow's), the demo residents the bank sandbox knows, a cashier — plus helpers to
drive the window from the keyboard and read what it printed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QWidget
from sqlalchemy import select

from desktop_his.services.container import Services
from desktop_his.services.enums import Period, Role
from desktop_his.services.models import AuditRecord, Visit
from desktop_his.services.permissions import Actor
from desktop_his.views.registration.window import RegistrationWindow
from tests import factories as f
from tests.gui import wait_ops
from tests.helpers import add_staff

T = date(2026, 11, 23)


@dataclass
class World:
    services: Services
    cashier: Actor
    slots: dict[str, int]  # "lm", "lm+1" (tomorrow), "zm" (gynaecology), "qd" (paediatrics)
    doctors: dict[str, int]

    def patient(self, name: str) -> int:
        with self.services.db.session() as s:
            return f.make_demo_patient(s, name).id

    def visits(self, patient_id: int | None = None) -> list[Visit]:
        with self.services.db.reader() as s:
            q = select(Visit).order_by(Visit.id)
            if patient_id is not None:
                q = q.where(Visit.patient_id == patient_id)
            return list(s.scalars(q))

    def audit_actions(self) -> list[str]:
        with self.services.db.reader() as s:
            return list(s.scalars(select(AuditRecord.action).order_by(AuditRecord.seq)))

    def available(self, name: str) -> int:
        return self.services.sandbox.admin.account("01", f.DEMO_PEOPLE[name][2])["available_fen"]


def make_world(services: Services, *roles: Role) -> World:
    with services.db.session() as s:
        internal = f.make_department(s, "内科", location="门诊楼二楼")
        gyn = f.make_department(s, "妇科", location="门诊楼三楼", sex_restriction="F")
        kids = f.make_department(s, "儿科", location="门诊楼一楼", max_age=16)
        lm = f.make_doctor(s, internal, "李明", title="主任医师", fee_fen=1000)
        zm = f.make_doctor(s, gyn, "赵敏", fee_fen=800)
        qd = f.make_doctor(s, kids, "钱多", fee_fen=600)
        slots = {"lm": f.make_slot(s, lm, T, Period.MORNING).id,
                 "lm+1": f.make_slot(s, lm, T + timedelta(days=1), Period.MORNING).id,
                 "zm": f.make_slot(s, zm, T, Period.MORNING).id, "qd": f.make_slot(s, qd, T, Period.MORNING).id}
        doctors = {"lm": lm.id, "zm": zm.id, "qd": qd.id}
        for name in f.DEMO_PEOPLE:  # every resident the bank sandbox knows is on file
            f.make_demo_patient(s, name)
    cashier = add_staff(services, "cashier1", *(roles or (Role.CASHIER,)), full_name="王收费")
    return World(services, cashier, slots, doctors)


def open_window(qtbot, world: World) -> RegistrationWindow:  # noqa: ANN001
    window = RegistrationWindow(world.services, world.cashier)
    qtbot.addWidget(window)
    window.resize(1100, 760)
    window.show()
    window.activateWindow()
    qtbot.waitActive(window)
    wait_ops(qtbot)
    return window


def active_dialog(window: QWidget, name: str) -> QDialog | None:
    for dialog in window.findChildren(QDialog, name):
        if dialog.isVisible():
            return dialog
    return None


def wait_dialog(qtbot, window: QWidget, name: str, timeout: int = 10_000) -> QDialog:  # noqa: ANN001
    """Wait until the dialog is shown AND has the keyboard (a user's next key goes to it; a key sent by the test
    before its activation is processed would go to the widget behind, which modality blocks for a user)."""
    def ready() -> bool:
        dialog = active_dialog(window, name)
        return dialog is not None and QApplication.activeWindow() is dialog
    qtbot.waitUntil(ready, timeout=timeout)
    return active_dialog(window, name)


def key(qtbot, widget: QWidget | None = None, k: Qt.Key = Qt.Key.Key_Return) -> None:  # noqa: ANN001
    """Press a key where the keyboard focus is (or on ``widget``)."""
    target = widget or QApplication.focusWidget()
    assert target is not None, "nothing has the keyboard focus"
    qtbot.keyClick(target, k)


def pdf_text(path: Path | str) -> str:
    text = "".join(page.extract_text() for page in PdfReader(str(path)).pages)
    return text.replace("\t", " ").replace("\n", "")


def wait_printed(qtbot, window: RegistrationWindow, count: int = 1) -> None:  # noqa: ANN001
    qtbot.waitUntil(lambda: window.last_print is not None, timeout=15_000)
    wait_ops(qtbot)


def fkey(qtbot, window: QWidget, k: Qt.Key) -> None:  # noqa: ANN001
    """A function-key shortcut of the window, pressed on its history list (the window made active again, as
    it is after a dialog closes on a real desktop; the offscreen platform leaves no window active)."""
    window.activateWindow()
    if QApplication.activeWindow() is not window.window():
        window.window().windowHandle().requestActivate()
        QApplication.processEvents()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window.window(), timeout=3000)
    window.history_table.setFocus()
    qtbot.keyClick(window.history_table, k)
