"""Service plans stored (TCM-10), one row per version; the plan's contact details for letters on the
population ``plans`` table (phone, TTY, mailing address, website).

Revision ID: 0006
Revises: 0005 (paid claim units)
Create Date: 2026-11-22 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CONTACT = (
    ("contact_phone", 32),
    ("contact_tty", 32),
    ("contact_address_line_1", 255),
    ("contact_address_line_2", 255),
    ("contact_city", 255),
    ("contact_state", 2),
    ("contact_zip", 10),
    ("website", 255),
)


def upgrade() -> None:
    op.create_table(
        "cm_service_plans",
        sa.Column("plan_id", sa.String(length=255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.String(length=255), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_to", sa.Date(), nullable=True),
        sa.Column("goals", sa.JSON(), nullable=False),
        sa.Column("member_participated", sa.Boolean(), nullable=False),
        sa.Column("member_signed_on", sa.Date(), nullable=True),
        sa.Column("case_manager_signed_on", sa.Date(), nullable=True),
        sa.Column("licensed_professional_signed_on", sa.Date(), nullable=True),
        sa.Column("licensed_professional_id", sa.String(length=255), nullable=True),
        sa.Column("recorded_by", sa.String(length=255), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.member_id"], name=op.f("fk_cm_service_plans_member_id_members")
        ),
        sa.PrimaryKeyConstraint("plan_id", "version", name=op.f("pk_cm_service_plans")),
    )
    op.create_index(op.f("ix_cm_service_plans_member_id"), "cm_service_plans", ["member_id"], unique=False)
    with op.batch_alter_table("plans", schema=None) as batch_op:
        for name, length in _CONTACT:
            batch_op.add_column(sa.Column(name, sa.String(length=length), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plans", schema=None) as batch_op:
        for name, _length in reversed(_CONTACT):
            batch_op.drop_column(name)
    op.drop_index(op.f("ix_cm_service_plans_member_id"), table_name="cm_service_plans")
    op.drop_table("cm_service_plans")
