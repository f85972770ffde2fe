"""The patient's earlier visits (newest first) and, for the one selected, its orders."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from desktop_his.qt.table_model import RIGHT, Column, RecordTableModel
from desktop_his.services.doctor_queue import STATUS_LABELS, HistoryVisit
from desktop_his.services.enums import VisitStatus
from desktop_his.views.inpatient.common import table, yuan

VISIT_COLUMNS = [
    Column("日期", lambda v: f"{v.visit_date:%Y-%m-%d}", sort=lambda v: v.visit_date),
    Column("科室", lambda v: v.department_name), Column("医生", lambda v: v.doctor_name),
    Column("类别", lambda v: "预防接种" if v.kind == "vaccine" else "门诊"),
    Column("状态", lambda v: STATUS_LABELS.get(VisitStatus(v.status), v.status)),
    Column("信用就医", lambda v: ("亲情付" if v.family_pay else "信用就医") if v.credit else ""),
    Column("医嘱", lambda v: f"{len(v.orders)}单" if v.orders else "", align=RIGHT),
]
ITEM_COLUMNS = [
    Column("医嘱号", lambda r: r[0]), Column("项目", lambda r: r[1]), Column("数量", lambda r: r[2], align=RIGHT),
    Column("金额", lambda r: r[3], align=RIGHT), Column("状态", lambda r: r[4]),
]


class HistoryPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.visits = RecordTableModel(VISIT_COLUMNS, parent=self)
        self.items = RecordTableModel(ITEM_COLUMNS, parent=self)
        self.visit_table = table("doctor_history", self.visits, self)
        self.visit_table.selectionModel().currentRowChanged.connect(self._selected)
        self.item_table = table("doctor_history_orders", self.items, self)
        splitter = QSplitter()
        splitter.addWidget(self.visit_table)
        splitter.addWidget(self.item_table)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

    def show_history(self, visits: list[HistoryVisit]) -> None:
        self.visits.set_rows(visits)
        self.items.set_rows([])
        if visits:
            self.visit_table.selectRow(0)

    def _selected(self, current: Any, _previous: Any) -> None:
        if not current.isValid():
            return
        visit: HistoryVisit = self.visits.row(current.row())
        self.items.set_rows([(o.order_no or "", f"{i.name} {i.spec}".strip(), f"{i.quantity}{i.unit}",
                              yuan(i.amount_fen), o.status_label) for o in visit.orders for i in o.items])
