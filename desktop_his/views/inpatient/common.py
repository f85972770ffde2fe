"""Small pieces the admission desk's widgets share: tables, money text, label rows, and printing an A4
document the way this workstation's printer settings say (called on a worker, never the GUI thread)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableView, QWidget

from desktop_his.services.money import format_fen

if TYPE_CHECKING:
    from PySide6.QtCore import QAbstractItemModel

    from desktop_his.printing import PrintResult
    from desktop_his.services.container import Services
    from desktop_his.services.slips import SlipDocument

OK_STYLE = "color: #1e8449;"
WARN_STYLE = "color: #b9770e;"
BAD_STYLE = "color: #c0392b;"
MARK_STYLE = "color: white; background: #1a5276; padding: 1px 6px; border-radius: 3px;"


def yuan(fen: int) -> str:
    return format_fen(fen, symbol=True)


def table(name: str, model: QAbstractItemModel, parent: QWidget | None = None, *, sortable: bool = False,
          stretch: bool = True) -> QTableView:
    """A read-only row-selecting table; ``stretch=False`` when the last column is an amount (a right-aligned
    figure at the far edge of a wide column is hard to read against its row)."""
    view = QTableView(parent)
    view.setObjectName(name)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.verticalHeader().hide()
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    view.horizontalHeader().setStretchLastSection(stretch)
    if sortable:
        view.setSortingEnabled(True)
        view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
    return view


def label(name: str, text: str = "", *, style: str = "", wrap: bool = True) -> QLabel:
    widget = QLabel(text)
    widget.setObjectName(name)
    widget.setWordWrap(wrap)
    widget.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if style:
        widget.setStyleSheet(style)
    return widget


def print_document(services: Services, document: SlipDocument) -> PrintResult:
    """Print on this workstation's printer for the document's kind (``printer:<kind>``, else its printer,
    else PDF files in ``<data_dir>/slips``). Blocking: run it on the ``io`` lane."""
    from desktop_his.printing import print_slip
    from desktop_his.printing.settings import load_printer_settings

    with services.db.reader() as s:
        settings = load_printer_settings(s, services.settings.workstation, document.kind)
    return print_slip(document, settings, default_pdf_folder=services.settings.data_dir / "slips")


def printed_text(result: PrintResult) -> str:
    """Where a document went, for the clerk."""
    if result.kind == "pdf":
        return f"已生成PDF文件：{result.target}"
    return f"已发送到打印机：{result.target}"
