"""Indexes for the authorization engine's hot paths (issue 3, "Measured").

- ``testing_preauth_notices.plan_id``: "is authorization required?" for psychological testing
  (OPM-01) reads the notices of the member's plan on the date; without it that read scans the table.
- ``decisions.request_id`` is dropped: the unique constraint (request_id, outcome) already indexes
  request_id as its leading column, so the extra index only cost a b-tree write per decision.

Revision ID: 0007
Revises: 0006 (service plans, plan contact)
Create Date: 2026-11-23 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("testing_preauth_notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_testing_preauth_notices_plan_id"), ["plan_id"], unique=False)
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_decisions_request_id"))


def downgrade() -> None:
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_decisions_request_id"), ["request_id"], unique=False)
    with op.batch_alter_table("testing_preauth_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_testing_preauth_notices_plan_id"))
