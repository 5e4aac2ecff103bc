"""Authorization engine: request status, clock and determination; appeals; peer-to-peer; letter queue.

Revision ID: 0003
Revises: 0002 (case management)
Create Date: 2026-11-22 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "auth_requests",
        sa.Column("request_id", sa.String(length=255), nullable=False),
        sa.Column("member_id", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_rule_id", sa.String(length=32), nullable=False),
        sa.Column("due_label", sa.Text(), nullable=False),
        sa.Column("program", sa.JSON(), nullable=False),
        sa.Column("determination", sa.JSON(), nullable=False),
        sa.Column("level_of_care", sa.String(length=32), nullable=False),
        sa.Column("progress", sa.String(length=32), nullable=True),
        sa.Column("related_authorization_id", sa.String(length=255), nullable=True),
        sa.Column("authorization_id", sa.String(length=255), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("time_to_decision_seconds", sa.Float(), nullable=True),
        sa.Column("escalation", sa.Integer(), nullable=False),
        sa.Column("reviewer_staff_id", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["service_requests.request_id"],
            name=op.f("fk_auth_requests_request_id_service_requests"),
        ),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_auth_requests")),
    )
    with op.batch_alter_table("auth_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auth_requests_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_auth_requests_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_auth_requests_related_authorization_id"),
            ["related_authorization_id"],
            unique=False,
        )
    op.create_table(
        "auth_appeals",
        sa.Column("appeal_id", sa.String(length=255), nullable=False),
        sa.Column("request_id", sa.String(length=255), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("filed_by", sa.String(length=255), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("original_reviewer_staff_id", sa.String(length=255), nullable=True),
        sa.Column("reviewer_staff_id", sa.String(length=255), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["auth_requests.request_id"],
            name=op.f("fk_auth_appeals_request_id_auth_requests"),
        ),
        sa.PrimaryKeyConstraint("appeal_id", name=op.f("pk_auth_appeals")),
    )
    with op.batch_alter_table("auth_appeals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auth_appeals_request_id"), ["request_id"], unique=False)
    op.create_table(
        "auth_peer_to_peer",
        sa.Column("p2p_id", sa.String(length=255), nullable=False),
        sa.Column("request_id", sa.String(length=255), nullable=False),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewer_staff_id", sa.String(length=255), nullable=True),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["auth_requests.request_id"],
            name=op.f("fk_auth_peer_to_peer_request_id_auth_requests"),
        ),
        sa.PrimaryKeyConstraint("p2p_id", name=op.f("pk_auth_peer_to_peer")),
    )
    with op.batch_alter_table("auth_peer_to_peer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auth_peer_to_peer_request_id"), ["request_id"], unique=False)
    op.create_table(
        "auth_letter_jobs",
        sa.Column("letter_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("recipient_kind", sa.String(length=16), nullable=False),
        sa.Column("recipient_id", sa.String(length=255), nullable=False),
        sa.Column("member_id", sa.String(length=255), nullable=False),
        sa.Column("request_id", sa.String(length=255), nullable=False),
        sa.Column("decision_id", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rendered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("file_path", sa.Text(), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["auth_requests.request_id"],
            name=op.f("fk_auth_letter_jobs_request_id_auth_requests"),
        ),
        sa.PrimaryKeyConstraint("letter_id", name=op.f("pk_auth_letter_jobs")),
    )
    with op.batch_alter_table("auth_letter_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auth_letter_jobs_request_id"), ["request_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_auth_letter_jobs_status"), ["status"], unique=False)


def downgrade() -> None:
    op.drop_table("auth_letter_jobs")
    op.drop_table("auth_peer_to_peer")
    op.drop_table("auth_appeals")
    op.drop_table("auth_requests")
