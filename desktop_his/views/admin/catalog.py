"""价目表: code, name (pinyin), kind, spec, unit, price (yuan → fen), executing department (where to go)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLineEdit

from desktop_his.qt.money_edit import MoneyEdit
from desktop_his.qt.table_model import CENTER, RIGHT, Column
from desktop_his.services import pinyin
from desktop_his.services.admin.catalog_admin import CatalogForm, CatalogRow
from desktop_his.services.enums import CATALOG_KIND_LABELS, CatalogKind
from desktop_his.services.money import format_fen
from desktop_his.views.admin.page import FormPage


class CatalogPage(FormPage):
    key = "catalog"
    noun = "收费项目"
    topics = ("catalog", "departments")
    columns = [
        Column("编码", lambda r: r.code),
        Column("名称", lambda r: r.name),
        Column("类别", lambda r: CATALOG_KIND_LABELS[CatalogKind(r.kind)]),
        Column("规格", lambda r: r.spec),
        Column("单位", lambda r: r.unit, align=CENTER),
        Column("单价", lambda r: format_fen(r.price_fen), sort=lambda r: r.price_fen, align=RIGHT),
        Column("执行科室", lambda r: r.exec_department_name),
        Column("状态", lambda r: "在用" if r.active else "停用", align=CENTER),
    ]

    def build_form(self, form: QFormLayout) -> None:
        self.kind_filter = QComboBox()
        self.kind_filter.setObjectName("catalog_kind_filter")
        self.kind_filter.addItem("全部类别", None)
        for kind, label in CATALOG_KIND_LABELS.items():
            self.kind_filter.addItem(label, str(kind))
        self.kind_filter.currentIndexChanged.connect(self._kind_filter_changed)
        self.toolbar.insertWidget(1, self.kind_filter)
        self.code = QLineEdit()
        self.name = QLineEdit()
        self.pinyin = QLineEdit()
        self.pinyin.setPlaceholderText("自动按名称生成")
        self.name.textEdited.connect(lambda text: self.pinyin.setText(pinyin.initials(text)))
        self.kind = QComboBox()
        for kind, label in CATALOG_KIND_LABELS.items():
            self.kind.addItem(label, str(kind))
        self.spec = QLineEdit()
        self.spec.setPlaceholderText("例如：0.25g*24粒")
        self.unit = QLineEdit()
        self.price = MoneyEdit()
        self.exec_department = QComboBox()
        self.active = QCheckBox("在用")
        form.addRow("项目编码", self.field(self.code, "code"))
        form.addRow("项目名称", self.field(self.name, "name"))
        form.addRow("拼音首字母", self.field(self.pinyin, "pinyin"))
        form.addRow("类别", self.field(self.kind, "kind"))
        form.addRow("规格", self.field(self.spec, "spec"))
        form.addRow("单位", self.field(self.unit, "unit"))
        form.addRow("单价（元）", self.field(self.price, "price"))
        form.addRow("执行科室", self.field(self.exec_department, "exec_department_id"))
        form.addRow("", self.field(self.active, "active"))

    def _kind_filter_changed(self) -> None:
        kind = self.kind_filter.currentData()
        self.proxy.set_predicate(None if kind is None else (lambda r: r.kind == kind))

    def fill(self, row: CatalogRow | None) -> None:
        self.code.setText(row.code if row else "")
        self.name.setText(row.name if row else "")
        self.pinyin.setText(row.pinyin if row else "")
        default_kind = self.kind_filter.currentData() or str(CatalogKind.DRUG)
        self.kind.setCurrentIndex(self.kind.findData(row.kind if row else default_kind))
        self.spec.setText(row.spec if row else "")
        self.unit.setText(row.unit if row else "次")
        self.price.set_fen(row.price_fen if row else None)
        self.exec_department.setCurrentIndex(max(0, self.exec_department.findData(
            row.exec_department_id if row else None)))
        self.active.setChecked(row.active if row else True)

    def collect(self) -> CatalogForm:
        return CatalogForm(self.code.text(), self.name.text(), self.kind.currentData(), self.price.yuan_text(),
                           self.spec.text(), self.unit.text(), self.exec_department.currentData(),
                           self.pinyin.text(), self.active.isChecked())

    def save_work(self, row: CatalogRow | None, form: CatalogForm) -> Callable[[], Any]:
        catalog, actor = self.services.catalog, self.actor
        if row is None:
            return lambda: catalog.create_item(actor, form)
        return lambda: catalog.update_item(actor, row.id, form)

    def loader(self) -> Callable[[], Any]:
        catalog, org = self.services.catalog, self.services.organisation
        return lambda: (catalog.list_items(), org.list_departments())

    def show_data(self, data: Any) -> None:
        rows, departments = data
        current = self.exec_department.currentData()
        self.exec_department.clear()
        self.exec_department.addItem("（无）", None)
        for dept in departments:
            self.exec_department.addItem(f"{dept.name}　{dept.location}", dept.id)
        self.exec_department.setCurrentIndex(max(0, self.exec_department.findData(current)))
        self.model.set_rows(rows)

    def search_text(self, row: CatalogRow) -> str:
        return f"{row.code} {row.name} {row.pinyin} {row.spec}"
