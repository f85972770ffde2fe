"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.create_table(
        "audit_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("workstation", sa.String(length=60), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_record")),
        sa.UniqueConstraint("seq", name=op.f("uq_audit_record_seq")),
    )
    with op.batch_alter_table("audit_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_record_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_record_at"), ["at"], unique=False)

    op.create_table(
        "change_seq",
        sa.Column("topic", sa.String(length=80), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("topic", name=op.f("pk_change_seq")),
    )
    op.create_table(
        "deduction_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("host", sa.String(length=80), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deduction_run")),
    )
    with op.batch_alter_table("deduction_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deduction_run_business_date"), ["business_date"], unique=False)

    op.create_table(
        "department",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("pinyin", sa.String(length=50), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("location", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=30), nullable=False),
        sa.Column("sex_restriction", sa.String(length=1), nullable=True),
        sa.Column("min_age", sa.Integer(), nullable=True),
        sa.Column("max_age", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_department")),
        sa.UniqueConstraint("code", name=op.f("uq_department_code")),
        sa.UniqueConstraint("name", name=op.f("uq_department_name")),
    )
    with op.batch_alter_table("department", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_department_pinyin"), ["pinyin"], unique=False)

    op.create_table(
        "number_counter",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", "day", name=op.f("pk_number_counter")),
    )
    op.create_table(
        "reconciliation_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bill_date", sa.Date(), nullable=False),
        sa.Column("run_at", sa.DateTime(), nullable=False),
        sa.Column("run_by", sa.String(length=80), nullable=False),
        sa.Column("bank_lines", sa.Integer(), nullable=False),
        sa.Column("local_lines", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("bank_total_fen", sa.BigInteger(), nullable=False),
        sa.Column("local_total_fen", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_run")),
    )
    with op.batch_alter_table("reconciliation_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reconciliation_run_bill_date"), ["bill_date"], unique=False)

    op.create_table(
        "setting",
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_setting")),
    )
    op.create_table(
        "catalog_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("pinyin", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("spec", sa.String(length=100), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("price_fen", sa.BigInteger(), nullable=False),
        sa.Column("exec_department_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["exec_department_id"],
            ["department.id"],
            name=op.f("fk_catalog_item_exec_department_id_department"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_item")),
        sa.UniqueConstraint("code", name=op.f("uq_catalog_item_code")),
    )
    with op.batch_alter_table("catalog_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_catalog_item_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_catalog_item_pinyin"), ["pinyin"], unique=False)

    op.create_table(
        "staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=40), nullable=False),
        sa.Column("full_name", sa.String(length=50), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name=op.f("fk_staff_department_id_department")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
        sa.UniqueConstraint("username", name=op.f("uq_staff_username")),
    )
    op.create_table(
        "doctor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("pinyin", sa.String(length=50), nullable=False),
        sa.Column("title", sa.String(length=30), nullable=False),
        sa.Column("room", sa.String(length=50), nullable=False),
        sa.Column("registration_fee_fen", sa.BigInteger(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name=op.f("fk_doctor_department_id_department")
        ),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_doctor_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_doctor")),
        sa.UniqueConstraint("staff_id", name=op.f("uq_doctor_staff_id")),
    )
    with op.batch_alter_table("doctor", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_doctor_department_id"), ["department_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_doctor_pinyin"), ["pinyin"], unique=False)

    op.create_table(
        "patient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("pinyin", sa.String(length=50), nullable=False),
        sa.Column("id_type", sa.String(length=2), nullable=False),
        sa.Column("id_number", sa.String(length=30), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("guardian_name", sa.String(length=50), nullable=True),
        sa.Column("guardian_id_type", sa.String(length=2), nullable=True),
        sa.Column("guardian_id_number", sa.String(length=30), nullable=True),
        sa.Column("guardian_phone", sa.String(length=20), nullable=True),
        sa.Column("guardian_relation", sa.String(length=20), nullable=True),
        sa.Column("noshow_count", sa.Integer(), nullable=False),
        sa.Column("checkin_streak", sa.Integer(), nullable=False),
        sa.Column("blacklisted_until", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["staff.id"], name=op.f("fk_patient_created_by_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient")),
        sa.UniqueConstraint("id_type", "id_number", name=op.f("uq_patient_id_type_id_number")),
    )
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_patient_phone"), ["phone"], unique=False)
        batch_op.create_index(batch_op.f("ix_patient_pinyin"), ["pinyin"], unique=False)

    op.create_table(
        "staff_role",
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_staff_role_staff_id_staff"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("staff_id", "role", name=op.f("pk_staff_role")),
    )
    op.create_table(
        "admission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("admission_no", sa.String(length=32), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("doctor_id", sa.Integer(), nullable=True),
        sa.Column("ward", sa.String(length=50), nullable=False),
        sa.Column("bed", sa.String(length=20), nullable=False),
        sa.Column("diagnosis", sa.Text(), nullable=False),
        sa.Column("daily_bed_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("admitted_at", sa.DateTime(), nullable=False),
        sa.Column("admitted_by", sa.Integer(), nullable=True),
        sa.Column("discharged_at", sa.DateTime(), nullable=True),
        sa.Column("agreement_no", sa.String(length=40), nullable=True),
        sa.Column("family_pay", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["admitted_by"], ["staff.id"], name=op.f("fk_admission_admitted_by_staff")),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name=op.f("fk_admission_department_id_department")
        ),
        sa.ForeignKeyConstraint(["doctor_id"], ["doctor.id"], name=op.f("fk_admission_doctor_id_doctor")),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], name=op.f("fk_admission_patient_id_patient")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admission")),
        sa.UniqueConstraint("admission_no", name=op.f("uq_admission_admission_no")),
    )
    with op.batch_alter_table("admission", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_admission_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "schedule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("doctor_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=2), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("fee_fen", sa.BigInteger(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint("capacity > 0", name=op.f("ck_schedule_capacity")),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_schedule_weekday")),
        sa.ForeignKeyConstraint(["doctor_id"], ["doctor.id"], name=op.f("fk_schedule_doctor_id_doctor")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule")),
        sa.UniqueConstraint(
            "doctor_id",
            "weekday",
            "period",
            "valid_from",
            name=op.f("uq_schedule_doctor_id_weekday_period_valid_from"),
        ),
    )
    with op.batch_alter_table("schedule", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_schedule_doctor_id"), ["doctor_id"], unique=False)

    op.create_table(
        "credit_consent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("admission_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("proxy_name", sa.String(length=50), nullable=True),
        sa.Column("proxy_id_type", sa.String(length=2), nullable=True),
        sa.Column("proxy_id_number", sa.String(length=30), nullable=True),
        sa.Column("printed_at", sa.DateTime(), nullable=True),
        sa.Column("printed_by", sa.Integer(), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=True),
        sa.Column("received_by", sa.Integer(), nullable=True),
        sa.Column("workstation", sa.String(length=60), nullable=False),
        sa.ForeignKeyConstraint(
            ["admission_id"], ["admission.id"], name=op.f("fk_credit_consent_admission_id_admission")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_credit_consent_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["printed_by"], ["staff.id"], name=op.f("fk_credit_consent_printed_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["received_by"], ["staff.id"], name=op.f("fk_credit_consent_received_by_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_consent")),
    )
    with op.batch_alter_table("credit_consent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credit_consent_admission_id"), ["admission_id"], unique=False)

    op.create_table(
        "discharge_settlement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("admission_id", sa.Integer(), nullable=False),
        sa.Column("total_cost_fen", sa.BigInteger(), nullable=False),
        sa.Column("total_deposit_fen", sa.BigInteger(), nullable=False),
        sa.Column("balance_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["admission_id"], ["admission.id"], name=op.f("fk_discharge_settlement_admission_id_admission")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["staff.id"], name=op.f("fk_discharge_settlement_created_by_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discharge_settlement")),
        sa.UniqueConstraint("admission_id", name=op.f("uq_discharge_settlement_admission_id")),
    )
    op.create_table(
        "slot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=True),
        sa.Column("doctor_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("period", sa.String(length=2), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("taken", sa.Integer(), nullable=False),
        sa.Column("next_queue_no", sa.Integer(), nullable=False),
        sa.Column("fee_fen", sa.BigInteger(), nullable=False),
        sa.Column("suspended", sa.Boolean(), nullable=False),
        sa.Column("suspended_at", sa.DateTime(), nullable=True),
        sa.Column("suspend_reason", sa.String(length=200), nullable=True),
        sa.CheckConstraint("taken >= 0 AND taken <= capacity", name=op.f("ck_slot_taken")),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name=op.f("fk_slot_department_id_department")
        ),
        sa.ForeignKeyConstraint(["doctor_id"], ["doctor.id"], name=op.f("fk_slot_doctor_id_doctor")),
        sa.ForeignKeyConstraint(["schedule_id"], ["schedule.id"], name=op.f("fk_slot_schedule_id_schedule")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slot")),
        sa.UniqueConstraint("doctor_id", "date", "period", name=op.f("uq_slot_doctor_id_date_period")),
    )
    with op.batch_alter_table("slot", schema=None) as batch_op:
        batch_op.create_index("ix_slot_date_department", ["date", "department_id"], unique=False)

    op.create_table(
        "visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_no", sa.String(length=32), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("doctor_id", sa.Integer(), nullable=True),
        sa.Column("visit_date", sa.Date(), nullable=False),
        sa.Column("period", sa.String(length=2), nullable=True),
        sa.Column("queue_no", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("fee_fen", sa.BigInteger(), nullable=False),
        sa.Column("fee_status", sa.String(length=20), nullable=False),
        sa.Column("credit", sa.Boolean(), nullable=False),
        sa.Column("family_pay", sa.Boolean(), nullable=False),
        sa.Column("agreement_no", sa.String(length=40), nullable=True),
        sa.Column("credit_confirmed_at", sa.DateTime(), nullable=True),
        sa.Column("credit_confirmed_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("workstation", sa.String(length=60), nullable=False),
        sa.Column("checked_in_at", sa.DateTime(), nullable=True),
        sa.Column("called_at", sa.DateTime(), nullable=True),
        sa.Column("seen_at", sa.DateTime(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True),
        sa.Column("cancel_reason", sa.String(length=200), nullable=True),
        sa.Column("slip_printed_at", sa.DateTime(), nullable=True),
        sa.Column("reprint_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["staff.id"], name=op.f("fk_visit_created_by_staff")),
        sa.ForeignKeyConstraint(
            ["credit_confirmed_by"], ["staff.id"], name=op.f("fk_visit_credit_confirmed_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name=op.f("fk_visit_department_id_department")
        ),
        sa.ForeignKeyConstraint(["doctor_id"], ["doctor.id"], name=op.f("fk_visit_doctor_id_doctor")),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], name=op.f("fk_visit_patient_id_patient")),
        sa.ForeignKeyConstraint(["slot_id"], ["slot.id"], name=op.f("fk_visit_slot_id_slot")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit")),
        sa.UniqueConstraint("visit_no", name=op.f("uq_visit_visit_no")),
    )
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.create_index("ix_visit_doctor_date", ["doctor_id", "visit_date", "status"], unique=False)
        batch_op.create_index("ix_visit_patient_date", ["patient_id", "visit_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_visit_slot_id"), ["slot_id"], unique=False)

    op.create_table(
        "medical_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_no", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=True),
        sa.Column("admission_id", sa.Integer(), nullable=True),
        sa.Column("doctor_id", sa.Integer(), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("total_fen", sa.BigInteger(), nullable=False),
        sa.Column("actual_fen", sa.BigInteger(), nullable=True),
        sa.Column("credit", sa.Boolean(), nullable=False),
        sa.Column("fee_status", sa.String(length=20), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("workstation", sa.String(length=60), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=True),
        sa.Column("executed_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["admission_id"], ["admission.id"], name=op.f("fk_medical_order_admission_id_admission")
        ),
        sa.ForeignKeyConstraint(["created_by"], ["staff.id"], name=op.f("fk_medical_order_created_by_staff")),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name=op.f("fk_medical_order_department_id_department")
        ),
        sa.ForeignKeyConstraint(["doctor_id"], ["doctor.id"], name=op.f("fk_medical_order_doctor_id_doctor")),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_medical_order_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(["revoked_by"], ["staff.id"], name=op.f("fk_medical_order_revoked_by_staff")),
        sa.ForeignKeyConstraint(["visit_id"], ["visit.id"], name=op.f("fk_medical_order_visit_id_visit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_medical_order")),
        sa.UniqueConstraint("order_no", name=op.f("uq_medical_order_order_no")),
    )
    with op.batch_alter_table("medical_order", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_medical_order_admission_id"), ["admission_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_medical_order_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_medical_order_visit_id"), ["visit_id"], unique=False)

    op.create_table(
        "noshow_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("count_after", sa.Integer(), nullable=False),
        sa.Column("blacklisted_until", sa.Date(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_noshow_entry_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(["visit_id"], ["visit.id"], name=op.f("fk_noshow_entry_visit_id_visit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_noshow_entry")),
    )
    with op.batch_alter_table("noshow_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_noshow_entry_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "credit_lock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lock_no", sa.String(length=32), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("agreement_no", sa.String(length=40), nullable=False),
        sa.Column("family_pay", sa.Boolean(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("actual_fen", sa.BigInteger(), nullable=True),
        sa.Column("deducted_fen", sa.BigInteger(), nullable=False),
        sa.Column("refunded_fen", sa.BigInteger(), nullable=False),
        sa.Column("lock_serial", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("failure_code", sa.String(length=30), nullable=True),
        sa.Column("failure_message", sa.String(length=200), nullable=True),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("workstation", sa.String(length=60), nullable=False),
        sa.Column("locked_at", sa.DateTime(), nullable=True),
        sa.Column("deducted_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("claimed_by", sa.String(length=80), nullable=True),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("deducted_fen <= amount_fen", name=op.f("ck_credit_lock_deduct_le_lock")),
        sa.CheckConstraint("refunded_fen <= deducted_fen", name=op.f("ck_credit_lock_refund_le_deduct")),
        sa.ForeignKeyConstraint(["created_by"], ["staff.id"], name=op.f("fk_credit_lock_created_by_staff")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["medical_order.id"], name=op.f("fk_credit_lock_order_id_medical_order")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_credit_lock_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(["visit_id"], ["visit.id"], name=op.f("fk_credit_lock_visit_id_visit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_lock")),
        sa.UniqueConstraint("lock_no", name=op.f("uq_credit_lock_lock_no")),
    )
    with op.batch_alter_table("credit_lock", schema=None) as batch_op:
        batch_op.create_index("ix_credit_lock_day_status", ["business_date", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_credit_lock_lock_serial"), ["lock_serial"], unique=False)
        batch_op.create_index(batch_op.f("ix_credit_lock_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_credit_lock_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_credit_lock_visit_id"), ["visit_id"], unique=False)

    op.create_table(
        "inpatient_charge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("admission_id", sa.Integer(), nullable=False),
        sa.Column("charge_date", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("catalog_item_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("posted_at", sa.DateTime(), nullable=False),
        sa.Column("posted_by", sa.Integer(), nullable=True),
        sa.Column("reversed_charge_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["admission_id"], ["admission.id"], name=op.f("fk_inpatient_charge_admission_id_admission")
        ),
        sa.ForeignKeyConstraint(
            ["catalog_item_id"],
            ["catalog_item.id"],
            name=op.f("fk_inpatient_charge_catalog_item_id_catalog_item"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["medical_order.id"], name=op.f("fk_inpatient_charge_order_id_medical_order")
        ),
        sa.ForeignKeyConstraint(
            ["posted_by"], ["staff.id"], name=op.f("fk_inpatient_charge_posted_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["reversed_charge_id"],
            ["inpatient_charge.id"],
            name=op.f("fk_inpatient_charge_reversed_charge_id_inpatient_charge"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inpatient_charge")),
    )
    with op.batch_alter_table("inpatient_charge", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inpatient_charge_admission_id"), ["admission_id"], unique=False)

    op.create_table(
        "order_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("catalog_item_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("spec", sa.String(length=100), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("unit_price_fen", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("actual_quantity", sa.Integer(), nullable=True),
        sa.Column("actual_amount_fen", sa.BigInteger(), nullable=True),
        sa.Column("exec_department_id", sa.Integer(), nullable=True),
        sa.Column("exec_location", sa.String(length=100), nullable=False),
        sa.Column("usage", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["catalog_item_id"], ["catalog_item.id"], name=op.f("fk_order_item_catalog_item_id_catalog_item")
        ),
        sa.ForeignKeyConstraint(
            ["exec_department_id"],
            ["department.id"],
            name=op.f("fk_order_item_exec_department_id_department"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["medical_order.id"],
            name=op.f("fk_order_item_order_id_medical_order"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_item")),
    )
    with op.batch_alter_table("order_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_item_order_id"), ["order_id"], unique=False)

    op.create_table(
        "payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_no", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("refunded_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reference_no", sa.String(length=64), nullable=False),
        sa.Column("cash_received_fen", sa.BigInteger(), nullable=True),
        sa.Column("change_fen", sa.BigInteger(), nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("admission_id", sa.Integer(), nullable=True),
        sa.Column("credit_lock_id", sa.Integer(), nullable=True),
        sa.Column("consent_id", sa.Integer(), nullable=True),
        sa.Column("bank_serial", sa.String(length=64), nullable=True),
        sa.Column("cashier_id", sa.Integer(), nullable=True),
        sa.Column("workstation", sa.String(length=60), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("refunded_fen <= amount_fen", name=op.f("ck_payment_refund_le_amount")),
        sa.ForeignKeyConstraint(
            ["admission_id"], ["admission.id"], name=op.f("fk_payment_admission_id_admission")
        ),
        sa.ForeignKeyConstraint(["cashier_id"], ["staff.id"], name=op.f("fk_payment_cashier_id_staff")),
        sa.ForeignKeyConstraint(
            ["consent_id"], ["credit_consent.id"], name=op.f("fk_payment_consent_id_credit_consent")
        ),
        sa.ForeignKeyConstraint(
            ["credit_lock_id"], ["credit_lock.id"], name=op.f("fk_payment_credit_lock_id_credit_lock")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["medical_order.id"], name=op.f("fk_payment_order_id_medical_order")
        ),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], name=op.f("fk_payment_patient_id_patient")),
        sa.ForeignKeyConstraint(["visit_id"], ["visit.id"], name=op.f("fk_payment_visit_id_visit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment")),
        sa.UniqueConstraint("payment_no", name=op.f("uq_payment_payment_no")),
    )
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_admission_id"), ["admission_id"], unique=False)
        batch_op.create_index("ix_payment_day_cashier", ["business_date", "cashier_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payment_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payment_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payment_visit_id"), ["visit_id"], unique=False)

    op.create_table(
        "refund",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("refund_no", sa.String(length=32), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("credit_lock_id", sa.Integer(), nullable=True),
        sa.Column("original_serial", sa.String(length=64), nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("admission_id", sa.Integer(), nullable=True),
        sa.Column("settlement_id", sa.Integer(), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("reference_no", sa.String(length=64), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("workstation", sa.String(length=60), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("queued_at", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("last_error_code", sa.String(length=30), nullable=True),
        sa.Column("last_error_message", sa.String(length=200), nullable=True),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("bank_serial", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["admission_id"], ["admission.id"], name=op.f("fk_refund_admission_id_admission")
        ),
        sa.ForeignKeyConstraint(
            ["credit_lock_id"], ["credit_lock.id"], name=op.f("fk_refund_credit_lock_id_credit_lock")
        ),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name=op.f("fk_refund_department_id_department")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["medical_order.id"], name=op.f("fk_refund_order_id_medical_order")
        ),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], name=op.f("fk_refund_patient_id_patient")),
        sa.ForeignKeyConstraint(["payment_id"], ["payment.id"], name=op.f("fk_refund_payment_id_payment")),
        sa.ForeignKeyConstraint(["requested_by"], ["staff.id"], name=op.f("fk_refund_requested_by_staff")),
        sa.ForeignKeyConstraint(
            ["settlement_id"],
            ["discharge_settlement.id"],
            name=op.f("fk_refund_settlement_id_discharge_settlement"),
        ),
        sa.ForeignKeyConstraint(["visit_id"], ["visit.id"], name=op.f("fk_refund_visit_id_visit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refund")),
        sa.UniqueConstraint("refund_no", name=op.f("uq_refund_refund_no")),
    )
    with op.batch_alter_table("refund", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refund_credit_lock_id"), ["credit_lock_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_refund_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_refund_payment_id"), ["payment_id"], unique=False)
        batch_op.create_index("ix_refund_status_id", ["status", "id"], unique=False)

    op.create_table(
        "bank_journal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("op", sa.String(length=20), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=30), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("bank_serial", sa.String(length=64), nullable=True),
        sa.Column("bank_status", sa.String(length=20), nullable=True),
        sa.Column("result_code", sa.String(length=30), nullable=True),
        sa.Column("result_message", sa.String(length=200), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("visit_id", sa.Integer(), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("credit_lock_id", sa.Integer(), nullable=True),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("refund_id", sa.Integer(), nullable=True),
        sa.Column("admission_id", sa.Integer(), nullable=True),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("workstation", sa.String(length=60), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("next_check_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["admission_id"], ["admission.id"], name=op.f("fk_bank_journal_admission_id_admission")
        ),
        sa.ForeignKeyConstraint(
            ["credit_lock_id"], ["credit_lock.id"], name=op.f("fk_bank_journal_credit_lock_id_credit_lock")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["medical_order.id"], name=op.f("fk_bank_journal_order_id_medical_order")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_bank_journal_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payment.id"], name=op.f("fk_bank_journal_payment_id_payment")
        ),
        sa.ForeignKeyConstraint(["refund_id"], ["refund.id"], name=op.f("fk_bank_journal_refund_id_refund")),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_bank_journal_staff_id_staff")),
        sa.ForeignKeyConstraint(["visit_id"], ["visit.id"], name=op.f("fk_bank_journal_visit_id_visit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_journal")),
        sa.UniqueConstraint("op", "number", name=op.f("uq_bank_journal_op_number")),
    )
    with op.batch_alter_table("bank_journal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bank_journal_credit_lock_id"), ["credit_lock_id"], unique=False)
        batch_op.create_index("ix_bank_journal_day", ["business_date"], unique=False)
        batch_op.create_index("ix_bank_journal_state", ["state"], unique=False)

    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=True),
        sa.Column("refund_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=True),
        sa.Column("read_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name=op.f("fk_notification_department_id_department")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_notification_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(["read_by"], ["staff.id"], name=op.f("fk_notification_read_by_staff")),
        sa.ForeignKeyConstraint(["refund_id"], ["refund.id"], name=op.f("fk_notification_refund_id_refund")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index("ix_notification_dept_read", ["department_id", "read_at"], unique=False)

    op.create_table(
        "refund_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("refund_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("code", sa.String(length=30), nullable=True),
        sa.Column("message", sa.String(length=200), nullable=True),
        sa.Column("by", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["refund_id"], ["refund.id"], name=op.f("fk_refund_attempt_refund_id_refund")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refund_attempt")),
    )
    with op.batch_alter_table("refund_attempt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refund_attempt_refund_id"), ["refund_id"], unique=False)

    op.create_table(
        "reconciliation_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("op", sa.String(length=20), nullable=True),
        sa.Column("number", sa.String(length=64), nullable=True),
        sa.Column("local_amount_fen", sa.BigInteger(), nullable=True),
        sa.Column("bank_amount_fen", sa.BigInteger(), nullable=True),
        sa.Column("local_status", sa.String(length=20), nullable=True),
        sa.Column("bank_status", sa.String(length=20), nullable=True),
        sa.Column("journal_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["journal_id"], ["bank_journal.id"], name=op.f("fk_reconciliation_item_journal_id_bank_journal")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["reconciliation_run.id"],
            name=op.f("fk_reconciliation_item_run_id_reconciliation_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_item")),
    )
    with op.batch_alter_table("reconciliation_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reconciliation_item_run_id"), ["run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reconciliation_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reconciliation_item_run_id"))

    op.drop_table("reconciliation_item")
    with op.batch_alter_table("refund_attempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refund_attempt_refund_id"))

    op.drop_table("refund_attempt")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_dept_read")

    op.drop_table("notification")
    with op.batch_alter_table("bank_journal", schema=None) as batch_op:
        batch_op.drop_index("ix_bank_journal_state")
        batch_op.drop_index("ix_bank_journal_day")
        batch_op.drop_index(batch_op.f("ix_bank_journal_credit_lock_id"))

    op.drop_table("bank_journal")
    with op.batch_alter_table("refund", schema=None) as batch_op:
        batch_op.drop_index("ix_refund_status_id")
        batch_op.drop_index(batch_op.f("ix_refund_payment_id"))
        batch_op.drop_index(batch_op.f("ix_refund_patient_id"))
        batch_op.drop_index(batch_op.f("ix_refund_credit_lock_id"))

    op.drop_table("refund")
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_visit_id"))
        batch_op.drop_index(batch_op.f("ix_payment_patient_id"))
        batch_op.drop_index(batch_op.f("ix_payment_order_id"))
        batch_op.drop_index("ix_payment_day_cashier")
        batch_op.drop_index(batch_op.f("ix_payment_admission_id"))

    op.drop_table("payment")
    with op.batch_alter_table("order_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_item_order_id"))

    op.drop_table("order_item")
    with op.batch_alter_table("inpatient_charge", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inpatient_charge_admission_id"))

    op.drop_table("inpatient_charge")
    with op.batch_alter_table("credit_lock", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_lock_visit_id"))
        batch_op.drop_index(batch_op.f("ix_credit_lock_patient_id"))
        batch_op.drop_index(batch_op.f("ix_credit_lock_order_id"))
        batch_op.drop_index(batch_op.f("ix_credit_lock_lock_serial"))
        batch_op.drop_index("ix_credit_lock_day_status")

    op.drop_table("credit_lock")
    with op.batch_alter_table("noshow_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_noshow_entry_patient_id"))

    op.drop_table("noshow_entry")
    with op.batch_alter_table("medical_order", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_medical_order_visit_id"))
        batch_op.drop_index(batch_op.f("ix_medical_order_patient_id"))
        batch_op.drop_index(batch_op.f("ix_medical_order_admission_id"))

    op.drop_table("medical_order")
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visit_slot_id"))
        batch_op.drop_index("ix_visit_patient_date")
        batch_op.drop_index("ix_visit_doctor_date")

    op.drop_table("visit")
    with op.batch_alter_table("slot", schema=None) as batch_op:
        batch_op.drop_index("ix_slot_date_department")

    op.drop_table("slot")
    op.drop_table("discharge_settlement")
    with op.batch_alter_table("credit_consent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_consent_admission_id"))

    op.drop_table("credit_consent")
    with op.batch_alter_table("schedule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_schedule_doctor_id"))

    op.drop_table("schedule")
    with op.batch_alter_table("admission", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_admission_patient_id"))

    op.drop_table("admission")
    op.drop_table("staff_role")
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patient_pinyin"))
        batch_op.drop_index(batch_op.f("ix_patient_phone"))

    op.drop_table("patient")
    with op.batch_alter_table("doctor", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_doctor_pinyin"))
        batch_op.drop_index(batch_op.f("ix_doctor_department_id"))

    op.drop_table("doctor")
    op.drop_table("staff")
    with op.batch_alter_table("catalog_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_item_pinyin"))
        batch_op.drop_index(batch_op.f("ix_catalog_item_kind"))

    op.drop_table("catalog_item")
    op.drop_table("setting")
    with op.batch_alter_table("reconciliation_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reconciliation_run_bill_date"))

    op.drop_table("reconciliation_run")
    op.drop_table("number_counter")
    with op.batch_alter_table("department", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_department_pinyin"))

    op.drop_table("department")
    with op.batch_alter_table("deduction_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deduction_run_business_date"))

    op.drop_table("deduction_run")
    op.drop_table("change_seq")
    with op.batch_alter_table("audit_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_record_at"))
        batch_op.drop_index(batch_op.f("ix_audit_record_action"))

    op.drop_table("audit_record")
    op.drop_table("audit_head")
