"""Printer choice per workstation (no Qt): stored in the setting table, validated, per-kind overrides."""

from __future__ import annotations

from datetime import datetime

import pytest

from desktop_his.printing.settings import (
    PrinterSettings,
    load_printer_settings,
    parse_usb_id,
    save_printer_settings,
)
from desktop_his.services.errors import ValidationError

AT = datetime(2026, 11, 23, 9)


def test_default_is_pdf_receipt(sqlite_db) -> None:  # noqa: ANN001
    with sqlite_db.reader() as s:
        assert load_printer_settings(s, "win-01") == PrinterSettings(kind="pdf", layout="80mm", auto_print=True)


def test_saved_per_workstation_with_a_per_kind_override(db) -> None:  # noqa: ANN001
    thermal = PrinterSettings(kind="escpos_network", host="192.168.1.50", port=9100, auto_print=True)
    laser = PrinterSettings(kind="system", printer_name="HP LaserJet", layout="A5", auto_print=False)
    with db.session() as s:
        save_printer_settings(s, "win-01", thermal, at=AT, by="admin")
        save_printer_settings(s, "win-01", laser, at=AT, by="admin", slip_kind="consent")
    with db.reader() as s:
        assert load_printer_settings(s, "win-01") == thermal
        assert load_printer_settings(s, "win-01", "registration") == thermal
        assert load_printer_settings(s, "win-01", "consent") == laser
        assert load_printer_settings(s, "win-02") == PrinterSettings()
    with db.session() as s:
        save_printer_settings(s, "win-01", PrinterSettings(kind="pdf", layout="A5"), at=AT, by="admin")
    with db.reader() as s:
        assert load_printer_settings(s, "win-01").layout == "A5"


@pytest.mark.parametrize("settings, field", [
    (PrinterSettings(kind="fax"), "kind"),
    (PrinterSettings(layout="A3"), "layout"),
    (PrinterSettings(copies=0), "copies"),
    (PrinterSettings(columns=40), "columns"),
    (PrinterSettings(kind="escpos_network", host=""), "host"),
    (PrinterSettings(kind="escpos_network", host="printer-1", port=70000), "port"),
    (PrinterSettings(kind="escpos_usb"), "usb_vendor"),
    (PrinterSettings(kind="escpos_usb", usb_vendor=0x0416), "usb_product"),
    (PrinterSettings(kind="escpos_serial"), "serial_device"),
    (PrinterSettings(kind="escpos_serial", serial_device="COM3", baudrate=1234), "baudrate"),
])
def test_invalid_settings_are_refused(sqlite_db, settings: PrinterSettings, field: str) -> None:  # noqa: ANN001
    with pytest.raises(ValidationError) as exc:
        with sqlite_db.session() as s:
            save_printer_settings(s, "win-01", settings, at=AT, by="admin")
    assert exc.value.field == field
    with sqlite_db.reader() as s:
        assert load_printer_settings(s, "win-01") == PrinterSettings()


def test_usb_ids_are_hex() -> None:
    assert parse_usb_id("0416", field="usb_vendor") == 0x0416
    assert parse_usb_id("0x5011", field="usb_product") == 0x5011
    with pytest.raises(ValidationError):
        parse_usb_id("xyz", field="usb_vendor")
