"""The Region's monthly ridership report: counts only, no personal data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mobility.errors import SnapError
from mobility.roads import RoadGraph
from mobility.store import Booking, BookingStatus, StopKind

__all__ = ["monthly_report"]


def monthly_report(
    session: Session, year: int, month: int, graphs: Callable[[str], RoadGraph] | None = None
) -> list[dict[str, Any]]:
    """Ridership of a month by settlement and destination, for the Region.

    Counts only, no personal data: the purpose (``work`` or ``service``) and, for a
    service, its category; rides (bookings done or scheduled), seats (those the
    drivers tapped as boarded where they did, the booked ones otherwise), no-shows
    (the worker did not come: confirmed by staff, or entered from the sheet) and
    ``missed_by_service`` (the vehicle went past or never came) apart, and km (road
    distance between the two stops by minibus, per ride; 0 when no road graph is
    given).
    """
    first = dt.date(year, month, 1)
    after = dt.date(year + (month == 12), month % 12 + 1, 1)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    distance_cache: dict[tuple[int, int], float] = {}
    graph = graphs("minibus") if graphs else None
    counted = (BookingStatus.COMPLETED, BookingStatus.NO_SHOW, BookingStatus.SCHEDULED)
    query = select(Booking).where(
        Booking.service_date >= first, Booking.service_date < after, Booking.status.in_(counted)
    )
    outcomes = _outcomes(session, first, after)
    for b in session.scalars(query.order_by(Booking.id)):
        settlement, destination = (
            (b.from_stop, b.to_stop) if b.direction.value == "to_work" else (b.to_stop, b.from_stop)
        )
        key = (settlement.name, destination.name)
        row = rows.setdefault(
            key,
            {
                "settlement": key[0],
                "destination": key[1],
                # rides to work and rides to services count apart (the call's two aims)
                "purpose": "service" if destination.kind is StopKind.SERVICE else "work",
                "category": destination.category.value if destination.category else "",
                "rides": 0,
                "seats": 0,
                "no_shows": 0,
                "missed_by_service": 0,
                "km": 0.0,
            },
        )
        pair = (b.from_stop_id, b.to_stop_id)
        if graph is not None and pair not in distance_cache:
            try:
                distance_cache[pair] = (
                    graph.route(
                        (b.from_stop.lat or 0.0, b.from_stop.lon or 0.0),
                        (b.to_stop.lat or 0.0, b.to_stop.lon or 0.0),
                    ).distance_m
                    / 1000
                )
            except SnapError:  # a stop off the map counts no km
                distance_cache[pair] = 0.0
        outcome = outcomes.get(b.code, {})
        if b.status is BookingStatus.NO_SHOW:
            row["no_shows"] += 1
            continue
        if outcome.get("outcome") == "missed_by_service":
            row["missed_by_service"] += 1
            continue
        row["rides"] += 1
        row["seats"] += outcome.get("seats_boarded") or b.seats
        row["km"] = round(row["km"] + distance_cache.get(pair, 0.0), 1)
    return [rows[k] for k in sorted(rows)]


def _outcomes(session: Session, first: dt.date, after: dt.date) -> dict[str, dict[str, Any]]:
    """Booking code -> its outcome row (:func:`mobility.dispatch.day_outcomes`) for the
    days of the period that have taps from the road."""
    from mobility.dispatch import day_outcomes
    from mobility.store import RoadEvent

    days = sorted(
        set(
            session.scalars(
                select(RoadEvent.service_date).where(
                    RoadEvent.service_date >= first, RoadEvent.service_date < after
                )
            )
        )
    )
    found: dict[str, dict[str, Any]] = {}
    for day in days:
        # the hour of day does not count here: outcomes are read in any time zone alike
        found.update({r["booking"]: r for r in day_outcomes(session, day, timezone="UTC")})
    return found
