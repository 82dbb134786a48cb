"""told times, crews in parts, reason codes: the boarding start of each move, whether
a crew may ride in part and how many of its seats have a ride, and unserved reasons
stored as codes instead of English sentences

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 23:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

#: the sentences stored before, and their codes
_CODES = {
    "no vehicle may serve it": "no_vehicle_may_serve",
    "more seats than any vehicle that may serve it": "too_many_seats",
    "no vehicle can serve it within its time windows and ride time": "unreachable",
    "no room left in the fleet at that time": "fleet_full",
    "no vehicle in the fleet": "no_fleet",
    "left unassigned by the dispatcher": "left_unassigned",
}


def upgrade() -> None:
    with op.batch_alter_table("plan_move", schema=None) as batch_op:
        batch_op.add_column(sa.Column("start_s", sa.Integer(), nullable=True))
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("allow_parts", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("seats_served", sa.Integer(), nullable=True))
    booking = sa.table("booking", sa.column("reason", sa.String))
    for sentence, code in _CODES.items():
        op.execute(booking.update().where(booking.c.reason == sentence).values(reason=code))
    op.execute(
        booking.update()
        .where(booking.c.reason.is_not(None), booking.c.reason.not_in(list(_CODES.values())))
        .values(reason=None)  # no other sentence was ever stored
    )


def downgrade() -> None:
    booking = sa.table("booking", sa.column("reason", sa.String))
    for sentence, code in _CODES.items():
        op.execute(booking.update().where(booking.c.reason == code).values(reason=sentence))
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.drop_column("seats_served")
        batch_op.drop_column("allow_parts")
    with op.batch_alter_table("plan_move", schema=None) as batch_op:
        batch_op.drop_column("start_s")
