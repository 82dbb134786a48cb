"""messages to workers: the SMS outbox, and what each booking's worker was told

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _message()
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.add_column(sa.Column("told_pickup_min", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("told_unserved", sa.Boolean(), server_default="0", nullable=False)
        )


def _message() -> None:
    op.create_table(
        "message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=80), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "pickup",
                "change",
                "reminder",
                "unserved",
                name="message_kind",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("booking_code", sa.String(length=16), nullable=False),
        sa.Column("pickup_min", sa.Integer(), nullable=True),
        sa.Column("stop_name", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "queued",
                "sending",
                "sent",
                "failed",
                name="message_state",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=False),
        sa.Column("gateway_id", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["booking_id"], ["booking.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["worker_id"], ["worker.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_message_booking_id"), ["booking_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_message_service_date"), ["service_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_message_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_message_worker_id"), ["worker_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.drop_column("told_unserved")
        batch_op.drop_column("told_pickup_min")
    op.drop_table("message")
