"""A worker's own data: all of it as one JSON document ("My data"), and deleting the
account (future rides cancelled, the number erased, the rest unlinked from them)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from mobility.bookings.rules import BookingRules
from mobility.clock import hhmm, utcnow
from mobility.store import ACTIVE_STATUSES, Booking, BookingStatus, Message, Worker

__all__ = ["delete_account", "worker_data"]


def worker_data(session: Session, worker: Worker) -> dict[str, Any]:
    """Everything the service holds about a worker, as the worker may take it away
    (the PIN only as the fact that one is set: it is stored as a hash)."""
    bookings = session.scalars(
        select(Booking).where(Booking.worker_id == worker.id).order_by(Booking.service_date)
    )
    messages = session.scalars(
        select(Message).where(Message.worker_id == worker.id).order_by(Message.id)
    )
    return {
        "worker": {
            "code": worker.code,
            "language": worker.language,
            "phone": worker.phone,
            "registered_at": worker.created_at.isoformat(),
            "pin": "set (stored as a hash)",
        },
        "bookings": [
            {
                "code": b.code,
                "date": b.service_date.isoformat(),
                "direction": b.direction.value,
                "from": b.from_stop.name,
                "to": b.to_stop.name,
                "time": hhmm(b.time_min),
                "seats": b.seats,
                "seats_with_ride": b.seats_with_ride,
                "allow_parts": b.allow_parts,
                "status": b.status.value,
                "pickup_time": hhmm(b.pickup_time_min) or None,
                "pickup_stop": b.pickup_stop.name if b.pickup_stop else None,
                "made_by": b.made_by,
                "booked_at": b.created_at.isoformat(),
            }
            for b in bookings
        ],
        "messages": [
            {
                "date": m.service_date.isoformat(),
                "kind": m.kind.value,
                "booking": m.booking_code,
                "text": m.text,
                "state": m.state.value,
                "sent_at": m.sent_at.isoformat() if m.sent_at else None,
            }
            for m in messages
        ],
    }


def delete_account(
    session: Session,
    worker: Worker,
    *,
    rules: BookingRules,
    now: dt.datetime | None = None,
) -> int:
    """Delete a worker's account: rides from today on are cancelled, messages and the
    phone number erased, past rides kept only as counts (no longer linked to
    anyone), then the worker itself goes. One transaction.

    Returns
    -------
    int
        Rides cancelled.
    """
    today = rules.today(now or utcnow())
    cancelled = session.execute(
        update(Booking)
        .where(
            Booking.worker_id == worker.id,
            Booking.service_date >= today,
            Booking.status.in_(ACTIVE_STATUSES),
        )
        .values(status=BookingStatus.CANCELLED)
    ).rowcount  # type: ignore[attr-defined]
    session.execute(delete(Message).where(Message.worker_id == worker.id))
    session.execute(
        update(Booking)
        .where(Booking.worker_id == worker.id)
        .values(worker_id=None, series_id=None, idempotency_key=None)
    )
    session.execute(delete(Worker).where(Worker.id == worker.id))
    session.commit()
    return int(cancelled)
