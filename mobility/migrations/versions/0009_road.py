"""the road: drivers' manifest links and the events tapped on the road

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "driver_link",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("service_date", sa.Date(), nullable=False, index=True),
        sa.Column("vehicle_id", sa.Integer(), sa.ForeignKey("vehicle.id"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.UniqueConstraint("service_date", "vehicle_id", name="uq_driver_link"),
    )
    op.create_table(
        "road_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(80), nullable=False, unique=True),
        sa.Column("service_date", sa.Date(), nullable=False, index=True),
        sa.Column("vehicle_id", sa.Integer(), sa.ForeignKey("vehicle.id"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("stop_seq", sa.Integer(), nullable=True),
        sa.Column("booking_id", sa.Integer(), sa.ForeignKey("booking.id"), nullable=True),
        sa.Column("seats", sa.Integer(), nullable=True),
        sa.Column("odometer_km", sa.Float(), nullable=True),
        sa.Column("checks", sa.String(200), nullable=False, server_default=""),
        sa.Column("phone_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("far_m", sa.Float(), nullable=True),
        sa.Column("undoes", sa.String(80), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("road_event")
    op.drop_table("driver_link")
