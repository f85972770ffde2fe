"""The whole domain as SQLAlchemy 2 typed ORM classes. Money columns are integer fen (``*_fen``).

Timestamps are naive hospital local time (see :mod:`desktop_his.services.clock`). Vocabularies are short
strings holding :mod:`desktop_his.services.enums` values. Schema changes go through Alembic
(``desktop_his/migrations``); ``tests/services/test_migrations.py`` fails when the two drift apart.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Fen = BigInteger  # money: integer fen


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


# --------------------------------------------------------------------------------------------- settings


class Setting(Base):
    """Hospital-wide (scope ``hospital``) or per-workstation (scope ``ws:<name>``) settings as JSON values:
    registration rules, cancellation deadline, printer choice, hospital name …"""

    __tablename__ = "setting"
    scope: Mapped[str] = mapped_column(String(80), primary_key=True)
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    updated_by: Mapped[str | None] = mapped_column(String(80))


class ChangeSeq(Base):
    """Per-topic change counters for the live feed on SQLite (PostgreSQL uses LISTEN/NOTIFY instead)."""

    __tablename__ = "change_seq"
    topic: Mapped[str] = mapped_column(String(80), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)


class NumberCounter(Base):
    """Per-day counters behind hospital-chosen numbers (visit, order, payment, refund …)."""

    __tablename__ = "number_counter"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


# ------------------------------------------------------------------------------------------ staff & org


class Department(Base):
    __tablename__ = "department"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    pinyin: Mapped[str] = mapped_column(String(50), index=True)  # initials, e.g. "nk" for 内科
    kind: Mapped[str] = mapped_column(String(20), default="clinical")  # enums.DepartmentKind
    location: Mapped[str] = mapped_column(String(100), default="")  # where patients go (slips)
    phone: Mapped[str] = mapped_column(String(30), default="")
    sex_restriction: Mapped[str | None] = mapped_column(String(1))  # enums.Sex allowed, None = any
    min_age: Mapped[int | None] = mapped_column(Integer)  # inclusive, years
    max_age: Mapped[int | None] = mapped_column(Integer)  # inclusive, years (儿科: 16)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class Staff(Base):
    __tablename__ = "staff"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    full_name: Mapped[str] = mapped_column(String(50))
    password_hash: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    roles: Mapped[list[StaffRole]] = relationship(
        back_populates="staff", cascade="all, delete-orphan", lazy="selectin"
    )
    department: Mapped[Department | None] = relationship()


class StaffRole(Base):
    __tablename__ = "staff_role"
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)  # enums.Role
    staff: Mapped[Staff] = relationship(back_populates="roles")


class Doctor(Base):
    __tablename__ = "doctor"
    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), unique=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    pinyin: Mapped[str] = mapped_column(String(50), index=True)
    title: Mapped[str] = mapped_column(String(30), default="医师")  # 主任医师 / 副主任医师 / 主治医师 / 医师
    room: Mapped[str] = mapped_column(String(50), default="")  # 诊室
    registration_fee_fen: Mapped[int] = mapped_column(Fen, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    department: Mapped[Department] = relationship()
    staff: Mapped[Staff | None] = relationship()


class Schedule(Base):
    """A doctor's weekly sitting (e.g. every Monday morning, 30 slots), from which dated slots are made."""

    __tablename__ = "schedule"
    __table_args__ = (
        UniqueConstraint("doctor_id", "weekday", "period", "valid_from"),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("capacity > 0", name="capacity"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctor.id"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)  # Monday = 0
    period: Mapped[str] = mapped_column(String(2))  # enums.Period
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    capacity: Mapped[int] = mapped_column(Integer)
    fee_fen: Mapped[int] = mapped_column(Fen)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    doctor: Mapped[Doctor] = relationship()


class Slot(Base):
    """One doctor's sitting on one date. ``taken`` only ever moves by a guarded UPDATE
    (``taken < capacity``) so two windows can never take the same last place."""

    __tablename__ = "slot"
    __table_args__ = (
        UniqueConstraint("doctor_id", "date", "period"),
        CheckConstraint("taken >= 0 AND taken <= capacity", name="taken"),
        Index("ix_slot_date_department", "date", "department_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("schedule.id"))
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctor.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    date: Mapped[date] = mapped_column(Date)
    period: Mapped[str] = mapped_column(String(2))
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    capacity: Mapped[int] = mapped_column(Integer)
    taken: Mapped[int] = mapped_column(Integer, default=0)
    next_queue_no: Mapped[int] = mapped_column(Integer, default=1)
    fee_fen: Mapped[int] = mapped_column(Fen)
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)  # 停诊
    suspended_at: Mapped[datetime | None] = mapped_column(DateTime)
    suspend_reason: Mapped[str | None] = mapped_column(String(200))

    doctor: Mapped[Doctor] = relationship()
    department: Mapped[Department] = relationship()


class CatalogItem(Base):
    """The price list: registration fees, drugs, labs, exams, treatments, vaccines, bed-days."""

    __tablename__ = "catalog_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    pinyin: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)  # enums.CatalogKind
    spec: Mapped[str] = mapped_column(String(100), default="")  # 规格, e.g. "0.25g*24粒"
    unit: Mapped[str] = mapped_column(String(20), default="次")
    price_fen: Mapped[int] = mapped_column(Fen)
    exec_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))  # where to go
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)

    exec_department: Mapped[Department | None] = relationship()


# --------------------------------------------------------------------------------------------- patients


class Patient(Base):
    __tablename__ = "patient"
    __table_args__ = (UniqueConstraint("id_type", "id_number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))  # stored intact, incl. CJK extension planes
    pinyin: Mapped[str] = mapped_column(String(50), index=True)
    id_type: Mapped[str] = mapped_column(String(2))  # enums.IdType
    id_number: Mapped[str] = mapped_column(String(30))
    sex: Mapped[str] = mapped_column(String(1))  # enums.Sex
    birth_date: Mapped[date] = mapped_column(Date)
    phone: Mapped[str] = mapped_column(String(20), default="", index=True)
    address: Mapped[str] = mapped_column(String(200), default="")
    # Children 16 and under register with a guardian.
    guardian_name: Mapped[str | None] = mapped_column(String(50))
    guardian_id_type: Mapped[str | None] = mapped_column(String(2))
    guardian_id_number: Mapped[str | None] = mapped_column(String(30))
    guardian_phone: Mapped[str | None] = mapped_column(String(20))
    guardian_relation: Mapped[str | None] = mapped_column(String(20))
    # Cached from the no-show ledger (the ledger is the record; these make the rule check one row read).
    noshow_count: Mapped[int] = mapped_column(Integer, default=0)
    checkin_streak: Mapped[int] = mapped_column(Integer, default=0)
    blacklisted_until: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class NoShowEntry(Base):
    """The no-show ledger: never deleted (SPEC §5)."""

    __tablename__ = "noshow_entry"
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"))
    kind: Mapped[str] = mapped_column(String(20))  # enums.NoShowKind
    count_after: Mapped[int] = mapped_column(Integer)
    blacklisted_until: Mapped[date | None] = mapped_column(Date)
    at: Mapped[datetime] = mapped_column(DateTime)
    note: Mapped[str] = mapped_column(String(200), default="")


# ----------------------------------------------------------------------------------- visits and orders


class Visit(Base):
    """A registration (挂号) and the outpatient visit it opens."""

    __tablename__ = "visit"
    __table_args__ = (
        Index("ix_visit_patient_date", "patient_id", "visit_date"),
        Index("ix_visit_doctor_date", "doctor_id", "visit_date", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_no: Mapped[str] = mapped_column(String(32), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("slot.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    doctor_id: Mapped[int | None] = mapped_column(ForeignKey("doctor.id"))
    visit_date: Mapped[date] = mapped_column(Date)
    period: Mapped[str | None] = mapped_column(String(2))
    queue_no: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20), default="outpatient")  # outpatient / vaccine
    status: Mapped[str] = mapped_column(String(20), default="registered")  # enums.VisitStatus
    fee_fen: Mapped[int] = mapped_column(Fen, default=0)
    fee_status: Mapped[str] = mapped_column(String(20), default="unpaid")  # enums.FeeStatus
    # 信用就医: set once the patient confirmed the pop-up (or switched before being seen).
    credit: Mapped[bool] = mapped_column(Boolean, default=False)
    family_pay: Mapped[bool] = mapped_column(Boolean, default=False)  # 亲情付
    agreement_no: Mapped[str | None] = mapped_column(String(40))
    credit_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    credit_confirmed_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    workstation: Mapped[str] = mapped_column(String(60), default="")
    checked_in_at: Mapped[datetime | None] = mapped_column(DateTime)
    called_at: Mapped[datetime | None] = mapped_column(DateTime)
    seen_at: Mapped[datetime | None] = mapped_column(DateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime)
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    slip_printed_at: Mapped[datetime | None] = mapped_column(DateTime)
    reprint_count: Mapped[int] = mapped_column(Integer, default=0)

    patient: Mapped[Patient] = relationship()
    department: Mapped[Department] = relationship()
    doctor: Mapped[Doctor | None] = relationship()
    slot: Mapped[Slot | None] = relationship()


class MedicalOrder(Base):
    """An order (医嘱/收费单) for an outpatient visit, a vaccine slip, or an inpatient stay."""

    __tablename__ = "medical_order"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_no: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # enums.OrderKind
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"), index=True)
    admission_id: Mapped[int | None] = mapped_column(ForeignKey("admission.id"), index=True)
    doctor_id: Mapped[int | None] = mapped_column(ForeignKey("doctor.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    status: Mapped[str] = mapped_column(String(20), default="draft")  # enums.OrderStatus
    total_fen: Mapped[int] = mapped_column(Fen, default=0)
    actual_fen: Mapped[int | None] = mapped_column(Fen)  # what is really charged (≤ total); None = total
    credit: Mapped[bool] = mapped_column(Boolean, default=False)  # to be paid by 信用就医
    fee_status: Mapped[str] = mapped_column(String(20), default="unpaid")  # enums.FeeStatus
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    workstation: Mapped[str] = mapped_column(String(60), default="")
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    executed_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))

    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderItem.id"
    )
    patient: Mapped[Patient] = relationship()
    visit: Mapped[Visit | None] = relationship()


class OrderItem(Base):
    __tablename__ = "order_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("medical_order.id", ondelete="CASCADE"), index=True)
    catalog_item_id: Mapped[int | None] = mapped_column(ForeignKey("catalog_item.id"))
    name: Mapped[str] = mapped_column(String(100))  # snapshot at order time
    kind: Mapped[str] = mapped_column(String(20))  # enums.CatalogKind
    spec: Mapped[str] = mapped_column(String(100), default="")
    unit: Mapped[str] = mapped_column(String(20), default="")
    unit_price_fen: Mapped[int] = mapped_column(Fen)
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    amount_fen: Mapped[int] = mapped_column(Fen)
    actual_quantity: Mapped[int | None] = mapped_column(Integer)  # e.g. a drug not dispensed
    actual_amount_fen: Mapped[int | None] = mapped_column(Fen)
    exec_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    exec_location: Mapped[str] = mapped_column(String(100), default="")  # snapshot for the slip
    usage: Mapped[str] = mapped_column(String(100), default="")  # 用法用量

    order: Mapped[MedicalOrder] = relationship(back_populates="items")


# ------------------------------------------------------------------------------------------- inpatient


# An admission holds its bed (and its patient) until it is settled; settled admissions are history.
_CURRENT_ADMISSION = text("status <> 'settled'")


class Admission(Base):
    __tablename__ = "admission"
    __table_args__ = (
        # One current admission per bed and per patient, guaranteed by the database (two desks at once).
        Index("uq_admission_current_bed", "ward", "bed", unique=True, sqlite_where=_CURRENT_ADMISSION,
              postgresql_where=_CURRENT_ADMISSION),
        Index("uq_admission_current_patient", "patient_id", unique=True, sqlite_where=_CURRENT_ADMISSION,
              postgresql_where=_CURRENT_ADMISSION),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    admission_no: Mapped[str] = mapped_column(String(32), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    doctor_id: Mapped[int | None] = mapped_column(ForeignKey("doctor.id"))
    ward: Mapped[str] = mapped_column(String(50))
    bed: Mapped[str] = mapped_column(String(20))
    diagnosis: Mapped[str] = mapped_column(Text, default="")
    daily_bed_fen: Mapped[int] = mapped_column(Fen, default=0)
    status: Mapped[str] = mapped_column(String(20), default="admitted")  # enums.AdmissionStatus
    admitted_at: Mapped[datetime] = mapped_column(DateTime)
    admitted_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    discharged_at: Mapped[datetime | None] = mapped_column(DateTime)
    agreement_no: Mapped[str | None] = mapped_column(String(40))
    family_pay: Mapped[bool] = mapped_column(Boolean, default=False)

    patient: Mapped[Patient] = relationship()


_BED_DAY = text("source = 'bed' AND reversed_charge_id IS NULL")


class InpatientCharge(Base):
    """A cost posted to an admission's running account (bed-day, an order's items …)."""

    __tablename__ = "inpatient_charge"
    __table_args__ = (
        # A bed-day is charged once per admission and day (reversal rows point at it and are not counted).
        Index("uq_inpatient_charge_bed_day", "admission_id", "charge_date", unique=True,
              sqlite_where=_BED_DAY, postgresql_where=_BED_DAY),
        # A charge is reversed at most once (NULLs are distinct on both databases).
        Index("uq_inpatient_charge_reversed_charge_id", "reversed_charge_id", unique=True),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    admission_id: Mapped[int] = mapped_column(ForeignKey("admission.id"), index=True)
    charge_date: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(20))  # bed / order / manual
    category: Mapped[str] = mapped_column(String(20), default="other", server_default="other")  # CatalogKind
    order_id: Mapped[int | None] = mapped_column(ForeignKey("medical_order.id"), index=True)
    catalog_item_id: Mapped[int | None] = mapped_column(ForeignKey("catalog_item.id"))
    description: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    amount_fen: Mapped[int] = mapped_column(Fen)
    posted_at: Mapped[datetime] = mapped_column(DateTime)
    posted_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    reversed_charge_id: Mapped[int | None] = mapped_column(ForeignKey("inpatient_charge.id"))


class CreditConsent(Base):
    """书面确权 (attachment 1 of the plan): printed, signed on paper, received before any credit charge."""

    __tablename__ = "credit_consent"
    id: Mapped[int] = mapped_column(primary_key=True)
    admission_id: Mapped[int] = mapped_column(ForeignKey("admission.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    proxy_name: Mapped[str | None] = mapped_column(String(50))
    proxy_id_type: Mapped[str | None] = mapped_column(String(2))
    proxy_id_number: Mapped[str | None] = mapped_column(String(30))
    printed_at: Mapped[datetime | None] = mapped_column(DateTime)
    printed_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    received_at: Mapped[datetime | None] = mapped_column(DateTime)  # the signed paper is in the file
    received_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    workstation: Mapped[str] = mapped_column(String(60), default="")


class DischargeSettlement(Base):
    __tablename__ = "discharge_settlement"
    id: Mapped[int] = mapped_column(primary_key=True)
    admission_id: Mapped[int] = mapped_column(ForeignKey("admission.id"), unique=True)
    total_cost_fen: Mapped[int] = mapped_column(Fen)
    total_deposit_fen: Mapped[int] = mapped_column(Fen)
    balance_fen: Mapped[int] = mapped_column(Fen)  # > 0 surplus to refund, < 0 shortfall to collect
    status: Mapped[str] = mapped_column(String(20), default="open")  # open / done
    plan: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # per-channel in/out
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)


# -------------------------------------------------------------------------------------- money records


class CreditLock(Base):
    """A 信用就医 lock (registration fee, one order, one vaccine slip): the unit the T-day run deducts."""

    __tablename__ = "credit_lock"
    __table_args__ = (
        Index("ix_credit_lock_day_status", "business_date", "status"),
        CheckConstraint("deducted_fen <= amount_fen", name="deduct_le_lock"),
        CheckConstraint("refunded_fen <= deducted_fen", name="refund_le_deduct"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    lock_no: Mapped[str] = mapped_column(String(32), unique=True)  # the hospital's order number sent
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("medical_order.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))  # registration / order / vaccine
    agreement_no: Mapped[str] = mapped_column(String(40))
    family_pay: Mapped[bool] = mapped_column(Boolean, default=False)
    amount_fen: Mapped[int] = mapped_column(Fen)  # locked
    actual_fen: Mapped[int | None] = mapped_column(Fen)  # to deduct on T (≤ amount); None = amount
    deducted_fen: Mapped[int] = mapped_column(Fen, default=0)
    refunded_fen: Mapped[int] = mapped_column(Fen, default=0)
    lock_serial: Mapped[str | None] = mapped_column(String(64), index=True)  # the bank's serial
    status: Mapped[str] = mapped_column(String(20), default="pending")  # enums.LockStatus
    failure_code: Mapped[str | None] = mapped_column(String(30))
    failure_message: Mapped[str | None] = mapped_column(String(200))
    business_date: Mapped[date] = mapped_column(Date)  # T
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    workstation: Mapped[str] = mapped_column(String(60), default="")
    locked_at: Mapped[datetime | None] = mapped_column(DateTime)
    deducted_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Deduction claim (SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL; lease on SQLite).
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)


class Payment(Base):
    """Money in, by any channel: a visit fee, an order paid at the window, an inpatient deposit or top-up.

    Credit payments made through a lock point at it (``credit_lock_id``); inpatient credit payments use
    the bank's pay interface and carry ``payment_no`` as the number sent.
    """

    __tablename__ = "payment"
    __table_args__ = (
        Index("ix_payment_day_cashier", "business_date", "cashier_id"),
        CheckConstraint("refunded_fen <= amount_fen", name="refund_le_amount"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    payment_no: Mapped[str] = mapped_column(String(32), unique=True)
    channel: Mapped[str] = mapped_column(String(20))  # enums.Channel
    purpose: Mapped[str] = mapped_column(String(20))  # registration / order / vaccine / deposit / settlement
    amount_fen: Mapped[int] = mapped_column(Fen)
    refunded_fen: Mapped[int] = mapped_column(Fen, default=0)
    status: Mapped[str] = mapped_column(String(20), default="success")  # pending / success / failed
    reference_no: Mapped[str] = mapped_column(String(64), default="")  # WeChat/Alipay/card/insurance ref
    cash_received_fen: Mapped[int | None] = mapped_column(Fen)
    change_fen: Mapped[int | None] = mapped_column(Fen)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("medical_order.id"), index=True)
    admission_id: Mapped[int | None] = mapped_column(ForeignKey("admission.id"), index=True)
    credit_lock_id: Mapped[int | None] = mapped_column(ForeignKey("credit_lock.id"))
    consent_id: Mapped[int | None] = mapped_column(ForeignKey("credit_consent.id"))
    bank_serial: Mapped[str | None] = mapped_column(String(64))
    cashier_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    workstation: Mapped[str] = mapped_column(String(60), default="")
    business_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Refund(Base):
    """Money out. ``id`` order is submission order: the refund queue retries QUEUED refunds by ``id``."""

    __tablename__ = "refund"
    __table_args__ = (Index("ix_refund_status_id", "status", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    refund_no: Mapped[str] = mapped_column(String(32), unique=True)  # the same number on every retry
    method: Mapped[str] = mapped_column(String(20))  # enums.RefundMethod
    channel: Mapped[str] = mapped_column(String(20))  # enums.Channel
    amount_fen: Mapped[int] = mapped_column(Fen)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # enums.RefundStatus
    reason: Mapped[str] = mapped_column(String(200), default="")
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"), index=True)
    credit_lock_id: Mapped[int | None] = mapped_column(ForeignKey("credit_lock.id"), index=True)
    original_serial: Mapped[str | None] = mapped_column(String(64))  # bank serial being refunded
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("medical_order.id"))
    admission_id: Mapped[int | None] = mapped_column(ForeignKey("admission.id"))
    settlement_id: Mapped[int | None] = mapped_column(ForeignKey("discharge_settlement.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))  # who asked (notices)
    reference_no: Mapped[str] = mapped_column(String(64), default="")
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    workstation: Mapped[str] = mapped_column(String(60), default="")
    business_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime)  # submission time
    queued_at: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error_code: Mapped[str | None] = mapped_column(String(30))
    last_error_message: Mapped[str | None] = mapped_column(String(200))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    bank_serial: Mapped[str | None] = mapped_column(String(64))


class RefundAttempt(Base):
    """Each try of a refund (first submission and every queue retry): the queue's history."""

    __tablename__ = "refund_attempt"
    id: Mapped[int] = mapped_column(primary_key=True)
    refund_id: Mapped[int] = mapped_column(ForeignKey("refund.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    outcome: Mapped[str] = mapped_column(String(20))  # success / queued / failed / unknown
    code: Mapped[str | None] = mapped_column(String(30))
    message: Mapped[str | None] = mapped_column(String(200))
    by: Mapped[str] = mapped_column(String(80), default="")


class BankJournal(Base):
    """The write-ahead journal: every money operation, committed before it is sent and resolved after.

    ``number`` is the hospital's own number for the operation (lock/deduct/cancel: the lock number;
    confirm: the visit number; pay: the payment number; refund: the refund number). Resending the same
    ``(op, number)`` is the same operation at the bank.
    """

    __tablename__ = "bank_journal"
    __table_args__ = (
        UniqueConstraint("op", "number"),
        Index("ix_bank_journal_state", "state"),
        Index("ix_bank_journal_day", "business_date"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    op: Mapped[str] = mapped_column(String(20))  # enums.BankOp
    number: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(30), default="")  # which workflow applies the outcome
    params: Mapped[dict[str, Any]] = mapped_column(JSON)  # every parameter sent
    amount_fen: Mapped[int | None] = mapped_column(Fen)
    state: Mapped[str] = mapped_column(String(20), default="intent")  # enums.JournalState
    bank_serial: Mapped[str | None] = mapped_column(String(64))
    bank_status: Mapped[str | None] = mapped_column(String(20))  # SUCCESS / FAILED / PROCESSING as answered
    result_code: Mapped[str | None] = mapped_column(String(30))
    result_message: Mapped[str | None] = mapped_column(String(200))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"), index=True)  # a visit's operations
    order_id: Mapped[int | None] = mapped_column(ForeignKey("medical_order.id"))
    credit_lock_id: Mapped[int | None] = mapped_column(ForeignKey("credit_lock.id"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"))
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refund.id"))
    admission_id: Mapped[int | None] = mapped_column(ForeignKey("admission.id"))
    business_date: Mapped[date] = mapped_column(Date)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    workstation: Mapped[str] = mapped_column(String(60), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    next_check_at: Mapped[datetime | None] = mapped_column(DateTime)  # resolver back-off


class DeductionRun(Base):
    """One execution of the T-day deduction (there may be several for a day, on several PCs)."""

    __tablename__ = "deduction_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    business_date: Mapped[date] = mapped_column(Date, index=True)
    host: Mapped[str] = mapped_column(String(80))
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(20), default="running")  # running / done / crashed
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ReconciliationRun(Base):
    __tablename__ = "reconciliation_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    bill_date: Mapped[date] = mapped_column(Date, index=True)
    run_at: Mapped[datetime] = mapped_column(DateTime)
    run_by: Mapped[str] = mapped_column(String(80))
    bank_lines: Mapped[int] = mapped_column(Integer, default=0)
    local_lines: Mapped[int] = mapped_column(Integer, default=0)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # per mismatch kind
    bank_total_fen: Mapped[int] = mapped_column(Fen, default=0)
    local_total_fen: Mapped[int] = mapped_column(Fen, default=0)


class ReconciliationItem(Base):
    __tablename__ = "reconciliation_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("reconciliation_run.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # matched / missing_local / missing_bank / amount / status
    serial: Mapped[str] = mapped_column(String(64))
    op: Mapped[str | None] = mapped_column(String(20))
    number: Mapped[str | None] = mapped_column(String(64))
    local_amount_fen: Mapped[int | None] = mapped_column(Fen)
    bank_amount_fen: Mapped[int | None] = mapped_column(Fen)
    local_status: Mapped[str | None] = mapped_column(String(20))
    bank_status: Mapped[str | None] = mapped_column(String(20))
    journal_id: Mapped[int | None] = mapped_column(ForeignKey("bank_journal.id"))


# ------------------------------------------------------------------------------------- notices & audit


class Notification(Base):
    """A message to a department's inbox (e.g. "该居民退款失败"), shown at that department's workstations."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_dept_read", "department_id", "read_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))  # None = finance/all
    kind: Mapped[str] = mapped_column(String(30))  # enums.NotificationKind
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"))
    amount_fen: Mapped[int | None] = mapped_column(Fen)
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refund.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)
    read_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class AuditHead(Base):
    """One row per audit chain (a workstation; ``""`` = hospital-wide) holding the chain's tip; updating it
    serialises that workstation's appends. ``link_no``/``link_hash`` register the chain in the chain registry,
    whose tip (``chains``/``chains_hash``) is kept on the hospital-wide row (see ``services/audit.py``)."""

    __tablename__ = "audit_head"
    chain: Mapped[str] = mapped_column(String(60), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    hash: Mapped[str] = mapped_column(String(64))
    link_no: Mapped[int] = mapped_column(Integer, default=0)
    link_hash: Mapped[str] = mapped_column(String(64))
    chains: Mapped[int] = mapped_column(Integer, default=0)
    chains_hash: Mapped[str] = mapped_column(String(64))


class AuditRecord(Base):
    """Append-only and hash-chained per workstation: ``hash = SHA-256(prev_hash ‖ canonical record)``,
    ``seq`` counting 1, 2, … within ``chain``."""

    __tablename__ = "audit_record"
    __table_args__ = (UniqueConstraint("chain", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    chain: Mapped[str] = mapped_column(String(60), default="")
    seq: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(80))
    workstation: Mapped[str] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(60), index=True)
    entity: Mapped[str] = mapped_column(String(40), default="")
    entity_id: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
