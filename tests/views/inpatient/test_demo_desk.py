"""The real app in demo mode, as a new admission clerk meets it: the backend opens (migrate, demo seed, the
in-process bank sandbox, the resolver thread), admission1 logs in, opens 住院处 and works a whole stay —
admit 孙丽, bed charges, a 信用就医 deposit with the written consent, a WeChat top-up, discharge with the surplus
refunded per channel, the statement printed. Screenshots of every step when DESKTOP_HIS_SCREENSHOTS is set."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from desktop_his import app
from desktop_his.services.config import Settings
from desktop_his.services.inpatient_bank import InpatientCreditService
from tests.gui import screenshot, type_text, wait_ops
from tests.views.inpatient.deskfix import pdf_text


@pytest.fixture
def controller(qtbot, tmp_path):  # noqa: ANN001, ANN201
    settings = Settings(data_dir=tmp_path / "data", log_dir=tmp_path / "logs", workstation="住院处-01")
    backend = app.open_backend(settings)
    ctl = app.AppController(settings, backend=backend, idle_timeout_ms=0)
    qtbot.addWidget(ctl.login)
    yield ctl
    wait_ops(qtbot)
    backend.services.close()
    backend.services.db.dispose()


@pytest.mark.slow  # the demo seed hashes every demo password with the real argon2id cost
def test_a_whole_stay_in_demo_mode(qtbot, controller) -> None:  # noqa: ANN001
    assert isinstance(controller.backend.services.inpatient_credit, InpatientCreditService)
    controller.start()
    controller.login.username.setText("admission1")
    controller.login.password.setText("admission123")
    qtbot.keyClick(controller.login.password, Qt.Key.Key_Return)
    wait_ops(qtbot)
    main = controller.main_window
    qtbot.addWidget(main)
    assert [e.key for e in main.entries] == ["inpatient"]  # the clerk sees the desk, nothing else
    desk = main.open_workstation("inpatient")
    wait_ops(qtbot)
    screenshot(main, "demo-1-desk-empty")

    desk.open_admit()
    dialog = desk.admit_dialog
    wait_ops(qtbot)
    type_text(dialog.search, "sl")  # pinyin initials of 孙丽
    qtbot.keyClick(dialog.search, Qt.Key.Key_Return)
    wait_ops(qtbot)
    row = dialog.patients.find(lambda p: p.name == "孙丽")
    dialog.patient_table.selectRow(row)
    dialog.department.setCurrentIndex(dialog.department.findText("内科"))
    dialog.doctor.setCurrentIndex(dialog.doctor.findText("王建国（主任医师）"))
    dialog.ward.setCurrentText("内科病区")
    type_text(dialog.bed, "01")
    dialog.bed_rate.setCurrentIndex(dialog.bed_rate.findText("床位费（双人间） ¥60.00/日"))
    dialog.diagnosis.setPlainText("社区获得性肺炎")
    screenshot(dialog, "demo-2-admit")
    dialog.save_button.click()
    wait_ops(qtbot)
    assert desk.current is not None and desk.current.patient_name == "孙丽"
    desk.bed_button.click()
    wait_ops(qtbot)
    assert desk.account.account.total_cost_fen == 6000

    desk.credit_button.click()
    qtbot.waitUntil(lambda: desk.credit_flow.consent_dialog is not None, timeout=15_000)
    wait_ops(qtbot)
    consent = desk.credit_flow.consent_dialog
    consent.print_button.click()
    wait_ops(qtbot)
    assert "510112198009092042" in pdf_text(consent.print_result.path)
    screenshot(consent, "demo-3-consent-printed")
    consent.received_button.click()
    wait_ops(qtbot)
    amount = desk.credit_flow.amount_dialog
    type_text(amount.amount, "3000")
    amount.pay_button.click()
    wait_ops(qtbot, timeout=20_000)
    assert desk.message.text().startswith("已使用“信用就医”缴费¥3,000.00")

    desk.deposit_button.click()
    pay = desk.deposit_dialog
    pay.set_channel("wechat")
    type_text(pay.amount, "500")
    type_text(pay.reference, "134567890123456789")
    pay.save_button.click()
    wait_ops(qtbot)
    qtbot.waitUntil(lambda: desk.account.account.deposited_fen == 350_000, timeout=10_000)
    screenshot(main, "demo-4-account")

    desk.settle_button.click()
    wait_ops(qtbot)
    settle = desk.settlement_dialog
    assert [(ln.channel, ln.amount_fen) for ln in settle.lines.rows()] == [("credit", 300_000), ("wechat", 44_000)]
    settle.start_button.click()
    wait_ops(qtbot)
    qtbot.waitUntil(lambda: settle.statement is not None, timeout=10_000)
    for line_no, reference in ((1, ""), (2, "4200001234202611230001")):
        settle.lines_table.selectRow(line_no - 1)
        settle.reference.setText(reference)
        settle.refund_button.click()
        wait_ops(qtbot, timeout=20_000)
    qtbot.waitUntil(lambda: settle.complete_button.isEnabled(), timeout=10_000)
    settle.complete_button.click()
    qtbot.waitUntil(lambda: settle.print_result is not None, timeout=15_000)
    wait_ops(qtbot)
    screenshot(settle, "demo-5-settled")
    text = pdf_text(settle.print_result.path)
    assert "住院费用结算单" in text and "已结清" in text and "3,440.00" in text
