"""The price list (收费项目目录): drugs, labs, exams, treatments, vaccines, bed-days …

Items are never deleted (orders keep pointing at them); they are deactivated. A price change is audited with
the old and new price; orders snapshot their prices, so a change never alters what was already charged.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desktop_his.services import audit, live, money, pinyin
from desktop_his.services.admin import common
from desktop_his.services.clock import Clock
from desktop_his.services.db import Database
from desktop_his.services.enums import CatalogKind
from desktop_his.services.errors import Conflict, NotFound, ValidationError
from desktop_his.services.models import CatalogItem, Department
from desktop_his.services.permissions import Action, Actor, require

TOPIC = "catalog"


@dataclass(frozen=True)
class CatalogRow:
    id: int
    code: str
    name: str
    pinyin: str
    kind: str
    spec: str
    unit: str
    price_fen: int
    exec_department_id: int | None
    exec_department_name: str
    exec_location: str
    active: bool


@dataclass
class CatalogForm:
    code: str
    name: str
    kind: str
    price_yuan: str
    spec: str = ""
    unit: str = "次"
    exec_department_id: int | None = None
    pinyin: str = ""
    active: bool = True


class CatalogAdminService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def list_items(self, *, kind: str | None = None, active_only: bool = False) -> list[CatalogRow]:
        query = select(CatalogItem).order_by(CatalogItem.kind, CatalogItem.code)
        if kind:
            query = query.where(CatalogItem.kind == kind)
        if active_only:
            query = query.where(CatalogItem.active.is_(True))
        with self.db.reader() as s:
            departments = {d.id: d for d in s.execute(select(Department)).scalars()}
            return [_row(item, departments.get(item.exec_department_id)) for item in s.execute(query).scalars()]

    def create_item(self, actor: Actor, form: CatalogForm) -> CatalogRow:
        return self._save(actor, None, form)

    def update_item(self, actor: Actor, item_id: int, form: CatalogForm) -> CatalogRow:
        return self._save(actor, item_id, form)

    def _save(self, actor: Actor, item_id: int | None, form: CatalogForm) -> CatalogRow:
        require(actor, Action.PRICE_MANAGE)
        values = _values(form)
        now = self.clock.now()
        with common.unique_guard(f"项目编码“{values['code']}”已被使用", field="code"), self.db.session() as s:
            _unique_code(s, item_id, values["code"])
            department = _exec_department(s, values["exec_department_id"])
            if item_id is None:
                item = CatalogItem(**values, updated_at=now)
                s.add(item)
                old_price = None
            else:
                item = s.get(CatalogItem, item_id)
                if item is None:
                    raise NotFound("该收费项目不存在（可能已被他人删除），请刷新")
                old_price = item.price_fen
                for key, value in values.items():
                    setattr(item, key, value)
                item.updated_at = now
            s.flush()
            detail = {k: v for k, v in values.items() if k != "pinyin"}
            if old_price is not None and old_price != item.price_fen:
                detail["old_price_fen"] = old_price
            audit.append(s, actor=actor, action="catalog.created" if item_id is None else "catalog.updated",
                         at=now, entity="catalog_item", entity_id=item.id, detail=detail)
            live.publish(s, TOPIC)
            return _row(item, department)


def _values(form: CatalogForm) -> dict:
    name = common.text(form.name, field="name", label="项目名称", max_len=100)
    try:
        kind = CatalogKind(form.kind)
    except ValueError as exc:
        raise ValidationError("请选择项目类别", field="kind") from exc
    price = money.parse_yuan(form.price_yuan, field="price")
    if price == 0 and kind is not CatalogKind.OTHER:
        raise ValidationError("单价必须大于零", field="price")
    return {
        "code": common.code(form.code, label="项目编码", max_len=30), "name": name,
        "pinyin": (form.pinyin or "").strip().lower() or pinyin.initials(name), "kind": str(kind),
        "spec": common.text(form.spec, field="spec", label="规格", required=False, max_len=100),
        "unit": common.text(form.unit, field="unit", label="单位", max_len=20),
        "price_fen": price, "exec_department_id": form.exec_department_id, "active": bool(form.active),
    }


def _unique_code(s: Session, item_id: int | None, code: str) -> None:
    query = select(CatalogItem.id).where(func.upper(CatalogItem.code) == code)
    if item_id is not None:
        query = query.where(CatalogItem.id != item_id)
    if s.execute(query).first() is not None:
        raise Conflict(f"项目编码“{code}”已被使用", field="code")


def _exec_department(s: Session, department_id: int | None) -> Department | None:
    if department_id is None:
        return None
    department = s.get(Department, department_id)
    if department is None:
        raise ValidationError("所选执行科室不存在，请刷新后重选", field="exec_department_id")
    return department


def _row(item: CatalogItem, department: Department | None) -> CatalogRow:
    return CatalogRow(item.id, item.code, item.name, item.pinyin, item.kind, item.spec, item.unit, item.price_fen,
                      item.exec_department_id, department.name if department else "",
                      department.location if department else "", item.active)
