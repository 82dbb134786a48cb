"""Rides: book (with the ride back and a Monday-Saturday series), read, cancel.

Each function takes a SQLAlchemy session and primitives, checks every rule before
writing anything, and commits explicitly: a failed call leaves the database as it
was. A broken rule raises :class:`~mobility.errors.ServiceError` naming the field.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mobility.bookings._codes import BOOKING_CODE_LENGTH, random_code
from mobility.bookings.rules import BookingRules
from mobility.errors import ServiceError
from mobility.messages import queue_staff_cancellation
from mobility.stops import DESTINATION_KINDS, PICKUP_KINDS
from mobility.store import (
    ACTIVE_STATUSES,
    Booking,
    BookingStatus,
    Direction,
    Stop,
    Worker,
)

__all__ = ["RideRequest", "cancel_booking", "find_booking", "list_bookings", "request_rides"]

_IDEMPOTENCY_KEY: Final = re.compile(r"[A-Za-z0-9-]{1,60}")

#: One leg of a booking flow: direction, from stop, to stop, minute of the day.
Leg = tuple[Direction, int, int, int]


@dataclass(frozen=True)
class RideRequest:
    """What a worker asks for in one booking flow.

    ``time_min`` is the arrive-by time (to work) in minutes after midnight;
    ``return_time_min``, if given, books the ride back from the destination,
    departing after that time; ``repeat_until``, if given, repeats both rides every
    day from Monday to Saturday up to that date; ``allow_parts`` (a crew leader's
    choice) lets the crew ride in separate vehicles and some of it go when there is
    no room for all (else the crew rides whole or not at all).
    """

    service_date: dt.date
    from_stop_id: int
    to_stop_id: int
    time_min: int
    seats: int = 1
    direction: Direction = Direction.TO_WORK
    return_time_min: int | None = None
    repeat_until: dt.date | None = None
    allow_parts: bool = False


# --------------------------------------------------------------------------- checks


def _check_stops(session: Session, ride: RideRequest) -> None:
    """Both stops exist, are active and placed, and are of the kinds the direction
    allows (one query for both)."""
    to_work = ride.direction is Direction.TO_WORK
    found = {
        s.id: s
        for s in session.scalars(
            select(Stop).where(Stop.id.in_([ride.from_stop_id, ride.to_stop_id]))
        )
    }
    for field, stop_id, kinds in (
        ("from_stop", ride.from_stop_id, PICKUP_KINDS if to_work else DESTINATION_KINDS),
        ("to_stop", ride.to_stop_id, DESTINATION_KINDS if to_work else PICKUP_KINDS),
    ):
        stop = found.get(stop_id)
        if stop is None or not stop.active or stop.lat is None or stop.lon is None:
            raise ServiceError(field, "unknown_stop", f"{field}: no such active stop")
        if stop.kind not in kinds:
            raise ServiceError(field, "wrong_stop_kind", f"{field}: not a stop of this kind")


def _check_date(service_date: dt.date, rules: BookingRules, now: dt.datetime | None) -> None:
    today = rules.today(now)
    if service_date < today:
        raise ServiceError("date", "date_past", "date: in the past")
    if service_date > today + dt.timedelta(days=rules.max_days_ahead):
        raise ServiceError("date", "date_too_far", "date: too far ahead", days=rules.max_days_ahead)


def _check_time(value: int, field: str) -> None:
    if not 0 <= value < 24 * 60:
        raise ServiceError(field, "bad_time", f"{field}: not a time of day")


def _check_ride(
    session: Session, ride: RideRequest, rules: BookingRules, now: dt.datetime | None
) -> None:
    """Every rule of a ride request that does not depend on the worker's bookings."""
    if not 1 <= ride.seats <= rules.max_seats:
        raise ServiceError(
            "seats", "seats_range", "seats: out of range", low=1, high=rules.max_seats
        )
    _check_time(ride.time_min, "time")
    if ride.return_time_min is not None:
        _check_time(ride.return_time_min, "return_time")
    if ride.from_stop_id == ride.to_stop_id:
        raise ServiceError("to_stop", "same_stop", "to_stop: same as from_stop")
    _check_stops(session, ride)
    _check_date(ride.service_date, rules, now)
    if ride.repeat_until is not None:
        if ride.repeat_until < ride.service_date:
            raise ServiceError("repeat_until", "repeat_before_start", "repeat_until: before date")
        _check_date(ride.repeat_until, rules, now)


def _legs(ride: RideRequest) -> list[Leg]:
    legs: list[Leg] = [(ride.direction, ride.from_stop_id, ride.to_stop_id, ride.time_min)]
    if ride.return_time_min is not None:
        back = Direction.BACK if ride.direction is Direction.TO_WORK else Direction.TO_WORK
        legs.append((back, ride.to_stop_id, ride.from_stop_id, ride.return_time_min))
    return legs


def _series_dates(start: dt.date, until: dt.date | None) -> list[dt.date]:
    if until is None:
        return [start]
    dates = []
    day = start
    while day <= until:
        if day.weekday() < 6:  # Monday to Saturday
            dates.append(day)
        day += dt.timedelta(days=1)
    return dates


def _previous(session: Session, worker: Worker, idempotency_key: str) -> list[Booking]:
    """The bookings an earlier call with this idempotency key made."""
    if not _IDEMPOTENCY_KEY.fullmatch(idempotency_key):
        raise ServiceError(
            "Idempotency-Key", "bad_key", "Idempotency-Key: 1-60 letters, digits or dashes"
        )
    return list(
        session.scalars(
            select(Booking)
            .where(Booking.worker_id == worker.id)
            .where(Booking.idempotency_key.like(f"{idempotency_key}:%"))
            .order_by(Booking.id)
        )
    )


def _taken(session: Session, worker: Worker, dates: list[dt.date]) -> set[tuple[dt.date, str]]:
    """(date, direction) of the worker's active rides on these dates."""
    rows = session.execute(
        select(Booking.service_date, Booking.direction)
        .where(Booking.worker_id == worker.id)
        .where(Booking.service_date.in_(dates))
        .where(Booking.status.in_(ACTIVE_STATUSES))
    )
    return {(day, direction) for day, direction in rows}


# --------------------------------------------------------------------------- booking


def _new_bookings(
    worker: Worker,
    ride: RideRequest,
    legs: list[Leg],
    dates: list[dt.date],
    taken: set[tuple[dt.date, str]],
    made_by: str,
    idempotency_key: str | None,
    rules: BookingRules,
    now: dt.datetime | None,
) -> list[Booking]:
    """The bookings of a flow: every leg on every date not booked that way already."""
    series_id = random_code(10) if len(dates) > 1 else None
    bookings: list[Booking] = []
    for day in dates:
        for n, (direction, src, dst, minute) in enumerate(legs):
            if (day, direction) in taken:
                continue  # a repeated day already booked that way: keep the existing ride
            late = rules.is_late(day, now)
            bookings.append(
                Booking(
                    code=random_code(BOOKING_CODE_LENGTH),
                    worker_id=worker.id,
                    service_date=day,
                    direction=direction,
                    from_stop_id=src,
                    to_stop_id=dst,
                    time_min=minute,
                    seats=ride.seats,
                    allow_parts=ride.allow_parts and ride.seats > 1,
                    status=BookingStatus.LATE if late else BookingStatus.REQUESTED,
                    made_by=made_by,
                    series_id=series_id,
                    idempotency_key=f"{idempotency_key}:{day.isoformat()}:{n}"
                    if idempotency_key
                    else None,
                )
            )
    return bookings


def request_rides(
    session: Session,
    worker: Worker,
    ride: RideRequest,
    *,
    made_by: str = "worker",
    idempotency_key: str | None = None,
    rules: BookingRules,
    now: dt.datetime | None = None,
    dry_run: bool = False,
) -> list[Booking]:
    """Book a ride (and the ride back, and a weekly series), all or nothing.

    Parameters
    ----------
    session
        Database session (committed here).
    worker
        The authenticated worker (or the worker a mediator books for).
    ride
        What to book.
    made_by
        ``"worker"`` or the staff role booking on the worker's behalf.
    idempotency_key
        The same key sent twice returns the first call's bookings (double taps,
        retries) instead of booking again.
    rules
        Booking rules (cut-off, limits).
    now
        The current time (for tests).
    dry_run
        Check every rule and return the bookings without saving them (to show a
        confirmation page with the errors found before it).

    Returns
    -------
    list of Booking
        The bookings made, in date order, the ride to work before the ride back.

    Raises
    ------
    ServiceError
        Naming the first offending field; nothing is written.
    """
    if idempotency_key:
        previous = _previous(session, worker, idempotency_key)
        if previous:
            return previous
    _check_ride(session, ride, rules, now)
    legs = _legs(ride)
    dates = _series_dates(ride.service_date, ride.repeat_until)
    taken = _taken(session, worker, dates)
    if any((ride.service_date, leg[0]) in taken for leg in legs):
        raise ServiceError("date", "duplicate_direction", "date: a ride that way is booked already")
    bookings = _new_bookings(worker, ride, legs, dates, taken, made_by, idempotency_key, rules, now)
    if dry_run:
        return bookings
    session.add_all(bookings)
    try:
        session.commit()
    except IntegrityError:
        # a concurrent retry with the same key won the race: return its bookings
        session.rollback()
        previous = _previous(session, worker, idempotency_key) if idempotency_key else []
        if not previous:
            raise
        return previous
    return bookings


def find_booking(session: Session, worker: Worker, code: str) -> Booking:
    """The worker's booking with this code.

    Raises
    ------
    ServiceError
        ``not_found`` if there is none, or it belongs to someone else (the same
        answer, so codes of others cannot be probed).
    """
    booking = session.scalar(
        select(Booking).where(Booking.code == code.strip().upper(), Booking.worker_id == worker.id)
    )
    if booking is None:
        raise ServiceError("booking", "not_found", "booking: not found")
    return booking


def list_bookings(
    session: Session, worker: Worker, *, since: dt.date | None = None
) -> list[Booking]:
    """The worker's bookings from ``since`` on (default: all), by date and time."""
    query = select(Booking).where(Booking.worker_id == worker.id)
    if since is not None:
        query = query.where(Booking.service_date >= since)
    return list(
        session.scalars(
            query.order_by(Booking.service_date, Booking.direction.desc(), Booking.time_min)
        )
    )


def cancel_booking(
    session: Session,
    worker: Worker,
    code: str,
    *,
    whole_series: bool = False,
    rules: BookingRules,
    now: dt.datetime | None = None,
    by_staff: bool = False,
) -> list[Booking]:
    """Cancel one booking, or it and the rest of its series (from its date on).

    Past rides and rides already cancelled or done cannot be cancelled. When staff
    cancel a ride whose pickup the worker was told, the worker is told it is off
    (queued in the same transaction).

    Raises
    ------
    ServiceError
        ``not_found`` or ``not_cancellable`` on the field ``booking``.
    """
    booking = find_booking(session, worker, code)
    if booking.status not in ACTIVE_STATUSES or booking.service_date < rules.today(now):
        raise ServiceError("booking", "not_cancellable", "booking: cannot be cancelled")
    targets = [booking]
    if whole_series and booking.series_id:
        targets = list(
            session.scalars(
                select(Booking)
                .where(Booking.series_id == booking.series_id)
                .where(Booking.worker_id == worker.id)
                .where(Booking.service_date >= booking.service_date)
                .where(Booking.status.in_(ACTIVE_STATUSES))
            )
        )
    for b in targets:
        b.status = BookingStatus.CANCELLED
        if by_staff:
            queue_staff_cancellation(session, b)
    session.commit()
    return targets
