"""Printer choice per workstation (no Qt): stored in the ``setting`` table, scope ``ws:<workstation>``.

Key ``printer`` is the workstation's printer for every slip; ``printer:<slip kind>`` (e.g. ``printer:consent``
for A4 documents on a laser printer) overrides it for one kind of slip.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy.orm import Session

from desktop_his.services.errors import ValidationError
from desktop_his.services.models import Setting

KINDS = {
    "pdf": "保存为PDF文件",
    "system": "系统打印机",
    "escpos_network": "热敏小票打印机（网络）",
    "escpos_usb": "热敏小票打印机（USB）",
    "escpos_serial": "热敏小票打印机（串口）",
}
LAYOUTS = {"80mm": "80毫米小票", "A5": "A5纸", "A4": "A4纸"}
ESC_POS_KINDS = frozenset({"escpos_network", "escpos_usb", "escpos_serial"})


@dataclass(frozen=True)
class PrinterSettings:
    kind: str = "pdf"
    layout: str = "80mm"
    auto_print: bool = True  # print the guide slip right after registering
    pdf_folder: str = ""  # "pdf": where files go ("" = the caller's default, e.g. <data_dir>/slips)
    printer_name: str = ""  # "system": the OS printer's name ("" = the default printer)
    host: str = ""  # "escpos_network"
    port: int = 9100
    usb_vendor: int = 0  # "escpos_usb": e.g. 0x0416
    usb_product: int = 0
    serial_device: str = ""  # "escpos_serial": "COM3" or "/dev/ttyUSB0"
    baudrate: int = 9600
    columns: int = 48  # ESC/POS characters per line: 48 on 80 mm paper, 32 on 58 mm
    copies: int = 1

    @property
    def is_escpos(self) -> bool:
        return self.kind in ESC_POS_KINDS

    def validated(self) -> PrinterSettings:
        """Raise ValidationError (with the field) for settings that cannot print."""
        checks = [
            ("kind", self.kind in KINDS, "请选择打印方式"),
            ("layout", self.layout in LAYOUTS, "请选择版式（80毫米小票、A5或A4）"),
            ("copies", 1 <= self.copies <= 5, "打印份数应在 1–5 之间"),
            ("columns", self.columns in (32, 42, 48, 64), "每行字符数应为 32、42、48 或 64"),
        ]
        if self.kind == "escpos_network":
            checks += [("host", bool(re.fullmatch(r"[A-Za-z0-9.\-]{1,253}", self.host)), "请输入打印机的IP地址或主机名"),
                       ("port", 1 <= self.port <= 65535, "端口应在 1–65535 之间")]
        if self.kind == "escpos_usb":
            checks += [("usb_vendor", 0 < self.usb_vendor <= 0xFFFF, "请输入USB厂商ID（如 0416）"),
                       ("usb_product", 0 < self.usb_product <= 0xFFFF, "请输入USB产品ID（如 5011）")]
        if self.kind == "escpos_serial":
            checks += [("serial_device", bool(self.serial_device.strip()), "请输入串口（如 COM3）"),
                       ("baudrate", self.baudrate in (9600, 19200, 38400, 57600, 115200), "波特率无效")]
        for name, ok, message in checks:
            if not ok:
                raise ValidationError(message, field=name)
        return self


def parse_usb_id(text: str, *, field: str) -> int:
    """``"0416"`` / ``"0x0416"`` → 0x0416 (USB ids are written in hex)."""
    raw = (text or "").strip().lower().removeprefix("0x")
    if not re.fullmatch(r"[0-9a-f]{1,4}", raw):
        raise ValidationError("USB ID 应为1–4位十六进制数（如 0416）", field=field)
    return int(raw, 16)


def _key(slip_kind: str | None) -> str:
    return f"printer:{slip_kind}" if slip_kind else "printer"


def load_printer_settings(session: Session, workstation: str, slip_kind: str | None = None) -> PrinterSettings:
    """The printer for ``slip_kind`` at this workstation (its own override, else the workstation's printer,
    else PDF files in 80 mm layout)."""
    scope = f"ws:{workstation}"
    for key in ([_key(slip_kind)] if slip_kind else []) + ["printer"]:
        row = session.get(Setting, (scope, key))
        if row is not None and isinstance(row.value, dict):
            known = {f.name for f in fields(PrinterSettings)}
            return PrinterSettings(**{k: v for k, v in row.value.items() if k in known})
    return PrinterSettings()


def save_printer_settings(session: Session, workstation: str, settings: PrinterSettings, *, at: datetime,
                          by: str, slip_kind: str | None = None) -> None:
    value = dataclasses.asdict(settings.validated())
    scope, key = f"ws:{workstation}", _key(slip_kind)
    row = session.get(Setting, (scope, key))
    if row is None:
        session.add(Setting(scope=scope, key=key, value=value, updated_at=at, updated_by=by))
    else:
        row.value, row.updated_at, row.updated_by = value, at, by
