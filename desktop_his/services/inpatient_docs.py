"""The admission desk's A4 documents as :class:`SlipDocument` (no Qt): printed by ``printing.print_slip``.

- :func:`consent_document` — the written consent (书面确权), the plan's 附件1 reproduced word for word
  (成都市“信用就医”就医告知书) with the patient — and, when given, the proxy — filled in; without a proxy the
  proxy's name and number are blank lines for hand-writing. It carries **full ID numbers**: it is the paper the
  patient signs (the admission role may see them). Two additions to the template, because the name is now
  printed rather than hand-written: signature lines (委托人签字, and 代理人签字 when a proxy is named), and the
  admission number at the foot for the file.
- :func:`settlement_statement` — the discharge settlement statement (住院费用结算单): patient, stay, costs by
  category, every channel's money in and out, each payment, the balance; marked 信用就医 / 亲情付 when credit
  paid. ID numbers masked.
"""

from __future__ import annotations

from datetime import datetime

from desktop_his.services import ids, texts
from desktop_his.services.enums import IdType
from desktop_his.services.inpatient_types import PURPOSE_LABELS, ConsentInfo, Statement, category_label
from desktop_his.services.money import format_fen
from desktop_his.services.slips import Block, Field, Separator, SlipDocument, Spacer, Table, Text

CONSENT_TITLE = "成都市“信用就医”就医告知书"
STATEMENT_TITLE = "住院费用结算单"
INDENT = "\u3000\u3000"  # two full-width spaces: the first-line indent of a Chinese paragraph
BLANK_NAME = "__________（姓名）"
BLANK_NUMBER = "____________________（证件号）"
# 附件1, character for character (its own punctuation kept, e.g. "身份证号:" and "认可,并").
GREETING = "尊敬的居民："
HELLO = "您好！"
PARAGRAPH = ("成都市“信用就医”是成都市卫生健康委员会为进一步改善群众就医体验，解决群众就医过程中多次排队结算付费、"
             "就医排队长的重要举措，通过政府支持、银行支撑、个人授信，实现“先看病，后付费”的就医模式。"
             "现将有关事项告知如下：")
ITEM_1 = "1、住院“信用就医”服务。可使用“信用就医”专属额度缴纳住院预交金，出院结算时自费部分可选择“信用就医”专属额度进行支付。"
ITEM_2 = ("2、如无法亲自办理，兹委托 {name} ，{label}:{number} 为我的合法代理人，全权代表我办理住院过程中的"
          "“信用就医”相关缴费事项，我均予以认可,并承担相应的法律责任。")
DATE_LINE = "年\u3000\u3000\u3000月\u3000\u3000\u3000日"
WISH = "祝您早日康复！"


def id_label(id_type: str | None) -> str:
    """What the template calls the number: 身份证号 for a resident ID, the document's name otherwise."""
    if id_type is None or id_type == IdType.RESIDENT:
        return "身份证号"
    return f"{ids.ID_TYPE_LABELS[IdType(id_type)]}号码"


def consent_document(info: ConsentInfo, *, hospital: str, printed_at: datetime, workstation: str = "") -> SlipDocument:
    """The written consent for ``info`` (from ``InpatientService.mark_consent_printed``)."""
    proxy = info.proxy_name is not None
    item_2 = ITEM_2.format(name=info.proxy_name if proxy else BLANK_NAME, label=id_label(info.proxy_id_type),
                           number=info.proxy_id_number if proxy else BLANK_NUMBER)
    signatures = "委托人签字：______________" + ("\u3000\u3000代理人签字：______________" if proxy else "")
    blocks: list[Block] = [
        Spacer(0.5), Text(GREETING), Spacer(0.5), Text(INDENT + HELLO), Text(INDENT + PARAGRAPH), Spacer(0.5),
        Text(INDENT + ITEM_1), Spacer(0.5), Text(INDENT + item_2), Spacer(2),
        Text(f"委托人: {info.patient_name}\u3000\u3000{id_label(info.patient_id_type)}:{info.patient_id_number}"),
        Spacer(1.5), Text(signatures), Spacer(1.5), Text(DATE_LINE, align="right"), Spacer(1.5),
        Text(INDENT + WISH), Spacer(0.5),
        Text(f"咨询电话：{hospital}住院处电话：{info.office_phone or '________________'}"),
    ]
    footer = (f"住院号：{info.admission_no}\u3000{info.department_name}\u3000{info.ward} {info.bed}床",
              f"打印时间：{printed_at:%Y-%m-%d %H:%M}" + (f"\u3000{workstation}" if workstation else ""))
    return SlipDocument(kind="consent", hospital=hospital, title=CONSENT_TITLE, reference=info.admission_no,
                        blocks=tuple(blocks), footer=footer, printed_at=printed_at, layout="A4")


def _stay_days(statement: Statement) -> int:
    """Days in hospital the way bed days are billed (计入不计出, at least one)."""
    admitted = statement.account.admission.admitted_at.date()
    return max(1, (statement.settlement.discharge_date - admitted).days)


def _patient_blocks(statement: Statement) -> list[Block]:
    a, st = statement.account.admission, statement.settlement
    return [
        Field("住院号", a.admission_no), Field("姓名", f"{a.patient_name}（{a.patient_sex_label}，{a.patient_age}岁）"),
        Field("证件号", f"{a.id_type_label} {a.id_number_masked}"), Field("科室", a.department_name),
        Field("病区床号", f"{a.ward} {a.bed}床"), Field("主治医生", a.doctor_name or "—"),
        Field("住院日期", f"{a.admitted_at:%Y-%m-%d} 至 {st.discharge_date:%Y-%m-%d}（{_stay_days(statement)}天）"),
        Field("入院诊断", a.diagnosis or "—"),
    ]


def _cost_table(statement: Statement) -> Table:
    rows = [(category_label(c), format_fen(fen)) for c, fen in statement.account.cost_by_category]
    rows.append(("合计", format_fen(statement.account.total_cost_fen)))
    return Table(("费用类别", "金额（元）"), tuple(rows), weights=(3, 2), align=("left", "right"))


def _channel_table(statement: Statement) -> Table:
    acc = statement.account
    rows = [(c.label, format_fen(c.deposited_fen), format_fen(c.collected_fen), format_fen(c.out_fen),
             format_fen(c.net_fen)) for c in acc.channels]
    rows.append(("合计", format_fen(acc.deposited_fen), format_fen(acc.collected_fen), format_fen(acc.refunded_fen),
                 format_fen(acc.held_fen)))
    return Table(("支付方式", "预交金", "结算补缴", "退回", "实收"), tuple(rows), weights=(3, 2, 2, 2, 2),
                 align=("left", "right", "right", "right", "right"))


def _payment_table(statement: Statement) -> Table:
    rows = [(f"{p.created_at:%m-%d %H:%M}", p.payment_no, p.channel_label, PURPOSE_LABELS.get(p.purpose, p.purpose),
             format_fen(p.amount_fen), format_fen(p.refunded_fen))
            for p in statement.account.payments if p.status == "success"]
    return Table(("时间", "单号", "支付方式", "用途", "金额", "退回"), tuple(rows), weights=(2, 4, 2, 2, 2, 2),
                 align=("left", "left", "left", "left", "right", "right"))


def _result_blocks(statement: Statement) -> list[Block]:
    acc, st = statement.account, statement.settlement
    blocks: list[Block] = [Field("费用总额", format_fen(acc.total_cost_fen, symbol=True)),
                           Field("预交金合计", format_fen(acc.deposited_fen, symbol=True))]
    refunded_before = acc.deposited_fen - st.net_deposit_fen  # handed back during the stay
    if refunded_before:
        blocks.append(Field("住院期间已退", format_fen(refunded_before, symbol=True)))
    if st.balance_fen > 0:
        blocks.append(Field("出院退款", format_fen(st.balance_fen, symbol=True)))
    elif st.balance_fen < 0:
        blocks.append(Field("出院补缴", format_fen(-st.balance_fen, symbol=True)))
    blocks.append(Field("结算状态", "已结清" if st.status == "done" else "结算中：" + "；".join(st.outstanding)))
    queued = sum(line.queued_fen for line in st.lines)
    if queued:
        blocks.append(Text(f"注：{texts.SERVICE_NAME}退款{format_fen(queued, symbol=True)}因医院商户退款可用余额不足，"
                           "已进入退款队列，每日按提交顺序自动重新发起，直至退回您的“信用就医”额度。", size="small"))
    return blocks


def settlement_statement(statement: Statement, *, hospital: str, printed_at: datetime,
                         workstation: str = "") -> SlipDocument:
    """The discharge settlement statement (from ``InpatientService.statement``)."""
    acc, st = statement.account, statement.settlement
    blocks: list[Block] = [
        *_patient_blocks(statement), Separator(),
        Text("一、住院费用", bold=True), _cost_table(statement), Separator(),
        Text("二、预交金与结算（按支付方式）", bold=True), _channel_table(statement), Spacer(0.5),
        Text("缴费明细", size="small", bold=True), _payment_table(statement), Separator(),
        Text("三、结算结果", bold=True), *_result_blocks(statement),
    ]
    settled_at = st.completed_at or st.created_at
    footer = (f"结算员：{statement.clerk_name or '—'}\u3000结算时间：{settled_at:%Y-%m-%d %H:%M}",
              f"打印时间：{printed_at:%Y-%m-%d %H:%M}" + (f"\u3000{workstation}" if workstation else ""),
              "请妥善保管本结算单。")
    mark = texts.slip_mark(acc.credit_used, acc.admission.family_pay) or ""
    return SlipDocument(kind="settlement", hospital=hospital, title=STATEMENT_TITLE, reference=acc.admission.admission_no,
                        blocks=tuple(blocks), mark=mark, footer=footer, printed_at=printed_at, layout="A4")


