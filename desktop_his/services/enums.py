"""Domain vocabularies, stored as short strings in the database (no native DB enums: migrations stay simple)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    CASHIER = "cashier"
    DOCTOR = "doctor"
    ADMISSION = "admission"
    IMMUNIZATION = "immunization"
    FINANCE = "finance"
    ADMIN = "admin"


ROLE_LABELS = {
    Role.CASHIER: "挂号收费员",
    Role.DOCTOR: "门诊医生",
    Role.ADMISSION: "住院处",
    Role.IMMUNIZATION: "预防接种",
    Role.FINANCE: "财务结算",
    Role.ADMIN: "系统管理员",
}


class IdType(StrEnum):
    RESIDENT = "01"  # 居民身份证
    HK_MACAO = "02"  # 港澳居民来往内地通行证
    TAIWAN = "03"  # 台湾居民来往大陆通行证
    PASSPORT = "04"  # 护照


class Sex(StrEnum):
    MALE = "M"
    FEMALE = "F"


SEX_LABELS = {Sex.MALE: "男", Sex.FEMALE: "女"}


class Period(StrEnum):
    MORNING = "AM"
    AFTERNOON = "PM"
    EVENING = "EV"


PERIOD_LABELS = {Period.MORNING: "上午", Period.AFTERNOON: "下午", Period.EVENING: "晚间"}


class DepartmentKind(StrEnum):
    CLINICAL = "clinical"  # registrable outpatient department
    PHARMACY = "pharmacy"
    LAB = "lab"
    IMAGING = "imaging"
    TREATMENT = "treatment"
    VACCINATION = "vaccination"
    WARD = "ward"
    ADMINISTRATIVE = "admin"  # finance, cashier office, admission office …


class Channel(StrEnum):
    CREDIT = "credit"  # 信用就医
    CASH = "cash"
    WECHAT = "wechat"
    ALIPAY = "alipay"
    UNIONPAY = "unionpay"
    INSURANCE = "insurance"


CHANNEL_LABELS = {
    Channel.CREDIT: "信用就医",
    Channel.CASH: "现金",
    Channel.WECHAT: "微信",
    Channel.ALIPAY: "支付宝",
    Channel.UNIONPAY: "银联卡",
    Channel.INSURANCE: "医保",
}


class VisitStatus(StrEnum):
    REGISTERED = "registered"  # booked, not yet checked in (取号)
    CHECKED_IN = "checked_in"
    CALLED = "called"
    SEEN = "seen"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


class FeeStatus(StrEnum):
    """Where the money for a charge (visit fee, order, deposit) stands."""

    UNPAID = "unpaid"  # to be paid at the window
    PENDING = "pending"  # a bank operation is in flight / outcome unknown
    PAID = "paid"  # paid by another channel
    LOCKED = "locked"  # 信用就医 credit locked, to be deducted on T
    DEDUCTED = "deducted"
    CANCELLED = "cancelled"  # lock released / charge voided before payment
    REFUNDED = "refunded"
    PARTLY_REFUNDED = "partly_refunded"


class CatalogKind(StrEnum):
    REGISTRATION = "registration"
    DRUG = "drug"
    LAB = "lab"
    EXAM = "exam"
    TREATMENT = "treatment"
    VACCINE = "vaccine"
    BED = "bed"
    OTHER = "other"


CATALOG_KIND_LABELS = {
    CatalogKind.REGISTRATION: "挂号",
    CatalogKind.DRUG: "药品",
    CatalogKind.LAB: "检验",
    CatalogKind.EXAM: "检查",
    CatalogKind.TREATMENT: "治疗",
    CatalogKind.VACCINE: "疫苗",
    CatalogKind.BED: "床位",
    CatalogKind.OTHER: "其他",
}


class OrderKind(StrEnum):
    OUTPATIENT = "outpatient"
    VACCINE = "vaccine"
    INPATIENT = "inpatient"


class OrderStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    EXECUTED = "executed"  # carried out (dispensed, sampled, vaccinated …): no longer revocable
    REVOKED = "revoked"


class LockStatus(StrEnum):
    """A 信用就医 credit lock (registration fee, order, vaccine slip)."""

    PENDING = "pending"  # journaled, outcome not yet known
    LOCKED = "locked"
    FAILED = "failed"  # the bank refused (e.g. not enough credit)
    DEDUCTED = "deducted"
    CANCELLED = "cancelled"  # released by the hospital (取消)
    EXPIRED = "expired"  # released by the bank at 24:00 without a deduction: collect another way
    REFUNDED = "refunded"  # deducted, then refunded in full


class BankOp(StrEnum):
    """The thirteen bank interfaces (SPEC §2)."""

    SIGN_QUERY = "sign_query"
    CONFIRM = "confirm"
    LOCK = "lock"
    DEDUCT = "deduct"
    CANCEL = "cancel"
    REFUND = "refund"
    PAY_CHECK = "pay_check"
    PAY = "pay"
    PAY_QUERY = "pay_query"
    AFTER_PAY_QUERY = "after_pay_query"
    REFUND_QUERY = "refund_query"
    BILL = "bill"
    MERCHANT_BALANCE = "merchant_balance"


# Operations that move money or credit and therefore go through the write-ahead journal.
JOURNALED_OPS = frozenset({BankOp.CONFIRM, BankOp.LOCK, BankOp.DEDUCT, BankOp.CANCEL, BankOp.REFUND, BankOp.PAY})


class JournalState(StrEnum):
    INTENT = "intent"  # committed locally, not yet (known to be) sent
    SENT = "sent"  # handed to the network; a crash here means "unknown"
    UNKNOWN = "unknown"  # timeout / ADPTSY* / PROCESSING: resolve by query or resend of the same number
    SUCCESS = "success"
    FAILED = "failed"  # the bank definitely refused (a code is recorded)


class RefundMethod(StrEnum):
    BANK_CANCEL = "bank_cancel"  # T-day, before deduction: 【信用就医取消】
    BANK_REFUND = "bank_refund"  # after deduction or a pay: 【信用就医退款】
    RECORDED = "recorded"  # another channel: the cashier pays back and records it


class RefundStatus(StrEnum):
    PENDING = "pending"  # journaled / in flight
    QUEUED = "queued"  # DCBS0004PL0974: waits in the refund queue, retried daily in submission order
    SUCCESS = "success"
    FAILED = "failed"  # refused for another reason: needs a person


class AdmissionStatus(StrEnum):
    ADMITTED = "admitted"
    DISCHARGING = "discharging"
    SETTLED = "settled"


class NoShowKind(StrEnum):
    NO_SHOW = "no_show"  # +1
    FORGIVEN = "forgiven"  # 取三减一: −1 after three check-ins in a row
    BLACKLISTED = "blacklisted"  # 3 no-shows → blacklisted for 3 months
    CHECK_IN = "check_in"  # counts toward 取三减一


class NotificationKind(StrEnum):
    REFUND_FAILED = "refund_failed"  # 该居民退款失败
    LOCK_EXPIRED = "lock_expired"  # lock released at 24:00 without deduction: collect another way
    SCHEDULE_SUSPENDED = "schedule_suspended"
    DEADLINE_WARNING = "deadline_warning"
    INFO = "info"
