"""Use cases of the booking side: register, authenticate, book, cancel, report.

Each function takes a SQLAlchemy session and primitives, checks every rule before
writing anything, and commits explicitly: a failed call leaves the database as it
was. Rule violations raise :class:`ServiceError`, which names the offending field
and carries a stable ``code`` that the web layer turns into a sentence in the
user's language.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from mobility.errors import MobilityError
from mobility.places import Place
from mobility.store import (
    ACTIVE_STATUSES,
    Booking,
    BookingStatus,
    Direction,
    Report,
    ReportKind,
    Stop,
    StopKind,
    Worker,
    utcnow,
)

__all__ = [
    "CODE_ALPHABET",
    "LANGUAGES",
    "BookingRules",
    "RideRequest",
    "ServiceError",
    "authenticate_worker",
    "cancel_booking",
    "find_booking",
    "list_bookings",
    "list_stops",
    "load_places_as_stops",
    "register_worker",
    "request_rides",
    "submit_report",
]

#: Codes are read aloud and copied by hand: no 0/O, 1/I/L, 5/S, 8/B look-alikes.
CODE_ALPHABET: Final = "ACDEFGHJKMNPQRTUVWXY2345679"
WORKER_CODE_LENGTH: Final = 8
BOOKING_CODE_LENGTH: Final = 7
PIN_DIGITS: Final = 6
LANGUAGES: Final = ("it", "en", "fr", "ar", "bg", "ro")
PICKUP_KINDS: Final = (StopKind.SETTLEMENT, StopKind.TOWN)
DESTINATION_KINDS: Final = (StopKind.FARM, StopKind.TOWN, StopKind.SERVICE)
MAX_REPORT_CHARS: Final = 4000
_IDEMPOTENCY_KEY: Final = re.compile(r"[A-Za-z0-9-]{1,60}")


class ServiceError(MobilityError, ValueError):
    """A rule was broken; ``field`` names the input, ``code`` the rule.

    ``params`` fill the user-facing sentence (e.g. the allowed range).
    """

    def __init__(self, field: str, code: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.field = field
        self.code = code
        self.params = params


@dataclass(frozen=True)
class BookingRules:
    """Booking rules of the service (configurable per deployment).

    Parameters
    ----------
    cutoff
        Local time the evening before after which a booking is ``late``.
    timezone
        Time zone of the service.
    max_days_ahead
        Furthest bookable day, counted from today.
    max_seats
        Most seats one booking may take (a crew leader booking a squad).
    pin_attempts
        Wrong PINs in a row before the code is locked.
    lockout_minutes
        How long a locked code stays locked.
    """

    cutoff: dt.time = dt.time(20, 0)
    timezone: str = "Europe/Rome"
    max_days_ahead: int = 14
    max_seats: int = 28
    pin_attempts: int = 5
    lockout_minutes: int = 30

    @property
    def zone(self) -> ZoneInfo:
        """The service's time zone."""
        return ZoneInfo(self.timezone)

    def local_now(self, now: dt.datetime | None = None) -> dt.datetime:
        """``now`` (default: the current time) in the service's time zone."""
        return (now or utcnow()).astimezone(self.zone)

    def is_late(self, service_date: dt.date, now: dt.datetime | None = None) -> bool:
        """Whether a booking for ``service_date`` made ``now`` is past the cut-off."""
        deadline = dt.datetime.combine(service_date - dt.timedelta(days=1), self.cutoff, self.zone)
        return self.local_now(now) >= deadline


@dataclass(frozen=True)
class RideRequest:
    """What a worker asks for in one booking flow.

    ``time_min`` is the arrive-by time (to work) in minutes after midnight;
    ``return_time_min``, if given, books the ride back from the destination,
    departing after that time; ``repeat_until``, if given, repeats both rides every
    day from Monday to Saturday up to that date.
    """

    service_date: dt.date
    from_stop_id: int
    to_stop_id: int
    time_min: int
    seats: int = 1
    direction: Direction = Direction.TO_WORK
    return_time_min: int | None = None
    repeat_until: dt.date | None = None


# --------------------------------------------------------------------------- workers


def _random_code(length: int) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def register_worker(
    session: Session, *, language: str = "it", phone: str | None = None
) -> tuple[Worker, str]:
    """Create a worker with a new personal code and PIN.

    Parameters
    ----------
    session
        Database session (committed here).
    language
        Preferred language, one of :data:`LANGUAGES`.
    phone
        A phone number, only if the worker wants SMS.

    Returns
    -------
    tuple
        The worker and the PIN in clear, to show once; only its hash is stored.

    Raises
    ------
    ServiceError
        For an unknown language or a malformed phone number.
    """
    if language not in LANGUAGES:
        raise ServiceError("language", "bad_language", f"language: unknown {language!r}")
    if phone:
        digits = phone.replace(" ", "").replace("-", "")
        if not re.fullmatch(r"\+?[0-9]{6,15}", digits):
            raise ServiceError("phone", "bad_phone", "phone: not a phone number")
        phone = digits
    pin = "".join(secrets.choice("0123456789") for _ in range(PIN_DIGITS))
    for _ in range(10):
        code = _random_code(WORKER_CODE_LENGTH)
        if session.scalar(select(Worker.id).where(Worker.code == code)) is None:
            break
    worker = Worker(
        code=code,
        pin_hash=generate_password_hash(pin),
        language=language,
        phone=phone or None,
    )
    session.add(worker)
    session.commit()
    return worker, pin


def authenticate_worker(
    session: Session,
    code: str,
    pin: str,
    *,
    rules: BookingRules | None = None,
    now: dt.datetime | None = None,
) -> Worker:
    """Return the worker with this code and PIN.

    A wrong code, a wrong PIN and a locked code all get the same error, so that
    nobody can find out which codes exist. After ``rules.pin_attempts`` wrong PINs
    in a row the code is locked for ``rules.lockout_minutes``.

    Raises
    ------
    ServiceError
        ``auth_failed`` on the field ``pin``.
    """
    rules = rules or BookingRules()
    now = now or utcnow()
    failure = ServiceError("pin", "auth_failed", "code or PIN is wrong, or the code is locked")
    worker = session.scalar(select(Worker).where(Worker.code == code.strip().upper()))
    if worker is None:
        # spend the same time as a real check, so timing does not reveal codes
        check_password_hash(_DUMMY_HASH, pin)
        raise failure
    locked = worker.locked_until
    if locked is not None and _aware(locked) > now:
        raise failure
    if not check_password_hash(worker.pin_hash, pin.strip()):
        worker.failed_pins += 1
        if worker.failed_pins >= rules.pin_attempts:
            worker.locked_until = now + dt.timedelta(minutes=rules.lockout_minutes)
            worker.failed_pins = 0
        session.commit()
        raise failure
    if worker.failed_pins or worker.locked_until is not None:
        worker.failed_pins = 0
        worker.locked_until = None
        session.commit()
    return worker


_DUMMY_HASH: Final = generate_password_hash("not-a-pin")


def _aware(value: dt.datetime) -> dt.datetime:
    """SQLite gives back naive datetimes: they were stored in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


# --------------------------------------------------------------------------- stops


def list_stops(
    session: Session,
    *,
    kinds: Iterable[StopKind] | None = None,
    near: tuple[float, float] | None = None,
    active_only: bool = True,
) -> list[Stop]:
    """Stops, by name, or nearest first when ``near`` (lat, lon) is given."""
    query = select(Stop)
    if active_only:
        query = query.where(Stop.active.is_(True))
    if kinds is not None:
        query = query.where(Stop.kind.in_(list(kinds)))
    stops = list(session.scalars(query.order_by(Stop.name)))
    if near is not None:
        lat0, lon0 = near
        k = math.cos(math.radians(lat0))

        def distance(stop: Stop) -> float:
            if stop.lat is None or stop.lon is None:
                return math.inf
            return math.hypot(stop.lat - lat0, (stop.lon - lon0) * k)

        stops.sort(key=distance)
    return stops


def _place_kind(kind: str) -> StopKind:
    head = kind.split(" ")[0].strip().lower()
    if head in ("city", "town"):
        return StopKind.TOWN
    return StopKind.SETTLEMENT


def load_places_as_stops(session: Session, places: Sequence[Place]) -> int:
    """Add named places as stops, once (idempotent); returns how many were added.

    Places without coordinates are added inactive, "to be placed" by staff.
    """
    existing = set(session.scalars(select(Stop.name)))
    added = 0
    for place in places:
        if place.name in existing:
            continue
        session.add(
            Stop(
                name=place.name,
                kind=_place_kind(place.kind),
                lat=place.lat,
                lon=place.lon,
                active=place.is_placed,
                note="" if place.is_placed else "to be placed",
            )
        )
        existing.add(place.name)
        added += 1
    session.commit()
    return added


# --------------------------------------------------------------------------- bookings


def _check_stop(session: Session, stop_id: int, field: str, kinds: Sequence[StopKind]) -> Stop:
    stop = session.get(Stop, stop_id)
    if stop is None or not stop.active or not stop.is_placed:
        raise ServiceError(field, "unknown_stop", f"{field}: no such active stop")
    if stop.kind not in kinds:
        raise ServiceError(field, "wrong_stop_kind", f"{field}: not a stop of this kind")
    return stop


def _check_date(service_date: dt.date, rules: BookingRules, now: dt.datetime | None) -> None:
    today = rules.local_now(now).date()
    if service_date < today:
        raise ServiceError("date", "date_past", "date: in the past")
    if service_date > today + dt.timedelta(days=rules.max_days_ahead):
        raise ServiceError("date", "date_too_far", "date: too far ahead", days=rules.max_days_ahead)


def _check_time(value: int, field: str) -> None:
    if not 0 <= value < 24 * 60:
        raise ServiceError(field, "bad_time", f"{field}: not a time of day")


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


def request_rides(
    session: Session,
    worker: Worker,
    ride: RideRequest,
    *,
    made_by: str = "worker",
    idempotency_key: str | None = None,
    rules: BookingRules | None = None,
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
    rules = rules or BookingRules()
    if idempotency_key:
        if not _IDEMPOTENCY_KEY.fullmatch(idempotency_key):
            raise ServiceError(
                "Idempotency-Key", "bad_key", "Idempotency-Key: 1-60 letters, digits or dashes"
            )
        previous = list(
            session.scalars(
                select(Booking)
                .where(Booking.worker_id == worker.id)
                .where(Booking.idempotency_key.like(f"{idempotency_key}:%"))
                .order_by(Booking.id)
            )
        )
        if previous:
            return previous
    if not 1 <= ride.seats <= rules.max_seats:
        raise ServiceError(
            "seats", "seats_range", "seats: out of range", low=1, high=rules.max_seats
        )
    _check_time(ride.time_min, "time")
    if ride.return_time_min is not None:
        _check_time(ride.return_time_min, "return_time")
    outbound_kinds = PICKUP_KINDS if ride.direction is Direction.TO_WORK else DESTINATION_KINDS
    inbound_kinds = DESTINATION_KINDS if ride.direction is Direction.TO_WORK else PICKUP_KINDS
    if ride.from_stop_id == ride.to_stop_id:
        raise ServiceError("to_stop", "same_stop", "to_stop: same as from_stop")
    _check_stop(session, ride.from_stop_id, "from_stop", outbound_kinds)
    _check_stop(session, ride.to_stop_id, "to_stop", inbound_kinds)
    _check_date(ride.service_date, rules, now)
    if ride.repeat_until is not None:
        if ride.repeat_until < ride.service_date:
            raise ServiceError("repeat_until", "repeat_before_start", "repeat_until: before date")
        _check_date(ride.repeat_until, rules, now)
    legs: list[tuple[Direction, int, int, int]] = [
        (ride.direction, ride.from_stop_id, ride.to_stop_id, ride.time_min)
    ]
    if ride.return_time_min is not None:
        back = Direction.BACK if ride.direction is Direction.TO_WORK else Direction.TO_WORK
        legs.append((back, ride.to_stop_id, ride.from_stop_id, ride.return_time_min))
    dates = _series_dates(ride.service_date, ride.repeat_until)
    taken = {
        (b.service_date, b.direction)
        for b in session.scalars(
            select(Booking)
            .where(Booking.worker_id == worker.id)
            .where(Booking.service_date.in_(dates))
            .where(Booking.status.in_(ACTIVE_STATUSES))
        )
    }
    first = ride.service_date
    if any((first, leg[0]) in taken for leg in legs):
        raise ServiceError("date", "duplicate_direction", "date: a ride that way is booked already")
    series_id = _random_code(10) if len(dates) > 1 else None
    bookings: list[Booking] = []
    for day in dates:
        for n, (direction, src, dst, minute) in enumerate(legs):
            if (day, direction) in taken:
                continue  # a repeated day already booked that way: keep the existing ride
            key = f"{idempotency_key}:{day.isoformat()}:{n}" if idempotency_key else None
            bookings.append(
                Booking(
                    code=_random_code(BOOKING_CODE_LENGTH),
                    worker_id=worker.id,
                    service_date=day,
                    direction=direction,
                    from_stop_id=src,
                    to_stop_id=dst,
                    time_min=minute,
                    seats=ride.seats,
                    status=BookingStatus.LATE
                    if rules.is_late(day, now)
                    else BookingStatus.REQUESTED,
                    made_by=made_by,
                    series_id=series_id,
                    idempotency_key=key,
                )
            )
    if dry_run:
        return bookings
    session.add_all(bookings)
    try:
        session.commit()
    except IntegrityError:
        # a concurrent retry with the same key won the race: return its bookings
        session.rollback()
        if idempotency_key:
            return request_rides(
                session,
                worker,
                ride,
                made_by=made_by,
                idempotency_key=idempotency_key,
                rules=rules,
                now=now,
            )
        raise
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
    rules: BookingRules | None = None,
    now: dt.datetime | None = None,
) -> list[Booking]:
    """Cancel one booking, or it and the rest of its series (from its date on).

    Past rides and rides already cancelled or done cannot be cancelled.

    Raises
    ------
    ServiceError
        ``not_found`` or ``not_cancellable`` on the field ``booking``.
    """
    rules = rules or BookingRules()
    booking = find_booking(session, worker, code)
    today = rules.local_now(now).date()
    if booking.status not in ACTIVE_STATUSES or booking.service_date < today:
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
    session.commit()
    return targets


# --------------------------------------------------------------------------- reports


def submit_report(
    session: Session,
    *,
    kind: str,
    text: str = "",
    booking_code: str | None = None,
    language: str = "it",
) -> Report:
    """Store a confidential report for the hub's staff.

    Raises
    ------
    ServiceError
        For an unknown kind or a text over :data:`MAX_REPORT_CHARS`.
    """
    try:
        report_kind = ReportKind(kind)
    except ValueError:
        raise ServiceError("kind", "bad_kind", "kind: unknown report kind") from None
    if len(text) > MAX_REPORT_CHARS:
        raise ServiceError("text", "text_too_long", "text: too long", high=MAX_REPORT_CHARS)
    if report_kind is ReportKind.OTHER and not text.strip():
        raise ServiceError("text", "required", "text: please say what happened")
    report = Report(
        kind=report_kind,
        text=text.strip(),
        booking_code=(booking_code or "").strip().upper()[:16] or None,
        language=language if language in LANGUAGES else "it",
    )
    session.add(report)
    session.commit()
    return report
