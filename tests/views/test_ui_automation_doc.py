"""Every object name docs/ui-automation.md promises exists on the window it is listed under."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from desktop_his.dialogs.login import ChangePasswordDialog, LoginDialog
from desktop_his.services.container import Services
from desktop_his.services.enums import Role
from desktop_his.views.main_window import MainWindow
from tests.gui import wait_ops
from tests.helpers import add_staff

DOC = Path(__file__).resolve().parents[2] / "docs" / "ui-automation.md"


def sections() -> dict[str, list[str]]:
    text = DOC.read_text(encoding="utf-8")
    found = {}
    for block in text.split("\n## ")[1:]:
        title, _, body = block.partition("\n")
        cls = re.search(r"\(`(\w+)`\)", title).group(1)
        found[cls] = re.findall(r"`([a-z][a-z0-9_]*)`", body)
    return found


SECTIONS = sections()
PAGES = {"StaffPage": "staff", "DepartmentsPage": "departments", "DoctorsPage": "doctors",
         "SchedulesPage": "schedules", "SlotsPage": "slots", "CatalogPage": "catalog", "HospitalPage": "hospital",
         "BankPage": "bank"}


def missing(root: QWidget, names: list[str]) -> list[str]:
    return [n for n in names if root.objectName() != n and root.findChild(QObject, n) is None]


# Windows whose names are checked by their workstation's own tests (e.g. tests/views/inpatient/test_ui_names.py).
CHECKED_ELSEWHERE = {"AdmissionDesk", "AdmitDialog", "DepositDialog", "ConsentDialog", "CreditAmountDialog",
                     "SettlementDialog", "FinanceDesk", "InboxDialog"}


def test_every_window_is_documented() -> None:
    assert set(SECTIONS) == {"LoginDialog", "ChangePasswordDialog", "MainWindow", "LockOverlay", *PAGES,
                             *CHECKED_ELSEWHERE}


@pytest.fixture
def window(qtbot, sqlite_services: Services) -> MainWindow:  # noqa: ANN001
    actor = add_staff(sqlite_services, "admin", Role.ADMIN)
    main = MainWindow(sqlite_services, actor, hospital_name="演示医院", idle_timeout_ms=0)
    qtbot.addWidget(main)
    main.show()
    wait_ops(qtbot)
    return main


def test_main_window_lock_and_pages(window: MainWindow, qtbot) -> None:  # noqa: ANN001
    names = [n for n in SECTIONS["MainWindow"] if n != "no_workstation"]
    assert missing(window, names) == []
    assert missing(window.overlay, SECTIONS["LockOverlay"]) == []
    for cls, key in PAGES.items():
        page = window.open_workstation(key)
        wait_ops(qtbot)
        assert type(page).__name__ == cls
        assert missing(page, SECTIONS[cls]) == [], cls


def test_dialogs(qtbot, sqlite_services: Services) -> None:  # noqa: ANN001
    login = LoginDialog(hospital_name="演示医院", workstation="WS", demo=True)
    qtbot.addWidget(login)
    assert missing(login, SECTIONS["LoginDialog"]) == []
    actor = add_staff(sqlite_services, "u", Role.CASHIER)
    dialog = ChangePasswordDialog(sqlite_services, actor, forced=True)
    qtbot.addWidget(dialog)
    assert missing(dialog, SECTIONS["ChangePasswordDialog"]) == []
