"""An independent feasibility checker for any :class:`~optimizer.plan.Plan`.

It uses nothing from OR-Tools or from :mod:`optimizer.solve`: it walks each route
with the problem's matrices and the times the plan states, and reports every broken
rule in words. A plan is feasible when :func:`check` returns an empty list.
"""

from __future__ import annotations

from collections import Counter

from optimizer.plan import Plan, VisitKind
from optimizer.problem import UNLIMITED, RoutingProblem

__all__ = ["check", "is_feasible"]


def check(problem: RoutingProblem, plan: Plan) -> list[str]:
    """List the constraints a plan breaks.

    Checks that every part is served at most once and whole, by one vehicle that
    may take it, pickup before drop-off; seats on board never exceed the vehicle's
    and match the stated loads; service starts within windows, after arrival, and
    arrivals follow the travel-time matrix; ride times, route durations and shifts
    are respected; routes start and end at the vehicle's depots; the plan's totals
    match its routes; and unassigned parts are exactly the parts not served.

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
    parts = problem.parts
    if len(plan.routes) != len(problem.vehicles):
        errors.append(f"plan has {len(plan.routes)} routes for {len(problem.vehicles)} vehicles")
    pickups: Counter[int] = Counter()
    deliveries: Counter[int] = Counter()
    travel_total = distance_total = 0
    for route in plan.routes:
        k = route.vehicle
        if not 0 <= k < len(problem.vehicles):
            errors.append(f"route of unknown vehicle {k}")
            continue
        vehicle = problem.vehicles[k]
        dur, dist = problem.travel(k)
        visits = route.visits
        if not visits:
            continue
        name = f"vehicle {k}"
        if visits[0].kind is not VisitKind.START or visits[0].location != vehicle.start:
            errors.append(f"{name}: route does not start at its start depot")
        if visits[-1].kind is not VisitKind.END or visits[-1].location != vehicle.end:
            errors.append(f"{name}: route does not end at its end depot")
        load = 0
        picked: dict[int, int] = {}  # part -> service start at pickup
        on_board: set[int] = set()
        for i, visit in enumerate(visits):
            where = f"{name} visit {i}"
            if i > 0:
                prev = visits[i - 1]
                leg = int(dur[prev.location, visit.location])
                travel_total += leg
                distance_total += int(dist[prev.location, visit.location])
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
            j = visit.part
            if not 0 <= j < len(parts):
                errors.append(f"{where}: unknown request part {j}")
                continue
            part = parts[j]
            req = problem.requests[part.request]
            if not vehicle.may_serve(part.request):
                errors.append(f"{where}: vehicle may not serve request {part.request}")
            if visit.kind is VisitKind.PICKUP:
                pickups[j] += 1
                window, loc, service = req.pickup_window, req.pickup, req.pickup_service
                load += part.seats
                picked[j] = visit.start
                on_board.add(j)
            else:
                deliveries[j] += 1
                window, loc, service = req.delivery_window, req.delivery, req.delivery_service
                load -= part.seats
                if j not in on_board:
                    errors.append(f"{where}: part {j} is dropped off before it is picked up")
                else:
                    on_board.discard(j)
                    ride = visit.start - picked[j] - req.pickup_service
                    if req.max_ride != UNLIMITED and ride > req.max_ride:
                        errors.append(
                            f"{where}: part {j} rides {ride}, more than its limit {req.max_ride}"
                        )
            if visit.location != loc:
                errors.append(f"{where}: part {j} served at location {visit.location}, not {loc}")
            if not window[0] <= visit.start <= window[1]:
                errors.append(f"{where}: service at {visit.start} outside window {window}")
            if visit.departure != visit.start + service:
                errors.append(f"{where}: departure is not start + service time {service}")
            if load > vehicle.seats:
                errors.append(f"{where}: {load} on board, more than {vehicle.seats} seats")
            if visit.load != load:
                errors.append(f"{where}: stated load {visit.load}, actual {load}")
        if on_board:
            errors.append(f"{name}: parts {sorted(on_board)} never dropped off")
        start, end = visits[0].start, visits[-1].start
        if start < vehicle.shift[0] or end > vehicle.shift[1]:
            errors.append(f"{name}: route {start}-{end} outside shift {vehicle.shift}")
        if vehicle.max_duration != UNLIMITED and end - start > vehicle.max_duration:
            errors.append(f"{name}: route lasts {end - start}, limit {vehicle.max_duration}")
    for j, count in pickups.items():
        if count > 1:
            errors.append(f"part {j} is picked up {count} times")
    for j in set(pickups) ^ set(deliveries):
        errors.append(f"part {j} is picked up or dropped off, not both")
    unassigned = [u.part for u in plan.unassigned]
    if len(set(unassigned)) != len(unassigned):
        errors.append("a part is listed as unassigned twice")
    if set(unassigned) & set(pickups):
        errors.append(f"parts {sorted(set(unassigned) & set(pickups))} are unassigned and served")
    missing = set(range(len(parts))) - set(unassigned) - set(pickups)
    if missing:
        errors.append(f"parts {sorted(missing)} are neither served nor unassigned")
    served_seats = sum(parts[j].seats for j in pickups)
    if plan.served_seats != served_seats:
        errors.append(f"plan says {plan.served_seats} seats served, routes serve {served_seats}")
    if plan.unserved_seats != sum(p.seats for p in parts) - served_seats:
        errors.append("unserved seats do not add up")
    if plan.travel_time != travel_total:
        errors.append(f"plan says travel time {plan.travel_time}, routes give {travel_total}")
    if plan.distance != distance_total:
        errors.append(f"plan says distance {plan.distance}, routes give {distance_total}")
    return errors


def is_feasible(problem: RoutingProblem, plan: Plan) -> bool:
    """Whether :func:`check` finds nothing wrong."""
    return not check(problem, plan)
