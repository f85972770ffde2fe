"""Result codes the sandbox answers with (the same table is in docs/bank-api.md)."""

from __future__ import annotations

OK = "000000"
PROCESSING = "000001"  # status PROCESSING: the result is not final yet; ask the matching query

# The bank's own codes (SPEC §2).
REFUND_BALANCE_SHORT = "DCBS0004PL0974"  # 医药机构退款可用余额不足
ADPTSY_CODES = ("ADPTSY0003", "ADPTSY0004", "ADPTSY0005", "ADPTSY0006", "ADPTSY0008")

# Envelope / protocol (nothing was executed).
BAD_SIGNATURE = "XYP001"
STALE_TIMESTAMP = "XYP002"
REPLAYED_NONCE = "XYP003"
VALIDATION = "XYP004"
IDEMPOTENCY_CONFLICT = "XYP005"
NOT_FOUND = "XYP006"
DECRYPT_FAILED = "XYP007"
UNKNOWN_MERCHANT = "XYP008"
UNKNOWN_INTERFACE = "XYP009"

# Business refusals (definite: no money or credit moved).
NOT_SIGNED = "XYB001"  # agreement unknown or terminated
CREDIT_SHORT = "XYB002"  # amount exceeds available credit
NOT_CONFIRMED = "XYB003"  # lock for a visit that was not confirmed under this agreement
LOCK_NOT_ACTIVE = "XYB004"  # already deducted / cancelled / released at 24:00
EXCEEDS_LOCK = "XYB005"  # deduction larger than the lock
EXCEEDS_REFUNDABLE = "XYB006"  # refund larger than deducted/paid minus earlier refunds
IDENTITY_MISMATCH = "XYB007"  # deduction's name / ID number is not the lock's resident
BILL_NOT_AVAILABLE = "XYB008"  # bill day outside the last month, or not finished yet
FAMILY_RULE = "XYB009"  # 亲情付 group rule (admin)
ACCOUNT_RULE = "XYB010"  # admin: cannot sign / terminate / repay in this state

MESSAGES = {
    OK: "成功",
    PROCESSING: "处理中",
    REFUND_BALANCE_SHORT: "医药机构退款可用余额不足",
    "ADPTSY0003": "与外围系统建立连接失败",
    "ADPTSY0004": "获取外围系统响应超时",
    "ADPTSY0005": "与外围系统交互异常",
    "ADPTSY0006": "与外围系统交互异常",
    "ADPTSY0008": "Decode 响应报文发生异常",
    BAD_SIGNATURE: "签名验证失败",
    STALE_TIMESTAMP: "时间戳超出五分钟有效期",
    REPLAYED_NONCE: "重复的随机数（疑似重放）",
    VALIDATION: "请求参数不合法",
    IDEMPOTENCY_CONFLICT: "同一编号已用于参数不同的交易",
    NOT_FOUND: "未找到该编号的交易",
    DECRYPT_FAILED: "敏感字段解密失败",
    UNKNOWN_MERCHANT: "商户号不存在",
    UNKNOWN_INTERFACE: "接口不存在",
    NOT_SIGNED: "协议号无效或已解约",
    CREDIT_SHORT: "信用就医可用额度不足",
    NOT_CONFIRMED: "该就诊未确认使用信用就医",
    LOCK_NOT_ACTIVE: "锁定已扣除、已取消或已于24时释放",
    EXCEEDS_LOCK: "扣除金额超过锁定金额",
    EXCEEDS_REFUNDABLE: "退款金额超过可退金额",
    IDENTITY_MISMATCH: "姓名或证件号与锁定的居民不符",
    BILL_NOT_AVAILABLE: "只能下载一个月内已结束日期的账单",
    FAMILY_RULE: "亲情付绑定规则不允许",
    ACCOUNT_RULE: "当前签约状态不允许该操作",
}


def message(code: str) -> str:
    return MESSAGES.get(code, "错误")
