"""Slip printing for every workstation: one entry point, :func:`print_slip`.

- ``settings.py`` — :class:`PrinterSettings` per workstation (no Qt).
- ``escpos_out.py`` — ESC/POS thermal printers over network/USB/serial (no Qt).
- ``qt_render.py`` — QPainter on PDF files and system printers, 80 mm, A5 and A4 layouts (needs a QGuiApplication).

A document that names its own ``layout`` (the A4 written consent and settlement statement) is printed in that
layout whatever the printer setting says; a thermal receipt printer refuses it with a clear message.

``print_slip`` is a plain synchronous function that is safe on a worker thread (views call it through the
operation helper, never on the UI thread): the Qt part paints only on QPdfWriter/QPrinter, which Qt allows
off the GUI thread. The Qt modules are imported only when a Qt path is used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from desktop_his.printing.settings import PrinterSettings
from desktop_his.services.slips import PrintError, SlipDocument

__all__ = ["PrintResult", "PrinterSettings", "print_slip", "pdf_file_name"]


@dataclass(frozen=True)
class PrintResult:
    kind: str  # PrinterSettings.kind used
    target: str  # file path, printer name, or printer address — for the status bar
    path: Path | None = None  # the PDF written (kind "pdf")


def pdf_file_name(doc: SlipDocument, at: datetime) -> str:
    reference = re.sub(r"[^A-Za-z0-9_-]", "_", doc.reference) or "slip"
    suffix = "-补打" if doc.reprint else ""
    return f"{doc.kind}-{reference}-{at:%Y%m%d-%H%M%S%f}{suffix}.pdf"


def _print_system(doc: SlipDocument, settings: PrinterSettings) -> str:
    from PySide6.QtPrintSupport import QPrinter, QPrinterInfo

    from desktop_his.printing.qt_render import LAYOUTS, render_to

    info = QPrinterInfo.printerInfo(settings.printer_name) if settings.printer_name else QPrinterInfo.defaultPrinter()
    if info.isNull():
        missing = f"找不到打印机“{settings.printer_name}”" if settings.printer_name else "本机没有设置默认打印机"
        raise PrintError(f"{missing}，请在打印设置中选择打印机", code="printer_not_found")
    printer = QPrinter(info, QPrinter.PrinterMode.HighResolution)
    printer.setDocName(f"{doc.heading} {doc.reference}")
    try:
        render_to(printer, doc, LAYOUTS[doc.layout or settings.layout], settings.copies)
    except OSError as exc:
        raise PrintError(f"打印机“{info.printerName()}”无法打印，请检查打印机状态", code="printer_error") from exc
    return info.printerName()


def _print_pdf(doc: SlipDocument, settings: PrinterSettings, folder: Path | None) -> Path:
    from desktop_his.printing.qt_render import LAYOUTS, render_pdf

    target = Path(settings.pdf_folder) if settings.pdf_folder else folder
    if target is None:
        raise PrintError("未设置PDF保存文件夹，请在打印设置中选择", code="no_pdf_folder")
    try:
        return render_pdf(doc, LAYOUTS[doc.layout or settings.layout],
                          target / pdf_file_name(doc, doc.printed_at or datetime.now()),
                          copies=settings.copies)
    except OSError as exc:
        raise PrintError(f"无法写入PDF文件夹“{target}”，请检查文件夹权限", code="pdf_folder") from exc


def print_slip(document: SlipDocument, settings: PrinterSettings, *,
               default_pdf_folder: Path | None = None) -> PrintResult:
    """Print ``document`` the way ``settings`` says. Raises PrintError (Chinese message) when it cannot.
    Blocking: call it on a worker thread."""
    settings = settings.validated()
    if document.layout and settings.is_escpos:
        raise PrintError(f"“{document.title}”须用{document.layout}纸打印，小票打印机不能打印。"
                         f"请在打印设置中为此类单据选择系统打印机或PDF", code="needs_sheet_printer")
    if settings.is_escpos:
        from desktop_his.printing import escpos_out

        return PrintResult(settings.kind, escpos_out.send(document, settings))
    if settings.kind == "system":
        return PrintResult("system", _print_system(document, settings))
    path = _print_pdf(document, settings, default_pdf_folder)
    return PrintResult("pdf", str(path), path)
