"""The order slip and the vaccination slip as documents (no Qt): who, where to go for each order, amounts, how
each is paid, the SPEC §6 mark with the visit's total on credit — and no mark when nothing went on credit."""

from __future__ import annotations

from datetime import date, datetime

from desktop_his.services.doctor_queue import GuideSlip, SlipLine
from desktop_his.services.order_slips import order_slip_document
from desktop_his.services.orders import CreditTotal

AT = datetime(2026, 11, 23, 9, 30)


def slip(mark: str | None, lines: tuple[SlipLine, ...], credit: CreditTotal) -> GuideSlip:
    return GuideSlip("V20261123000001", date(2026, 11, 23), "𠮷野", "5101**********2347", "女", 39, "内科", "李医生",
                     mark, lines, sum(line.amount_fen for line in lines), credit)


LAB = SlipLine("O1", "血常规", "", 1, "次", 2500, "检验科（门诊楼三楼）", "亲情付")
DRUG = SlipLine("O2", "阿莫西林胶囊", "0.25g*24粒", 2, "盒", 2500, "西药房（门诊楼一楼）", "请到收费窗口缴费")


def test_order_slip_groups_by_place_and_carries_the_mark() -> None:
    doc = order_slip_document(slip("亲情付", (LAB, DRUG), CreditTotal(1000, 2500, 0)), hospital="演示医院",
                              printed_at=AT, workstation="DOC-01")
    text = doc.plain_text()
    assert (doc.kind, doc.title, doc.mark, doc.reference) == ("order", "门诊导诊单", "亲情付", "V20261123000001")
    for expected in ("姓名：𠮷野", "证件号：5101**********2347", "请到：检验科（门诊楼三楼）", "请到：西药房（门诊楼一楼）",
                     "阿莫西林胶囊 0.25g*24粒 2盒 ¥25.00 请到收费窗口缴费", "合计：¥50.00", "亲情付：¥35.00",
                     "请先到收费窗口缴费", "打印时间：2026-11-23 09:30  DOC-01"):
        assert expected in text, expected


def test_vaccine_slip_without_credit_has_no_mark_and_no_window_note() -> None:
    paid = SlipLine("O3", "流感疫苗", "", 1, "支", 12800, "预防接种门诊（保健楼一楼）", "已缴费")
    doc = order_slip_document(slip("信用就医", (paid,), CreditTotal(0, 0, 0)), hospital="演示医院", printed_at=AT,
                              vaccine=True)
    text = doc.plain_text()
    assert (doc.kind, doc.title, doc.mark) == ("vaccine", "疫苗接种单", "")
    assert "信用就医" not in text and "收费窗口" not in text and "请到：预防接种门诊（保健楼一楼）" in text
