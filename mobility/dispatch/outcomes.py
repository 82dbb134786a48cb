"""What happened to each booking: from the drivers' taps (:mod:`.road`), and from the
route sheets typed in afterwards (the paper backup)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mobility.clock import seconds_into
from mobility.dispatch.plans import latest_plan, plan_pickups
from mobility.errors import ServiceError
from mobility.store import Booking, BookingStatus, EventKind, RoadEvent

__all__ = ["day_outcomes", "outcome_of", "record_outcome", "ride_outcomes"]


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


def day_outcomes(session: Session, day: dt.date, *, timezone: str) -> list[dict[str, Any]]:
    """One row per booking of the day that has (or should have) an outcome:
    ``{"booking", "outcome", "seats_booked", "seats_boarded", "told_s", "arrived_s",
    "boarded_s", "vehicle", "source"}``. ``outcome`` is ``completed``, ``no_show``
    (``source`` ``driver`` until staff confirm it: ``pending``), ``missed_by_service``
    (the vehicle went past the stop, or ended its shift, without the crew boarding or
    a no-show), ``cancelled_late`` (cancelled once published), ``turned_down``
    (no ride in the plan), or ``None`` while nothing is known yet."""
    run = latest_plan(session, day)
    told = plan_pickups(run) if run else {}
    where: dict[int, tuple[str, int, int]] = {}  # booking -> (vehicle, vehicle id, stop seq)
    for route in run.routes if run else []:
        for stop in route.stops:
            for m in stop.moves:
                if m.boarding and m.booking_id not in where:
                    where[m.booking_id] = (route.vehicle.name, route.vehicle_id, stop.seq)
    events = list(session.scalars(select(RoadEvent).where(RoadEvent.service_date == day)))
    undone = {e.undoes for e in events if e.undoes}
    live = [e for e in events if e.key not in undone and e.kind != EventKind.UNDO]
    rows = []
    for b in session.scalars(
        select(Booking).where(Booking.service_date == day).order_by(Booking.code)
    ):
        vehicle, vehicle_id, seq = where.get(b.id, (None, 0, -1))
        mine = [e for e in live if e.booking_id == b.id]
        boarded = [e for e in mine if e.kind == EventKind.BOARDED]
        arrived = [
            e
            for e in live
            if e.vehicle_id == vehicle_id and e.stop_seq == seq and e.kind == EventKind.ARRIVED
        ]
        passed = any(
            e.vehicle_id == vehicle_id
            and (e.kind == EventKind.SHIFT_END or (e.stop_seq is not None and e.stop_seq > seq))
            for e in live
        )
        if b.status in (BookingStatus.REQUESTED, BookingStatus.LATE) and run is None:
            continue
        said = outcome_of(
            b.status,
            published=b.id in told or b.pickup_time_min is not None,
            boarded=bool(boarded),
            no_show_tapped=any(e.kind == EventKind.NO_SHOW for e in mine),
            passed=passed,
        )
        if said is None:
            continue  # cancelled in time: no ride to account for
        outcome, source = said
        rows.append(
            {
                "booking": b.code,
                "outcome": outcome,
                "seats_booked": b.seats,
                "seats_boarded": sum(e.seats or 0 for e in boarded),
                "told_s": told[b.id][0] if b.id in told else None,
                "arrived_s": min(
                    (seconds_into(day, e.phone_at, timezone) for e in arrived), default=None
                ),
                "boarded_s": min(
                    (seconds_into(day, e.phone_at, timezone) for e in boarded), default=None
                ),
                "vehicle": vehicle,
                "source": source,
            }
        )
    return rows


def outcome_of(
    status: BookingStatus,
    *,
    published: bool,
    boarded: bool,
    no_show_tapped: bool,
    passed: bool,
) -> tuple[str | None, str | None] | None:
    """The one rule of a booking's outcome: ``(outcome, source)``, ``(None, None)``
    while nothing is known yet, ``None`` for a booking cancelled in time (no ride to
    account for).

    ``published``: the worker was told a pickup; ``boarded``: a driver tapped it
    boarded; ``no_show_tapped``: a driver tapped a no-show; ``passed``: its vehicle
    tapped a later stop or the end of its shift.
    """
    if status is BookingStatus.UNSERVED:
        return "turned_down", "plan"
    if status is BookingStatus.CANCELLED:
        return ("cancelled_late", "booking") if published else None
    if status is BookingStatus.COMPLETED and not boarded:
        return "completed", "sheet"
    if status is BookingStatus.NO_SHOW:
        return "no_show", "driver" if no_show_tapped else "sheet"
    if boarded:
        return "completed", "driver"
    if no_show_tapped:
        return "no_show", "pending"  # a driver's request, not yet confirmed
    if passed and status is BookingStatus.SCHEDULED:
        return "missed_by_service", "driver"
    return None, None


def ride_outcomes(
    session: Session, bookings: list[Booking], *, timezone: str
) -> dict[str, tuple[str, str]]:
    """Booking code -> (outcome, source) for these bookings, as :func:`day_outcomes`
    says (a worker's page shows them: a ride the vehicle missed, a no-show the driver
    tapped that the worker may contest)."""
    found: dict[str, tuple[str, str]] = {}
    for day in sorted({b.service_date for b in bookings}):
        for row in day_outcomes(session, day, timezone=timezone):
            if row["outcome"] is not None:
                found[row["booking"]] = (row["outcome"], row["source"])
    wanted = {b.code for b in bookings}
    return {code: value for code, value in found.items() if code in wanted}
