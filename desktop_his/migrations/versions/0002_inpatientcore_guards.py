"""inpatient account guards: one current admission per bed and per patient, one charge per bed-day,
one reversal per charge, charge category, refund and charge look-up indexes

Revision ID: 0002_inpatientcore_guards
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_inpatientcore_guards"
down_revision = "0001"
branch_labels = None
depends_on = None

CURRENT = sa.text("status <> 'settled'")
BED_DAY = sa.text("source = 'bed' AND reversed_charge_id IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("admission", schema=None) as batch_op:
        batch_op.create_index("uq_admission_current_bed", ["ward", "bed"], unique=True,
                              sqlite_where=CURRENT, postgresql_where=CURRENT)
        batch_op.create_index("uq_admission_current_patient", ["patient_id"], unique=True,
                              sqlite_where=CURRENT, postgresql_where=CURRENT)
    with op.batch_alter_table("inpatient_charge", schema=None) as batch_op:
        batch_op.add_column(sa.Column("category", sa.String(length=20), server_default="other", nullable=False))
        batch_op.create_index(batch_op.f("ix_inpatient_charge_order_id"), ["order_id"], unique=False)
        batch_op.create_index("uq_inpatient_charge_bed_day", ["admission_id", "charge_date"], unique=True,
                              sqlite_where=BED_DAY, postgresql_where=BED_DAY)
        batch_op.create_index("uq_inpatient_charge_reversed_charge_id", ["reversed_charge_id"], unique=True)
    with op.batch_alter_table("refund", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refund_settlement_id"), ["settlement_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("refund", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refund_settlement_id"))
    with op.batch_alter_table("inpatient_charge", schema=None) as batch_op:
        batch_op.drop_index("uq_inpatient_charge_reversed_charge_id")
        batch_op.drop_index("uq_inpatient_charge_bed_day")
        batch_op.drop_index(batch_op.f("ix_inpatient_charge_order_id"))
        batch_op.drop_column("category")
    with op.batch_alter_table("admission", schema=None) as batch_op:
        batch_op.drop_index("uq_admission_current_patient")
        batch_op.drop_index("uq_admission_current_bed")
