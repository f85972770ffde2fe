"""Draw a :class:`SlipDocument` with QPainter on a PDF file, a system printer or an image.

Three layouts: ``80mm`` (a receipt roll: the page is as long as the slip), ``A5`` and ``A4`` (portrait sheets,
new pages when the content runs over; A4 for the documents that are signed or filed — the written consent and
the discharge settlement statement). The QR code is drawn as vector squares from the ``qrcode`` library's matrix, so
it stays sharp at any printer resolution.

Thread rule (Qt: "QPainter can be used in a thread to paint onto QImage, QPrinter and QPicture paint
devices"; QPdfWriter likewise): every function here may run on a worker thread, as long as a QGuiApplication
exists. Never pass a widget or QPixmap. ``tests/printing/test_qt_render.py`` renders on a worker thread.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import qrcode
from PySide6.QtCore import QMarginsF, QRectF, QSizeF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QImage,
    QPagedPaintDevice,
    QPageLayout,
    QPageSize,
    QPainter,
    QPainterPath,
    QPdfWriter,
    QPen,
)

from desktop_his.printing.fonts import printable, slip_font
from desktop_his.services.slips import REPRINT_MARK, Field, Separator, SlipDocument, Spacer, Table, Text


@functools.lru_cache(maxsize=64)
def qr_matrix(payload: str) -> tuple[tuple[bool, ...], ...]:
    """The QR code's modules (medium error correction, no border). One fixed mask pattern: every mask is valid
    for every reader, and trying all eight (qrcode's default) cost more than the rest of the slip's layout.
    Cached: a slip is laid out twice (measure, then paint) and reprints repeat the payload."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0, mask_pattern=2)
    code.add_data(payload)
    code.make(fit=True)
    return tuple(tuple(row) for row in code.get_matrix())


@dataclass(frozen=True)
class PageLayout:
    name: str
    width_mm: float
    height_mm: float | None  # None: as long as the content (receipt roll)
    margin_mm: float
    small_pt: float
    base_pt: float
    large_pt: float
    title_pt: float
    mark_pt: float
    big_pt: float
    label_mm: float  # width of the label column
    qr_mm: float
    gap_mm: float  # vertical space between blocks


RECEIPT_80 = PageLayout("80mm", 80, None, 4, 7.5, 9, 11, 12, 15, 24, 20, 28, 1.2)
A5 = PageLayout("A5", 148, 210, 12, 9.5, 12, 15, 18, 22, 36, 28, 36, 2.0)
# A4: body 12.5 pt (close to 四号), 20 mm margins as on a filed form.
A4 = PageLayout("A4", 210, 297, 20, 10, 12.5, 15, 20, 20, 36, 32, 36, 2.5)
LAYOUTS = {"80mm": RECEIPT_80, "A5": A5, "A4": A4}


class _Canvas:
    """Lays blocks out top to bottom; with ``painter=None`` it only measures (for the receipt's length)."""

    def __init__(self, device: QPagedPaintDevice | QImage, layout: PageLayout, painter: QPainter | None,
                 new_page: Callable[[], None] | None = None) -> None:
        self.device, self.layout, self.painter, self.new_page = device, layout, painter, new_page
        self.px = device.logicalDpiY() / 25.4  # device pixels per millimetre
        self.left = layout.margin_mm * self.px
        self.width = (layout.width_mm - 2 * layout.margin_mm) * self.px
        self.top = self.y = layout.margin_mm * self.px
        self.bottom = (layout.height_mm - layout.margin_mm) * self.px if layout.height_mm else None

    def mm(self, value: float) -> float:
        return value * self.px

    def _room(self, height: float) -> None:
        if self.bottom is not None and self.y + height > self.bottom and self.y > self.top:
            if self.painter is not None and self.new_page is not None:
                self.new_page()
            self.y = self.top

    def _height(self, font: QFont, width: float, text: str, flags: int) -> float:
        metrics = QFontMetricsF(font, self.device)
        return metrics.boundingRect(QRectF(0, 0, width, 1e7), flags, text).height()

    def text(self, text: str, pt: float, *, bold: bool = False, align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft,
             x: float | None = None, width: float | None = None, advance: bool = True) -> float:
        font = slip_font(pt, bold=bold)
        text = printable(text)
        w = self.width if width is None else width
        flags = int(align | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap)
        h = self._height(font, w, text, flags)
        if advance:
            self._room(h)
        if self.painter is not None:
            self.painter.setFont(font)
            self.painter.setPen(QColor("black"))
            self.painter.drawText(QRectF(self.left if x is None else x, self.y, w, h), flags, text)
        if advance:
            self.y += h
        return h

    def gap(self, mm: float | None = None) -> None:
        self.y += self.mm(self.layout.gap_mm if mm is None else mm)

    def spacer(self, lines: float) -> None:
        """Room of ``lines`` body-text lines (never carried over to the top of a new page)."""
        height = QFontMetricsF(slip_font(self.layout.base_pt), self.device).lineSpacing() * lines
        self.y = self.y + height if self.bottom is None else min(self.y + height, self.bottom)

    def boxed(self, text: str, pt: float, *, inverted: bool) -> None:
        """A prominent centred mark (信用就医 / 亲情付 / the channel; 补打)."""
        font = slip_font(pt, bold=True)
        text = printable(text)
        metrics = QFontMetricsF(font, self.device)
        pad = self.mm(1.5)
        w = min(metrics.horizontalAdvance(text) + 4 * pad, self.width)
        h = metrics.height() + 2 * pad
        self._room(h)
        rect = QRectF(self.left + (self.width - w) / 2, self.y, w, h)
        if self.painter is not None:
            p = self.painter
            p.setPen(QPen(QColor("black"), self.mm(0.5)))
            p.setBrush(QColor("black") if inverted else Qt.BrushStyle.NoBrush)
            p.drawRect(rect)
            p.setFont(font)
            p.setPen(QColor("white") if inverted else QColor("black"))
            p.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), text)
            p.setBrush(Qt.BrushStyle.NoBrush)
        self.y += h

    def separator(self) -> None:
        self.gap(0.8)
        if self.painter is not None:
            pen = QPen(QColor("black"), self.mm(0.2), Qt.PenStyle.DashLine)
            self.painter.setPen(pen)
            self.painter.drawLine(int(self.left), int(self.y), int(self.left + self.width), int(self.y))
        self.gap(0.8)

    def field(self, f: Field) -> None:
        lay = self.layout
        if f.big:
            self.text(f.label, lay.base_pt, align=Qt.AlignmentFlag.AlignHCenter)
            self.text(f.value, lay.big_pt, bold=True, align=Qt.AlignmentFlag.AlignHCenter)
            return
        label_w = self.mm(lay.label_mm)
        value_w = self.width - label_w
        label = f.label + "："
        wrap = int(Qt.TextFlag.TextWordWrap)
        h = max(self._height(slip_font(lay.base_pt), value_w, printable(f.value), wrap),
                self._height(slip_font(lay.base_pt), label_w, printable(label), wrap))
        self._room(h)
        self.text(label, lay.base_pt, width=label_w, advance=False)
        self.text(f.value, lay.base_pt, x=self.left + label_w, width=value_w, advance=False)
        self.y += h + self.mm(0.6)

    def table(self, t: Table) -> None:
        weights = t.column_weights()
        widths = [self.width * w / sum(weights) for w in weights]
        aligns = {"left": Qt.AlignmentFlag.AlignLeft, "right": Qt.AlignmentFlag.AlignRight,
                  "center": Qt.AlignmentFlag.AlignHCenter}
        for i, row in enumerate((t.columns, *t.rows)):
            font_pt = self.layout.small_pt if i == 0 else self.layout.base_pt
            heights = [self._height(slip_font(font_pt), w, printable(c), int(Qt.TextFlag.TextWordWrap))
                       for c, w in zip(row, widths, strict=False)]
            self._room(max(heights))
            x = self.left
            for cell, w, a in zip(row, widths, t.column_align(), strict=False):
                self.text(cell, font_pt, bold=i == 0, x=x, width=w - self.mm(0.5), align=aligns.get(a, aligns["left"]),
                          advance=False)
                x += w
            self.y += max(heights) + self.mm(0.4)

    def qr(self, payload: str) -> None:
        matrix = qr_matrix(payload)
        size = self.mm(self.layout.qr_mm)
        self._room(size)
        if self.painter is not None:
            module = size / len(matrix)
            x0, y0 = self.left + (self.width - size) / 2, self.y
            path = QPainterPath()
            for r, row in enumerate(matrix):
                c = 0
                while c < len(row):  # one rectangle per horizontal run of dark modules
                    if row[c]:
                        start = c
                        while c < len(row) and row[c]:
                            c += 1
                        path.addRect(QRectF(x0 + start * module, y0 + r * module, (c - start) * module, module))
                    else:
                        c += 1
            path.setFillRule(Qt.FillRule.WindingFill)
            self.painter.fillPath(path, QColor("black"))
        self.y += size


def _draw(canvas: _Canvas, doc: SlipDocument) -> float:
    lay = canvas.layout
    canvas.text(doc.hospital, lay.large_pt, bold=True, align=Qt.AlignmentFlag.AlignHCenter)
    canvas.text(doc.heading, lay.title_pt, bold=True, align=Qt.AlignmentFlag.AlignHCenter)
    if doc.reprint:
        canvas.gap()
        canvas.boxed(REPRINT_MARK, lay.title_pt, inverted=False)
    if doc.mark:
        canvas.gap()
        canvas.boxed(doc.mark, lay.mark_pt, inverted=True)
    canvas.separator()
    for block in doc.blocks:
        if isinstance(block, Field):
            canvas.field(block)
        elif isinstance(block, Table):
            canvas.table(block)
        elif isinstance(block, Text):
            pt = {"small": lay.small_pt, "large": lay.large_pt}.get(block.size, lay.base_pt)
            align = {"center": Qt.AlignmentFlag.AlignHCenter, "right": Qt.AlignmentFlag.AlignRight}.get(
                block.align, Qt.AlignmentFlag.AlignLeft)
            canvas.text(block.text, pt, bold=block.bold, align=align)
        elif isinstance(block, Separator):
            canvas.separator()
        elif isinstance(block, Spacer):
            canvas.spacer(block.lines)
    if doc.code is not None:
        canvas.gap()
        canvas.qr(doc.code.payload)
        if doc.code.caption:
            canvas.gap(0.6)
            canvas.text(doc.code.caption, lay.small_pt, align=Qt.AlignmentFlag.AlignHCenter)
    canvas.separator()
    for line in doc.footer:
        canvas.text(line, lay.small_pt)
    return canvas.y + canvas.mm(lay.margin_mm)


def _page_size(device: QPagedPaintDevice, doc: SlipDocument, layout: PageLayout) -> QPageSize:
    if layout.height_mm is not None:  # a sheet: Qt matches the size to its standard id (A5, A4)
        return QPageSize(QSizeF(layout.width_mm, layout.height_mm), QPageSize.Unit.Millimeter, layout.name,
                         QPageSize.SizeMatchPolicy.FuzzyMatch)
    height_px = _draw(_Canvas(device, layout, None), doc)
    height_mm = max(60.0, height_px / (device.logicalDpiY() / 25.4) + 8)  # + feed before the cutter
    return QPageSize(QSizeF(layout.width_mm, height_mm), QPageSize.Unit.Millimeter, "80mm receipt",
                     QPageSize.SizeMatchPolicy.ExactMatch)


def render_to(device: QPagedPaintDevice, doc: SlipDocument, layout: PageLayout, copies: int = 1) -> None:
    """Paint ``doc`` on a PDF writer or printer (its page set to the layout) — any thread."""
    device.setPageLayout(QPageLayout(_page_size(device, doc, layout), QPageLayout.Orientation.Portrait,
                                     QMarginsF(0, 0, 0, 0), QPageLayout.Unit.Millimeter))
    painter = QPainter()
    if not painter.begin(device):
        raise OSError("the paint device could not be opened")
    try:
        for copy in range(copies):
            if copy:
                device.newPage()
            _draw(_Canvas(device, layout, painter, device.newPage), doc)
    finally:
        painter.end()


def render_pdf(doc: SlipDocument, layout: PageLayout, path: Path, *, copies: int = 1) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = QPdfWriter(str(path))
    writer.setResolution(600)
    writer.setCreator("desktop_his")
    writer.setTitle(f"{doc.heading} {doc.reference}")
    render_to(writer, doc, layout, copies)
    del writer  # the file is complete when the writer is destroyed
    return path


def render_image(doc: SlipDocument, layout: PageLayout, *, dpi: int = 150) -> QImage:
    """The slip as an image (a preview in a view, or a check in a test); the first page of a sheet only."""
    probe = QImage(1, 1, QImage.Format.Format_RGB32)
    probe.setDotsPerMeterX(round(dpi / 0.0254))
    probe.setDotsPerMeterY(round(dpi / 0.0254))
    height_mm = layout.height_mm or _draw(_Canvas(probe, layout, None), doc) / (dpi / 25.4)
    image = QImage(round(layout.width_mm * dpi / 25.4), round(height_mm * dpi / 25.4), QImage.Format.Format_RGB32)
    image.setDotsPerMeterX(probe.dotsPerMeterX())
    image.setDotsPerMeterY(probe.dotsPerMeterY())
    image.fill(QColor("white"))
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        _draw(_Canvas(image, layout, painter, None), doc)
    finally:
        painter.end()
    return image
