"""Paid claim-line units: the member's history of paid units for claim checks (TCM-02, IOP-02/04, MN-04).

Revision ID: 0005
Revises: 0004 (outpatient management)
Create Date: 2026-11-24 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "paid_claim_units",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("claim_id", sa.String(length=64), nullable=False),
        sa.Column("claim_line_number", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("hcpcs_code", sa.String(length=16), nullable=False),
        sa.Column("level_modifier", sa.String(length=8), nullable=True),
        sa.Column("paid_units", sa.Float(), nullable=False),
        sa.Column("billing_npi", sa.String(length=10), nullable=True),
        sa.Column("authorization_id", sa.String(length=255), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paid_claim_units")),
        sa.UniqueConstraint(
            "claim_id", "claim_line_number", name=op.f("uq_paid_claim_units_claim_id_claim_line_number")
        ),
    )
    with op.batch_alter_table("paid_claim_units", schema=None) as batch_op:
        batch_op.create_index(
            "ix_paid_claim_units_member_id_service_date", ["member_id", "service_date"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("paid_claim_units", schema=None) as batch_op:
        batch_op.drop_index("ix_paid_claim_units_member_id_service_date")
    op.drop_table("paid_claim_units")
