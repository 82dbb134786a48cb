"""An independent feasibility checker for any :class:`~optimizer.plan.Plan`.

It uses nothing from OR-Tools or from :mod:`optimizer.solve`: it walks each route
with the problem's matrices and the times the plan states, and reports every broken
rule in words. A plan is feasible when :func:`check` returns an empty list.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from optimizer.plan import Plan, Route, Visit, VisitKind
from optimizer.problem import UNLIMITED, RequestPart, RoutingProblem

__all__ = ["check", "is_feasible"]


def check(problem: RoutingProblem, plan: Plan) -> list[str]:
    """List the constraints a plan breaks.

    Checks that the plan's parts divide each request's seats among them (a crew
    may ride in several vehicles); that every part is served at most once and
    whole, by one vehicle that may take it, pickup before drop-off; seats on board
    never exceed the vehicle's and match the stated loads; service starts within
    windows, after arrival, and arrivals follow the travel-time matrix; ride times,
    route durations and shifts are respected; routes start and end at the
    vehicle's depots; the plan's totals match its routes; unassigned parts are
    exactly the parts not served; a party of a request that may not ride in
    part (``Request.partial``) has all its seats served or none; a request on board
    (``Request.on_board``) is carried to its drop-off by its vehicle, picked up at the
    vehicle's start when the route starts; and a route begins with its vehicle's
    fixed prefix (``Vehicle.prefix``), after those pickups.

    Parameters
    ----------
    problem
        The problem the plan claims to solve.
    plan
        The plan.

    Returns
    -------
    list of str
        One sentence per violation; empty when the plan is feasible.
    """
    errors: list[str] = []
    if len(plan.routes) != len(problem.vehicles):
        errors.append(f"plan has {len(plan.routes)} routes for {len(problem.vehicles)} vehicles")
    parts = plan.parts or problem.parts
    _check_parts(problem, parts, errors)
    tally = _Tally()
    for route in plan.routes:
        if not 0 <= route.vehicle < len(problem.vehicles):
            errors.append(f"route of unknown vehicle {route.vehicle}")
        elif route.visits:
            _check_route(problem, parts, route, tally, errors)
    _check_totals(parts, plan, tally, errors)
    _check_whole_parties(problem, parts, set(tally.pickups), errors)
    _check_on_board(problem, parts, plan, errors)
    return errors


def _check_on_board(
    problem: RoutingProblem, parts: Sequence[RequestPart], plan: Plan, errors: list[str]
) -> None:
    """Groups on board ride their vehicle to their drop-off; prefixes come first."""
    left = {u.part for u in plan.unassigned}

    def on_board(j: int) -> int | None:
        r = parts[j].request if 0 <= j < len(parts) else -1
        return problem.requests[r].on_board if 0 <= r < len(problem.requests) else None

    for j in sorted(left):
        if on_board(j) is not None:
            errors.append(f"request {parts[j].request} is on board and its part {j} is left out")
    for route in plan.routes:
        if not 0 <= route.vehicle < len(problem.vehicles):
            continue
        vehicle = problem.vehicles[route.vehicle]
        stops = [v for v in route.visits if v.kind in (VisitKind.PICKUP, VisitKind.DELIVERY)]
        aboard = 0
        while (
            aboard < len(stops)
            and stops[aboard].kind is VisitKind.PICKUP
            and on_board(stops[aboard].part) == route.vehicle
        ):
            aboard += 1
        # the groups on board board first, when the route starts
        for visit in stops[aboard:]:
            if visit.kind is VisitKind.PICKUP and on_board(visit.part) is not None:
                errors.append(
                    f"vehicle {route.vehicle}: part {visit.part} is on board yet "
                    "picked up after other stops"
                )
        done = [
            (parts[v.part].request, v.kind.value)
            for v in stops[aboard : aboard + len(vehicle.prefix)]
            if 0 <= v.part < len(parts)
        ]
        if done != list(vehicle.prefix):
            errors.append(
                f"vehicle {route.vehicle}: route begins with {done}, not its prefix "
                f"{list(vehicle.prefix)}"
            )


def _check_whole_parties(
    problem: RoutingProblem, parts: Sequence[RequestPart], served: set[int], errors: list[str]
) -> None:
    """Each party (unit) of a request that is not partial is served whole or not at
    all: the parts carrying any of its seats (parts fill the units in order) are all
    served, or none is."""
    by_request: dict[int, list[int]] = {}
    for j, part in enumerate(parts):
        by_request.setdefault(part.request, []).append(j)
    for r, js in by_request.items():
        if not 0 <= r < len(problem.requests) or problem.requests[r].partial:
            continue
        req = problem.requests[r]
        js.sort(key=lambda j: parts[j].part)
        start = 0
        for u, unit in enumerate(req.units or (req.seats,)):
            end, offset = start + unit, 0
            carrying = []
            for j in js:
                if offset < end and offset + parts[j].seats > start:
                    carrying.append(j)
                offset += parts[j].seats
            riding = [j for j in carrying if j in served]
            if riding and len(riding) < len(carrying):
                left = sorted(set(carrying) - set(riding))
                errors.append(
                    f"request {r}: party {u} is served in part (parts {riding} ride, "
                    f"{left} do not) and may not be"
                )
            start = end


def _check_parts(problem: RoutingProblem, parts: Sequence[RequestPart], errors: list[str]) -> None:
    """Each request is divided into numbered parts whose seats add up to its own."""
    seats: Counter[int] = Counter()
    numbers: dict[int, list[tuple[int, int]]] = {}
    for j, part in enumerate(parts):
        if not 0 <= part.request < len(problem.requests):
            errors.append(f"part {j} belongs to unknown request {part.request}")
            continue
        if part.seats < 1:
            errors.append(f"part {j} has {part.seats} seats")
        seats[part.request] += part.seats
        numbers.setdefault(part.request, []).append((part.part, part.parts))
    for r, req in enumerate(problem.requests):
        if seats[r] != req.seats:
            errors.append(f"request {r}: its parts have {seats[r]} seats, not {req.seats}")
        count = len(numbers.get(r, []))
        if sorted(numbers.get(r, [])) != [(p, count) for p in range(count)]:
            errors.append(f"request {r}: parts are not numbered 0..{count - 1} of {count}")


@dataclass
class _Tally:
    """What the routes add up to."""

    pickups: Counter[int] = field(default_factory=Counter)
    deliveries: Counter[int] = field(default_factory=Counter)
    travel: int = 0
    distance: int = 0


@dataclass
class _Walk:
    """The state of one route as it is walked visit by visit."""

    load: int = 0
    picked: dict[int, int] = field(default_factory=dict)  # part -> service start at pickup
    on_board: set[int] = field(default_factory=set)


def _check_route(
    problem: RoutingProblem,
    parts: Sequence[RequestPart],
    route: Route,
    tally: _Tally,
    errors: list[str],
) -> None:
    """Depots, every visit, leftovers on board, the shift and the route's duration."""
    k = route.vehicle
    vehicle = problem.vehicles[k]
    dur, dist = problem.travel(k)
    visits = route.visits
    name = f"vehicle {k}"
    if visits[0].kind is not VisitKind.START or visits[0].location != vehicle.start:
        errors.append(f"{name}: route does not start at its start depot")
    if visits[-1].kind is not VisitKind.END or visits[-1].location != vehicle.end:
        errors.append(f"{name}: route does not end at its end depot")
    walk = _Walk()
    for i, visit in enumerate(visits):
        where = f"{name} visit {i}"
        if i > 0:
            prev = visits[i - 1]
            leg = int(dur[prev.location, visit.location])
            tally.travel += leg
            tally.distance += int(dist[prev.location, visit.location])
            if visit.arrival != prev.departure + leg:
                errors.append(
                    f"{where}: arrival {visit.arrival} is not departure {prev.departure} "
                    f"+ travel {leg}"
                )
        if visit.start < visit.arrival:
            errors.append(f"{where}: service starts at {visit.start} before arrival")
        if visit.kind in (VisitKind.START, VisitKind.END):
            if 0 < i < len(visits) - 1:
                errors.append(f"{where}: depot visit inside the route")
            if visit.departure != visit.start:
                errors.append(f"{where}: depot visit has a service time")
            continue
        _check_stop_visit(problem, parts, k, visit, where, walk, tally, errors)
    if walk.on_board:
        errors.append(f"{name}: parts {sorted(walk.on_board)} never dropped off")
    start, end = visits[0].start, visits[-1].start
    if start < vehicle.shift[0] or end > vehicle.shift[1]:
        errors.append(f"{name}: route {start}-{end} outside shift {vehicle.shift}")
    if vehicle.max_duration != UNLIMITED and end - start > vehicle.max_duration:
        errors.append(f"{name}: route lasts {end - start}, limit {vehicle.max_duration}")


def _check_stop_visit(
    problem: RoutingProblem,
    parts: Sequence[RequestPart],
    k: int,
    visit: Visit,
    where: str,
    walk: _Walk,
    tally: _Tally,
    errors: list[str],
) -> None:
    """A pickup or drop-off: eligibility, place, window, service, seats, ride time."""
    vehicle = problem.vehicles[k]
    j = visit.part
    if not 0 <= j < len(parts):
        errors.append(f"{where}: unknown request part {j}")
        return
    part = parts[j]
    if not 0 <= part.request < len(problem.requests):
        return  # reported with the parts
    req = problem.requests[part.request]
    if k not in problem.eligible_vehicles(part.request):
        errors.append(f"{where}: vehicle may not serve request {part.request}")
    if visit.kind is VisitKind.PICKUP:
        tally.pickups[j] += 1
        window, loc, service = req.pickup_window, req.pickup, req.pickup_service
        walk.load += part.seats
        walk.picked[j] = visit.start
        walk.on_board.add(j)
    else:
        tally.deliveries[j] += 1
        window, loc, service = req.delivery_window, req.delivery, req.delivery_service
        walk.load -= part.seats
        if j not in walk.on_board:
            errors.append(f"{where}: part {j} is dropped off before it is picked up")
        else:
            walk.on_board.discard(j)
            ride = visit.start - walk.picked[j] - req.pickup_service
            if req.max_ride != UNLIMITED and ride > req.max_ride:
                errors.append(f"{where}: part {j} rides {ride}, more than its limit {req.max_ride}")
    if visit.location != loc:
        errors.append(f"{where}: part {j} served at location {visit.location}, not {loc}")
    if not window[0] <= visit.start <= window[1]:
        errors.append(f"{where}: service at {visit.start} outside window {window}")
    if visit.departure != visit.start + service:
        errors.append(f"{where}: departure is not start + service time {service}")
    if walk.load > vehicle.seats:
        errors.append(f"{where}: {walk.load} on board, more than {vehicle.seats} seats")
    if visit.load != walk.load:
        errors.append(f"{where}: stated load {visit.load}, actual {walk.load}")


def _check_totals(
    parts: Sequence[RequestPart], plan: Plan, tally: _Tally, errors: list[str]
) -> None:
    """Each part served once and whole, or unassigned; the plan's totals add up."""
    for j, count in tally.pickups.items():
        if count > 1:
            errors.append(f"part {j} is picked up {count} times")
    for j in set(tally.pickups) ^ set(tally.deliveries):
        errors.append(f"part {j} is picked up or dropped off, not both")
    unassigned = [u.part for u in plan.unassigned]
    if len(set(unassigned)) != len(unassigned):
        errors.append("a part is listed as unassigned twice")
    both = set(unassigned) & set(tally.pickups)
    if both:
        errors.append(f"parts {sorted(both)} are unassigned and served")
    missing = set(range(len(parts))) - set(unassigned) - set(tally.pickups)
    if missing:
        errors.append(f"parts {sorted(missing)} are neither served nor unassigned")
    served_seats = sum(parts[j].seats for j in tally.pickups)
    if plan.served_seats != served_seats:
        errors.append(f"plan says {plan.served_seats} seats served, routes serve {served_seats}")
    if plan.unserved_seats != sum(p.seats for p in parts) - served_seats:
        errors.append("unserved seats do not add up")
    if plan.travel_time != tally.travel:
        errors.append(f"plan says travel time {plan.travel_time}, routes give {tally.travel}")
    if plan.distance != tally.distance:
        errors.append(f"plan says distance {plan.distance}, routes give {tally.distance}")


def is_feasible(problem: RoutingProblem, plan: Plan) -> bool:
    """Whether :func:`check` finds nothing wrong."""
    return not check(problem, plan)
