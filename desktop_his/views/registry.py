"""The workstations the main window can host. A view joins the app with one entry here:

    Workstation("registration", "挂号收费", Action.REGISTER,
                lazy("desktop_his.views.registration.window:RegistrationWindow"), group="门诊")

- ``key``: stable id (also the view's objectName prefix in docs/ui-automation.md);
- ``title``: the Chinese name in the sidebar and the status bar;
- ``action``: the :class:`~desktop_his.services.permissions.Action` that makes it visible (the services
  enforce their own actions again — hiding is only convenience);
- ``factory(services, actor, parent) -> QWidget``: builds the view the first time it is opened.
  :func:`lazy` imports the module only then, which keeps start-up fast.
- ``group``: the sidebar section it is listed under.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from desktop_his.services.permissions import Action, Actor

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from desktop_his.services.container import Services

Factory = Callable[["Services", Actor, "QWidget"], "QWidget"]
ADMIN = "系统管理"


@dataclass(frozen=True)
class Workstation:
    key: str
    title: str
    action: Action
    factory: Factory
    group: str = ""

    def visible_for(self, actor: Actor) -> bool:
        return actor.can(self.action)


def lazy(target: str) -> Factory:
    """``lazy("package.module:ClassName")``: a factory importing the module on first use."""
    module_name, _, attribute = target.partition(":")

    def factory(services: Services, actor: Actor, parent: QWidget) -> QWidget:
        cls: Any = getattr(importlib.import_module(module_name), attribute)
        return cls(services, actor, parent)

    factory.__qualname__ = f"lazy({target})"
    return factory


WORKSTATIONS: list[Workstation] = [
    Workstation("inpatient", "住院处", Action.ADMIT, lazy("desktop_his.views.inpatient.desk:AdmissionDesk"), "住院"),
    Workstation("finance", "财务结算", Action.DEDUCTION_RUN, lazy("desktop_his.views.finance.desk:FinanceDesk"), "财务"),
    # Later issues add: 挂号收费 (registration window), 门诊医生站, 预防接种登记台, 住院处, 财务结算.
    Workstation("staff", "人员与角色", Action.STAFF_MANAGE, lazy("desktop_his.views.admin.staff:StaffPage"), ADMIN),
    Workstation("departments", "科室", Action.DEPARTMENT_MANAGE,
                lazy("desktop_his.views.admin.departments:DepartmentsPage"), ADMIN),
    Workstation("doctors", "医生", Action.DOCTOR_MANAGE, lazy("desktop_his.views.admin.doctors:DoctorsPage"), ADMIN),
    Workstation("schedules", "排班", Action.SCHEDULE_MANAGE,
                lazy("desktop_his.views.admin.schedules:SchedulesPage"), ADMIN),
    Workstation("slots", "号源一览", Action.SCHEDULE_MANAGE, lazy("desktop_his.views.admin.slots:SlotsPage"), ADMIN),
    Workstation("catalog", "价目表", Action.PRICE_MANAGE, lazy("desktop_his.views.admin.catalog:CatalogPage"), ADMIN),
    Workstation("hospital", "医院与挂号规则", Action.RULES_MANAGE,
                lazy("desktop_his.views.admin.hospital:HospitalPage"), ADMIN),
    Workstation("bank", "银行连接", Action.BANK_SETTINGS, lazy("desktop_his.views.admin.bank:BankPage"), ADMIN),
]


def visible_for(actor: Actor, entries: list[Workstation] | None = None) -> list[Workstation]:
    """The entries ``actor`` may open, in registry order."""
    return [w for w in (WORKSTATIONS if entries is None else entries) if w.visible_for(actor)]
