"""Routes that begin with fixed visits (``Vehicle.prefix``): what is left to plan.

A prefix is decided already (the stop a vehicle is driving to when the day is
re-planned): the vehicle drives it first and serves each visit as early as its
window allows. :func:`after_prefixes` makes the rest a problem of its own, the
*residual* problem: each vehicle starts where its prefix ends, when it ends, with
the groups picked up so far on board (``Request.on_board``); requests a prefix
serves from end to end are left out of it. :func:`with_prefixes` puts a plan of
the residual problem behind the prefixes again, in the original problem's terms,
so that the checker checks the whole routes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace

import numpy as np

from optimizer.plan import Plan, Route, Unassigned, Visit, VisitKind
from optimizer.problem import UNLIMITED, Request, RequestPart, RoutingProblem, Vehicle

__all__ = ["Residual", "after_prefixes", "with_prefixes"]


@dataclass(frozen=True, slots=True)
class _Fixed:
    """A visit of a route's fixed beginning: a pickup of a request on board at the
    start, or a visit of the prefix."""

    request: int
    pickup: bool
    location: int
    arrival: int
    start: int
    departure: int
    load: int


@dataclass(frozen=True)
class Residual:
    """What is left to plan after the prefixes.

    Attributes
    ----------
    problem
        The residual problem.
    requests
        For each of its requests, the original request.
    heads
        Per vehicle, the fixed visits its route begins with (empty for a vehicle with
        nothing on board and no prefix: its route is the residual one as it is).
    """

    problem: RoutingProblem
    requests: tuple[int, ...]
    heads: tuple[tuple[_Fixed, ...], ...]


def _head(problem: RoutingProblem, k: int) -> tuple[list[_Fixed], dict[int, int]]:
    """Vehicle ``k``'s fixed visits, and the requests still on board after them ->
    when their boarding ended."""
    v = problem.vehicles[k]
    dur = problem.travel(k)[0]
    t, loc, load = v.shift[0], v.start, 0
    head: list[_Fixed] = []
    boarded: dict[int, int] = {}
    for i, r in enumerate(problem.requests):
        if r.on_board == k:
            load += r.seats
            head.append(_Fixed(i, True, loc, t, t, t, load))
            boarded[i] = t
    for i, kind in v.prefix:
        r = problem.requests[i]
        pickup = kind == "pickup"
        where = r.pickup if pickup else r.delivery
        window = r.pickup_window if pickup else r.delivery_window
        arrival = t + int(dur[loc, where])
        start = max(arrival, window[0])
        t, loc = start + (r.pickup_service if pickup else r.delivery_service), where
        load += r.seats if pickup else -r.seats
        head.append(_Fixed(i, pickup, where, arrival, start, t, load))
        if pickup:
            boarded[i] = t
        else:
            boarded.pop(i)
    return head, boarded


def after_prefixes(problem: RoutingProblem) -> Residual:
    """The problem left once every vehicle has driven its prefix."""
    heads: list[tuple[_Fixed, ...]] = []
    carried: dict[int, Request] = {}
    done: set[int] = set()
    vehicles: list[Vehicle] = []
    for k, v in enumerate(problem.vehicles):
        head, boarded = _head(problem, k)
        heads.append(tuple(head))
        done |= {f.request for f in head if not f.pickup}
        if not v.prefix:
            vehicles.append(v)
            continue
        last = head[-1]
        t = last.departure
        used = t - v.shift[0]
        vehicles.append(
            replace(
                v,
                start=last.location,
                shift=(t, max(t, v.shift[1])),
                max_duration=v.max_duration
                if v.max_duration == UNLIMITED
                else max(0, v.max_duration - used),
                prefix=(),
            )
        )
        for i, boarded_at in boarded.items():
            r = problem.requests[i]
            ride = r.max_ride if r.max_ride == UNLIMITED else max(0, r.max_ride - (t - boarded_at))
            carried[i] = replace(r, pickup=last.location, on_board=k, max_ride=ride)
    kept = [i for i in range(len(problem.requests)) if i not in done]
    index = {i: n for n, i in enumerate(kept)}
    requests = tuple(carried.get(i, problem.requests[i]) for i in kept)
    vehicles = [
        v
        if v.serves is None
        else replace(v, serves=frozenset(index[i] for i in v.serves if i in index))
        for v in vehicles
    ]
    rest = RoutingProblem(
        np.stack(problem.profile_durations),
        requests,
        tuple(vehicles),
        distances=np.stack(problem.profile_distances),
        split=frozenset(index[i] for i in problem.split if i in index),
        part_limits={index[i]: n for i, n in problem.part_limits.items() if i in index},
    )
    return Residual(rest, tuple(kept), tuple(heads))


def _parts(
    problem: RoutingProblem, residual: Residual, plan: Plan
) -> tuple[list[RequestPart], dict[int, int], dict[int, int]]:
    """The whole problem's parts (the residual plan's for the requests left to plan,
    the problem's for the others), and where each residual and original part went."""
    rest_parts = plan.parts or residual.problem.parts
    rest_of: dict[int, list[int]] = defaultdict(list)
    for j, part in enumerate(rest_parts):
        rest_of[residual.requests[part.request]].append(j)
    own_of: dict[int, list[int]] = defaultdict(list)
    for j, part in enumerate(problem.parts):
        own_of[part.request].append(j)
    parts: list[RequestPart] = []
    from_rest: dict[int, int] = {}
    from_own: dict[int, int] = {}
    sources: list[tuple[bool, int]] = []
    for r in range(len(problem.requests)):
        rest = r in rest_of
        for j in rest_of[r] if rest else own_of[r]:
            (from_rest if rest else from_own)[j] = len(sources)
            sources.append((rest, j))
    for rest, j in sources:
        part = rest_parts[j] if rest else problem.parts[j]
        together = (from_rest if rest else from_own)[part.together]
        request = residual.requests[part.request] if rest else part.request
        parts.append(replace(part, request=request, together=together))
    return parts, from_rest, from_own


def with_prefixes(problem: RoutingProblem, residual: Residual, plan: Plan) -> Plan:
    """A plan of the residual problem as a plan of the whole one: each route begins
    with its fixed visits."""
    parts, from_rest, from_own = _parts(problem, residual, plan)
    sole = {parts[j].request: j for j in sorted(from_rest.values()) + sorted(from_own.values())}
    routes: list[Route] = []
    for route, head in zip(plan.routes, residual.heads, strict=True):
        visits = [replace(v, part=from_rest[v.part]) if v.part >= 0 else v for v in route.visits]
        if head:
            visits = _behind_head(problem, residual, route.vehicle, visits, sole)
        routes.append(Route(route.vehicle, tuple(visits)))
    unassigned = [Unassigned(from_rest[u.part], u.reason) for u in plan.unassigned]
    return _totals(problem, plan, parts, routes, unassigned)


def _behind_head(
    problem: RoutingProblem,
    residual: Residual,
    k: int,
    visits: list[Visit],
    sole: dict[int, int],
) -> list[Visit]:
    """Start, fixed visits, then the residual route without its start and the pickups
    of the groups on board (they boarded in the head)."""
    v = problem.vehicles[k]
    s0 = v.shift[0]
    whole = [Visit(VisitKind.START, v.start, -1, s0, s0, s0, 0)]
    for f in residual.heads[k]:
        kind = VisitKind.PICKUP if f.pickup else VisitKind.DELIVERY
        whole.append(
            Visit(kind, f.location, sole[f.request], f.arrival, f.start, f.departure, f.load)
        )
    on_board = {
        sole[residual.requests[i]]
        for i, r in enumerate(residual.problem.requests)
        if r.on_board is not None
    }
    tail = [x for x in visits[1:] if not (x.kind is VisitKind.PICKUP and x.part in on_board)] or [
        Visit(VisitKind.END, v.end, -1, 0, 0, 0, 0)
    ]
    dur = problem.travel(k)[0]
    prev = whole[-1]
    first = tail[0]
    arrival = prev.departure + int(dur[prev.location, first.location])
    if first.kind is VisitKind.END and len(tail) == 1:
        tail[0] = replace(first, arrival=arrival, start=arrival, departure=arrival, load=prev.load)
    else:  # the residual route left its start no earlier: service starts stay
        tail[0] = replace(first, arrival=arrival)
    return whole + tail


def _totals(
    problem: RoutingProblem,
    plan: Plan,
    parts: list[RequestPart],
    routes: list[Route],
    unassigned: list[Unassigned],
) -> Plan:
    """The whole plan with its totals counted again over the whole routes."""
    travel = distance = fixed = 0
    served: set[int] = set()
    for route in routes:
        dur, dist = problem.travel(route.vehicle)
        for a, b in zip(route.visits, route.visits[1:], strict=False):
            travel += int(dur[a.location, b.location])
            distance += int(dist[a.location, b.location])
        if route.is_used:
            fixed += problem.vehicles[route.vehicle].fixed_cost
        served |= {x.part for x in route.visits if x.kind is VisitKind.PICKUP}
    served_seats = sum(parts[j].seats for j in served)
    return replace(
        plan,
        routes=tuple(routes),
        unassigned=tuple(sorted(unassigned, key=lambda u: u.part)),
        served_seats=served_seats,
        unserved_seats=sum(p.seats for p in parts) - served_seats,
        vehicles_used=sum(r.is_used for r in routes),
        travel_time=travel,
        distance=distance,
        fixed_cost=fixed,
        parts=tuple(parts),
    )
