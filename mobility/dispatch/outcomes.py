"""After the day: who boarded and the real times, typed in from the route sheets."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from mobility.dispatch.plans import latest_plan
from mobility.errors import ServiceError
from mobility.store import Booking, BookingStatus

__all__ = ["record_outcome"]


def record_outcome(
    session: Session,
    service_date: dt.date,
    *,
    boarded: dict[str, bool],
    stop_times: dict[int, tuple[int | None, int | None]] | None = None,
) -> dict[str, int]:
    """Type in a route sheet's results: who boarded, and the real times per stop.

    Parameters
    ----------
    session
        Database session (committed here).
    service_date
        The day.
    boarded
        Booking code -> boarded (True) or no-show (False), for the day's scheduled
        bookings; a no-show is a recorded fact, never a sanction.
    stop_times
        Plan stop id -> (real arrival, real departure) in minutes after midnight.

    Returns
    -------
    dict
        Counts of ``completed`` and ``no_show`` bookings.

    Raises
    ------
    ServiceError
        If a code is not a booking of that day, or a stop not of the day's plan.
    """
    bookings = {
        b.code: b
        for b in session.scalars(select(Booking).where(Booking.service_date == service_date))
    }
    unknown = sorted(set(boarded) - set(bookings))
    if unknown:
        raise ServiceError(
            "booking", "not_found", f"booking: {unknown[0]} is not a booking of that day"
        )
    run = latest_plan(session, service_date)
    stops = {s.id: s for r in (run.routes if run else []) for s in r.stops}
    for stop_id, (arrival, departure) in (stop_times or {}).items():
        if stop_id not in stops:
            raise ServiceError(
                "stop", "not_found", f"stop: {stop_id} is not a stop of that day's plan"
            )
        for value in (arrival, departure):
            if value is not None and not 0 <= value < 24 * 60:
                raise ServiceError("stop", "bad_time", "stop: real times must be times of day")
        stops[stop_id].actual_arrival_min = arrival
        stops[stop_id].actual_departure_min = departure
    counts = {"completed": 0, "no_show": 0}
    for code, rode in boarded.items():
        booking = bookings[code]
        booking.status = BookingStatus.COMPLETED if rode else BookingStatus.NO_SHOW
        counts["completed" if rode else "no_show"] += 1
    session.commit()
    return counts
