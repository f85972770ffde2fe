"""住院处 through its widgets, against the bank sandbox: admit (with field errors), deposits by another channel,
信用就医 deposits after the written consent (patient; proxy), not enough credit, bed charges and live refresh."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import select

from desktop_his.services import texts
from desktop_his.services.container import Services
from desktop_his.services.models import BankJournal, Payment
from desktop_his.views.inpatient.desk import AdmissionDesk
from tests.factories import DEMO_PEOPLE
from tests.gui import Messages, screenshot, type_text, wait_ops
from tests.views.inpatient.deskfix import OFFICE_PHONE, DeskWorld, make_desk_world, pdf_text


@pytest.fixture
def world(sqlite_bank_services: Services) -> DeskWorld:
    return make_desk_world(sqlite_bank_services)


@pytest.fixture
def desk(qtbot, world: DeskWorld) -> AdmissionDesk:  # noqa: ANN001
    view = AdmissionDesk(world.services, world.clerk)
    qtbot.addWidget(view)
    view.resize(1200, 760)
    view.show()
    wait_ops(qtbot)
    return view


def pick(qtbot, desk: AdmissionDesk, admission_id: int) -> None:  # noqa: ANN001
    desk.refresh()
    wait_ops(qtbot)
    desk.select_admission(admission_id)
    wait_ops(qtbot)
    assert desk.current is not None and desk.current.id == admission_id


def test_admit_through_the_dialog_with_field_errors(qtbot, desk: AdmissionDesk, world: DeskWorld,
                                                    qtmodeltester) -> None:  # noqa: ANN001
    world.patient("孙丽")
    desk.open_admit()
    dialog = desk.admit_dialog
    wait_ops(qtbot)
    dialog.save_button.click()
    assert dialog.errors.message("patient_id") == "请先查找并选择患者"
    type_text(dialog.search, "孙丽")
    qtbot.keyClick(dialog.search, Qt.Key.Key_Return)
    wait_ops(qtbot)
    assert [p.name for p in dialog.patients.rows()] == ["孙丽"] and "孙丽" in dialog.chosen.text()
    qtmodeltester.check(dialog.patients)
    assert dialog.department.currentText() == "内科" and dialog.doctor.currentText() == "王建国（主任医师）"
    assert dialog.ward.findText("内科病区") >= 0
    dialog.bed_rate.setCurrentIndex(1)
    assert dialog.daily_bed.fen() == 6000
    dialog.ward.setCurrentText("内科病区")
    dialog.diagnosis.setPlainText("社区获得性肺炎")
    dialog.save_button.click()  # no bed: the service refuses, at the field
    wait_ops(qtbot)
    assert "床号" in dialog.errors.message("bed") and desk.model.rows() == []
    type_text(dialog.bed, "12")
    screenshot(dialog, "inpatient-admit")
    dialog.save_button.click()
    wait_ops(qtbot)
    assert not dialog.isVisible()
    [row] = desk.model.rows()
    assert (row.patient_name, row.bed, row.daily_bed_fen, row.diagnosis) == ("孙丽", "12", 6000, "社区获得性肺炎")
    assert "已办理入院" in desk.message.text()
    assert desk.account.account is not None and desk.account.account.admission.id == row.id
    qtmodeltester.check(desk.proxy)
    assert "inpatient.admitted" in world.audit_actions()


def test_deposit_by_another_channel_and_bed_charges(qtbot, desk: AdmissionDesk, world: DeskWorld,
                                                    qtmodeltester) -> None:  # noqa: ANN001
    admission = world.admit("刘洋", "3", daily_bed_fen=6000)
    pick(qtbot, desk, admission.id)
    desk.bed_button.click()
    wait_ops(qtbot)
    assert desk.message.text() == "已计床位费 1 天，合计 ¥60.00"
    assert "inpatient.bed_charged" in world.audit_actions()
    desk.deposit_button.click()
    dialog = desk.deposit_dialog
    dialog.set_channel("wechat")
    type_text(dialog.amount, "2000")
    type_text(dialog.reference, "12345")  # not a WeChat code: refused at the field
    dialog.save_button.click()
    wait_ops(qtbot)
    assert "微信付款码" in dialog.errors.message("reference_no")
    dialog.reference.setText("134567890123456789")
    dialog.save_button.click()
    wait_ops(qtbot)
    assert not dialog.isVisible() and "¥2,000.00" in desk.message.text()
    assert "inpatient.deposit_taken" in world.audit_actions()
    account = desk.account.account
    assert (account.total_cost_fen, account.deposited_fen, account.balance_fen) == (6000, 200_000, 194_000)
    assert "余额 ¥1,940.00" in desk.account.summary.text()
    for model in desk.account.models.values():
        qtmodeltester.check(model)
    # Another desk (or the nightly job) posts a charge: the live feed refreshes this screen by itself.
    world.services.inpatient.post_charge(world.clerk, admission.id, description="护理费", unit_price_fen=3000)
    qtbot.waitUntil(lambda: desk.account.account.total_cost_fen == 9000, timeout=10_000)
    wait_ops(qtbot)


def start_credit(qtbot, desk: AdmissionDesk):  # noqa: ANN001, ANN201
    desk.credit_button.click()
    qtbot.waitUntil(lambda: desk.credit_flow is not None and (
        desk.credit_flow.consent_dialog is not None or desk.credit_flow.amount_dialog is not None
        or desk.credit_flow.sign is not None), timeout=10_000)
    wait_ops(qtbot)
    return desk.credit_flow


def test_deposit_by_credit_with_the_written_consent(qtbot, desk: AdmissionDesk, world: DeskWorld) -> None:  # noqa: ANN001
    admission = world.admit("孙丽", "5")
    pick(qtbot, desk, admission.id)
    assert "未签署" in desk.account.consent.text()
    flow = start_credit(qtbot, desk)
    consent = flow.consent_dialog
    assert consent.isVisible() and "孙丽" in consent.findChild(type(consent.status), "consent_patient").text()
    assert not consent.received_button.isEnabled()  # nothing to confirm before it is printed
    consent.print_button.click()
    wait_ops(qtbot)
    path = consent.print_result.path
    assert path is not None and path.exists() and str(path) in consent.status.text()
    text = pdf_text(path)
    for expected in ("成都市“信用就医”就医告知书", "委托人: 孙丽", DEMO_PEOPLE["孙丽"][2], admission.admission_no,
                     "__________（姓名）", OFFICE_PHONE):
        assert expected in text, expected
    screenshot(consent, "inpatient-consent")
    consent.received_button.click()
    wait_ops(qtbot)
    amount = flow.amount_dialog
    assert amount.isVisible() and "¥50,000.00" in amount.findChild(type(consent.status), "credit_info").text()
    type_text(amount.amount, "8000")
    screenshot(amount, "inpatient-credit-amount")
    before = world.available("孙丽")
    amount.pay_button.click()
    wait_ops(qtbot)
    assert not amount.isVisible()
    assert desk.message.text().startswith("已使用“信用就医”缴费¥8,000.00")
    assert world.available("孙丽") == before - 800_000
    wait_ops(qtbot)
    [payment] = desk.account.account.payments
    assert (payment.channel, payment.status, payment.amount_fen) == ("credit", "success", 800_000)
    assert "已收回签字件" in desk.account.consent.text()
    screenshot(desk, "inpatient-desk-after-credit")
    for action in ("inpatient.consent_created", "inpatient.consent_printed", "inpatient.consent_received",
                   "inpatient.credit_payment_started", "inpatient.credit_payment_success"):
        assert action in world.audit_actions()
    # A top-up later: the received consent counts, straight to the amount.
    flow = start_credit(qtbot, desk)
    assert flow.consent_dialog is None and flow.amount_dialog.isVisible()
    flow.amount_dialog.reject()


def test_consent_with_a_proxy(qtbot, desk: AdmissionDesk, world: DeskWorld) -> None:  # noqa: ANN001
    admission = world.admit("孙丽", "6")
    pick(qtbot, desk, admission.id)
    consent = start_credit(qtbot, desk).consent_dialog
    consent.proxy_box.setChecked(True)
    type_text(consent.proxy_name, "张伟")
    type_text(consent.proxy_id_number, "51010419850312123X")  # wrong check digit
    consent.print_button.click()
    wait_ops(qtbot)
    assert consent.errors.message("proxy_id_number") and consent.print_result is None
    consent.proxy_id_number.setText(DEMO_PEOPLE["张伟"][2])
    consent.print_button.click()
    wait_ops(qtbot)
    text = pdf_text(consent.print_result.path)
    assert f"兹委托 张伟 ，身份证号:{DEMO_PEOPLE['张伟'][2]} 为我的合法代理人" in text
    assert "代理人签字" in text and "委托人: 孙丽" in text
    type_text(consent.proxy_name, "张伟伟")  # changed after printing: must be printed again
    assert not consent.received_button.isEnabled() and "重新打印" in consent.status.text()
    consent.proxy_name.setText("张伟")
    consent.print_button.click()
    wait_ops(qtbot)
    consent.received_button.click()
    wait_ops(qtbot)
    views = world.services.inpatient.consents(world.clerk, admission.id)
    # The first print stays on file as printed; the changed form made a new consent, the one received.
    assert [(c.proxy_name, c.status) for c in views] == [("张伟", "printed"), ("张伟", "received")]
    desk.credit_flow.amount_dialog.reject()
    wait_ops(qtbot)
    assert "代理人 张伟" in desk.account.consent.text()


def test_not_enough_credit_offers_another_channel(qtbot, desk: AdmissionDesk, world: DeskWorld,
                                                  msgs: Messages) -> None:  # noqa: ANN001
    admission = world.admit("王芳", "7")  # ¥30 of credit
    world.consent(admission.id)
    pick(qtbot, desk, admission.id)
    flow = start_credit(qtbot, desk)
    type_text(flow.amount_dialog.amount, "500")
    flow.amount_dialog.pay_button.click()
    wait_ops(qtbot)
    assert texts.INPATIENT_CREDIT_INSUFFICIENT in msgs.texts("warning")
    assert any("其他方式" in t for t in msgs.texts("confirm"))
    with world.services.db.reader() as s:
        assert s.execute(select(Payment)).first() is None and s.execute(select(BankJournal)).first() is None
    dialog = desk.deposit_dialog
    assert dialog.isVisible() and dialog.amount.fen() == 50_000  # the same amount, another channel
    type_text(dialog.cash, "500")
    assert dialog.change.text() == "找零 ¥0.00"
    dialog.save_button.click()
    wait_ops(qtbot)
    [payment] = desk.account.account.payments
    assert (payment.channel, payment.amount_fen) == ("cash", 50_000)


def test_unsigned_patient_is_told_and_nothing_opens(qtbot, desk: AdmissionDesk, world: DeskWorld,
                                                    msgs: Messages) -> None:  # noqa: ANN001
    admission = world.admit("刘洋", "8")
    pick(qtbot, desk, admission.id)
    desk.credit_button.click()
    wait_ops(qtbot)
    assert any("未签约" in t for t in msgs.texts("warning"))
    assert desk.credit_flow.consent_dialog is None and desk.credit_flow.amount_dialog is None


def test_a_consent_printed_earlier_is_confirmed_when_the_signed_paper_comes_back(
        qtbot, desk: AdmissionDesk, world: DeskWorld) -> None:  # noqa: ANN001
    admission = world.admit("孙丽", "9")
    pick(qtbot, desk, admission.id)
    flow = start_credit(qtbot, desk)
    flow.consent_dialog.proxy_box.setChecked(True)
    type_text(flow.consent_dialog.proxy_name, "张伟")
    type_text(flow.consent_dialog.proxy_id_number, DEMO_PEOPLE["张伟"][2])
    flow.consent_dialog.print_button.click()
    wait_ops(qtbot)
    flow.consent_dialog.reject()  # the proxy takes the paper to the ward to sign
    assert not flow.running
    desk.credit_button.click()
    desk.credit_button.click()  # pressed twice while the sign query runs: one flow
    qtbot.waitUntil(lambda: desk.credit_flow.consent_dialog is not None, timeout=10_000)
    wait_ops(qtbot)
    consent = desk.credit_flow.consent_dialog
    assert consent.received_button.isEnabled() and "待签字" in consent.status.text()
    assert consent.proxy_box.isChecked() and consent.proxy_name.text() == "张伟"
    consent.received_button.click()
    wait_ops(qtbot)
    assert desk.credit_flow.amount_dialog.isVisible()
    [view] = world.services.inpatient.consents(world.clerk, admission.id)  # the same consent, not a new one
    assert (view.proxy_name, view.status) == ("张伟", "received")
    desk.credit_flow.amount_dialog.reject()
