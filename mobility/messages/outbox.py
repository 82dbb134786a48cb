"""The outbox: which messages a change causes, written in the same transaction as
the change (the caller commits), each under an idempotency key so that a retried
publish or a re-run never queues a message twice.

What a worker was last told is kept on the booking (``told_pickup_min``,
``told_unserved``): a publish tells only what changed since.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mobility.clock import utcnow
from mobility.errors import ServiceError
from mobility.store import (
    Booking,
    BookingStatus,
    Message,
    MessageKind,
    MessageState,
    Worker,
)

__all__ = [
    "MOVED_MIN",
    "MessageRow",
    "count_messages",
    "list_messages",
    "queue_change_notices",
    "queue_lost_seat",
    "queue_on_its_way",
    "queue_publish_notices",
    "queue_reminders",
    "queue_rescue",
    "queue_staff_cancellation",
    "send_again",
]

#: A pickup moved by more than this (minutes) is worth a message.
MOVED_MIN: Final = 5


def _queue(
    session: Session, booking: Booking, kind: MessageKind, key: str, pickup_min: int | None
) -> Message | None:
    """Add a message for the booking's worker (if they asked for SMS), once per key."""
    if booking.worker is None or booking.worker_id is None or not booking.worker.phone:
        return None
    if session.scalar(select(Message.id).where(Message.idempotency_key == key)) is not None:
        return None
    message = Message(
        idempotency_key=key,
        worker_id=booking.worker_id,
        booking_id=booking.id,
        service_date=booking.service_date,
        kind=kind,
        booking_code=booking.code,
        pickup_min=pickup_min,
        stop_name=(booking.pickup_stop or booking.from_stop).name if pickup_min is not None else "",
        state=MessageState.QUEUED,
        tries=0,
        next_attempt_at=utcnow(),
        last_error="",
    )
    session.add(message)
    return message


def queue_publish_notices(session: Session, service_date: dt.date, version: int) -> int:
    """Tell the day's workers what the published plan (``version``) changed for them:
    a first pickup, a pickup moved by more than :data:`MOVED_MIN` minutes, or no seat.

    Returns
    -------
    int
        Messages queued.
    """
    queued = 0
    bookings = session.scalars(
        select(Booking).where(
            Booking.service_date == service_date,
            Booking.status.in_([BookingStatus.SCHEDULED, BookingStatus.UNSERVED]),
        )
    )
    for booking in bookings:
        queued += queue_change_notices(session, booking, f"v{version}")
    return queued


def queue_change_notices(session: Session, booking: Booking, cause: str) -> int:
    """The message this booking's present state calls for, given what its worker was
    told; ``cause`` (a plan version, a run) makes the idempotency key."""
    message = None
    if booking.status is BookingStatus.SCHEDULED and booking.pickup_time_min is not None:
        told, now = booking.told_pickup_min, booking.pickup_time_min
        kind = None
        if told is None or booking.told_unserved:
            kind = MessageKind.PICKUP
        elif abs(now - told) > MOVED_MIN:
            kind = MessageKind.CHANGE
        if kind is not None:
            message = _queue(session, booking, kind, f"{kind.value}:{booking.id}:{cause}", now)
        if message is not None:
            booking.told_pickup_min, booking.told_unserved = now, False
    elif booking.status is BookingStatus.UNSERVED and not booking.told_unserved:
        key = f"unserved:{booking.id}:{cause}"
        message = _queue(session, booking, MessageKind.UNSERVED, key, None)
        if message is not None:
            booking.told_pickup_min, booking.told_unserved = None, True
    return int(message is not None)


def queue_lost_seat(session: Session, booking: Booking, run_id: int) -> int:
    """A re-plan left a published ride without a seat: tell its worker at once (the
    ride shows as unserved in "My rides" from now on)."""
    if booking.told_pickup_min is None:
        return 0
    return queue_change_notices(session, booking, f"run{run_id}")


def queue_rescue(session: Session, booking: Booking, run_id: int) -> int:
    """A worker on board a vehicle that broke down: where and when another vehicle
    picks them up (``booking.pickup_time_min`` at ``booking.pickup_stop``)."""
    if booking.pickup_time_min is None:
        return 0
    key = f"rescue:{booking.id}:run{run_id}"
    message = _queue(session, booking, MessageKind.CHANGE, key, booking.pickup_time_min)
    if message is None:
        return 0
    booking.told_pickup_min, booking.told_unserved = booking.pickup_time_min, False
    return 1


def queue_staff_cancellation(session: Session, booking: Booking) -> int:
    """The hub cancelled a ride whose pickup the worker was told: say so."""
    if booking.told_pickup_min is None or booking.worker is None or not booking.worker.phone:
        return 0
    message = _queue(session, booking, MessageKind.CHANGE, f"cancelled:{booking.id}", None)
    if message is None:
        return 0
    booking.told_pickup_min = None
    return 1


def queue_reminders(session: Session, service_date: dt.date, now: dt.datetime | None = None) -> int:
    """The evening before: remind the workers of their series rides of ``service_date``,
    unless they got another message today.

    Returns
    -------
    int
        Reminders queued.
    """
    now = now or utcnow()
    since = now - dt.timedelta(hours=24)
    told_today = set(session.scalars(select(Message.worker_id).where(Message.created_at >= since)))
    queued = 0
    rides = session.scalars(
        select(Booking).where(
            Booking.service_date == service_date,
            Booking.status == BookingStatus.SCHEDULED,
            Booking.series_id.is_not(None),
            Booking.pickup_time_min.is_not(None),
        )
    )
    for booking in rides:
        if booking.worker_id is None or booking.worker_id in told_today:
            continue
        key = f"reminder:{booking.id}"
        if _queue(session, booking, MessageKind.REMINDER, key, booking.pickup_time_min):
            queued += 1
            told_today.add(booking.worker_id)
    return queued


@dataclass(frozen=True)
class MessageRow:
    """A message as staff see it: booking code and kind, never a phone number."""

    id: int
    booking: str
    kind: str
    state: str
    tries: int
    last_error: str
    sent_at: dt.datetime | None


def _public_state(state: MessageState) -> str:
    return MessageState.QUEUED.value if state is MessageState.SENDING else state.value


def list_messages(session: Session, service_date: dt.date) -> list[MessageRow]:
    """The messages about a day's rides, oldest first."""
    rows = session.scalars(
        select(Message).where(Message.service_date == service_date).order_by(Message.id)
    )
    return [
        MessageRow(
            m.id,
            m.booking_code,
            m.kind.value,
            _public_state(m.state),
            m.tries,
            m.last_error,
            m.sent_at,
        )
        for m in rows
    ]


def count_messages(session: Session, service_date: dt.date) -> dict[str, int]:
    """The day's messages by state: queued, sent, failed."""
    counts = {"queued": 0, "sent": 0, "failed": 0}
    rows = session.execute(
        select(Message.state, func.count())
        .where(Message.service_date == service_date)
        .group_by(Message.state)
    )
    for state, n in rows:
        counts[_public_state(state)] += n
    return counts


def send_again(session: Session, message_id: int) -> Message:
    """Queue a failed message again (a mediator checked the number with the worker).

    Raises
    ------
    ServiceError
        ``not_found`` for an unknown message, ``not_failed`` for one not failed, and
        ``no_phone`` when the worker has no number any more.
    """
    message = session.get(Message, message_id)
    if message is None:
        raise ServiceError("message", "not_found", "message: not found")
    if message.state is not MessageState.FAILED:
        raise ServiceError("message", "not_failed", "message: only a failed message is sent again")
    if not session.scalar(select(Worker.phone).where(Worker.id == message.worker_id)):
        raise ServiceError("message", "no_phone", "message: the worker has no phone number now")
    message.state = MessageState.QUEUED
    message.tries = 0
    message.next_attempt_at = utcnow()
    message.last_error = ""
    session.commit()
    return message


def queue_on_its_way(session: Session, booking: Booking, eta_min: int, key: str) -> bool:
    """Tell a worker whose vehicle has left the stop before that it is on its way,
    there about ``eta_min`` (minutes after midnight); once per key. Not committed."""
    return _queue(session, booking, MessageKind.ON_ITS_WAY, key, eta_min) is not None
