"""What the dispatcher's console shows beside the figures: a timeline per vehicle,
the vehicles free when an unserved booking wanted to ride, and what changed since
the published plan (before publishing again)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from mobility.colours import route_colour
from mobility.dispatch.plans import DayOverview, day_overview, plan_pickups
from mobility.errors import RoadDataNotFoundError, ServiceError
from mobility.roads import RoadGraph
from mobility.stops import snap_to_road
from mobility.store import (
    Booking,
    BookingStatus,
    Direction,
    PlanKind,
    PlanRun,
    PlanStatus,
    Stop,
    Vehicle,
)

__all__ = [
    "DayConsole",
    "FreeVehicles",
    "PlanChanges",
    "TimelineStop",
    "VehicleTimeline",
    "day_console",
    "free_vehicles",
    "plan_changes",
    "published_plan",
    "timelines",
]

#: A vehicle counts as free for a ride when it has no planned stop this long before
#: (to work: the ride ends at its time) or after (back: the ride starts at its time).
FREE_BEFORE_MIN = 120
FREE_AFTER_MIN = 20


@dataclass(frozen=True)
class TimelineStop:
    """A stop of a vehicle's day: arrival (minutes), name, seats on board after it,
    and the real arrival once the driver tapped it (or staff typed it in)."""

    minute: int
    name: str
    on_board: int
    actual: int | None = None

    @property
    def late(self) -> int | None:
        """Minutes after the planned arrival (negative: early), once known."""
        return None if self.actual is None else self.actual - self.minute


@dataclass(frozen=True)
class VehicleTimeline:
    """One vehicle's day: its colour on the map, its stops in order, and the spans
    (start, end minutes) with people on board."""

    name: str
    seats: int
    colour: str
    km: float
    hours: float
    stops: list[TimelineStop]
    loaded: list[tuple[int, int]]


def timelines(run: PlanRun) -> list[VehicleTimeline]:
    """The plan's vehicles in plan order (the map's colours), each with its stops."""
    out = []
    for n, route in enumerate(run.routes):
        stops = [
            TimelineStop(s.arrival_s // 60, s.stop.name, s.load_after, s.actual_arrival_min)
            for s in route.stops
        ]
        loaded: list[tuple[int, int]] = []
        for a, b in zip(route.stops, route.stops[1:], strict=False):
            if a.load_after <= 0:
                continue
            start, end = a.departure_s // 60, b.arrival_s // 60
            if loaded and loaded[-1][1] >= start:
                loaded[-1] = (loaded[-1][0], end)
            else:
                loaded.append((start, end))
        span = (route.stops[-1].departure_s - route.stops[0].arrival_s) if route.stops else 0
        out.append(
            VehicleTimeline(
                route.vehicle.name,
                route.vehicle.seats,
                route_colour(n),
                round(route.distance_m / 1000, 1),
                round(span / 3600, 1),
                stops,
                loaded,
            )
        )
    return out


def _reaches(graph: RoadGraph, stop: Stop) -> bool:
    if stop.lat is None or stop.lon is None:
        return False
    try:
        snap_to_road(graph, stop.lat, stop.lon)
    except ServiceError:
        return False
    return True


@dataclass(frozen=True)
class FreeVehicles:
    """Vehicles free for an unserved booking at ``minute``: its own time, or the
    nearest other time (within two hours) when none is free at its own."""

    minute: int
    names: list[str]


#: Other times tried for a booking no vehicle is free for: nearest first.
OTHER_TIMES_MIN = tuple(d * s for d in range(15, 121, 15) for s in (1, -1))


def free_vehicles(
    session: Session,
    run: PlanRun | None,
    bookings: Sequence[Booking],
    graphs: Callable[[str], RoadGraph] | None = None,
) -> dict[int, FreeVehicles]:
    """Booking id -> the active vehicles with room for the whole crew, on shift at its
    time, without a planned stop around it and (given ``graphs``) whose roads reach
    both its stops (names; largest first); when none is free at its time, those free
    at the nearest time that has some. Only for bookings left out for want of room or
    by a dispatcher: for the others no vehicle alone could serve them (no names)."""
    fleet = list(
        session.scalars(
            select(Vehicle).where(Vehicle.active.is_(True)).order_by(Vehicle.seats.desc())
        )
    )
    busy: dict[int, list[int]] = {}
    for route in run.routes if run is not None else []:
        busy[route.vehicle_id] = [s.arrival_s // 60 for s in route.stops]
    reach: dict[tuple[str, int], bool] = {}

    def reaches(vehicle: Vehicle, stop: Stop) -> bool:
        key = (vehicle.profile.value, stop.id)
        if graphs is not None and key not in reach:
            try:
                reach[key] = _reaches(graphs(key[0]), stop)
            except RoadDataNotFoundError:  # no graph on this machine: not known, not ruled out
                reach[key] = True
        return reach.get(key, True)

    def free_at(booking: Booking, t: int) -> list[str]:
        if booking.direction is Direction.TO_WORK:
            low, high = t - FREE_BEFORE_MIN, t + FREE_AFTER_MIN
        else:
            low, high = t - FREE_AFTER_MIN, t + FREE_BEFORE_MIN
        return [
            v.name
            for v in fleet
            if v.seats >= booking.seats
            and v.shift_start_min <= low
            and high <= v.shift_end_min
            and not any(low <= m <= high for m in busy.get(v.id, []))
            and reaches(v, booking.from_stop)
            and reaches(v, booking.to_stop)
        ]

    answer: dict[int, FreeVehicles] = {}
    for booking in bookings:
        t = booking.time_min
        answer[booking.id] = FreeVehicles(t, [])
        if booking.reason is not None and not booking.reason.for_want_of_room:
            continue
        for minute in (t, *(t + d for d in OTHER_TIMES_MIN if 0 <= t + d < 24 * 60)):
            names = free_at(booking, minute)
            if names:
                answer[booking.id] = FreeVehicles(minute, names)
                break
    return answer


@dataclass(frozen=True)
class PlanChanges:
    """The latest plan against the published one, booking by booking (codes)."""

    published_version: int | None
    #: code, (old minute, old stop), (new minute, new stop)
    moved: list[tuple[str, tuple[int, str], tuple[int, str]]] = field(default_factory=list)
    added: list[str] = field(default_factory=list)  # served now, not in the published plan
    dropped: list[str] = field(default_factory=list)  # in the published plan, not now
    cancelled: list[str] = field(default_factory=list)  # cancelled since publishing
    booked_since: list[str] = field(default_factory=list)  # booked after publishing

    @property
    def any(self) -> bool:
        """Whether publishing again would change anything for a worker."""
        return bool(self.moved or self.added or self.dropped or self.cancelled)


def published_plan(session: Session, service_date: dt.date) -> PlanRun | None:
    """The day's plan the workers were last told about."""
    return session.scalar(
        select(PlanRun)
        .where(
            PlanRun.service_date == service_date,
            PlanRun.kind == PlanKind.PLAN,
            PlanRun.status == PlanStatus.DONE,
            PlanRun.published_version.is_not(None),
        )
        .order_by(PlanRun.published_version.desc())
        .limit(1)
    )


def plan_changes(session: Session, latest: PlanRun) -> PlanChanges:
    """What publishing ``latest`` would change against the published plan of its day:
    pickups moved (time or place), bookings newly served or no longer served, and
    the bookings cancelled or made since publishing."""
    published = published_plan(session, latest.service_date)
    if published is None:
        return PlanChanges(None)
    old, new = plan_pickups(published), plan_pickups(latest)
    rows = session.execute(
        select(Booking.id, Booking.code, Booking.status).where(
            Booking.service_date == latest.service_date
        )
    ).all()
    codes = {i: code for i, code, _ in rows}
    cancelled = {i for i, _, status in rows if i in old and status is BookingStatus.CANCELLED}
    since = session.scalars(
        select(Booking.code)
        .where(
            Booking.service_date == latest.service_date,
            Booking.created_at > published.published_at,
            Booking.status != BookingStatus.CANCELLED,
        )
        .order_by(Booking.code)
    )
    moved = [i for i in old.keys() & new.keys() if old[i] != new[i] and i not in cancelled]
    wanted = {old[i][1] for i in moved} | {new[i][1] for i in moved}
    names = {
        i: name
        for i, name in session.execute(select(Stop.id, Stop.name).where(Stop.id.in_(wanted)))
    }
    return PlanChanges(
        published.published_version,
        moved=sorted(
            (
                codes[i],
                (old[i][0] // 60, names[old[i][1]]),
                (new[i][0] // 60, names[new[i][1]]),
            )
            for i in moved
        ),
        added=sorted(codes[i] for i in new.keys() - old.keys()),
        dropped=sorted(codes[i] for i in old.keys() - new.keys() - cancelled),
        cancelled=sorted(codes[i] for i in cancelled),
        booked_since=list(since),
    )


@dataclass(frozen=True)
class DayConsole:
    """The dispatcher's day page: the overview, then the timelines, the vehicles free
    for each unserved booking, and the changes since publishing."""

    overview: DayOverview
    timelines: list[VehicleTimeline]
    free: dict[int, FreeVehicles]
    changes: PlanChanges | None
    #: a re-plan after a disruption waits to be published (its run), if any
    replan_waiting: int | None = None

    @property
    def hours(self) -> list[int]:
        """The whole hours the timelines span (their common axis)."""
        minutes = [s.minute for t in self.timelines for s in t.stops]
        if not minutes:
            return []
        return list(range(min(minutes) // 60, -(-max(minutes) // 60)))


def day_console(
    session: Session,
    service_date: dt.date,
    *,
    queued_alive: Callable[[PlanRun], bool] | None = None,
    graphs: Callable[[str], RoadGraph] | None = None,
) -> DayConsole:
    """Everything the day page shows (see :func:`day_overview` for the first part);
    ``graphs`` tells which vehicles' roads reach an unserved booking's stops."""
    from mobility.dispatch.replan import replan_proposal

    overview = day_overview(session, service_date, queued_alive=queued_alive)
    plan = overview.plan
    waiting = replan_proposal(session, service_date)
    return DayConsole(
        overview,
        timelines(plan) if plan is not None else [],
        free_vehicles(session, plan, overview.unserved, graphs),
        plan_changes(session, plan) if plan is not None else None,
        waiting.run.id if waiting is not None else None,
    )
