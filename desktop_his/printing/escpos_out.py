"""ESC/POS output for thermal receipt printers (no Qt), through python-escpos.

Chinese text: the printer is switched to Chinese mode (``FS &``) and every line is sent as raw GB18030 bytes,
so 4-byte characters such as 𠮷 reach the printer intact (python-escpos' own ``text()`` falls back to code pages
and turns ``￥`` and rare characters into ``?``). Whether a 4-byte character then *prints* depends on the
printer's built-in font (GB18030-2022 fonts have it; older GBK-only fonts do not). ``¥`` (U+00A5) is printed as
the full-width ``￥`` (U+FFE5), which every GBK font has. The QR code uses the printer's native command
(``GS ( k``), centred with ``ESC a``.
"""

from __future__ import annotations

import logging
import socket
import unicodedata
from collections.abc import Iterator

from escpos.escpos import QR_ECLEVEL_M, Escpos
from escpos.exceptions import DeviceNotFoundError
from escpos.exceptions import Error as EscposError
from escpos.printer import Dummy, Network, Serial, Usb

from desktop_his.printing.settings import PrinterSettings
from desktop_his.services.slips import (
    REPRINT_MARK,
    Field,
    PrintError,
    Separator,
    SlipDocument,
    Spacer,
    Table,
    Text,
)

log = logging.getLogger(__name__)

INIT = b"\x1b\x40"  # ESC @
CHINESE_MODE = b"\x1c\x26"  # FS &: two-byte (GB) character mode


def width(text: str) -> int:
    """Printed width in half-width columns: ASCII 1, everything else (CJK, 4-byte) 2."""
    return sum(1 if ord(ch) < 0x80 else 2 for ch in text)


def wrap(text: str, columns: int) -> list[str]:
    """Break ``text`` into lines of at most ``columns`` printed columns (CJK-aware, keeps ASCII words)."""
    lines, line = [], ""
    for token in _tokens(text):
        if width(line + token) <= columns:
            line += token
            continue
        if line.strip():
            lines.append(line.rstrip())
        line = token.lstrip()
        while width(line) > columns:  # a single over-long token (e.g. a long number)
            cut = _fit(line, columns) or 1
            lines.append(line[:cut])
            line = line[cut:]
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return lines


def _fit(text: str, columns: int) -> int:
    n = 0
    for i, ch in enumerate(text):
        n += 1 if ord(ch) < 0x80 else 2
        if n > columns:
            return i
    return len(text)


def _tokens(text: str) -> Iterator[str]:
    word = ""
    for ch in text:
        if ord(ch) < 0x80 and not ch.isspace():
            word += ch
            continue
        if word:
            yield word
            word = ""
        yield ch
    if word:
        yield word


def encode(text: str) -> bytes:
    text = unicodedata.normalize("NFC", text).replace("¥", "￥")
    return text.encode("gb18030")


class _Writer:
    def __init__(self, printer: Escpos, columns: int) -> None:
        self.p, self.columns = printer, columns

    def line(self, text: str = "", *, align: str = "left", bold: bool = False, double: bool = False,
             invert: bool = False, columns: int | None = None) -> None:
        self.p.set(align=align, bold=bold, double_width=double, double_height=double, normal_textsize=not double,
                   invert=invert)
        for part in wrap(text, columns or (self.columns // 2 if double else self.columns)):
            self.p._raw(encode(part) + b"\n")
        self.p.set(align="left", bold=False, normal_textsize=True, invert=False)

    def field(self, f: Field) -> None:
        if f.big:
            self.line(f.label, align="center")
            self.line(f.value, align="center", bold=True, double=True)
            return
        label = f"{f.label}："
        pad = max(width(label), 10)
        first, *rest = wrap(f.value, self.columns - pad) or [""]
        self.p._raw(encode(label + " " * (pad - width(label)) + first) + b"\n")
        for more in rest:
            self.p._raw(encode(" " * pad + more) + b"\n")

    def table(self, t: Table) -> None:
        weights = t.column_weights()
        total = sum(weights)
        widths = [max(4, self.columns * w // total) for w in weights]
        widths[-1] = self.columns - sum(widths[:-1])
        for row in (t.columns, *t.rows):
            cells = [_cell(text, w - 1, a) for text, w, a in zip(row, widths, t.column_align(), strict=False)]
            self.p._raw(encode(" ".join(cells).rstrip()) + b"\n")

    def separator(self) -> None:
        self.p._raw(b"-" * self.columns + b"\n")


def _cell(text: str, w: int, align: str) -> str:
    text = text[:_fit(text, w)]
    gap = " " * (w - width(text))
    return gap + text if align == "right" else text + gap


def render(printer: Escpos, doc: SlipDocument, *, columns: int = 48) -> None:
    """Send ``doc`` to an open python-escpos printer (any transport, or ``Dummy`` in tests)."""
    out = _Writer(printer, columns)
    printer._raw(INIT + CHINESE_MODE)
    out.line(doc.hospital, align="center", bold=True)
    out.line(doc.heading, align="center", bold=True, double=True)
    if doc.reprint:
        out.line(f"【{REPRINT_MARK}】", align="center", bold=True, double=True)
    if doc.mark:
        out.line(f" {doc.mark} ", align="center", bold=True, double=True, invert=True)
    out.separator()
    for block in doc.blocks:
        if isinstance(block, Field):
            out.field(block)
        elif isinstance(block, Table):
            out.table(block)
        elif isinstance(block, Text):
            out.line(block.text, align=block.align, bold=block.bold, double=block.size == "large")
        elif isinstance(block, Separator):
            out.separator()
        elif isinstance(block, Spacer):
            printer._raw(b"\n" * max(1, round(block.lines)))
    if doc.code is not None:
        printer.set(align="center")
        printer.qr(doc.code.payload, native=True, size=6, ec=QR_ECLEVEL_M)
        printer._raw(b"\n")
        if doc.code.caption:
            out.line(doc.code.caption, align="center")
    out.separator()
    for text in doc.footer:
        out.line(text)
    printer.cut()


def to_bytes(doc: SlipDocument, *, columns: int = 48) -> bytes:
    """The exact bytes a printer would receive (tests, previews, spooling)."""
    dummy = Dummy()
    render(dummy, doc, columns=columns)
    return dummy.output


class _Network(Network):
    """python-escpos' Network leaves the socket open when the connection fails; this one does not."""

    def open(self, raise_not_found: bool = True) -> None:
        try:
            self.device = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as exc:
            self.device = None
            raise DeviceNotFoundError(f"Could not open socket for {self.host}: {exc}") from exc


def open_printer(settings: PrinterSettings) -> Escpos:
    """Connect to the configured thermal printer; PrintError with a Chinese message when it cannot."""
    try:
        if settings.kind == "escpos_network":
            printer: Escpos = _Network(settings.host, settings.port, timeout=10)
        elif settings.kind == "escpos_usb":
            printer = Usb(settings.usb_vendor, settings.usb_product, timeout=10000)
        elif settings.kind == "escpos_serial":
            printer = Serial(settings.serial_device, baudrate=settings.baudrate, timeout=10)
        else:
            raise PrintError("该打印方式不是热敏小票打印机", code="not_escpos")
        printer.open()
        return printer
    except PrintError:
        raise
    except (EscposError, OSError, ValueError, ImportError) as exc:
        log.warning("cannot open ESC/POS printer %s: %s", settings.kind, exc)
        where = {"escpos_network": f"{settings.host}:{settings.port}",
                 "escpos_usb": f"USB {settings.usb_vendor:04x}:{settings.usb_product:04x}",
                 "escpos_serial": settings.serial_device}.get(settings.kind, "")
        raise PrintError(f"无法连接小票打印机（{where}），请检查电源、连线和打印机设置", code="printer_offline") from exc
    except Exception as exc:  # e.g. pyusb's NoBackendError (no libusb on this PC)
        log.warning("cannot open ESC/POS printer %s", settings.kind, exc_info=True)
        raise PrintError(f"无法连接小票打印机：{exc}", code="printer_offline") from exc


def send(doc: SlipDocument, settings: PrinterSettings) -> str:
    """Print ``doc`` on the configured thermal printer; returns a description of where it went."""
    printer = open_printer(settings)
    try:
        for _ in range(settings.copies):
            render(printer, doc, columns=settings.columns)
    except (EscposError, OSError) as exc:
        raise PrintError("打印过程中与小票打印机的连接中断，请检查后补打", code="printer_error") from exc
    finally:
        printer.close()
    return KIND_TARGET.get(settings.kind, "").format(s=settings)


KIND_TARGET = {"escpos_network": "{s.host}:{s.port}", "escpos_usb": "USB {s.usb_vendor:04x}:{s.usb_product:04x}",
               "escpos_serial": "{s.serial_device}"}
