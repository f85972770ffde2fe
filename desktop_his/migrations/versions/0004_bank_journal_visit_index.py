"""bank_journal.visit_id index: a visit's bank operations (its open ones at the window, the reason a credit
payment was refused) without scanning a journal that grows by hundreds of thousands of rows a day

Revision ID: 0004_bank_journal_visit_index
Revises: 0003_scale_audit_chains
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0004_bank_journal_visit_index"
down_revision = "0003_scale_audit_chains"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bank_journal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bank_journal_visit_id"), ["visit_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("bank_journal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bank_journal_visit_id"))
