"""排班: a doctor's weekly sittings; saving one (re)generates its slots for the booking window, 生成号源 rolls
every schedule forward."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from PySide6.QtCore import QDate, QTime
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFormLayout,
    QHBoxLayout,
    QSpinBox,
    QTimeEdit,
    QWidget,
)

from desktop_his.qt import ops
from desktop_his.qt.money_edit import MoneyEdit
from desktop_his.qt.table_model import CENTER, RIGHT, Column
from desktop_his.services.admin.scheduling import (
    DEFAULT_TIMES,
    MAX_CAPACITY,
    WEEKDAY_LABELS,
    ScheduleForm,
    ScheduleRow,
    ScheduleSaved,
    SlotReport,
)
from desktop_his.services.enums import PERIOD_LABELS, Period
from desktop_his.services.money import format_fen
from desktop_his.views.admin.page import FormPage


def _span(row: ScheduleRow) -> str:
    return f"{row.valid_from:%Y-%m-%d} 起" + (f"至 {row.valid_to:%Y-%m-%d}" if row.valid_to else "")


class SchedulesPage(FormPage):
    key = "schedule"
    noun = "排班"
    topics = ("schedules", "doctors")
    columns = [
        Column("科室", lambda r: r.department_name),
        Column("医生", lambda r: r.doctor_name),
        Column("星期", lambda r: WEEKDAY_LABELS[r.weekday], sort=lambda r: r.weekday),
        Column("时段", lambda r: PERIOD_LABELS[Period(r.period)], sort=lambda r: r.start_time.isoformat()),
        Column("时间", lambda r: f"{r.start_time:%H:%M}–{r.end_time:%H:%M}"),
        Column("号源数", lambda r: r.capacity, sort=lambda r: r.capacity, align=RIGHT),
        Column("挂号费", lambda r: format_fen(r.fee_fen), sort=lambda r: r.fee_fen, align=RIGHT),
        Column("有效期", _span, sort=lambda r: r.valid_from.isoformat()),
        Column("状态", lambda r: "有效" if r.active else "停用", align=CENTER),
    ]

    def build_form(self, form: QFormLayout) -> None:
        self._fees: dict[int, int] = {}
        self.doctor = QComboBox()
        self.doctor.currentIndexChanged.connect(self._doctor_changed)
        self.weekday = QComboBox()
        for n, label in enumerate(WEEKDAY_LABELS):
            self.weekday.addItem(label, n)
        self.period = QComboBox()
        for period, label in PERIOD_LABELS.items():
            self.period.addItem(label, str(period))
        self.period.currentIndexChanged.connect(self._period_changed)
        self.start = QTimeEdit()
        self.end = QTimeEdit()
        for edit in (self.start, self.end):
            edit.setDisplayFormat("HH:mm")
        self.capacity = QSpinBox()
        self.capacity.setRange(0, MAX_CAPACITY)
        self.fee = MoneyEdit()
        self.valid_from = QDateEdit()
        self.valid_from.setCalendarPopup(True)
        self.valid_from.setDisplayFormat("yyyy-MM-dd")
        self.has_end = QCheckBox("设置停止日期")
        self.valid_to = QDateEdit()
        self.valid_to.setCalendarPopup(True)
        self.valid_to.setDisplayFormat("yyyy-MM-dd")
        self.has_end.toggled.connect(self.valid_to.setEnabled)
        end_row = QWidget()
        row = QHBoxLayout(end_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.has_end)
        row.addWidget(self.valid_to, 1)
        self.active = QCheckBox("有效（停用后移除尚无挂号的号源）")
        form.addRow("医生", self.field(self.doctor, "doctor_id"))
        form.addRow("星期", self.field(self.weekday, "weekday"))
        form.addRow("时段", self.field(self.period, "period"))
        form.addRow("开始时间", self.field(self.start, "start_time"))
        form.addRow("结束时间", self.field(self.end, "end_time"))
        form.addRow("号源数", self.field(self.capacity, "capacity"))
        form.addRow("挂号费（元）", self.field(self.fee, "fee"))
        form.addRow("生效日期", self.field(self.valid_from, "valid_from"))
        self.valid_to.setObjectName("schedule_valid_to")
        self.has_end.setObjectName("schedule_has_end")
        form.addRow("停止日期", self.errors.add("valid_to", end_row))
        form.addRow("", self.field(self.active, "active"))
        self.add_button("生成号源 (Ctrl+G)", "generate", self.generate, "Ctrl+G")

    def _today(self) -> date:
        return self.services.clock.today()

    def _doctor_changed(self) -> None:
        fee = self._fees.get(self.doctor.currentData())
        if fee is not None and self.editing is None:
            self.fee.set_fen(fee)

    def _period_changed(self) -> None:
        if self.editing is None and self.period.currentData():
            start, end = DEFAULT_TIMES[Period(self.period.currentData())]
            self.start.setTime(QTime(start.hour, start.minute))
            self.end.setTime(QTime(end.hour, end.minute))

    def fill(self, row: ScheduleRow | None) -> None:
        today = self._today()
        self.doctor.setCurrentIndex(max(0, self.doctor.findData(row.doctor_id if row else None)))
        self.weekday.setCurrentIndex(row.weekday if row else today.weekday())
        self.period.setCurrentIndex(self.period.findData(row.period if row else str(Period.MORNING)))
        start, end = (row.start_time, row.end_time) if row else DEFAULT_TIMES[Period.MORNING]
        self.start.setTime(QTime(start.hour, start.minute))
        self.end.setTime(QTime(end.hour, end.minute))
        self.capacity.setValue(row.capacity if row else 30)
        self.fee.set_fen(row.fee_fen if row else self._fees.get(self.doctor.currentData()))
        valid_from = row.valid_from if row else today
        self.valid_from.setDate(QDate(valid_from.year, valid_from.month, valid_from.day))
        self.has_end.setChecked(row is not None and row.valid_to is not None)
        self.valid_to.setEnabled(self.has_end.isChecked())
        valid_to = row.valid_to if row and row.valid_to else today
        self.valid_to.setDate(QDate(valid_to.year, valid_to.month, valid_to.day))
        self.active.setChecked(row.active if row else True)

    def collect(self) -> ScheduleForm:
        return ScheduleForm(
            doctor_id=self.doctor.currentData(), weekday=self.weekday.currentData(),
            period=self.period.currentData(), start_time=self.start.time().toPython(),
            end_time=self.end.time().toPython(), capacity=self.capacity.value(), fee_yuan=self.fee.yuan_text(),
            valid_from=self.valid_from.date().toPython(),
            valid_to=self.valid_to.date().toPython() if self.has_end.isChecked() else None,
            active=self.active.isChecked())

    def save_work(self, row: ScheduleRow | None, form: ScheduleForm) -> Callable[[], Any]:
        scheduling, actor = self.services.scheduling, self.actor
        if row is None:
            return lambda: scheduling.create_schedule(actor, form)
        return lambda: scheduling.update_schedule(actor, row.id, form)

    def saved_message(self, result: ScheduleSaved) -> str:
        return f"已保存排班。{result.slots.summary()}"

    def describe(self, row: ScheduleRow) -> str:
        return f"{row.doctor_name} {WEEKDAY_LABELS[row.weekday]}{PERIOD_LABELS[Period(row.period)]}"

    def search_text(self, row: ScheduleRow) -> str:
        return f"{row.doctor_name} {row.department_name} {WEEKDAY_LABELS[row.weekday]}"

    def loader(self) -> Callable[[], Any]:
        scheduling, org = self.services.scheduling, self.services.organisation
        return lambda: (scheduling.list_schedules(), org.list_doctors(active_only=True))

    def show_data(self, data: Any) -> None:
        rows, doctors = data
        self._fees = {d.id: d.registration_fee_fen for d in doctors}
        current = self.doctor.currentData()
        self.doctor.blockSignals(True)
        self.doctor.clear()
        self.doctor.addItem("（请选择）", None)
        for doc in doctors:
            self.doctor.addItem(f"{doc.department_name} · {doc.name}（{doc.title}）", doc.id)
        self.doctor.setCurrentIndex(max(0, self.doctor.findData(current)))
        self.doctor.blockSignals(False)
        self.model.set_rows(rows)

    def generate(self) -> None:
        scheduling, actor = self.services.scheduling, self.actor
        self.message.clear()
        ops.run(self, lambda: scheduling.generate_slots(actor), on_success=self._generated, wait="正在生成号源…")

    def _generated(self, report: SlotReport) -> None:
        self.message.setText(report.summary())
