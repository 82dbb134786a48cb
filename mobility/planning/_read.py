"""The optimizer's plan -> routes, pickups and figures in booking terms
(private to ``planning``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np

from mobility.codes import UnservedReason
from mobility.planning.types import (
    BookingRow,
    DayFigures,
    DayPlan,
    FleetVehicle,
    PlannedRoute,
    PlannedStop,
    RideGroup,
    booking_figures,
    told_pickups,
)
from optimizer.bounds import served_seats_bound
from optimizer.plan import Plan, Route, UnassignedReason, Visit, VisitKind
from optimizer.problem import RequestPart, RoutingProblem

__all__ = ["day_plan"]

#: The optimizer's reasons in the domain's codes.
_REASONS: Final = {
    UnassignedReason.NO_ELIGIBLE_VEHICLE: UnservedReason.NO_VEHICLE_MAY_SERVE,
    UnassignedReason.TOO_MANY_SEATS: UnservedReason.TOO_MANY_SEATS,
    UnassignedReason.UNREACHABLE_IN_WINDOW: UnservedReason.UNREACHABLE,
    UnassignedReason.FLEET_FULL: UnservedReason.FLEET_FULL,
}

#: Visits at one place closer than this are one stop on the sheet.
_SAME_STOP_GAP_S: Final = 300


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


def _shares(
    parts: Sequence[RequestPart], groups: list[RideGroup]
) -> dict[int, list[tuple[int, int]]]:
    """Request part -> (booking id, seats) riding in it. Parts follow the group's
    bookings in order (a split group is split at its bookings first)."""
    parts_of: dict[int, list[int]] = defaultdict(list)
    for j, part in enumerate(parts):
        parts_of[part.request].append(j)
    share: dict[int, list[tuple[int, int]]] = {}
    for r, g in enumerate(groups):
        js = parts_of[r]
        for j, s in zip(js, _allocate(g, [parts[j].seats for j in js]), strict=True):
            share[j] = s
    return share


@dataclass
class _Tally:
    """What the routes add up to, for the figures."""

    boardings: list[tuple[int, int, int]] = field(default_factory=list)  # see told_pickups
    vehicles_of: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    seats_in: dict[int, dict[int, int]] = field(default_factory=lambda: defaultdict(dict))
    rides: list[tuple[int, int]] = field(default_factory=list)  # (ride, direct) per part
    seat_seconds_used: int = 0
    seat_seconds_offered: int = 0


def _planned_route(
    problem: RoutingProblem,
    route: Route,
    vehicle: FleetVehicle,
    loc_ids: list[int],
    share: dict[int, list[tuple[int, int]]],
    tally: _Tally,
    parts: Sequence[RequestPart],
) -> PlannedRoute:
    """A vehicle's route as timed stops with the bookings boarding and leaving."""
    dur, dist = problem.travel(route.vehicle)
    stops: list[PlannedStop] = []
    picked_at: dict[int, tuple[int, int]] = {}
    distance = 0.0
    driving = 0
    for prev, visit in zip((None, *route.visits[:-1]), route.visits, strict=True):
        if prev is not None:
            distance += float(dist[prev.location, visit.location])
            driving += int(dur[prev.location, visit.location])
            tally.seat_seconds_used += prev.load * (visit.arrival - prev.departure)
        stop_id = loc_ids[visit.location]
        if _before_now(problem, parts, vehicle, visit):
            # a vehicle under way: where it is, and who is on board, is not a new stop
            if visit.kind is VisitKind.PICKUP:
                picked_at[visit.part] = (visit.departure, visit.location)
            continue
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
            for booking_id, seats in share[visit.part]:
                current.board_start_s.setdefault(booking_id, visit.start)
                tally.boardings.append((booking_id, visit.start, stop_id))
                if vehicle.id not in tally.vehicles_of[booking_id]:
                    tally.vehicles_of[booking_id].append(vehicle.id)
                riding = tally.seats_in[booking_id]
                riding[vehicle.id] = riding.get(vehicle.id, 0) + seats
        elif visit.kind is VisitKind.DELIVERY:
            current.alight += share[visit.part]
            left, loc = picked_at[visit.part]
            tally.rides.append((visit.start - left, int(dur[loc, visit.location])))
    tally.seat_seconds_offered += vehicle.seats * route.duration
    return PlannedRoute(vehicle.id, stops, route.duration, distance, driving)


def _before_now(
    problem: RoutingProblem, parts: Sequence[RequestPart], vehicle: FleetVehicle, visit: Visit
) -> bool:
    """Whether a visit only says where a vehicle under way is (its start) or who is on
    board (the pickups of groups on board)."""
    if visit.kind is VisitKind.START:
        return vehicle.at_stop is not None
    if visit.kind is not VisitKind.PICKUP:
        return False
    return problem.requests[parts[visit.part].request].on_board is not None


def day_plan(
    problem: RoutingProblem,
    plan: Plan,
    groups: list[RideGroup],
    fleet: Sequence[FleetVehicle],
    loc_ids: list[int],
    bookings: Sequence[BookingRow],
) -> DayPlan:
    parts = plan.parts or problem.parts
    share = _shares(parts, groups)
    tally = _Tally()
    routes = [
        _planned_route(problem, route, fleet[route.vehicle], loc_ids, share, tally, parts)
        for route in plan.routes
        if route.is_used
    ]
    pickups = told_pickups(tally.boardings)
    unserved: dict[int, UnservedReason] = {}
    for u in plan.unassigned:
        for booking_id, _ in share[u.part]:
            unserved.setdefault(booking_id, _REASONS[u.reason])
    seats_in = {b: dict(v) for b, v in tally.seats_in.items()}
    rides = tally.rides
    figures = DayFigures(
        **booking_figures(bookings, seats_in, unserved),
        servable_seats=_servable_seats(problem, plan),
        requests=len(groups),
        vehicles_used=len(routes),
        vehicle_km=round(sum(r.distance_m for r in routes) / 1000, 1),
        vehicle_hours=round(sum(r.duration_s for r in routes) / 3600, 2),
        mean_ride_min=round(float(np.mean([r for r, _ in rides])) / 60, 1) if rides else 0.0,
        max_ride_min=round(max((r for r, _ in rides), default=0) / 60, 1),
        mean_ride_over_direct=round(
            float(np.mean([r / d for r, d in rides if d > 0])) if rides else 0.0, 2
        ),
        seat_occupancy=round(tally.seat_seconds_used / tally.seat_seconds_offered, 3)
        if tally.seat_seconds_offered
        else 0.0,
        solver_status=plan.status,
        solver_seconds=round(plan.wall_time_s, 1),
    )
    return DayPlan(
        routes,
        pickups,
        dict(tally.vehicles_of),
        unserved,
        figures,
        plan,
        seats_in=seats_in,
    )


def _servable_seats(problem: RoutingProblem, plan: Plan) -> int:
    """Seats no plan of this fleet can exceed: the bound on the requests with no part
    out of reach, plus the seats of reachable parts of the others."""
    parts = plan.parts or problem.parts
    out_parts = {u.part for u in plan.unassigned if u.reason is not UnassignedReason.FLEET_FULL}
    partly = {parts[m].request for m in out_parts}
    counted = [i for i in range(len(problem.requests)) if i not in partly]
    rest = sum(p.seats for m, p in enumerate(parts) if p.request in partly and m not in out_parts)
    return served_seats_bound(problem, counted) + rest
