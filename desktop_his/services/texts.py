"""User-facing texts that must read the same everywhere.

The first block is SPEC §6 (the Chengdu plan §三): the mandated 信用就医 texts and marks, character for
character — ``tests/services/test_texts.py`` compares them with the SPEC. Import them; never retype them.
The second block is the house wording for situations the plan describes but does not word.
"""

from __future__ import annotations

from desktop_his.services.money import format_fen

# ------------------------------------------------------------------------------- SPEC §6: mandated, exact

SERVICE_NAME = "信用就医"  # the only name of the service (never another, see FORBIDDEN_SERVICE_NAMES)

# Registration window pop-up (confirm / cancel) for a signed patient.
REGISTRATION_CREDIT_PROMPT = (
    "您已签约“信用就医”，请确认本次挂号费用及后续可能产生医疗费用是否使用“信用就医”额度进行支付"
)
# Doctor station, on a credit visit: pop-up when the visit is opened and prominent mark in the queue.
DOCTOR_CREDIT_NOTICE = "该患者本次就诊已确认使用“信用就医”服务"
# Doctor station, after an order is submitted: followed by the visit's total on credit.
CREDIT_TOTAL_PREFIX = "患者本次使用“信用就医”额度支付总费用"
# Guide-slip marks.
SLIP_MARK_CREDIT = "信用就医"
SLIP_MARK_FAMILY = "亲情付"
# Refund queue: notice to the department that asked for a refund the bank could not pay.
REFUND_FAILED_NOTICE = "该居民退款失败"

# Names the plan forbids for the service (§三.一).
FORBIDDEN_SERVICE_NAMES = ("信用" "付",)  # written in two pieces so that no source file holds the name


def credit_total_text(total_fen: int) -> str:
    """The after-submit pop-up line: the mandated text followed by the amount (``…总费用：¥35.00``)."""
    return f"{CREDIT_TOTAL_PREFIX}：{format_fen(total_fen, symbol=True)}"


def slip_mark(credit: bool, family_pay: bool) -> str | None:
    """The mark a guide slip (and the doctor's queue) carries: 亲情付 for a family member's credit visit,
    信用就医 for the holder's own, none without credit."""
    if not credit:
        return None
    return SLIP_MARK_FAMILY if family_pay else SLIP_MARK_CREDIT


# ----------------------------------------------------------------------------- house wording (not SPEC)

# A lock the bank refused for lack of credit: what the doctor reads and tells the patient.
ORDER_LOCK_REFUSED = (
    "该医嘱金额超出患者“信用就医”可用额度，本医嘱未能使用“信用就医”支付。请告知患者到收费窗口以其他方式缴费。"
)
# The same at the immunization desk: the patient pays another way before entering the vaccination room.
VACCINE_LOCK_REFUSED = (
    "疫苗收费单金额超出患者“信用就医”可用额度，请患者在登记台以其他方式缴费后再进入接种室。"
)
# Where a slip sends a patient whose order is not covered by credit.
PAY_AT_WINDOW = "请到收费窗口缴费"
# Inpatient: the bank's pay check says the credit cannot pay the amount in full (plan §二.四.1:
# "选择其他方式支付或偿还“信用就医”额度后再支付").
INPATIENT_CREDIT_INSUFFICIENT = (
    "“信用就医”可用额度不足，本次不能使用“信用就医”缴费。请选择其他方式支付，或偿还“信用就医”额度后再支付。"
)
