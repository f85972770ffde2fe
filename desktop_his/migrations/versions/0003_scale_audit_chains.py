"""per-workstation audit chains: audit_head keyed by chain with the chain registry, audit_record.chain with
(chain, seq) unique. The existing single chain becomes the hospital-wide chain "".

Revision ID: 0003_scale_audit_chains
Revises: 0002_inpatientcore_guards
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_scale_audit_chains"
down_revision = "0002_inpatientcore_guards"
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def upgrade() -> None:
    with op.batch_alter_table("audit_head", schema=None, recreate="always") as batch_op:
        batch_op.add_column(sa.Column("chain", sa.String(length=60), server_default="", nullable=False))
        batch_op.add_column(sa.Column("link_no", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("link_hash", sa.String(length=64), server_default=GENESIS, nullable=False))
        batch_op.add_column(sa.Column("chains", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("chains_hash", sa.String(length=64), server_default=GENESIS, nullable=False))
        batch_op.drop_constraint("pk_audit_head", type_="primary")
        batch_op.drop_column("id")
        batch_op.create_primary_key("pk_audit_head", ["chain"])
    with op.batch_alter_table("audit_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chain", sa.String(length=60), server_default="", nullable=False))
        batch_op.drop_constraint("uq_audit_record_seq", type_="unique")
        batch_op.create_unique_constraint("uq_audit_record_chain_seq", ["chain", "seq"])


def downgrade() -> None:
    # Only a database holding nothing but the hospital-wide chain can go back to one chain.
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM audit_record WHERE chain <> ''")).scalar_one():
        raise RuntimeError("audit records of per-workstation chains cannot be merged back into one chain")
    bind.execute(sa.text("DELETE FROM audit_head WHERE chain <> ''"))
    with op.batch_alter_table("audit_record", schema=None) as batch_op:
        batch_op.drop_constraint("uq_audit_record_chain_seq", type_="unique")
        batch_op.create_unique_constraint("uq_audit_record_seq", ["seq"])
        batch_op.drop_column("chain")
    with op.batch_alter_table("audit_head", schema=None, recreate="always") as batch_op:
        batch_op.add_column(sa.Column("id", sa.Integer(), server_default="1", nullable=False))
        batch_op.drop_constraint("pk_audit_head", type_="primary")
        batch_op.drop_column("chain")
        batch_op.drop_column("link_no")
        batch_op.drop_column("link_hash")
        batch_op.drop_column("chains")
        batch_op.drop_column("chains_hash")
        batch_op.create_primary_key("pk_audit_head", ["id"])
