"""A season to look at: days of operations simulated end to end, for the Figures page
and the Region's report.

Each day is a demo peak day (:func:`mobility.demo.seed_demo_day`, its own seed; one
day in four a heat-ban day), planned and published as every day is, and then
*driven*: :func:`drive_day` taps the published plan as drivers would, with noise:
vehicles late by a few minutes (more as the day goes on), 3-8 % of crews not coming
(the no-show tapped after the wait, then confirmed), now and then a crew the vehicle
misses, odometers at the start and end of each shift. On some days the busiest
vehicle breaks down at 05:00 and the rest of the day is re-planned and published
(:mod:`mobility.dispatch.replan`) before it is driven. Every booking made here says
``made_by="demo-season"`` and every tap's key starts with ``season-``: synthetic.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any, Final

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from mobility.clock import day_start
from mobility.config import Config
from mobility.demo.day import seed_demo_day
from mobility.dispatch import (
    Disruption,
    DisruptionKind,
    latest_plan,
    plan_pickups,
    publish_plan,
    publish_replan,
)
from mobility.jobs import plan_here
from mobility.roads import RoadGraph
from mobility.store import (
    Booking,
    BookingStatus,
    EventKind,
    PlanKind,
    PlanMove,
    PlanRoute,
    RoadEvent,
)

__all__ = ["SYNTHETIC", "drive_day", "run_season"]

#: What the season's bookings say they were made by.
SYNTHETIC: Final = "demo-season"
#: A crew the vehicle goes past without (a missed trip), per boarding.
MISSED_SHARE: Final = 0.01


class _Driver:
    """Taps one day's plan, vehicle by vehicle (see :func:`drive_day`)."""

    def __init__(self, session: Session, day: dt.date, seed: int, timezone: str) -> None:
        self.rng = np.random.default_rng(seed)
        self.day = day
        self.start = day_start(day, timezone).astimezone(dt.UTC)
        self.no_show_share = float(self.rng.uniform(0.03, 0.08))
        self.events: list[RoadEvent] = []
        self.status: dict[int, BookingStatus] = {}
        self.counts = {"taps": 0, "boarded": 0, "no_shows": 0, "missed": 0}
        run = latest_plan(session, day)
        self.routes = run.routes if run else []
        self.told = plan_pickups(run) if run else {}

    def tap(self, vehicle: int, kind: EventKind, at_s: float, **kw: Any) -> None:
        self.events.append(
            RoadEvent(
                key=f"season-{self.day.isoformat()}-{vehicle}-{len(self.events)}",
                service_date=self.day,
                vehicle_id=vehicle,
                kind=kind.value,
                phone_at=self.start + dt.timedelta(seconds=float(at_s)),
                **kw,
            )
        )

    def drive(self, route: PlanRoute) -> None:
        """Start of shift, each stop (arrived, who boards or not, who leaves,
        departed), end of shift with the odometer."""
        stops = sorted(route.stops, key=lambda s: s.seq)
        if not stops:
            return
        v, rng = route.vehicle_id, self.rng
        odometer = float(rng.uniform(20_000, 200_000))
        late = float(rng.normal(120, 120))
        self.tap(
            v, EventKind.SHIFT_START, stops[0].departure_s - 600, odometer_km=round(odometer, 1)
        )
        for stop in stops:
            late = min(max(late + float(rng.normal(15, 60)), -120.0), 1800.0)
            arrived = stop.arrival_s + late
            self.tap(v, EventKind.ARRIVED, arrived, stop_seq=stop.seq)
            stop.actual_arrival_min = int(arrived // 60)
            leave = arrived + (stop.departure_s - stop.arrival_s)
            for move in stop.moves:
                leave = max(leave, self.move(v, stop.seq, move, arrived))
            self.tap(v, EventKind.DEPARTED, leave, stop_seq=stop.seq)
            stop.actual_departure_min = int(leave // 60)
        km = route.distance_m / 1000 * float(rng.uniform(0.98, 1.06))
        end = stops[-1].arrival_s + late + 300
        self.tap(v, EventKind.SHIFT_END, end, odometer_km=round(odometer + km, 1))

    def move(self, v: int, seq: int, move: PlanMove, arrived: float) -> float:
        """A crew boards, does not come, is missed, or leaves; when the stop is done."""
        if not move.boarding:
            if self.status.get(move.booking_id) is BookingStatus.COMPLETED:
                self.tap(
                    v,
                    EventKind.ALIGHTED,
                    arrived + 30,
                    stop_seq=seq,
                    booking_id=move.booking_id,
                    seats=move.seats,
                )
            return arrived
        if move.booking.status is not BookingStatus.SCHEDULED or move.booking_id in self.status:
            return arrived
        roll = float(self.rng.random())
        when = max(arrived, self.told.get(move.booking_id, (int(arrived), 0))[0]) + 30
        if roll < MISSED_SHARE:  # no tap: the vehicle goes on without the crew
            self.counts["missed"] += 1
            self.status[move.booking_id] = BookingStatus.SCHEDULED
            return arrived
        if roll < MISSED_SHARE + self.no_show_share:
            self.tap(v, EventKind.NO_SHOW, when + 300, stop_seq=seq, booking_id=move.booking_id)
            self.status[move.booking_id] = BookingStatus.NO_SHOW
            self.counts["no_shows"] += 1
            return when + 300
        seats = move.seats if self.rng.random() > 0.05 else max(1, move.seats - 1)
        self.tap(v, EventKind.BOARDED, when, stop_seq=seq, booking_id=move.booking_id, seats=seats)
        self.status[move.booking_id] = BookingStatus.COMPLETED
        self.counts["boarded"] += 1
        return when


def drive_day(session: Session, day: dt.date, *, seed: int, timezone: str) -> dict[str, int]:
    """Tap the day's published plan as its drivers would (see the module): events,
    the stops' real times and the bookings' outcomes, committed.

    Returns
    -------
    dict
        Counts: ``taps``, ``boarded``, ``no_shows``, ``missed``.
    """
    driver = _Driver(session, day, seed, timezone)
    for route in driver.routes:
        driver.drive(route)
    session.add_all(driver.events)
    for new in (BookingStatus.COMPLETED, BookingStatus.NO_SHOW):
        ids = [i for i, s in driver.status.items() if s is new]
        for chunk in range(0, len(ids), 5000):
            session.execute(
                update(Booking).where(Booking.id.in_(ids[chunk : chunk + 5000])).values(status=new)
            )
    session.commit()
    driver.counts["taps"] = len(driver.events)
    return driver.counts


def run_season(
    sessions: sessionmaker[Session],
    config: Config,
    graphs: Callable[[str], RoadGraph],
    *,
    start: dt.date,
    days: int,
    workers: int,
    time_limit_s: float,
    seed: int = 100,
    breakdowns: int = 2,
    say: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Simulate ``days`` days of operations from ``start`` (see the module).

    Returns
    -------
    dict
        ``days``, ``bookings``, ``taps``, ``no_shows``, ``missed``, ``breakdowns``,
        ``seconds``.
    """
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    broken = set(rng.choice(days, size=min(breakdowns, days), replace=False).tolist())
    totals: dict[str, Any] = {"days": 0, "bookings": 0, "taps": 0, "no_shows": 0}
    totals |= {"missed": 0, "breakdowns": 0}
    settings = config.planning.with_time_limit(time_limit_s)
    for i in range(days):  # a day at a time: seed, plan, publish, (break down,) drive
        day = start + dt.timedelta(days=i)
        with sessions() as session:
            if session.scalar(select(Booking.id).where(Booking.service_date == day).limit(1)):
                say(f"{day}: bookings exist already, left as they are")
                continue
            counts = seed_demo_day(
                session, day, graphs, rules=config.booking, seed=seed + i, workers=workers
            )
            session.execute(
                update(Booking).where(Booking.service_date == day).values(made_by=SYNTHETIC)
            )
            session.commit()
            plan_here(sessions, config.database_url, day, graphs, settings)
            publish_plan(session, day)
            if i in broken:
                _breakdown(sessions, session, config, graphs, day, settings)
                totals["breakdowns"] += 1
            driven = drive_day(session, day, seed=seed + i, timezone=config.timezone)
        totals["days"] += 1
        totals["bookings"] += counts["bookings"]
        for key in ("taps", "no_shows", "missed"):
            totals[key] += driven[key]
        say(
            f"{day}: {counts['bookings']} bookings, {driven['taps']} taps"
            + (" (a breakdown, re-planned)" if i in broken else "")
        )
    totals["seconds"] = round(time.perf_counter() - started, 1)
    return totals


def _breakdown(
    sessions: sessionmaker[Session],
    session: Session,
    config: Config,
    graphs: Callable[[str], RoadGraph],
    day: dt.date,
    settings: Any,
) -> None:
    """The busiest vehicle breaks down at 05:00: re-plan and publish the rest."""
    run = latest_plan(session, day)
    if run is None or not run.routes:
        return
    busiest = max(run.routes, key=lambda r: sum(m.seats for s in r.stops for m in s.moves))
    said = Disruption(DisruptionKind.OUT_OF_SERVICE, busiest.vehicle.name, 5 * 60)
    outcome = plan_here(
        sessions,
        config.database_url,
        day,
        graphs,
        settings,
        kind=PlanKind.REPLAN,
        edits=said.to_json(),
    )
    session.expire_all()
    publish_replan(session, day, outcome.plan_id)
