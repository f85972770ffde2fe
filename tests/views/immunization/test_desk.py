"""预防接种登记台 through its widgets against the bank sandbox: find and register, 签约查询 and the patient's
confirmation, the vaccine slip locked (enough credit) and printed for the vaccination room; not enough credit →
paid at the desk by another channel before going in; not signed → paid at the desk; vaccinated."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from desktop_his.services import texts
from desktop_his.services.container import Services
from desktop_his.services.enums import FeeStatus
from desktop_his.services.models import Payment
from desktop_his.views.immunization.desk import ImmunizationDesk
from tests.factories import make_demo_patient
from tests.gui import Messages, screenshot, type_text, wait_ops
from tests.views.doctor.docfix import DocWorld, make_doc_world
from tests.views.inpatient.deskfix import pdf_text


@pytest.fixture
def world(sqlite_bank_services: Services) -> DocWorld:
    world = make_doc_world(sqlite_bank_services)
    with sqlite_bank_services.db.session() as s:
        for name in ("张伟", "王芳", "刘洋"):
            make_demo_patient(s, name)
    return world


@pytest.fixture
def desk(qtbot, world: DocWorld) -> ImmunizationDesk:  # noqa: ANN001
    view = ImmunizationDesk(world.services, world.h.nurse_actor)
    qtbot.addWidget(view)
    view.resize(1280, 780)
    view.show()
    wait_ops(qtbot)
    return view


def register(qtbot, desk: ImmunizationDesk, name: str) -> None:  # noqa: ANN001
    type_text(desk.search, name)
    desk.find_patients()
    wait_ops(qtbot)
    assert desk.patients.rows()[0].name == name
    desk.register_button.click()
    qtbot.waitUntil(lambda: desk.current is not None and desk.current.patient_name == name, timeout=5000)
    wait_ops(qtbot)


def charge_vaccine(qtbot, desk: ImmunizationDesk) -> None:  # noqa: ANN001
    composer = desk.composer
    type_text(composer.search, "lgym")  # 流感疫苗
    qtbot.waitUntil(lambda: composer.hits_query == "lgym" and composer.hits.rowCount() == 1, timeout=5000)
    composer.add_current()
    composer.submit_button.click()
    wait_ops(qtbot)


def test_enough_credit_locks_and_prints_the_slip(qtbot, desk: ImmunizationDesk, world: DocWorld) -> None:  # noqa: ANN001
    before = world.available()
    register(qtbot, desk, "张伟")
    prompt = desk.prompt
    assert prompt is not None and prompt.isVisible() and prompt.text.text() == texts.REGISTRATION_CREDIT_PROMPT
    screenshot(prompt, "immunization-credit-prompt")
    prompt.confirm_button.click()
    wait_ops(qtbot)
    qtbot.waitUntil(lambda: desk.current is not None and desk.current.credit, timeout=5000)
    assert "【信用就医】" in desk.visit_info.text()
    charge_vaccine(qtbot, desk)
    wait_ops(qtbot)
    assert "“信用就医”已锁定 ¥128.00" in desk.message.text() and "进入接种室" in desk.message.text()
    assert world.available() == before - 12800
    [slip] = desk.slips.rows()
    assert slip.fee_status == FeeStatus.LOCKED and desk.slips.index(0, 5).data() == "是"
    path = desk.last_print.path
    text = pdf_text(path)
    for expected in ("疫苗接种单", "张伟", "5101**********1232", "请到：预防接种门诊（保健楼一楼）", "流感疫苗",
                     "¥128.00"):
        assert expected in text, expected
    screenshot(desk, "immunization-desk")
    desk.done_button.click()
    wait_ops(qtbot)
    assert "接种完成" in desk.message.text()
    qtbot.waitUntil(lambda: desk.visits.rows()[0].status == "seen", timeout=5000)


def test_not_enough_credit_pays_at_the_desk_first(qtbot, desk: ImmunizationDesk, world: DocWorld,
                                                  msgs: Messages) -> None:  # noqa: ANN001
    register(qtbot, desk, "王芳")  # ¥30 of credit
    desk.prompt.confirm_button.click()
    wait_ops(qtbot)
    qtbot.waitUntil(lambda: desk.current.credit, timeout=5000)
    charge_vaccine(qtbot, desk)
    assert msgs.texts("warning") == [texts.VACCINE_LOCK_REFUSED]
    dialog = desk.pay_dialog
    assert dialog is not None and dialog.isVisible() and dialog.amount.fen() == 12800
    [slip] = desk.slips.rows()
    assert slip.fee_status == FeeStatus.UNPAID and desk.slips.index(0, 5).data() == ""
    assert not desk.done_button.isEnabled()
    dialog.set_channel("cash")
    type_text(dialog.cash, "100")
    dialog.save_button.click()
    wait_ops(qtbot)
    assert "实收现金不足" in dialog.errors.message("cash_received_fen")
    dialog.cash.setText("200")
    dialog.save_button.click()
    wait_ops(qtbot)
    assert not dialog.isVisible() and "已缴费 ¥128.00" in desk.message.text()
    wait_ops(qtbot)
    [slip] = desk.slips.rows()
    assert slip.fee_status == FeeStatus.PAID and desk.done_button.isEnabled()
    with world.services.db.reader() as s:
        payment = s.execute(select(Payment)).scalar_one()
        assert (payment.channel, payment.purpose, payment.change_fen) == ("cash", "vaccine", 7200)
    assert "疫苗接种单" in pdf_text(desk.last_print.path)


def test_unsigned_patient_pays_at_the_desk(qtbot, desk: ImmunizationDesk, msgs: Messages) -> None:  # noqa: ANN001
    register(qtbot, desk, "刘洋")
    qtbot.waitUntil(lambda: desk.sign is not None, timeout=5000)
    assert desk.prompt is None and "未签约" in desk.sign_status.text()
    charge_vaccine(qtbot, desk)
    assert desk.pay_dialog is not None and desk.pay_dialog.isVisible() and msgs.texts("warning") == []


def test_processing_lock_is_followed_up_then_the_slip_prints(qtbot, desk: ImmunizationDesk, world: DocWorld) -> None:  # noqa: ANN001
    register(qtbot, desk, "张伟")
    desk.prompt.confirm_button.click()
    wait_ops(qtbot)
    qtbot.waitUntil(lambda: desk.current.credit, timeout=5000)
    world.services.sandbox.admin.add_fault("lock", "processing", count=1)
    world.services.sandbox.admin.add_fault("after_pay_query", "processing", count=1)
    desk.settle_within = 0
    desk.follow_timer.setInterval(200)
    charge_vaccine(qtbot, desk)
    assert desk.pending and "确认中" in desk.message.text() and desk.last_print is None
    qtbot.waitUntil(lambda: desk.last_print is not None, timeout=15_000)
    assert not desk.pending and "“信用就医”已锁定 ¥128.00" in desk.message.text()
    wait_ops(qtbot)
    assert desk.slips.rows()[0].fee_status == FeeStatus.LOCKED
