"""Personal data kept as long as needed, no longer: the retention policy and the purge
that applies it (``mobility purge``, a daily job where there is a queue).

What goes, when (days are counted back from the purge's date):

- a booking older than ``bookings_days`` keeps what the Region's report needs (stops,
  date, direction, time, seats, status, pickup) and loses its worker, its series and
  its retry key; the messages about it go;
- a phone number goes ``phone_days`` after the worker's last ride (or registration),
  at once on opt-out (``mobility.bookings.set_phone``);
- a worker with no booking left and registered more than ``bookings_days`` ago goes
  (code, PIN hash, language);
- confidential incident reports go after ``reports_days``, the staff audit log after
  ``audit_days``.

The purge runs in one transaction: it writes all of it or nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Final

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from mobility.store import AuditLog, Booking, Incident, Message, Worker

__all__ = ["PurgeCounts", "RetentionPolicy", "purge"]


@dataclass(frozen=True)
class RetentionPolicy:
    """How long each kind of personal data is kept, in days (see the module)."""

    bookings_days: int = 90
    phone_days: int = 30
    reports_days: int = 365
    audit_days: int = 365

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if value < 1:
                raise ValueError(f"{name}: must be at least 1 day")


@dataclass(frozen=True)
class PurgeCounts:
    """What a purge removed (or, in a dry run, would remove)."""

    bookings_anonymised: int = 0
    workers_deleted: int = 0
    phones_deleted: int = 0
    reports_deleted: int = 0
    audit_deleted: int = 0

    def to_dict(self) -> dict[str, int]:
        """The JSON of ``mobility purge --json``."""
        return asdict(self)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0, 0), dt.UTC)


def purge(
    session: Session, policy: RetentionPolicy, as_of: dt.date, *, dry_run: bool = False
) -> PurgeCounts:
    """Apply the policy as of ``as_of`` (committed, or rolled back when ``dry_run``)."""
    booking_limit = as_of - dt.timedelta(days=policy.bookings_days)
    old = select(Booking.id).where(
        Booking.service_date < booking_limit, Booking.worker_id.is_not(None)
    )
    old_ids = list(session.scalars(old))
    session.execute(delete(Message).where(Message.service_date < booking_limit))
    for ids in _chunks(old_ids):
        session.execute(delete(Message).where(Message.booking_id.in_(ids)))
        session.execute(
            update(Booking)
            .where(Booking.id.in_(ids))
            .values(worker_id=None, series_id=None, idempotency_key=None)
        )
    workers = _delete_idle_workers(session, _midnight(booking_limit))
    phones = _erase_phones(session, as_of - dt.timedelta(days=policy.phone_days))
    reports = session.execute(
        delete(Incident).where(
            Incident.created_at < _midnight(as_of - dt.timedelta(days=policy.reports_days))
        )
    )
    audit = session.execute(
        delete(AuditLog).where(
            AuditLog.at < _midnight(as_of - dt.timedelta(days=policy.audit_days))
        )
    )
    counts = PurgeCounts(
        bookings_anonymised=len(old_ids),
        workers_deleted=workers,
        phones_deleted=phones,
        reports_deleted=reports.rowcount,  # type: ignore[attr-defined]
        audit_deleted=audit.rowcount,  # type: ignore[attr-defined]
    )
    if dry_run:
        session.rollback()
    else:
        session.commit()
    return counts


def _erase_phones(session: Session, limit: dt.date) -> int:
    """Erase the numbers of workers without a ride (or registration) since ``limit``."""
    last_ride = (
        select(Booking.worker_id, func.max(Booking.service_date).label("last"))
        .where(Booking.worker_id.is_not(None))
        .group_by(Booking.worker_id)
        .subquery()
    )
    rows = session.execute(
        select(Worker.id, Worker.created_at, last_ride.c.last)
        .outerjoin(last_ride, last_ride.c.worker_id == Worker.id)
        .where(Worker.phone.is_not(None))
    ).all()
    idle = [
        worker_id
        for worker_id, created, last in rows
        if (last or _as_utc(created).date()) < limit and _as_utc(created).date() < limit
    ]
    for ids in _chunks(idle):
        session.execute(update(Worker).where(Worker.id.in_(ids)).values(phone=None))
    return len(idle)


def _delete_idle_workers(session: Session, registered_before: dt.datetime) -> int:
    """Delete workers with no booking left, registered before the limit."""
    linked = select(Booking.worker_id).where(Booking.worker_id.is_not(None))
    candidates = session.execute(
        select(Worker.id, Worker.created_at).where(Worker.id.not_in(linked))
    ).all()
    gone = [w for w, created in candidates if _as_utc(created) < registered_before]
    for ids in _chunks(gone):
        session.execute(delete(Message).where(Message.worker_id.in_(ids)))
        session.execute(delete(Worker).where(Worker.id.in_(ids)))
    return len(gone)


#: Ids per ``IN`` list: PostgreSQL takes at most 65,535 parameters a statement, and a
#: first purge over a season's backlog has more.
CHUNK: Final = 5000


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    """``ids`` in lists of at most :data:`CHUNK` (all in the caller's one transaction)."""
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _as_utc(moment: dt.datetime) -> dt.datetime:
    """SQLite gives naive datetimes back; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
