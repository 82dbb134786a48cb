"""The one adapter between bookings and the optimizer.

Bookings that share direction, origin, destination and time become one request
with a seat count (grouping is what makes thousands of workers plannable with tens
of vehicles); stops become matrix indices with a travel matrix per vehicle profile;
the optimizer's plan comes back as timed stops with the bookings boarding and
leaving at each, plus the figures a dispatcher needs.

Nothing here touches the database or Flask: the inputs and outputs are plain
dataclasses, so the translation is tested on its own.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from mobility.errors import SnapError
from mobility.roadgraph import RoadGraph
from mobility.travel_times import travel_time_matrix
from optimizer.check import check
from optimizer.plan import Plan, VisitKind
from optimizer.problem import Request, RoutingProblem, Vehicle, boarding_time
from optimizer.solve import SolverParams, solve

__all__ = [
    "BookingRow",
    "DayPlan",
    "FleetVehicle",
    "PlannedRoute",
    "PlannedStop",
    "PlanningSettings",
    "ProfileMatrix",
    "RideGroup",
    "StopPoint",
    "group_bookings",
    "plan_bookings",
    "profile_matrix",
]

#: Visits at one place closer than this are one stop on the sheet.
_SAME_STOP_GAP_S: Final = 300
#: Travel time standing for "this profile cannot get there" (10 days).
UNREACHABLE_S: Final = 864_000
DAY_S: Final = 86_400


@dataclass(frozen=True)
class PlanningSettings:
    """How bookings become optimizer requests.

    Parameters
    ----------
    window_min
        To work: arrive in the ``window_min`` minutes before the arrive-by time;
        back: picked up in the ``window_min`` minutes after the depart-after time.
    ride_factor, ride_extra_min
        Longest ride: ``ride_factor`` x the direct time + ``ride_extra_min``.
    boarding_base_s, boarding_per_seat_s
        Time to stop and let a group on or off.
    max_shift_min
        On a re-plan, published pickup times move by at most this much.
    max_group_seats
        Bookings riding together are packed into requests of at most this many
        seats (whole bookings), so a large crowd can fill several buses of any size
        rather than only the largest ones.
    """

    window_min: int = 30
    ride_factor: float = 1.5
    ride_extra_min: int = 15
    boarding_base_s: int = 60
    boarding_per_seat_s: int = 10
    max_shift_min: int = 10
    max_group_seats: int = 28


@dataclass(frozen=True)
class StopPoint:
    """A stop with coordinates."""

    id: int
    name: str
    lat: float
    lon: float


@dataclass(frozen=True)
class BookingRow:
    """What planning needs of a booking."""

    id: int
    code: str
    direction: str  # "to_work" or "back"
    from_stop: int
    to_stop: int
    time_min: int
    seats: int
    published_pickup_s: int | None = None
    vehicle_pin: int | None = None  # the fleet vehicle it must ride (a dispatcher's move)


@dataclass(frozen=True)
class FleetVehicle:
    """A vehicle available on the day."""

    id: int
    name: str
    seats: int
    profile: str
    depot_stop: int
    shift_start_s: int
    shift_end_s: int
    fixed_cost: int = 1
    locked: bool = False  # serves only the bookings pinned to it


@dataclass
class RideGroup:
    """Bookings with the same direction, origin, destination, time (and vehicle pin)."""

    direction: str
    from_stop: int
    to_stop: int
    time_min: int
    pin: int | None = None
    bookings: list[BookingRow] = field(default_factory=list)

    @property
    def seats(self) -> int:
        """Seats of all the group's bookings."""
        return sum(b.seats for b in self.bookings)


@dataclass(frozen=True)
class ProfileMatrix:
    """Travel times (s) and distances (m) of one profile between the stops it reaches."""

    stop_ids: tuple[int, ...]
    durations_s: npt.NDArray[np.float64]
    distances_m: npt.NDArray[np.float64]


@dataclass
class PlannedStop:
    """A stop of a planned route."""

    stop_id: int
    arrival_s: int
    departure_s: int
    load_after: int
    board: list[tuple[int, int]] = field(default_factory=list)  # (booking id, seats)
    alight: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class PlannedRoute:
    """A vehicle's route."""

    vehicle_id: int
    stops: list[PlannedStop]
    duration_s: int  # from leaving the depot to coming back
    distance_m: float
    driving_s: int = 0


@dataclass
class DayPlan:
    """The plan of a day in booking terms."""

    routes: list[PlannedRoute]
    pickups: dict[int, tuple[int, int]]  # booking id -> (pickup time s, stop id)
    vehicles_of: dict[int, list[int]]  # booking id -> vehicle ids
    unserved: dict[int, str]  # booking id -> reason
    figures: dict[str, Any]
    plan: Plan | None = None


def group_bookings(bookings: Sequence[BookingRow], max_seats: int = 28) -> list[RideGroup]:
    """Group bookings that can ride together as requests of at most ``max_seats``.

    Bookings with the same direction, origin, destination and time ride together;
    a larger crowd is packed (first fit, largest bookings first) into several
    requests of whole bookings. A single booking larger than ``max_seats`` stays
    whole: the optimizer splits it if no vehicle can take it.
    """
    by_key: dict[tuple[str, int, int, int, int | None], list[BookingRow]] = defaultdict(list)
    for b in sorted(bookings, key=lambda b: b.id):
        by_key[(b.direction, b.from_stop, b.to_stop, b.time_min, b.vehicle_pin)].append(b)
    groups: list[RideGroup] = []
    for key, members in by_key.items():
        packed: list[RideGroup] = []
        for b in sorted(members, key=lambda b: (-b.seats, b.id)):
            target = next((g for g in packed if g.seats + b.seats <= max_seats), None)
            if target is None:
                target = RideGroup(*key)
                packed.append(target)
            target.bookings.append(b)
        groups += packed
    return groups


def profile_matrix(graph: RoadGraph, stops: Sequence[StopPoint]) -> ProfileMatrix:
    """Matrices between the stops a profile's graph reaches (others are left out)."""
    reachable: list[StopPoint] = []
    for stop in stops:
        try:
            graph.snap([stop.lat], [stop.lon])
        except SnapError:
            continue
        reachable.append(stop)
    result = travel_time_matrix([(s.lat, s.lon) for s in reachable], graph, distances=True)
    assert result.distances_m is not None
    return ProfileMatrix(tuple(s.id for s in reachable), result.durations_s, result.distances_m)


def plan_bookings(
    bookings: Sequence[BookingRow],
    fleet: Sequence[FleetVehicle],
    matrices: Mapping[str, ProfileMatrix],
    *,
    settings: PlanningSettings | None = None,
    params: SolverParams | None = None,
) -> DayPlan:
    """Plan a day's bookings on a fleet.

    Parameters
    ----------
    bookings
        The bookings to serve (published ones keep their pickup within
        ``settings.max_shift_min``).
    fleet
        The vehicles.
    matrices
        A :class:`ProfileMatrix` per vehicle profile used by the fleet.
    settings
        Windows, ride-time limits, boarding times.
    params
        Solver settings.

    Returns
    -------
    DayPlan
    """
    settings = settings or PlanningSettings()
    groups = group_bookings(bookings, settings.max_group_seats)
    if not groups or not fleet:
        reason = "no vehicle in the fleet" if groups else ""
        return DayPlan([], {}, {}, {b.id: reason for b in bookings}, _empty_figures(bookings))
    profiles = sorted({v.profile for v in fleet})
    loc_ids = sorted(
        {g.from_stop for g in groups} | {g.to_stop for g in groups} | {v.depot_stop for v in fleet}
    )
    index = {stop_id: i for i, stop_id in enumerate(loc_ids)}
    n = len(loc_ids)
    durations = np.full((len(profiles), n, n), UNREACHABLE_S, dtype=np.int64)
    distances = np.full((len(profiles), n, n), UNREACHABLE_S * 10, dtype=np.int64)
    reach: dict[str, set[int]] = {}
    for p, name in enumerate(profiles):
        m = matrices[name]
        pos = [i for i, sid in enumerate(m.stop_ids) if sid in index]
        rows = np.array([index[m.stop_ids[i]] for i in pos], dtype=np.int64)
        sub_d = m.durations_s[np.ix_(pos, pos)]
        sub_m = m.distances_m[np.ix_(pos, pos)]
        ok = np.isfinite(sub_d)
        # round up: a plan feasible with these times is feasible on the road
        block_d = np.where(ok, np.ceil(sub_d), UNREACHABLE_S).astype(np.int64)
        block_m = np.where(ok, np.rint(np.nan_to_num(sub_m, posinf=0)), UNREACHABLE_S * 10)
        durations[p][np.ix_(rows, rows)] = block_d
        distances[p][np.ix_(rows, rows)] = block_m.astype(np.int64)
        np.fill_diagonal(durations[p], 0)
        np.fill_diagonal(distances[p], 0)
        reach[name] = {m.stop_ids[i] for i in pos}

    window = settings.window_min * 60
    shift = settings.max_shift_min * 60
    requests: list[Request] = []
    for g in groups:
        a, b = index[g.from_stop], index[g.to_stop]
        usable = [p for p, name in enumerate(profiles) if {g.from_stop, g.to_stop} <= reach[name]]
        direct = min((int(durations[p, a, b]) for p in usable), default=UNREACHABLE_S)
        max_ride = math.ceil(settings.ride_factor * direct + settings.ride_extra_min * 60)
        t = g.time_min * 60
        if g.direction == "to_work":
            pickup_window = (0, max(0, t - direct))
            delivery_window = (max(0, t - window), t)
        else:
            pickup_window = (t, min(DAY_S, t + window))
            delivery_window = (t, DAY_S)
        published = [
            bk.published_pickup_s for bk in g.bookings if bk.published_pickup_s is not None
        ]
        if published and len(published) == len(g.bookings):
            keep = min(published)
            pickup_window = (
                max(pickup_window[0], keep - shift),
                max(min(pickup_window[1], keep + shift), max(pickup_window[0], keep - shift)),
            )
        service = boarding_time(
            g.seats, base_s=settings.boarding_base_s, per_seat_s=settings.boarding_per_seat_s
        )
        requests.append(
            Request(
                pickup=a,
                delivery=b,
                seats=g.seats,
                pickup_window=pickup_window,
                delivery_window=delivery_window,
                max_ride=max_ride,
                pickup_service=service,
                delivery_service=service,
                label=f"{g.direction}:{g.from_stop}->{g.to_stop}@{g.time_min}",
            )
        )
    vehicles = []
    for v in fleet:
        serves = frozenset(
            i
            for i, g in enumerate(groups)
            if {g.from_stop, g.to_stop} <= reach[v.profile]
            and (g.pin == v.id if (v.locked or g.pin is not None) else True)
        )
        vehicles.append(
            Vehicle(
                seats=v.seats,
                start=index[v.depot_stop],
                end=index[v.depot_stop],
                shift=(v.shift_start_s, v.shift_end_s),
                fixed_cost=v.fixed_cost,
                serves=serves,
                label=v.name,
                profile=profiles.index(v.profile),
            )
        )
    problem = RoutingProblem(durations, tuple(requests), tuple(vehicles), distances=distances)
    plan = solve(problem, params or SolverParams(time_limit_s=60))
    day = _day_plan(problem, plan, groups, fleet, loc_ids, bookings)
    # every plan is re-checked independently before anyone sees it
    day.figures["violations"] = check(problem, plan)
    return day


def _allocate(group: RideGroup, part_seats: list[int]) -> list[list[tuple[int, int]]]:
    """Share the group's bookings among its parts (a crew booking may straddle two)."""
    shares: list[list[tuple[int, int]]] = [[] for _ in part_seats]
    queue = [(b.id, b.seats) for b in group.bookings]
    for i, room in enumerate(part_seats):
        while room > 0 and queue:
            booking_id, seats = queue[0]
            take = min(room, seats)
            shares[i].append((booking_id, take))
            room -= take
            if take == seats:
                queue.pop(0)
            else:
                queue[0] = (booking_id, seats - take)
    return shares


def _day_plan(
    problem: RoutingProblem,
    plan: Plan,
    groups: list[RideGroup],
    fleet: Sequence[FleetVehicle],
    loc_ids: list[int],
    bookings: Sequence[BookingRow],
) -> DayPlan:
    parts_of: dict[int, list[int]] = defaultdict(list)
    for j, part in enumerate(problem.parts):
        parts_of[part.request].append(j)
    share: dict[int, list[tuple[int, int]]] = {}
    for r, g in enumerate(groups):
        js = parts_of[r]
        for j, s in zip(js, _allocate(g, [problem.parts[j].seats for j in js]), strict=True):
            share[j] = s
    routes: list[PlannedRoute] = []
    pickups: dict[int, tuple[int, int]] = {}
    vehicles_of: dict[int, list[int]] = defaultdict(list)
    rides: list[tuple[int, int]] = []  # (ride time, direct time) per served part
    seat_seconds_used = seat_seconds_offered = 0
    for route in plan.routes:
        if not route.is_used:
            continue
        vehicle = fleet[route.vehicle]
        dur, dist = problem.travel(route.vehicle)
        stops: list[PlannedStop] = []
        picked_at: dict[int, tuple[int, int]] = {}
        distance = 0.0
        driving = 0
        for prev, visit in zip((None, *route.visits[:-1]), route.visits, strict=True):
            if prev is not None:
                distance += float(dist[prev.location, visit.location])
                driving += int(dur[prev.location, visit.location])
                seat_seconds_used += prev.load * (visit.arrival - prev.departure)
            stop_id = loc_ids[visit.location]
            # one stop on the sheet for what happens at a place in one go
            if (
                stops
                and stops[-1].stop_id == stop_id
                and visit.kind not in (VisitKind.START, VisitKind.END)
                and visit.start <= stops[-1].departure_s + _SAME_STOP_GAP_S
            ):
                current = stops[-1]
                current.departure_s = visit.departure
                current.load_after = visit.load
            else:
                # the planned time is when service starts: a vehicle early for a window
                # waits, and the sheet gives the time to be there
                current = PlannedStop(stop_id, visit.start, visit.departure, visit.load)
                stops.append(current)
            if visit.kind is VisitKind.PICKUP:
                current.board += share[visit.part]
                picked_at[visit.part] = (visit.departure, visit.location)
                for booking_id, _ in share[visit.part]:
                    pickups.setdefault(booking_id, (visit.start, stop_id))
                    if vehicle.id not in vehicles_of[booking_id]:
                        vehicles_of[booking_id].append(vehicle.id)
            elif visit.kind is VisitKind.DELIVERY:
                current.alight += share[visit.part]
                left, loc = picked_at[visit.part]
                rides.append((visit.start - left, int(dur[loc, visit.location])))
        seat_seconds_offered += vehicle.seats * route.duration
        routes.append(PlannedRoute(vehicle.id, stops, route.duration, distance, driving))
    unserved: dict[int, str] = {}
    for u in plan.unassigned:
        for booking_id, _ in share[u.part]:
            unserved.setdefault(booking_id, u.reason.value)
    seats_total = sum(b.seats for b in bookings)
    unserved_seats = sum(seats for u in plan.unassigned for _, seats in share[u.part])
    reasons: dict[str, int] = defaultdict(int)
    for reason in unserved.values():
        reasons[reason] += 1
    figures = {
        "bookings": len(bookings),
        "requests": len(groups),
        "seats": seats_total,
        "served_bookings": len(pickups),
        "served_seats": seats_total - unserved_seats,
        "unserved_bookings": len(unserved),
        "unserved_seats": unserved_seats,
        "unserved_reasons": dict(reasons),
        "vehicles_used": len(routes),
        "vehicle_km": round(sum(r.distance_m for r in routes) / 1000, 1),
        "vehicle_hours": round(sum(r.duration_s for r in routes) / 3600, 2),
        "mean_ride_min": round(float(np.mean([r for r, _ in rides])) / 60, 1) if rides else 0.0,
        "max_ride_min": round(max((r for r, _ in rides), default=0) / 60, 1),
        "mean_ride_over_direct": round(
            float(np.mean([r / d for r, d in rides if d > 0])) if rides else 0.0, 2
        ),
        "seat_occupancy": round(seat_seconds_used / seat_seconds_offered, 3)
        if seat_seconds_offered
        else 0.0,
        "solver_status": plan.status,
        "solver_seconds": round(plan.wall_time_s, 1),
    }
    return DayPlan(routes, pickups, dict(vehicles_of), unserved, figures, plan)


def _empty_figures(bookings: Sequence[BookingRow]) -> dict[str, Any]:
    seats = sum(b.seats for b in bookings)
    return {
        "bookings": len(bookings),
        "requests": 0,
        "seats": seats,
        "served_bookings": 0,
        "served_seats": 0,
        "unserved_bookings": len(bookings),
        "unserved_seats": seats,
        "unserved_reasons": {},
        "vehicles_used": 0,
        "vehicle_km": 0.0,
        "vehicle_hours": 0.0,
        "mean_ride_min": 0.0,
        "max_ride_min": 0.0,
        "mean_ride_over_direct": 0.0,
        "seat_occupancy": 0.0,
        "solver_status": "EMPTY",
        "solver_seconds": 0.0,
    }
