"""The 信用就医 protocol as typed values: requests, results, statuses and result codes.

These types are what workflows see; the wire encoding (field names, SM4, HMAC-SM3) is the adapter's business
(:mod:`desktop_his.services.bank.adapter`). Money requests name their own journal key: ``request.op`` and
``request.number`` (the hospital's number the bank keys idempotency on).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date
from enum import StrEnum
from typing import Any, ClassVar

from desktop_his.services.enums import BankOp, IdType
from desktop_his.services.errors import ValidationError


class BankStatus(StrEnum):
    """What the bank answered."""

    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    PROCESSING = "PROCESSING"


class OutcomeState(StrEnum):
    """What the hospital knows: PROCESSING, ADPTSY*, timeouts and broken replies are all UNKNOWN."""

    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    UNKNOWN = "UNKNOWN"


class Code:
    """Result codes (docs/bank-api.md has the table and what the client does with each)."""

    OK = "000000"
    PROCESSING = "000001"
    REFUND_BALANCE_SHORT = "DCBS0004PL0974"  # 医药机构退款可用余额不足: final FAILED, the refund queue retries
    CONNECT_FAILED = "ADPTSY0003"
    RESPONSE_TIMEOUT = "ADPTSY0004"
    INTERACTION_ERROR = "ADPTSY0005"
    INTERACTION_ERROR_2 = "ADPTSY0006"
    DECODE_ERROR = "ADPTSY0008"
    BAD_SIGNATURE = "XYP001"
    STALE_TIMESTAMP = "XYP002"
    REPLAYED_NONCE = "XYP003"
    VALIDATION = "XYP004"
    IDEMPOTENCY_CONFLICT = "XYP005"
    NOT_FOUND = "XYP006"
    DECRYPT_FAILED = "XYP007"
    UNKNOWN_MERCHANT = "XYP008"
    UNKNOWN_INTERFACE = "XYP009"
    NOT_SIGNED = "XYB001"
    CREDIT_SHORT = "XYB002"
    NOT_CONFIRMED = "XYB003"
    LOCK_NOT_ACTIVE = "XYB004"
    EXCEEDS_LOCK = "XYB005"
    EXCEEDS_REFUNDABLE = "XYB006"
    IDENTITY_MISMATCH = "XYB007"
    BILL_NOT_AVAILABLE = "XYB008"


# Answers that say nothing about whether the operation happened: the outcome stays unknown and is resolved
# by query or resend. Envelope refusals belong here because a resend's refusal says nothing about an earlier
# attempt of the same number.
UNKNOWN_CODES = frozenset({
    Code.PROCESSING, Code.CONNECT_FAILED, Code.RESPONSE_TIMEOUT, Code.INTERACTION_ERROR,
    Code.INTERACTION_ERROR_2, Code.DECODE_ERROR, Code.BAD_SIGNATURE, Code.STALE_TIMESTAMP,
    Code.REPLAYED_NONCE, Code.DECRYPT_FAILED, Code.UNKNOWN_MERCHANT, Code.UNKNOWN_INTERFACE,
})
# FAILED outcomes that a later resend of the same number may turn into SUCCESS (gateway.retry).
RETRYABLE_CODES = frozenset({Code.REFUND_BALANCE_SHORT})

MESSAGES = {
    Code.OK: "成功", Code.PROCESSING: "银行处理中",
    Code.REFUND_BALANCE_SHORT: "医药机构退款可用余额不足",
    Code.CONNECT_FAILED: "与银行建立连接失败", Code.RESPONSE_TIMEOUT: "获取银行响应超时",
    Code.INTERACTION_ERROR: "与银行交互异常", Code.INTERACTION_ERROR_2: "与银行交互异常",
    Code.DECODE_ERROR: "银行响应报文无法解析或验签失败",
    Code.BAD_SIGNATURE: "银行验签失败（请检查商户密钥）", Code.STALE_TIMESTAMP: "请求时间戳超出有效期（请检查本机时间）",
    Code.REPLAYED_NONCE: "银行判定为重复请求", Code.VALIDATION: "请求参数不合法",
    Code.IDEMPOTENCY_CONFLICT: "同一编号已用于参数不同的交易", Code.NOT_FOUND: "银行未找到该交易",
    Code.DECRYPT_FAILED: "银行无法解密敏感字段（请检查数据密钥）", Code.UNKNOWN_MERCHANT: "商户号未在银行登记",
    Code.UNKNOWN_INTERFACE: "银行不支持该接口",
    Code.NOT_SIGNED: "未签约或已解约“信用就医”", Code.CREDIT_SHORT: "“信用就医”可用额度不足",
    Code.NOT_CONFIRMED: "本次就诊未确认使用“信用就医”", Code.LOCK_NOT_ACTIVE: "该笔锁定已扣除、已取消或已于24时释放",
    Code.EXCEEDS_LOCK: "扣除金额超过锁定金额", Code.EXCEEDS_REFUNDABLE: "退款金额超过可退金额",
    Code.IDENTITY_MISMATCH: "姓名或证件号与锁定时的居民不符", Code.BILL_NOT_AVAILABLE: "只能下载一个月内已结束日期的账单",
}


def message_for(code: str | None) -> str:
    return MESSAGES.get(code or "", "银行返回错误")


# ----------------------------------------------------------------------------------------- requests

MAX_FEN = 10_000_000_000
ID_TYPES = frozenset(t.value for t in IdType)


def _check_text(name: str, value: Any, max_len: int = 64) -> None:
    if not isinstance(value, str) or not value.strip() or len(value) > max_len:
        raise ValidationError(f"银行请求字段 {name} 无效", field=name)


def _check_fen(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_FEN:
        raise ValidationError(f"金额 {name} 必须是正整数（分）", field=name)


@dataclass(frozen=True)
class BankRequest:
    """Base of every request; ``interface`` is the bank interface it calls."""

    op: ClassVar[BankOp]

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        names = cls.__dict__.get("_field_names")
        if names is None:  # cached per class: asdict() (a deep copy) was most of the cost of bulk intents
            names = tuple(f.name for f in fields(cls))
            cls._field_names = names  # type: ignore[attr-defined]
        return names

    def __post_init__(self) -> None:
        for name in self.field_names():
            value = getattr(self, name)
            if name.endswith("_fen"):
                _check_fen(name, value)
            elif isinstance(value, str) or value is not None and not isinstance(value, date):
                _check_text(name, value)
        if hasattr(self, "id_type") and self.id_type not in ID_TYPES:
            raise ValidationError("证件类型无效", field="id_type")

    def params(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.field_names()}


@dataclass(frozen=True)
class MoneyRequest(BankRequest):
    """A request that moves money or credit: journaled before it is sent."""

    key_field: ClassVar[str]

    @property
    def number(self) -> str:
        return getattr(self, self.key_field)

    @property
    def amount(self) -> int | None:
        """The money this request moves or locks (None for confirm and cancel)."""
        return getattr(self, "amount_fen", None)


@dataclass(frozen=True)
class ConfirmRequest(MoneyRequest):
    op: ClassVar[BankOp] = BankOp.CONFIRM
    key_field: ClassVar[str] = "visit_no"
    agreement_no: str
    visit_no: str


@dataclass(frozen=True)
class LockRequest(MoneyRequest):
    op: ClassVar[BankOp] = BankOp.LOCK
    key_field: ClassVar[str] = "lock_no"
    agreement_no: str
    visit_no: str
    lock_no: str
    amount_fen: int


@dataclass(frozen=True)
class DeductRequest(MoneyRequest):
    """``amount_fen`` is the actual amount (≤ the lock; the bank releases the rest)."""

    op: ClassVar[BankOp] = BankOp.DEDUCT
    key_field: ClassVar[str] = "lock_no"
    lock_no: str
    lock_serial: str
    amount_fen: int
    name: str
    id_type: str
    id_number: str


@dataclass(frozen=True)
class CancelRequest(MoneyRequest):
    op: ClassVar[BankOp] = BankOp.CANCEL
    key_field: ClassVar[str] = "lock_no"
    lock_no: str
    lock_serial: str


@dataclass(frozen=True)
class RefundRequest(MoneyRequest):
    """``original_serial``: the lock serial (or deduction serial) of a deducted lock, or a pay serial."""

    op: ClassVar[BankOp] = BankOp.REFUND
    key_field: ClassVar[str] = "refund_no"
    refund_no: str
    original_serial: str
    amount_fen: int


@dataclass(frozen=True)
class PayRequest(MoneyRequest):
    op: ClassVar[BankOp] = BankOp.PAY
    key_field: ClassVar[str] = "payment_no"
    agreement_no: str
    payment_no: str
    amount_fen: int


@dataclass(frozen=True)
class SignQuery(BankRequest):
    op: ClassVar[BankOp] = BankOp.SIGN_QUERY
    name: str
    id_type: str
    id_number: str


@dataclass(frozen=True)
class PayCheckRequest(BankRequest):
    op: ClassVar[BankOp] = BankOp.PAY_CHECK
    agreement_no: str
    amount_fen: int


@dataclass(frozen=True)
class PayQuery(BankRequest):
    op: ClassVar[BankOp] = BankOp.PAY_QUERY
    payment_no: str


@dataclass(frozen=True)
class AfterPayQuery(BankRequest):
    """Exactly one of ``visit_no`` (a confirm) or ``lock_no`` (a lock)."""

    op: ClassVar[BankOp] = BankOp.AFTER_PAY_QUERY
    visit_no: str | None = None
    lock_no: str | None = None

    def __post_init__(self) -> None:
        if (self.visit_no is None) == (self.lock_no is None):
            raise ValidationError("医后付查询须给出就诊号或锁定号之一")
        super().__post_init__()

    def params(self) -> dict[str, Any]:
        return {k: v for k, v in super().params().items() if v is not None}


@dataclass(frozen=True)
class RefundQuery(BankRequest):
    op: ClassVar[BankOp] = BankOp.REFUND_QUERY
    refund_no: str


@dataclass(frozen=True)
class BillRequest(BankRequest):
    op: ClassVar[BankOp] = BankOp.BILL
    bill_date: date

    def params(self) -> dict[str, Any]:
        return {"bill_date": self.bill_date.isoformat()}


@dataclass(frozen=True)
class MerchantBalanceRequest(BankRequest):
    op: ClassVar[BankOp] = BankOp.MERCHANT_BALANCE


MONEY_REQUESTS: dict[BankOp, type[MoneyRequest]] = {
    cls.op: cls for cls in (ConfirmRequest, LockRequest, DeductRequest, CancelRequest, RefundRequest, PayRequest)
}


def request_from_params(op: BankOp | str, params: dict[str, Any]) -> MoneyRequest:
    """Rebuild the journaled request (the resolver resends exactly what was journaled). Its fields were
    validated when it was journaled, so they are not checked again (bulk sends rebuild thousands)."""
    cls = MONEY_REQUESTS[BankOp(op)]
    request = cls.__new__(cls)
    for name in cls.field_names():
        object.__setattr__(request, name, params[name])
    return request


# ----------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class BankResult:
    """One answer (or the lack of one). ``status`` is None when no trustworthy answer arrived; ``code`` then is
    the ADPTSY code the client chose (connect failure, timeout, interaction error, decode error)."""

    status: BankStatus | None
    code: str
    message: str
    serial: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def state(self) -> OutcomeState:
        if self.status is BankStatus.SUCCESS:
            return OutcomeState.SUCCESS
        if self.status is BankStatus.FAILED and self.code not in UNKNOWN_CODES:
            return OutcomeState.FAILED
        return OutcomeState.UNKNOWN

    @classmethod
    def no_answer(cls, code: str, detail: str = "") -> BankResult:
        text = message_for(code) + (f"：{detail}" if detail else "")
        return cls(None, code, text[:200])


@dataclass(frozen=True)
class Outcome:
    """What a journaled operation came to. ``fields`` are the bank's result fields (serial, available_fen …)."""

    state: OutcomeState
    code: str | None
    message: str | None
    serial: str | None
    fields: dict[str, Any]
    journal_id: int

    @property
    def ok(self) -> bool:
        return self.state is OutcomeState.SUCCESS

    @property
    def failed(self) -> bool:
        return self.state is OutcomeState.FAILED

    @property
    def unknown(self) -> bool:
        return self.state is OutcomeState.UNKNOWN


@dataclass(frozen=True)
class Instalment:
    plan_no: str
    principal_fen: int
    periods: int
    paid_periods: int
    start_date: date
    annual_rate_bp: int
    next_due_date: date | None
    next_amount_fen: int
    remaining_fen: int


@dataclass(frozen=True)
class SignStatus:
    signed: bool
    agreement_no: str | None
    role: str | None  # "holder" (额度主体人) / "member" (额度共享人) / None
    holder_name_masked: str | None
    limit_fen: int
    available_fen: int
    instalments: tuple[Instalment, ...] = ()

    @property
    def family_pay(self) -> bool:
        """亲情付: the patient uses a family holder's credit (mark slips with 亲情付)."""
        return self.role == "member"


@dataclass(frozen=True)
class PayCheck:
    can_pay: bool
    available_fen: int


@dataclass(frozen=True)
class OpRecord:
    """The bank's record of one operation, as a query returns it."""

    op: str
    number: str
    status: BankStatus
    code: str
    message: str
    serial: str | None
    amount_fen: int | None
    day: date
    fields: dict[str, Any]


@dataclass(frozen=True)
class BillLine:
    serial: str
    op: str  # deduct / pay / refund
    number: str
    amount_fen: int
    status: str  # SUCCESS / FAILED
    code: str
    source: str  # receivables / reserve (refunds)
    time: str


@dataclass(frozen=True)
class Bill:
    bill_date: date
    lines: tuple[BillLine, ...]
    deductions_fen: int
    pays_fen: int
    refunds_receivables_fen: int
    refunds_reserve_fen: int
    net_fen: int
    clearing_fen: int | None
    cleared_on: date | None


@dataclass(frozen=True)
class MerchantBalance:
    balance_fen: int  # 暂收金额 = receivables + reserve
    receivables_fen: int
    reserve_fen: int
    has_reserve: bool
    cleared_total_fen: int
    as_of: str
