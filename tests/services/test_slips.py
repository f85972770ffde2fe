"""The slip document model and the registration guide slip built from a real registration (no Qt)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from desktop_his.services import texts
from desktop_his.services.db import Database
from desktop_his.services.enums import Role
from desktop_his.services.models import Visit
from desktop_his.services.payments import PaymentInput
from desktop_his.services.registration import RegistrationService
from desktop_his.services.slips import (
    MARK_CREDIT,
    MARK_FAMILY,
    Field,
    SlipCode,
    SlipDocument,
    Table,
    Text,
    registration_slip,
)
from tests.services import regfix

AT = datetime(2026, 11, 23, 9, 6)


@pytest.fixture
def registered(db: Database, clock):  # noqa: ANN001, ANN201
    with db.session() as s:
        doc = regfix.doctor(s, regfix.department(s, "内科", location="门诊楼2楼"), "李明", room="3诊室")
        slot = regfix.slot(s, doc, date(2026, 11, 23), fee_fen=1500)
        p = regfix.patient(s, "𠮷野", id_number="510108199212123019")
    svc = RegistrationService(db, clock)
    actor = regfix.actor(Role.CASHIER)
    return svc, actor, svc.register(actor, p.id, slot.id, payment=PaymentInput("cash", cash_received_fen=1500))


def test_guide_slip_content(registered) -> None:  # noqa: ANN001
    _, _, visit = registered
    doc = registration_slip(visit, hospital="成都市第一人民医院", printed_at=AT, workstation="窗口1")
    text = doc.plain_text()
    for expected in ["成都市第一人民医院", "挂号导诊单", "候诊号：1号", "姓名：𠮷野", "证件号：5101**********3019",
                     "科室：内科", "医生：李明 主治医师", "就诊时间：2026-11-23 上午 08:00-12:00",
                     "就诊地点：门诊楼2楼 3诊室", "挂号费：¥15.00", "支付方式：现金", "窗口1"]:
        assert expected in text
    assert "510108199212123019" not in text
    assert doc.mark == "现金" and doc.code == SlipCode(visit.visit_no, caption=f"就诊号 {visit.visit_no}")
    assert not doc.reprint and "补打" not in text


def test_reprint_is_marked(registered) -> None:  # noqa: ANN001
    svc, actor, visit = registered
    svc.record_slip_printed(actor, visit.id)
    again = svc.record_slip_printed(actor, visit.id)
    doc = registration_slip(again, hospital="医院", printed_at=AT)
    assert doc.reprint and doc.heading == "挂号导诊单（补打）"
    assert doc.plain_text().count("补打") >= 2


@pytest.mark.parametrize("family, mark", [(False, MARK_CREDIT), (True, MARK_FAMILY)])
def test_credit_marks(registered, db: Database, family: bool, mark: str) -> None:  # noqa: ANN001
    svc, actor, visit = registered
    with db.session() as s:
        v = s.get(Visit, visit.id)
        v.credit, v.family_pay = True, family
    doc = registration_slip(svc.visit(actor, visit.id), hospital="医院", printed_at=AT)
    assert doc.mark == mark and f"支付方式：{mark}" in doc.plain_text()
    assert texts.FORBIDDEN_SERVICE_NAMES[0] not in doc.plain_text()


def test_any_document_flattens_to_text() -> None:
    doc = SlipDocument(kind="order", hospital="医院", title="门诊收费单", reference="O1",
                       blocks=(Field("患者", "张伟"), Table(("项目", "金额"), (("血常规", "¥25.00"),)),
                               Text("请到检验科抽血", align="center")), mark="亲情付", footer=("谢谢",))
    assert doc.plain_text().splitlines() == ["医院", "门诊收费单", "亲情付", "患者：张伟", "项目 金额",
                                             "血常规 ¥25.00", "请到检验科抽血", "谢谢"]
