"""门诊医生站 through its widgets against the bank sandbox: the credit notice (pop-up and queue mark), order entry
by pinyin, 开单即锁额 with the total pop-up, not enough credit, PROCESSING resolved while the doctor works on,
revoke before and after deduction, the actual amount carried out, the printed order slip."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import select

from desktop_his.services import texts
from desktop_his.services.container import Services
from desktop_his.services.enums import FeeStatus, LockStatus
from desktop_his.services.models import CreditLock, Doctor, Visit
from desktop_his.services.payments import PaymentService
from desktop_his.views.doctor.station import MARK_COLUMN, DoctorStation
from tests.factories import make_demo_patient
from tests.gui import Messages, screenshot, type_text, wait_ops
from tests.views.doctor.docfix import DocWorld, make_doc_world
from tests.views.inpatient.deskfix import pdf_text

NOTICE = "该患者本次就诊已确认使用“信用就医”服务"


@pytest.fixture
def world(sqlite_bank_services: Services) -> DocWorld:
    return make_doc_world(sqlite_bank_services)


@pytest.fixture
def station(qtbot, world: DocWorld) -> DoctorStation:  # noqa: ANN001
    view = DoctorStation(world.services, world.h.doctor_actor)
    qtbot.addWidget(view)
    view.resize(1280, 780)
    view.show()
    wait_ops(qtbot)
    return view


def open_visit(qtbot, station: DoctorStation, visit_id: int) -> None:  # noqa: ANN001
    station.refresh()
    wait_ops(qtbot)
    station.select_visit(visit_id)
    wait_ops(qtbot)
    assert station.detail is not None and station.detail.entry.visit_id == visit_id


def compose(qtbot, station: DoctorStation, query: str, quantity: int = 1) -> None:  # noqa: ANN001
    composer = station.composer
    composer.search.clear()
    type_text(composer.search, query)
    qtbot.waitUntil(lambda: composer.hits_query == query and composer.hits.rowCount() > 0, timeout=5000)
    wait_ops(qtbot)
    composer.quantity.setValue(quantity)
    qtbot.keyClick(composer.search, Qt.Key.Key_Return)


def submit(qtbot, station: DoctorStation) -> None:  # noqa: ANN001
    station.composer.submit_button.click()
    wait_ops(qtbot)


def test_credit_visit_notice_submit_lock_and_total(qtbot, station: DoctorStation, world: DocWorld,
                                                    qtmodeltester) -> None:  # noqa: ANN001
    plain = world.visit("刘洋")
    family = world.visit("李娜", credit=True)
    station.refresh()
    wait_ops(qtbot)
    rows = station.model.rows()
    assert [(e.patient_name, e.pay_mark) for e in rows] == [("刘洋", None), ("李娜", "亲情付")]
    mark = station.model.index(1, MARK_COLUMN)
    assert mark.data() == "亲情付" and mark.data(Qt.ItemDataRole.ToolTipRole) == NOTICE
    assert mark.data(Qt.ItemDataRole.BackgroundRole) is not None
    qtmodeltester.check(station.model)
    # A plain visit: no notice.
    open_visit(qtbot, station, plain)
    assert station.notice_dialog is None and not station.banner.isVisible()
    # The credit visit: the pop-up with the exact text, and the banner.
    open_visit(qtbot, station, family)
    dialog = station.notice_dialog
    assert dialog is not None and dialog.isVisible() and dialog.notice.text() == NOTICE
    assert station.banner.isVisible() and station.banner.text().startswith(NOTICE) and "亲情付" in station.banner.text()
    screenshot(station, "doctor-queue-credit")
    screenshot(dialog, "doctor-credit-notice")
    dialog.accept()
    # Opening it again does not nag.
    open_visit(qtbot, station, plain)
    open_visit(qtbot, station, family)
    assert not station.notice_dialog.isVisible()
    # Compose by pinyin and submit: locked, the total pop-up.
    before = world.available()
    compose(qtbot, station, "amxl", 2)
    compose(qtbot, station, "xcg")
    assert [line.hit.name for line in station.composer.lines.rows()] == ["阿莫西林胶囊", "血常规"]
    assert station.composer.total.text() == "共 2 项，合计 ¥50.00"
    submit(qtbot, station)
    total = station.total_dialog
    assert total is not None and total.isVisible()
    assert total.total.text() == "患者本次使用“信用就医”额度支付总费用：¥60.00"
    screenshot(total, "doctor-credit-total")
    assert world.available() == before - 5000
    assert station.composer.lines.rowCount() == 0
    [order] = station.orders.rows()
    assert order.fee_status == FeeStatus.LOCKED and station.credit_total.text().endswith("¥60.00")
    qtmodeltester.check(station.orders)


def test_not_enough_credit_is_told_plainly(qtbot, station: DoctorStation, world: DocWorld,
                                           msgs: Messages) -> None:  # noqa: ANN001
    visit = world.visit("王芳", credit=True)  # ¥30 of credit, ¥10 for the fee
    open_visit(qtbot, station, visit)
    station.notice_dialog.accept()
    compose(qtbot, station, "xcg")  # ¥25
    submit(qtbot, station)
    assert msgs.texts("warning") == [texts.ORDER_LOCK_REFUSED]
    assert station.total_dialog is None
    assert texts.ORDER_LOCK_REFUSED in station.message.text()
    wait_ops(qtbot)
    [order] = station.orders.rows()
    assert order.fee_status == FeeStatus.UNPAID and not order.credit
    assert station.orders.index(0, 5).data() == "待缴费（请到收费窗口）"
    qtbot.waitUntil(lambda: station.model.rows()[0].unpaid_orders == 1, timeout=5000)
    # The patient pays at the cashier window (another channel): the doctor's view follows by itself.
    PaymentService(world.services.db, world.services.clock).record(
        world.h.cashier_actor, patient_id=order.patient_id, purpose="order", amount_fen=2500, channel="wechat",
        reference_no="134567890123456789", order_id=order.id)
    qtbot.waitUntil(lambda: station.model.rows()[0].unpaid_orders == 0, timeout=5000)
    qtbot.waitUntil(lambda: station.orders.rows()[0].fee_status == FeeStatus.PAID, timeout=5000)
    assert station.orders.index(0, 5).data() == "已缴费"


def test_processing_resolves_while_the_doctor_works_on(qtbot, station: DoctorStation, world: DocWorld) -> None:  # noqa: ANN001
    visit = world.visit("张伟", credit=True)
    other = world.visit("刘洋")
    open_visit(qtbot, station, visit)
    station.notice_dialog.accept()
    world.services.sandbox.admin.add_fault("lock", "processing", count=1)
    world.services.sandbox.admin.add_fault("after_pay_query", "processing", count=1)
    station.follow_timer.setInterval(200)
    station.settle_within = 0
    compose(qtbot, station, "xbx")  # 胸部X线摄影 ¥80
    station.composer.submit_button.click()
    qtbot.waitUntil(lambda: bool(station.pending) or station.total_dialog is not None, timeout=10_000)
    assert station.pending and "确认中" in station.message.text() and station.total_dialog is None
    # The doctor goes on to the next patient meanwhile.
    open_visit(qtbot, station, other)
    qtbot.waitUntil(lambda: station.total_dialog is not None, timeout=15_000)
    assert station.total_dialog.total.text() == "患者本次使用“信用就医”额度支付总费用：¥90.00"
    assert "患者 张伟" in station.total_dialog.detail.text() and station.message.text().startswith("患者 张伟：")
    assert not station.pending
    open_visit(qtbot, station, visit)
    assert station.orders.rows()[0].fee_status == FeeStatus.LOCKED


def lock_of(world: DocWorld, order_id: int) -> CreditLock:
    with world.services.db.reader() as s:
        return s.execute(select(CreditLock).where(CreditLock.order_id == order_id)).scalar_one()


def revoke(qtbot, station: DoctorStation, order_id: int, reason: str = "患者不需要了") -> None:  # noqa: ANN001
    station.tabs.setCurrentIndex(1)
    station.select_order(order_id)
    assert station.revoke_button.isEnabled()
    station.revoke_button.click()
    dialog = station.revoke_dialog
    dialog.ok_button.click()
    assert dialog.errors.message("reason") == "请填写撤销原因"
    type_text(dialog.reason, reason)
    dialog.ok_button.click()
    wait_ops(qtbot)
    assert not dialog.isVisible()


def test_revoke_before_and_after_deduction(qtbot, station: DoctorStation, world: DocWorld) -> None:  # noqa: ANN001
    visit = world.visit("张伟", credit=True)
    open_visit(qtbot, station, visit)
    station.notice_dialog.accept()
    compose(qtbot, station, "jmsy")  # 静脉输液 ¥15
    submit(qtbot, station)
    compose(qtbot, station, "xbx")  # ¥80
    submit(qtbot, station)
    first, second = station.orders.rows()
    before = world.available()
    revoke(qtbot, station, first.id)
    assert "取消锁定¥15.00已完成" in station.message.text()
    assert lock_of(world, first.id).status == LockStatus.CANCELLED and world.available() == before + 1500
    # The second is deducted (the T-day run), then revoked: refunded.
    services = world.services
    with services.db.session() as s:
        journal = services.credit.start_deduction(s, s.get(CreditLock, lock_of(world, second.id).id),
                                                  actor=world.h.doctor_actor, business_date=world.h.day)
    assert services.bank.execute(journal).ok
    qtbot.waitUntil(lambda: station.orders.rows()[1].fee_status == FeeStatus.DEDUCTED, timeout=5000)
    revoke(qtbot, station, second.id)
    assert "退款¥80.00已完成" in station.message.text()
    wait_ops(qtbot)
    assert [o.fee_status for o in station.orders.rows()] == [FeeStatus.CANCELLED, FeeStatus.REFUNDED]
    assert station.credit_total.text().endswith("¥10.00")
    screenshot(station, "doctor-orders-after-revoke")


def test_executed_with_actual_amount_and_the_order_slip(qtbot, station: DoctorStation, world: DocWorld) -> None:  # noqa: ANN001
    visit = world.visit("李娜", credit=True)
    open_visit(qtbot, station, visit)
    station.notice_dialog.accept()
    compose(qtbot, station, "amxl", 3)
    submit(qtbot, station)
    compose(qtbot, station, "xcg")
    submit(qtbot, station)
    drug = station.orders.rows()[0]
    station.tabs.setCurrentIndex(1)
    station.select_order(drug.id)
    station.execute_button.click()
    dialog = station.execute_dialog
    dialog.spins[drug.items[0].id].setValue(1)
    assert "实际金额 ¥12.50" in dialog.total.text()
    dialog.ok_button.click()
    wait_ops(qtbot)
    assert lock_of(world, drug.id).actual_fen == 1250
    assert station.orders.rows()[0].actual_fen == 1250 and "实际金额 ¥12.50" in station.message.text()
    station.print_button.click()
    wait_ops(qtbot)
    path = station.last_print.path
    assert path is not None and path.exists()
    text = pdf_text(path)
    for expected in ("门诊导诊单", "李娜", "5101**********2347", "请到：西药房（门诊楼一楼）",
                     "请到：检验科（门诊楼三楼）", "阿莫西林胶囊", "亲情付", "¥47.50"):
        assert expected in text, expected
    assert "510104198707212347" not in text


def test_switch_to_credit_at_the_window_while_the_visit_is_open(qtbot, station: DoctorStation,
                                                                world: DocWorld) -> None:  # noqa: ANN001
    visit = world.visit("陈静")
    open_visit(qtbot, station, visit)
    assert station.notice_dialog is None and not station.banner.isVisible()
    services, cashier = world.services, world.h.cashier_actor
    with services.db.reader() as s:
        patient_id = s.get(Visit, visit).patient_id
    sign = services.credit.sign_status(cashier, patient_id)
    assert services.credit.use_credit(cashier, visit, sign).state == "confirmed"  # fee was paid already
    qtbot.waitUntil(lambda: station.notice_dialog is not None and station.notice_dialog.isVisible(), timeout=10_000)
    assert station.notice_dialog.notice.text() == NOTICE and station.banner.isVisible()
    assert station.model.row(0).pay_mark == "信用就医"


def test_history_shows_the_patients_earlier_visits(qtbot, station: DoctorStation, world: DocWorld,
                                                   qtmodeltester) -> None:  # noqa: ANN001
    from datetime import timedelta

    from tests.factories import make_slot
    from tests.factories import make_visit as factory_visit

    services = world.services
    with services.db.session() as s:
        patient = make_demo_patient(s, "陈静")
        earlier = make_slot(s, s.get(Doctor, world.h.doctor.id), world.h.day - timedelta(days=30))
        factory_visit(s, patient, earlier, status="seen", credit=True)
    today = world.visit("陈静")
    open_visit(qtbot, station, today)
    station.tabs.setCurrentIndex(2)
    rows = station.history.visits.rows()
    assert [(r.visit_date, r.department_name, r.doctor_name, r.credit) for r in rows] == [
        (world.h.day - timedelta(days=30), "内科", "李医生", True)]
    assert station.history.visits.index(0, 5).data() == "信用就医"
    qtmodeltester.check(station.history.visits)
    screenshot(station, "doctor-history")
