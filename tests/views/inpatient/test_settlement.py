"""出院结算 through the settlement dialog, against the bank sandbox: a surplus refunded over three channels
within their caps, a shortfall paid by 信用就医 (consent, pay check, pay), and a 信用就医 refund the bank
answers DCBS0004PL0974 (queued, department notified, then finished by the refund queue)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from desktop_his.services import texts
from desktop_his.services.container import Services
from desktop_his.services.models import Notification
from desktop_his.views.inpatient.desk import AdmissionDesk
from desktop_his.views.inpatient.settlement_dialog import SettlementDialog
from tests.gui import Messages, screenshot, wait_ops
from tests.views.inpatient.deskfix import DeskWorld, make_desk_world, pdf_text


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


def open_settlement(qtbot, desk: AdmissionDesk, admission_id: int) -> SettlementDialog:  # noqa: ANN001
    desk.refresh()
    wait_ops(qtbot)
    desk.select_admission(admission_id)
    wait_ops(qtbot)
    desk.settle_button.click()
    wait_ops(qtbot)
    dialog = desk.settlement_dialog
    assert dialog is not None and dialog.isVisible()
    return dialog


def start(qtbot, dialog: SettlementDialog) -> None:  # noqa: ANN001
    dialog.start_button.click()
    wait_ops(qtbot)
    qtbot.waitUntil(lambda: dialog.statement is not None, timeout=10_000)


def refund_line(qtbot, dialog: SettlementDialog, line_no: int, reference: str = "") -> None:  # noqa: ANN001
    dialog.lines_table.selectRow(dialog.lines.find(lambda ln: ln.line_no == line_no))
    dialog.reference.setText(reference)
    dialog.refund_button.click()
    wait_ops(qtbot)


def test_surplus_goes_back_over_three_channels_within_their_caps(qtbot, desk: AdmissionDesk, world: DeskWorld,
                                                                 msgs: Messages, qtmodeltester) -> None:  # noqa: ANN001
    svc, clerk = world.services.inpatient, world.clerk
    admission = world.admit("孙丽", "1")
    world.consent(admission.id)
    assert world.services.inpatient_credit.pay(clerk, admission.id, 100_000).paid
    svc.take_deposit(clerk, admission.id, "wechat", 50_000, "134567890123456789")
    svc.take_deposit(clerk, admission.id, "cash", 30_000, cash_received_fen=30_000)
    svc.post_charge(clerk, admission.id, description="检查费", unit_price_fen=10_000)
    dialog = open_settlement(qtbot, desk, admission.id)
    assert "应退 ¥1,700.00" in dialog.summary.text()
    plan = [(ln.channel, ln.amount_fen) for ln in dialog.lines.rows()]
    assert plan == [("credit", 100_000), ("wechat", 50_000), ("cash", 20_000)]  # credit first, cash last
    qtmodeltester.check(dialog.lines)
    qtmodeltester.check(dialog.plan_channels)
    screenshot(dialog, "inpatient-settlement-plan")
    before = world.available("孙丽")
    start(qtbot, dialog)
    assert any("办理出院结算" in t for t in msgs.texts("confirm"))
    refund_line(qtbot, dialog, 1)  # 信用就医 through the bank's refund interface
    assert "额度已恢复" in dialog.message.text() and world.available("孙丽") == before + 100_000
    refund_line(qtbot, dialog, 2, "4200001234202611230001")
    refund_line(qtbot, dialog, 3)
    qtbot.waitUntil(lambda: dialog.complete_button.isEnabled(), timeout=10_000)
    assert [ln.status for ln in dialog.lines.rows()] == ["done", "done", "done"]
    qtmodeltester.check(dialog.channels)
    dialog.complete_button.click()
    wait_ops(qtbot)
    qtbot.waitUntil(lambda: dialog.print_result is not None, timeout=10_000)
    wait_ops(qtbot)
    assert "已完成" in dialog.outstanding.text()
    screenshot(dialog, "inpatient-settlement-done")
    text = pdf_text(dialog.print_result.path)
    assert "住院费用结算单" in text and "孙丽" in text and "已结清" in text
    for label, paid_in, out in (("信用就医", "1,000.00", "1,000.00"), ("微信", "500.00", "500.00"),
                                ("现金", "300.00", "200.00")):
        assert label in text and paid_in in text and out in text
    channels = {c.channel: c for c in svc.statement(clerk, dialog.settlement_id).account.channels}
    assert all(c.out_fen <= c.in_fen for c in channels.values())  # never more to a channel than it paid in
    assert (channels["cash"].in_fen, channels["cash"].out_fen) == (30_000, 20_000)
    actions = world.audit_actions()
    for action in ("inpatient.settlement_started", "inpatient.credit_refund_success", "payment.refund_recorded",
                   "inpatient.settlement_completed"):
        assert action in actions
    wait_ops(qtbot)
    assert desk.model.rows() == []  # settled: the bed is free, the patient left the list


def test_shortfall_paid_by_credit(qtbot, desk: AdmissionDesk, world: DeskWorld) -> None:  # noqa: ANN001
    svc, clerk = world.services.inpatient, world.clerk
    admission = world.admit("孙丽", "2")
    svc.take_deposit(clerk, admission.id, "cash", 10_000, cash_received_fen=10_000)
    svc.post_charge(clerk, admission.id, description="手术费", unit_price_fen=250_000)
    dialog = open_settlement(qtbot, desk, admission.id)
    assert "应补缴 ¥2,400.00" in dialog.summary.text() and dialog.lines.rows() == []
    start(qtbot, dialog)
    assert "尚需补缴¥2,400.00" in dialog.outstanding.text() and not dialog.complete_button.isEnabled()
    dialog.collect_channel.setCurrentIndex(dialog.collect_channel.findData("credit"))
    dialog.collect_button.click()
    qtbot.waitUntil(lambda: dialog.credit_flow.consent_dialog is not None, timeout=10_000)
    wait_ops(qtbot)
    consent = dialog.credit_flow.consent_dialog  # no consent yet for this stay: it comes first
    consent.print_button.click()
    wait_ops(qtbot)
    consent.received_button.click()
    wait_ops(qtbot)
    amount = dialog.credit_flow.amount_dialog
    assert amount.amount.fen() == 240_000  # the shortfall, suggested
    before = world.available("孙丽")
    amount.pay_button.click()
    wait_ops(qtbot)
    assert world.available("孙丽") == before - 240_000
    qtbot.waitUntil(lambda: dialog.complete_button.isEnabled(), timeout=10_000)
    dialog.complete_button.click()
    wait_ops(qtbot)
    qtbot.waitUntil(lambda: dialog.print_result is not None, timeout=10_000)
    text = pdf_text(dialog.print_result.path)
    assert "信用就医" in text and "2,400.00" in text
    view = svc.settlement_of(clerk, admission.id)
    assert (view.status, view.collected_fen) == ("done", 240_000)


def test_credit_refund_answered_dcbs_is_queued_then_the_queue_pays_it(qtbot, desk: AdmissionDesk, world: DeskWorld,
                                                                      msgs: Messages) -> None:  # noqa: ANN001
    svc, clerk, services = world.services.inpatient, world.clerk, world.services
    admission = world.admit("孙丽", "3")
    world.consent(admission.id)
    assert services.inpatient_credit.pay(clerk, admission.id, 60_000).paid
    svc.post_charge(clerk, admission.id, description="护理费", unit_price_fen=10_000)
    services.sandbox.admin.advance(days=1)  # T+1: refunds come out of the refund reserve …
    services.clock.advance(timedelta(days=1))
    services.sandbox.admin.set_merchant(reserve_fen=0, has_reserve=True)  # … which is empty
    dialog = open_settlement(qtbot, desk, admission.id)
    start(qtbot, dialog)
    refund_line(qtbot, dialog, 1)
    assert any("退款队列" in t for t in msgs.texts("warning"))
    qtbot.waitUntil(lambda: dialog.lines.rows()[0].status == "queued", timeout=10_000)
    assert dialog.lines.rows()[0].status_label == "退款排队中"
    screenshot(dialog, "inpatient-settlement-queued")
    with services.db.reader() as s:
        [notice] = s.execute(select(Notification)).scalars().all()
        assert (notice.title, notice.department_id) == (texts.REFUND_FAILED_NOTICE, world.office_id)
        assert "孙丽" in notice.body and "¥500.00" in notice.body
    qtbot.waitUntil(lambda: dialog.complete_button.isEnabled(), timeout=10_000)  # the queue owes it
    dialog.complete_button.click()
    wait_ops(qtbot)
    qtbot.waitUntil(lambda: dialog.print_result is not None, timeout=10_000)
    assert "退款队列" in pdf_text(dialog.print_result.path)
    services.sandbox.admin.set_merchant(reserve_fen=10_000_000)
    report = services.refunds.retry(world.finance)
    assert report.left == 0 and len(report.succeeded) == 1
    qtbot.waitUntil(lambda: dialog.lines.rows()[0].status == "done", timeout=10_000)  # live: the queue paid it
    wait_ops(qtbot)


def test_start_refused_when_another_desk_changed_the_account(qtbot, desk: AdmissionDesk, world: DeskWorld,
                                                             msgs: Messages) -> None:  # noqa: ANN001
    svc, clerk = world.services.inpatient, world.clerk
    admission = world.admit("刘洋", "4")
    svc.take_deposit(clerk, admission.id, "cash", 10_000, cash_received_fen=10_000)
    dialog = open_settlement(qtbot, desk, admission.id)
    dialog.live.blockSignals(True)  # the clerk is still looking at the old plan
    svc.post_charge(clerk, admission.id, description="化验费", unit_price_fen=2_000)
    dialog.start_button.click()
    wait_ops(qtbot)
    assert msgs.texts("error")  # refused: the plan on screen is stale
    dialog.live.blockSignals(False)
    qtbot.waitUntil(lambda: "应退 ¥80.00" in dialog.summary.text(), timeout=10_000)
    assert svc.settlement_of(clerk, admission.id) is None
