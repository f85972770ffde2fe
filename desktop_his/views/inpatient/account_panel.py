"""The running account of one admission (住院费用与预交金): who and where, the totals and the balance, then
tabs — costs by day, by category, every charge, every payment, every refund, and each channel's money in and
out. Everything shown comes from ``InpatientService.account`` (an :class:`Account`); nothing is computed here
except formatting."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from desktop_his.qt.table_model import RIGHT, Column, RecordTableModel
from desktop_his.services.inpatient_types import PURPOSE_LABELS, SOURCE_LABELS, category_label, channel_label
from desktop_his.views.inpatient.common import BAD_STYLE, OK_STYLE, WARN_STYLE, label, table, yuan

if TYPE_CHECKING:
    from desktop_his.services.inpatient import Account, ConsentView

PAYMENT_STATUS = {"success": "成功", "pending": "银行处理中", "failed": "未成功"}
REFUND_STATUS = {"success": "已退", "pending": "退款处理中", "queued": "退款排队中", "failed": "未成功"}


def _money(title: str, value: Any) -> Column:
    return Column(title, lambda r: yuan(value(r)), sort=value, align=RIGHT)


DAY_COLUMNS = [Column("日期", lambda r: f"{r[0]:%Y-%m-%d}", sort=lambda r: r[0]), _money("费用", lambda r: r[1])]
CATEGORY_COLUMNS = [Column("类别", lambda r: category_label(r[0])), _money("费用", lambda r: r[1])]
CHARGE_COLUMNS = [
    Column("日期", lambda c: f"{c.charge_date:%Y-%m-%d}", sort=lambda c: (c.charge_date, c.id)),
    Column("来源", lambda c: SOURCE_LABELS.get(c.source, c.source)), Column("类别", lambda c: c.category_label),
    Column("项目", lambda c: ("【冲销】" if c.is_reversal else "") + c.description
           + ("（已冲销）" if c.reversed_by_id else "")),
    Column("数量", lambda c: c.quantity, align=RIGHT), _money("金额", lambda c: c.amount_fen),
]
PAYMENT_COLUMNS = [
    Column("时间", lambda p: f"{p.created_at:%m-%d %H:%M}", sort=lambda p: p.created_at),
    Column("缴费单号", lambda p: p.payment_no), Column("渠道", lambda p: p.channel_label),
    Column("用途", lambda p: PURPOSE_LABELS.get(p.purpose, p.purpose)), _money("金额", lambda p: p.amount_fen),
    _money("已退/退款中", lambda p: p.refunded_fen), Column("状态", lambda p: PAYMENT_STATUS.get(p.status, p.status)),
    Column("凭证/银行流水", lambda p: p.bank_serial or p.reference_no or ""),
]
REFUND_COLUMNS = [
    Column("时间", lambda r: f"{r.created_at:%m-%d %H:%M}", sort=lambda r: r.created_at),
    Column("退款单号", lambda r: r.refund_no), Column("渠道", lambda r: channel_label(r.channel)),
    _money("金额", lambda r: r.amount_fen), Column("状态", lambda r: REFUND_STATUS.get(r.status, r.status)),
    Column("出院结算", lambda r: "是" if r.settlement_id else ""),
    Column("凭证/银行返回", lambda r: r.reference_no or r.last_error_code or ""),
]
CHANNEL_COLUMNS = [
    Column("渠道", lambda c: c.label), _money("预交金", lambda c: c.deposited_fen),
    _money("结算补缴", lambda c: c.collected_fen), _money("已退", lambda c: c.refunded_fen),
    _money("退款排队", lambda c: c.refund_queued_fen), _money("退款处理中", lambda c: c.refund_pending_fen),
    _money("缴费处理中", lambda c: c.pending_in_fen), _money("净额", lambda c: c.net_fen),
]


class AccountPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("account_panel")
        self.account: Account | None = None
        self.header = label("account_header", "请在左侧选择在院患者")
        self.consent = label("account_consent")
        self.summary = label("account_summary")
        self.summary.setStyleSheet("font-size: 15px;")
        self.models: dict[str, RecordTableModel] = {}
        self.tabs = QTabWidget()
        self.tabs.setObjectName("account_tabs")
        for key, title, columns in (("days", "按日费用", DAY_COLUMNS), ("categories", "按类别", CATEGORY_COLUMNS),
                                    ("charges", "费用明细", CHARGE_COLUMNS), ("payments", "缴费记录", PAYMENT_COLUMNS),
                                    ("refunds", "退款记录", REFUND_COLUMNS), ("channels", "渠道汇总", CHANNEL_COLUMNS)):
            model = RecordTableModel(columns, muted=_muted, parent=self)
            self.models[key] = model
            money_last = key in ("days", "categories", "charges", "channels")
            self.tabs.addTab(table(f"account_{key}", model, self, stretch=not money_last), title)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.header, self.consent, self.summary):
            layout.addWidget(widget)
        layout.addWidget(self.tabs, 1)

    def clear(self) -> None:
        self.account = None
        self.header.setText("请在左侧选择在院患者")
        self.consent.clear()
        self.summary.clear()
        for model in self.models.values():
            model.set_rows([])

    def show_account(self, account: Account, consents: list[ConsentView]) -> None:
        self.account = account
        a = account.admission
        self.header.setText(
            f"<b>{a.patient_name}</b>（{a.patient_sex_label}，{a.patient_age}岁）\u3000住院号 {a.admission_no}"
            f"\u3000{a.status_label}<br>{a.department_name}\u3000{a.ward} {a.bed}床\u3000主治医生 {a.doctor_name or '—'}"
            f"\u3000入院 {a.admitted_at:%Y-%m-%d %H:%M}\u3000床位费 {yuan(a.daily_bed_fen)}/日<br>入院诊断：{a.diagnosis}")
        self._show_consent(consents)
        self._show_summary(account)
        self.models["days"].set_rows(list(account.cost_by_day))
        self.models["categories"].set_rows(list(account.cost_by_category))
        self.models["charges"].set_rows(list(account.charges))
        self.models["payments"].set_rows(list(account.payments))
        self.models["refunds"].set_rows(list(account.refunds))
        self.models["channels"].set_rows(list(account.channels))

    def _show_consent(self, consents: list[ConsentView]) -> None:
        received = [c for c in consents if c.received_at is not None]
        if received:
            proxy = f"（代理人 {received[-1].proxy_name}）" if received[-1].proxy_name else ""
            self.consent.setText(f"“信用就医”书面确权：已收回签字件{proxy}")
            self.consent.setStyleSheet(OK_STYLE)
        elif consents:
            self.consent.setText(f"“信用就医”书面确权：{consents[-1].status_label}")
            self.consent.setStyleSheet(WARN_STYLE)
        else:
            self.consent.setText("“信用就医”书面确权：未签署（使用“信用就医”缴费前须签署）")
            self.consent.setStyleSheet("")

    def _show_summary(self, account: Account) -> None:
        balance = account.balance_fen
        state = f"余额 {yuan(balance)}" if balance >= 0 else f"欠费 {yuan(-balance)}"
        parts = [f"总费用 {yuan(account.total_cost_fen)}", f"预交金 {yuan(account.deposited_fen)}"]
        if account.collected_fen:
            parts.append(f"结算补缴 {yuan(account.collected_fen)}")
        parts += [f"已退 {yuan(account.refunded_fen)}", state]
        if account.pending_in_fen:
            parts.append(f"“信用就医”处理中 {yuan(account.pending_in_fen)}（未计入余额）")
        self.summary.setText("\u3000".join(parts))
        self.summary.setStyleSheet("font-size: 15px;" + (BAD_STYLE if balance < 0 else ""))


def _muted(row: Any) -> bool:
    """Greyed: a reversed charge, a failed payment or refund."""
    return bool(getattr(row, "reversed_by_id", None) or getattr(row, "is_reversal", False)
                or getattr(row, "status", "") == "failed")
