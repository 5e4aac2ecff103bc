"""Focused Outpatient Management: clinical-intelligence flags and the OPM side of cases.

Revision ID: 0004
Revises: 0003 (authorization engine)
Create Date: 2026-11-23 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "opm_flags",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("member_rank", sa.Integer(), nullable=False),
        sa.Column("member_score", sa.Float(), nullable=False),
        sa.Column("implements", sa.String(length=255), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("measure", sa.Text(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("comparator", sa.String(length=4), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("index_date", sa.Date(), nullable=True),
        sa.Column("claim_ids", sa.JSON(), nullable=False),
        sa.Column("claim_dates", sa.JSON(), nullable=False),
        sa.Column("sentence", sa.Text(), nullable=False),
        sa.Column("pack_version", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opm_flags")),
        sa.UniqueConstraint(
            "member_id", "rule_id", "as_of", name=op.f("uq_opm_flags_member_id_rule_id_as_of")
        ),
    )
    with op.batch_alter_table("opm_flags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_opm_flags_as_of"), ["as_of"], unique=False)
        batch_op.create_index(batch_op.f("ix_opm_flags_member_id"), ["member_id"], unique=False)

    op.create_table(
        "opm_cases",
        sa.Column("case_id", sa.String(length=255), nullable=False),
        sa.Column("member_id", sa.String(length=255), nullable=False),
        sa.Column("provider_npi", sa.String(length=10), nullable=False),
        sa.Column("plan_id", sa.String(length=255), nullable=False),
        sa.Column("cycle", sa.String(length=7), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("letter_date", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("open_key", sa.String(length=128), nullable=True),
        sa.Column("flag_rule_ids", sa.JSON(), nullable=False),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.Column("authorization_ids", sa.JSON(), nullable=False),
        sa.Column("letter_ids", sa.JSON(), nullable=False),
        sa.Column("form", sa.JSON(), nullable=True),
        sa.Column("form_returned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("form_submitted_by", sa.String(length=255), nullable=True),
        sa.Column("review", sa.JSON(), nullable=True),
        sa.Column("discontinued_from", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.case_id"], name=op.f("fk_opm_cases_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.member_id"], name=op.f("fk_opm_cases_member_id_members")
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_opm_cases")),
        sa.UniqueConstraint(
            "member_id", "provider_npi", "cycle", name=op.f("uq_opm_cases_member_id_provider_npi_cycle")
        ),
        sa.UniqueConstraint("open_key", name=op.f("uq_opm_cases_open_key")),
    )
    with op.batch_alter_table("opm_cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_opm_cases_cycle"), ["cycle"], unique=False)
        batch_op.create_index(batch_op.f("ix_opm_cases_due_on"), ["due_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_opm_cases_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_opm_cases_state"), ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("opm_cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_opm_cases_state"))
        batch_op.drop_index(batch_op.f("ix_opm_cases_member_id"))
        batch_op.drop_index(batch_op.f("ix_opm_cases_due_on"))
        batch_op.drop_index(batch_op.f("ix_opm_cases_cycle"))
    op.drop_table("opm_cases")
    with op.batch_alter_table("opm_flags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_opm_flags_member_id"))
        batch_op.drop_index(batch_op.f("ix_opm_flags_as_of"))
    op.drop_table("opm_flags")
