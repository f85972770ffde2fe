"""The doctor station's order slip (门诊导诊单) and the immunization desk's vaccination slip (疫苗接种单) as
:class:`~desktop_his.services.slips.SlipDocument`\\ s — printed by the same paths as the registration slip
(``desktop_his.printing.print_slip`` with this workstation's printer settings).

What the patient needs on the way out of the consulting room: who they are (name, masked ID), each order
grouped by where to go (pharmacy, lab, imaging …) with its amount and how it is paid, the total, and the
SPEC §6 mark ``信用就医`` or ``亲情付`` for a credit visit (with the visit's total on credit)."""

from __future__ import annotations

from datetime import datetime
from itertools import groupby

from desktop_his.services.doctor_queue import GuideSlip
from desktop_his.services.money import format_fen
from desktop_his.services.slips import Block, Field, Separator, SlipCode, SlipDocument, Table, Text
from desktop_his.services.texts import PAY_AT_WINDOW

ORDER_SLIP_TITLE = "门诊导诊单"
VACCINE_SLIP_TITLE = "疫苗接种单"


def order_slip_document(slip: GuideSlip, *, hospital: str, printed_at: datetime, workstation: str = "",
                        vaccine: bool = False, reprint: bool = False) -> SlipDocument:
    """The slip of one visit's submitted (not revoked) orders; ``vaccine=True`` for the vaccination slip."""
    blocks: list[Block] = [
        Field("姓名", slip.patient_name),
        Field("性别/年龄", f"{slip.sex_label} {slip.age}岁"),
        Field("证件号", slip.id_masked),
        Field("科室", slip.department_name),
    ]
    if slip.doctor_name:
        blocks.append(Field("医生", slip.doctor_name))
    blocks += [Field("就诊号", slip.visit_no), Field("就诊日期", f"{slip.visit_date:%Y-%m-%d}"), Separator()]
    if not slip.lines:
        blocks.append(Text("本次就诊暂无医嘱。", align="center"))
    for location, lines in groupby(slip.lines, key=lambda line: line.exec_location):
        blocks.append(Text(f"请到：{location or '按医生指引'}", bold=True))
        rows = tuple((f"{line.name}{' ' + line.spec if line.spec else ''}", f"{line.quantity}{line.unit}",
                      format_fen(line.amount_fen, symbol=True), line.paid_by) for line in lines)
        blocks.append(Table(("项目", "数量", "金额", "支付"), rows, weights=(5, 2, 3, 3),
                            align=("left", "right", "right", "left")))
    blocks += [Separator(), Field("合计", format_fen(slip.total_fen, symbol=True))]
    # A credit visit whose every charge went another way (lock refused, paid at the desk) carries no mark.
    mark = slip.mark if slip.mark and (slip.credit_total.total_fen or slip.credit_total.pending_fen) else ""
    if mark:
        # The visit's total on credit (registration fee included), as the doctor's pop-up shows it.
        blocks.append(Field(mark, format_fen(slip.credit_total.total_fen, symbol=True)))
    footer = [f"打印时间：{printed_at:%Y-%m-%d %H:%M}" + (f"  {workstation}" if workstation else "")]
    if any(line.paid_by == PAY_AT_WINDOW for line in slip.lines):
        footer.insert(0, "标“请到收费窗口缴费”的项目，请先缴费再进入接种室。" if vaccine
                      else "标“请到收费窗口缴费”的项目，请先到收费窗口缴费，再到相应地点检查、取药或治疗。")
    return SlipDocument(
        kind="vaccine" if vaccine else "order", hospital=hospital,
        title=VACCINE_SLIP_TITLE if vaccine else ORDER_SLIP_TITLE, reference=slip.visit_no, blocks=tuple(blocks),
        mark=mark, code=SlipCode(slip.visit_no, caption=f"就诊号 {slip.visit_no}"), footer=tuple(footer),
        reprint=reprint, printed_at=printed_at,
    )
