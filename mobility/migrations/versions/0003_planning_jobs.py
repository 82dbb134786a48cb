"""planning runs as jobs: queued state, heartbeat, kind and edits, one active run a day

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_ACTIVE = sa.text("status IN ('queued', 'running')")


def upgrade() -> None:
    with op.batch_alter_table("plan_run", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind",
                sa.Enum("plan", "preview", name="plan_kind", native_enum=False, length=20),
                server_default="plan",
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("edits", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("job_id", sa.String(length=64), nullable=True))
        batch_op.alter_column("started_at", existing_type=sa.DateTime(timezone=True), nullable=True)
    # runs of before were started when they were made; one left running is over
    op.execute("UPDATE plan_run SET queued_at = started_at")
    op.execute(
        "UPDATE plan_run SET status = 'failed', message = 'stopped before the upgrade' "
        "WHERE status = 'running'"
    )
    op.create_index(
        "uq_plan_run_active_day",
        "plan_run",
        ["service_date"],
        unique=True,
        sqlite_where=_ACTIVE,
        postgresql_where=_ACTIVE,
    )


def downgrade() -> None:
    op.drop_index("uq_plan_run_active_day", table_name="plan_run")
    op.execute("UPDATE plan_run SET started_at = queued_at WHERE started_at IS NULL")
    with op.batch_alter_table("plan_run", schema=None) as batch_op:
        batch_op.alter_column(
            "started_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )
        batch_op.drop_column("job_id")
        batch_op.drop_column("heartbeat_at")
        batch_op.drop_column("queued_at")
        batch_op.drop_column("edits")
        batch_op.drop_column("kind")
