"""Who may do what. Enforced in the services (``require``), not only by hiding buttons."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from desktop_his.services.enums import ROLE_LABELS, Role
from desktop_his.services.errors import PermissionDenied


class Action(StrEnum):
    # patients
    PATIENT_VIEW = "patient.view"
    PATIENT_EDIT = "patient.edit"
    PATIENT_VIEW_FULL_ID = "patient.view_full_id"
    # registration window
    REGISTER = "registration.create"
    CHECK_IN = "registration.check_in"
    REGISTRATION_CANCEL = "registration.cancel"
    SWITCH_TO_CREDIT = "registration.switch_to_credit"
    TAKE_PAYMENT = "payment.take"  # another channel at a window or desk
    REFUND = "payment.refund"
    REPRINT = "slip.reprint"
    # doctor station
    QUEUE_VIEW = "doctor.queue"
    ORDER_WRITE = "order.write"
    ORDER_REVOKE = "order.revoke"
    # immunization desk
    VACCINE_CHARGE = "vaccine.charge"
    # inpatient admission desk
    ADMIT = "inpatient.admit"
    INPATIENT_CHARGE = "inpatient.charge"
    DEPOSIT = "inpatient.deposit"
    DISCHARGE_SETTLE = "inpatient.settle"
    # finance
    DEDUCTION_RUN = "finance.deduction"
    REFUND_QUEUE = "finance.refund_queue"
    RECONCILE = "finance.reconcile"
    MERCHANT_BALANCE = "finance.merchant_balance"
    REPORTS = "finance.reports"
    SHIFT_REPORT_OWN = "report.own_shift"
    DAY_END = "day_end.no_shows"
    # administration
    STAFF_MANAGE = "admin.staff"
    DEPARTMENT_MANAGE = "admin.departments"
    DOCTOR_MANAGE = "admin.doctors"
    SCHEDULE_MANAGE = "admin.schedules"
    SCHEDULE_SUSPEND = "admin.suspend"
    PRICE_MANAGE = "admin.prices"
    RULES_MANAGE = "admin.rules"
    BANK_SETTINGS = "admin.bank"
    AUDIT_VIEW = "admin.audit"
    # everyone signed in
    NOTIFICATIONS = "notifications.view"


ACTION_LABELS: dict[Action, str] = {
    Action.PATIENT_VIEW: "查看患者",
    Action.PATIENT_EDIT: "建档/修改患者",
    Action.PATIENT_VIEW_FULL_ID: "查看完整证件号",
    Action.REGISTER: "挂号",
    Action.CHECK_IN: "取号",
    Action.REGISTRATION_CANCEL: "退号",
    Action.SWITCH_TO_CREDIT: "改用信用就医",
    Action.TAKE_PAYMENT: "收费",
    Action.REFUND: "退费",
    Action.REPRINT: "补打",
    Action.QUEUE_VIEW: "查看候诊队列",
    Action.ORDER_WRITE: "开立医嘱",
    Action.ORDER_REVOKE: "撤销医嘱",
    Action.VACCINE_CHARGE: "开具疫苗收费单",
    Action.ADMIT: "办理入院",
    Action.INPATIENT_CHARGE: "记账住院费用",
    Action.DEPOSIT: "收取预缴金",
    Action.DISCHARGE_SETTLE: "出院结算",
    Action.DEDUCTION_RUN: "T日扣款",
    Action.REFUND_QUEUE: "退款队列",
    Action.RECONCILE: "对账",
    Action.MERCHANT_BALANCE: "查询商户余额",
    Action.REPORTS: "报表",
    Action.SHIFT_REPORT_OWN: "本人交班报表",
    Action.DAY_END: "日终爽约处理",
    Action.STAFF_MANAGE: "人员与角色管理",
    Action.DEPARTMENT_MANAGE: "科室管理",
    Action.DOCTOR_MANAGE: "医生管理",
    Action.SCHEDULE_MANAGE: "排班与号源管理",
    Action.SCHEDULE_SUSPEND: "停诊",
    Action.PRICE_MANAGE: "价目表管理",
    Action.RULES_MANAGE: "挂号规则设置",
    Action.BANK_SETTINGS: "银行连接设置",
    Action.AUDIT_VIEW: "查看审计日志",
    Action.NOTIFICATIONS: "查看通知",
}

A = Action
PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.CASHIER: frozenset({
        A.PATIENT_VIEW, A.PATIENT_EDIT, A.REGISTER, A.CHECK_IN, A.REGISTRATION_CANCEL, A.SWITCH_TO_CREDIT,
        A.TAKE_PAYMENT, A.REFUND, A.REPRINT, A.SHIFT_REPORT_OWN, A.NOTIFICATIONS,
    }),
    Role.DOCTOR: frozenset({
        A.PATIENT_VIEW, A.QUEUE_VIEW, A.ORDER_WRITE, A.ORDER_REVOKE, A.REPRINT, A.NOTIFICATIONS,
    }),
    Role.IMMUNIZATION: frozenset({
        A.PATIENT_VIEW, A.PATIENT_EDIT, A.VACCINE_CHARGE, A.ORDER_REVOKE, A.TAKE_PAYMENT, A.REFUND, A.REPRINT,
        A.SHIFT_REPORT_OWN, A.NOTIFICATIONS,
    }),
    Role.ADMISSION: frozenset({
        A.PATIENT_VIEW, A.PATIENT_EDIT, A.PATIENT_VIEW_FULL_ID, A.ADMIT, A.INPATIENT_CHARGE, A.DEPOSIT,
        A.DISCHARGE_SETTLE, A.TAKE_PAYMENT, A.REFUND, A.REPRINT, A.SHIFT_REPORT_OWN, A.NOTIFICATIONS,
    }),
    Role.FINANCE: frozenset({
        A.DEDUCTION_RUN, A.REFUND_QUEUE, A.RECONCILE, A.MERCHANT_BALANCE, A.REPORTS, A.SHIFT_REPORT_OWN,
        A.DAY_END, A.AUDIT_VIEW, A.NOTIFICATIONS,
    }),
    # Administrators set the hospital up; they do not take or move money (separation of duties).
    Role.ADMIN: frozenset({
        A.STAFF_MANAGE, A.DEPARTMENT_MANAGE, A.DOCTOR_MANAGE, A.SCHEDULE_MANAGE, A.SCHEDULE_SUSPEND,
        A.PRICE_MANAGE, A.RULES_MANAGE, A.BANK_SETTINGS, A.AUDIT_VIEW, A.DAY_END, A.REPORTS, A.PATIENT_VIEW,
        A.NOTIFICATIONS,
    }),
}


@dataclass(frozen=True)
class Actor:
    """The staff member (or scheduled job) on whose behalf a service call runs."""

    staff_id: int | None
    username: str
    display_name: str
    roles: frozenset[Role]
    workstation: str
    department_id: int | None = None
    doctor_id: int | None = None
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @classmethod
    def system(cls, workstation: str, job: str = "scheduler", *,
               roles: frozenset[Role] = frozenset({Role.FINANCE})) -> Actor:
        """A scheduled job, no interactive login: finance rights (settle, refund retry, reconcile) unless the
        job works for another desk and names that desk's role (the nightly bed-day run: ``Role.ADMISSION``)."""
        return cls(None, f"system:{job}", "系统任务", frozenset(roles), workstation)

    def can(self, action: Action) -> bool:
        return allowed(self.roles, action)


def allowed(roles: frozenset[Role] | set[Role], action: Action) -> bool:
    return any(action in PERMISSIONS.get(role, frozenset()) for role in roles)


def require(actor: Actor, action: Action) -> None:
    """Raise PermissionDenied (Chinese message) unless one of the actor's roles allows ``action``."""
    if not allowed(actor.roles, action):
        roles = "、".join(ROLE_LABELS[r] for r in sorted(actor.roles)) or "无角色"
        raise PermissionDenied(f"当前账号（{roles}）无权执行“{ACTION_LABELS[action]}”", code=str(action))


def require_any(actor: Actor, *actions: Action) -> None:
    """Pass when one of ``actions`` is allowed; otherwise raise the first one's PermissionDenied."""
    if not any(allowed(actor.roles, a) for a in actions):
        require(actor, actions[0])
