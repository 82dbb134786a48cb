"""The day's plan as stored: the latest plan, what the day page shows, the routes a
staff member may see, and publishing pickups to the workers."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mobility.clock import utcnow
from mobility.dispatch._liveness import reap_stale_runs
from mobility.dispatch.fleet import assigned_vehicle_ids
from mobility.errors import ServiceError
from mobility.messages import queue_publish_notices
from mobility.planning import DayFigures, told_pickups
from mobility.store import (
    Booking,
    BookingStatus,
    PlanKind,
    PlanRoute,
    PlanRun,
    PlanStatus,
    Role,
)

__all__ = [
    "DayOverview",
    "day_overview",
    "latest_plan",
    "latest_sizing",
    "plan_pickups",
    "plan_seats",
    "publish_plan",
    "run_figures",
    "sizing_of",
    "visible_routes",
]


def latest_sizing(session: Session, service_date: dt.date) -> dict[str, Any] | None:
    """The answer of the day's newest finished fleet sizing run, if any (see
    :mod:`mobility.dispatch.sizing`)."""
    run = session.scalar(
        select(PlanRun)
        .where(
            PlanRun.service_date == service_date,
            PlanRun.kind == PlanKind.SIZING,
            PlanRun.status == PlanStatus.DONE,
        )
        .order_by(PlanRun.id.desc())
        .limit(1)
    )
    return sizing_of(run) if run is not None else None


def sizing_of(run: PlanRun) -> dict[str, Any] | None:
    """A finished sizing run's answer (``None`` for other runs)."""
    if run.kind is not PlanKind.SIZING or run.status is not PlanStatus.DONE:
        return None
    answer: dict[str, Any] = json.loads(run.figures)
    return answer


def latest_plan(session: Session, service_date: dt.date) -> PlanRun | None:
    """The newest successful planning run of a day (previews of edits are not plans)."""
    return session.scalar(
        select(PlanRun)
        .where(
            PlanRun.service_date == service_date,
            PlanRun.status == PlanStatus.DONE,
            PlanRun.kind == PlanKind.PLAN,
        )
        .order_by(PlanRun.id.desc())
        .limit(1)
    )


def run_figures(run: PlanRun) -> DayFigures | None:
    """A finished plan's (or preview's) figures (``None`` while it runs, when it
    failed, and for a sizing run, whose answer is :func:`latest_sizing`'s)."""
    if run.status is not PlanStatus.DONE or run.kind is PlanKind.SIZING:
        return None
    return DayFigures.from_json(run.figures)


@dataclass(frozen=True)
class DayOverview:
    """The day at a glance: bookings by status, seats, recent runs, the plan."""

    day: dt.date
    counts: dict[str, int]
    seats: int
    runs: list[PlanRun]
    plan: PlanRun | None
    figures: DayFigures | None
    sizing: dict[str, Any] | None = None  # the newest fleet sizing of the day
    unserved: list[Booking] = field(default_factory=list)  # with their reasons


def day_overview(
    session: Session,
    service_date: dt.date,
    *,
    runs: int = 5,
    queued_alive: Callable[[PlanRun], bool] | None = None,
) -> DayOverview:
    """What the dispatcher's day page shows (runs whose worker is gone marked failed)."""
    reap_stale_runs(session, queued_alive=queued_alive)
    counts = session.execute(
        select(Booking.status, func.count())
        .where(Booking.service_date == service_date)
        .group_by(Booking.status)
    ).all()
    seats = session.scalar(
        select(func.sum(Booking.seats)).where(Booking.service_date == service_date)
    )
    recent = list(
        session.scalars(
            select(PlanRun)
            .where(PlanRun.service_date == service_date)
            .order_by(PlanRun.id.desc())
            .limit(runs)
        )
    )
    plan = latest_plan(session, service_date)
    return DayOverview(
        service_date,
        {status.value: n for status, n in counts},
        seats or 0,
        recent,
        plan,
        run_figures(plan) if plan else None,
        latest_sizing(session, service_date),
        list(
            session.scalars(
                select(Booking)
                .where(
                    Booking.service_date == service_date,
                    Booking.status == BookingStatus.UNSERVED,
                )
                .order_by(Booking.time_min, Booking.id)
            )
        ),
    )


def visible_routes(
    session: Session, service_date: dt.date, user_id: int, role: Role
) -> list[PlanRoute]:
    """The routes of the day's plan a staff member may see: every route for
    dispatchers and admins, only their own vehicles' routes for drivers."""
    run = latest_plan(session, service_date)
    if run is None:
        return []
    if role in (Role.ADMIN, Role.DISPATCHER):
        return list(run.routes)
    mine = assigned_vehicle_ids(session, service_date, user_id)
    return [r for r in run.routes if r.vehicle_id in mine]


def plan_pickups(run: PlanRun) -> dict[int, tuple[int, int]]:
    """Booking id -> (the pickup time told in seconds, pickup stop id) in a stored plan
    (:func:`mobility.planning.told_pickups`)."""
    return told_pickups(
        (move.booking_id, stop.arrival_s if move.start_s is None else move.start_s, stop.stop_id)
        for route in run.routes
        for stop in route.stops
        for move in stop.moves
        if move.boarding
    )


def plan_seats(run: PlanRun) -> dict[int, dict[str, int]]:
    """Booking id -> {vehicle name: seats boarding it} in a stored plan (more than
    one vehicle for a crew split over vehicles)."""
    seats: dict[int, dict[str, int]] = {}
    for route in run.routes:
        for stop in route.stops:
            for move in stop.moves:
                if move.boarding:
                    riding = seats.setdefault(move.booking_id, {})
                    name = route.vehicle.name
                    riding[name] = riding.get(name, 0) + move.seats
    return seats


def publish_plan(session: Session, service_date: dt.date) -> int:
    """Publish the day's latest plan: served bookings get pickup time and stop, and
    the workers who asked for SMS are told what changed for them (queued in the same
    transaction: a publish that fails queues nothing).

    Returns
    -------
    int
        The published version number (1, 2, ... per day).

    Raises
    ------
    ServiceError
        If the day has no plan.
    """
    run = latest_plan(session, service_date)
    if run is None:
        raise ServiceError("date", "no_plan", f"date: no plan for {service_date}")
    pickups = plan_pickups(run)
    riding = plan_seats(run)
    for booking in session.scalars(select(Booking).where(Booking.id.in_(pickups))):
        if booking.status in (BookingStatus.REQUESTED, BookingStatus.LATE, BookingStatus.SCHEDULED):
            seconds, stop_id = pickups[booking.id]
            booking.status = BookingStatus.SCHEDULED
            booking.pickup_time_min = seconds // 60
            booking.pickup_stop_id = stop_id
            seats = sum(riding.get(booking.id, {}).values())
            booking.seats_served = seats if seats < booking.seats else None
    previous = session.scalar(
        select(func.max(PlanRun.published_version)).where(PlanRun.service_date == service_date)
    )
    run.published_version = (previous or 0) + 1
    run.published_at = utcnow()
    session.flush()
    queue_publish_notices(session, service_date, run.published_version)
    session.commit()
    return run.published_version
