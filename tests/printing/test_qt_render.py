"""Slips rendered with QPainter to PDF (80 mm and A5): the text is extracted back and checked."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from pypdf import PdfReader

from desktop_his.printing import PrinterSettings, pdf_file_name, print_slip
from desktop_his.printing import fonts as slip_fonts
from desktop_his.printing.qt_render import A5, LAYOUTS, RECEIPT_80, render_image, render_pdf
from desktop_his.services.slips import PrintError
from tests.printing.slipdata import FULL_ID, MASKED_ID, slip

pytestmark = pytest.mark.gui


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(str(path)).pages)


def page_sizes_mm(path: Path) -> list[tuple[int, int]]:
    return [(round(float(p.mediabox.width) / 72 * 25.4), round(float(p.mediabox.height) / 72 * 25.4))
            for p in PdfReader(str(path)).pages]


@pytest.mark.parametrize("layout", [RECEIPT_80, A5], ids=lambda lay: lay.name)
@pytest.mark.parametrize("mark", ["信用就医", "亲情付", "微信"])
def test_pdf_carries_mark_masked_id_and_queue_number(qapp, tmp_path: Path, layout, mark: str) -> None:  # noqa: ANN001
    path = render_pdf(slip(mark=mark), layout, tmp_path / "slip.pdf")
    text = pdf_text(path)
    assert mark in text
    assert MASKED_ID in text and FULL_ID not in text
    assert "12号" in text and "候诊号" in text
    assert "成都市第一人民医院" in text and "挂号导诊单" in text and "内科" in text and "¥15.00" in text
    assert "野" in text  # the BMP part of 𠮷野 (see fonts.py: Qt's PDF text layer drops 4-byte characters)
    assert "补打" not in text


@pytest.mark.parametrize("layout", [RECEIPT_80, A5], ids=lambda lay: lay.name)
def test_reprint_says_so(qapp, tmp_path: Path, layout) -> None:  # noqa: ANN001
    text = pdf_text(render_pdf(slip(reprint=True), layout, tmp_path / "slip.pdf"))
    assert "挂号导诊单（补打）" in text.replace(" ", "")
    assert text.count("补打") >= 2


def test_page_sizes(qapp, tmp_path: Path) -> None:  # noqa: ANN001
    [(w, h)] = page_sizes_mm(render_pdf(slip(), RECEIPT_80, tmp_path / "r.pdf"))
    assert w == 80 and 100 < h < 250  # the roll is as long as the slip
    assert page_sizes_mm(render_pdf(slip(), A5, tmp_path / "a5.pdf")) == [(148, 210)]
    assert len(page_sizes_mm(render_pdf(slip(), A5, tmp_path / "two.pdf", copies=2))) == 2


def test_rare_character_has_a_font_and_is_drawn(qapp) -> None:  # noqa: ANN001
    if slip_fonts.missing_characters("𠮷"):
        pytest.skip("no installed font covers CJK Ext-B on this machine (see docs/printing.md)")
    assert slip_fonts.printable("𠮷野") == "𠮷野"
    with_rare = render_image(slip(name="𠮷野"), RECEIPT_80, dpi=100)
    without = render_image(slip(name="\u3000野"), RECEIPT_80, dpi=100)
    assert with_rare.size() == without.size()
    assert with_rare != without  # something is drawn where 𠮷 stands


def test_character_no_font_has_is_marked_not_dropped(qapp, tmp_path: Path) -> None:  # noqa: ANN001
    unknown = "\U000F0001"  # supplementary private use: no font has it
    assert slip_fonts.missing_characters(unknown + "野") == {unknown}
    assert slip_fonts.printable(unknown + "野") == "〓野"
    text = pdf_text(render_pdf(slip(name=unknown + "野"), RECEIPT_80, tmp_path / "s.pdf"))
    assert "〓野" in text


def test_rendering_on_a_worker_thread(qapp, tmp_path: Path) -> None:  # noqa: ANN001
    """print_slip is called through the operation helper: QPdfWriter + QPainter off the GUI thread."""
    result: dict[str, object] = {}

    def work() -> None:
        try:
            result["path"] = print_slip(slip(), PrinterSettings(kind="pdf", layout="A5", pdf_folder=str(tmp_path))).path
        except Exception as exc:  # noqa: BLE001 - reported below
            result["error"] = exc

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(30)
    assert "error" not in result, result
    assert "信用就医" in pdf_text(result["path"])


def test_print_slip_to_pdf_folder(qapp, tmp_path: Path) -> None:  # noqa: ANN001
    doc = slip(reprint=True)
    result = print_slip(doc, PrinterSettings(kind="pdf"), default_pdf_folder=tmp_path / "slips")
    assert result.kind == "pdf" and result.path.parent == tmp_path / "slips"
    assert result.path.name == pdf_file_name(doc, doc.printed_at)
    assert result.path.name.startswith("registration-V20261123000042-") and result.path.name.endswith("-补打.pdf")
    with pytest.raises(PrintError, match="PDF保存文件夹"):
        print_slip(doc, PrinterSettings(kind="pdf"))


def test_missing_system_printer_is_a_clear_error(qapp) -> None:  # noqa: ANN001
    with pytest.raises(PrintError, match="找不到打印机“不存在的打印机”"):
        print_slip(slip(), PrinterSettings(kind="system", printer_name="不存在的打印机"))


def test_layout_names_match_the_settings() -> None:
    from desktop_his.printing.settings import LAYOUTS as SETTING_LAYOUTS

    assert set(LAYOUTS) == set(SETTING_LAYOUTS)


def test_qt_binding_keeps_none_alive() -> None:
    """PySide6 6.12.0 on Python 3.11 drops a reference to None on every void call, so a long print run (or any
    long-running window) aborts with "deallocating None". pyproject excludes that release; this catches others."""
    import sys

    from PySide6.QtCore import QRectF

    rect = QRectF()
    before = sys.getrefcount(None)
    for _ in range(500):
        rect.setWidth(1.0)
    assert sys.getrefcount(None) >= before - 10
