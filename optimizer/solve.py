"""Solve a dial-a-ride problem: ``solve(problem, params) -> Plan``.

Before the model is built, time windows are tightened from the data and requests no
single vehicle could serve even alone are set aside with a reason
(:mod:`optimizer.prepare`); :mod:`optimizer.model` builds the one model. Several
searches with different strategies can run at once in worker processes (a
*portfolio*); the best plan wins. In each worker OR-Tools
(:mod:`optimizer.ortools_search`) has the first share of the time limit
(``SolverParams.ortools_share``); the dial-a-ride large-neighbourhood search of
:mod:`optimizer.lns` then takes routes out where it can and improves the plan for the
rest (with its own seed per worker), and the OR-Tools plan is kept only if the search
did not beat it.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace

from optimizer.lns import improve, warm_up
from optimizer.model import Model, Raw, Visits, build_model
from optimizer.ortools_search import search_ortools
from optimizer.params import SearchConfig, SolverParams
from optimizer.plan import Plan, Route, Unassigned, UnassignedReason, Visit, VisitKind
from optimizer.prefix import after_prefixes, with_prefixes
from optimizer.prepare import prepare
from optimizer.problem import RoutingProblem

__all__ = ["SearchConfig", "SolverParams", "solve"]


@dataclass(frozen=True)
class _Job:
    """What one worker of the portfolio does: OR-Tools then (``params.lns``) the
    large-neighbourhood search until ``deadline`` (a ``time.perf_counter`` value);
    or, given ``start`` routes (nodes without depots), only the search from them."""

    model: Model
    params: SolverParams
    config: SearchConfig
    worker: int
    deadline: float
    start: list[list[int]] | None = None
    status: str = ""


def _search_job(job: _Job) -> Raw:
    model, params, config = job.model, job.params, job.config
    if job.start is not None:
        raw = Raw([], None, 0, job.status, config)
        start_routes = job.start
    elif not params.lns:
        return search_ortools(model, params, config)
    else:
        started = time.perf_counter()
        limit = max(0.05, params.ortools_share * (job.deadline - started))
        first = params
        if params.plateau is not None:
            # the start must not depend on the time limit (a longer limit then goes
            # through the same search first): OR-Tools' first solution, the LNS
            # does the rest
            limit = min(limit, 1.0 + 0.05 * len(model.prepared.parts))
            first = replace(params, solution_limit=params.solution_limit or 1)
        raw = search_ortools(model, replace(first, time_limit_s=limit), config)
        start_routes = [[node for node, _ in visits[1:-1]] for visits in raw.routes]
    left = job.deadline - time.perf_counter()
    if params.lns_iterations is None and left <= 0 and job.start is None:
        return raw
    result = improve(
        model.data,
        start_routes,
        time_limit_s=max(left, 0.0),
        seed=params.seed + job.worker,
        iterations=params.lns_iterations,
        plateau=params.plateau,
        start_temperature=params.lns_temperature[0],
        end_temperature=params.lns_temperature[1],
        route_time_s=_route_time(params, left),
    )
    if (
        raw.objective is not None
        and result.objective >= raw.objective
        and model.is_whole(raw.routes)
    ):
        return raw
    unserved = model.unserved_seats(result.routes)
    status = raw.status if raw.status.endswith("+LNS") else f"{raw.status}+LNS"
    return Raw(result.routes, result.objective, unserved, status, config, lns=True)


def _route_time(params: SolverParams, left: float) -> float:
    """The route minimisation's time: its share of what is left; with a fixed
    number of iterations, as long as its step counts allow (a plan that does not
    depend on the machine's speed)."""
    if params.route_share == 0:
        return 0.0
    if params.lns_iterations is not None:
        return math.inf
    return params.route_share * max(left, 0.0)


# --------------------------------------------------------------------------- plan


def _to_plan(model: Model, raw: Raw, wall_time_s: float) -> Plan:
    prepared, problem, node_loc = model.prepared, model.prepared.problem, model.node_loc
    raw = replace(raw, routes=model.whole_routes(raw.routes))
    routes: list[Route] = []
    travel_total = distance_total = fixed_total = 0
    served: set[int] = set()
    for k, visits_raw in enumerate(raw.routes):
        v = problem.vehicles[k]
        dur, dist = problem.travel(k)
        if len(visits_raw) <= 2:
            routes.append(Route(k, ()))
            continue
        visits: list[Visit] = []
        load = 0
        prev_loc, prev_departure = -1, 0
        for position, (node, start) in enumerate(visits_raw):
            loc = node_loc[node]
            found = model.part_of(node)
            if found is None:
                kind = VisitKind.START if position == 0 else VisitKind.END
                part_index, service = -1, 0
            else:
                m, is_delivery = found
                part_index = prepared.parts[m]
                part = problem.parts[part_index]
                req = problem.requests[part.request]
                if is_delivery:
                    kind, service = VisitKind.DELIVERY, req.delivery_service
                    load -= part.seats
                else:
                    kind, service = VisitKind.PICKUP, req.pickup_service
                    load += part.seats
                    served.add(part_index)
            if position == 0:
                arrival = start
            else:
                leg = int(dur[prev_loc, loc])
                arrival = prev_departure + leg
                travel_total += leg
                distance_total += int(dist[prev_loc, loc])
            visits.append(Visit(kind, loc, part_index, arrival, start, start + service, load))
            prev_loc, prev_departure = loc, start + service
        fixed_total += v.fixed_cost
        routes.append(Route(k, tuple(visits)))
    unassigned = [Unassigned(j, reason) for j, reason in sorted(prepared.set_aside.items())]
    unassigned += [
        Unassigned(j, UnassignedReason.FLEET_FULL) for j in prepared.parts if j not in served
    ]
    unassigned.sort(key=lambda u: u.part)
    served_seats = sum(problem.parts[j].seats for j in served)
    total_seats = sum(p.seats for p in problem.parts)
    return Plan(
        routes=tuple(routes),
        unassigned=tuple(unassigned),
        served_seats=served_seats,
        unserved_seats=total_seats - served_seats,
        vehicles_used=sum(r.is_used for r in routes),
        travel_time=travel_total,
        distance=distance_total,
        fixed_cost=fixed_total,
        status=raw.status,
        wall_time_s=wall_time_s,
        parts=problem.parts,
        details={"objective": raw.objective, "strategy": raw.config, "lns": raw.lns},
    )


def solve(problem: RoutingProblem, params: SolverParams | None = None) -> Plan:
    """Plan routes for a dial-a-ride problem.

    Parameters
    ----------
    problem
        The requests, fleet and matrices.
    params
        Search settings (default :class:`SolverParams`).

    Returns
    -------
    Plan
        Routes with timed visits; requests that cannot be served come back in
        ``Plan.unassigned`` with a reason, never as an exception.
    """
    started = time.perf_counter()
    params = params or SolverParams()
    if any(v.prefix for v in problem.vehicles):  # plan what is left after them
        residual = after_prefixes(problem)
        return with_prefixes(problem, residual, solve(residual.problem, params))
    prepared = prepare(problem, params)
    if prepared.cut:  # crews only smaller vehicles reach in time ride in their size
        prepared = prepare(problem.with_part_limits(prepared.cut), params)
    model = build_model(prepared, params)
    if not prepared.parts:
        empty = Raw([[] for _ in problem.vehicles], 0, 0, "EMPTY", params.portfolio[0])
        return _to_plan(model, empty, time.perf_counter() - started)
    searching = started
    if params.lns:
        # compiles once (numba caches it on disk; forked workers inherit it): a
        # first compile takes tens of seconds, which must not be the search's time
        searching += warm_up()
    # leave time to collect the workers' results and build the plan
    deadline = searching + params.time_limit_s - min(1.0, 0.05 * params.time_limit_s)
    splitting = params.split_crews and params.lns
    first_end = searching + params.split_share * (deadline - searching) if splitting else deadline
    best = _portfolio([_Job(model, params, c, i, first_end) for i, c in _configs(params)])
    if splitting:
        split = _split_search(model, best, params, deadline)
        if split is not None:
            model, best = split
    return _to_plan(model, best, time.perf_counter() - started)


def _configs(params: SolverParams) -> list[tuple[int, SearchConfig]]:
    """The portfolio's strategy for each worker. With the plateau rule OR-Tools
    only builds the start, and every worker builds it with the first strategy,
    from which the search ends better than from the others' (see
    docs/optimizer-measurements.md, the fifteenth session): the workers differ by
    their seeds."""
    workers = params.workers or min(os.cpu_count() or 1, len(params.portfolio))
    if params.lns and params.plateau is not None:
        return [(i, params.portfolio[0]) for i in range(workers)]
    return [(i, params.portfolio[i % len(params.portfolio)]) for i in range(workers)]


def _portfolio(jobs: list[_Job]) -> Raw:
    """Run the jobs (in worker processes when there are several); the best result."""
    if len(jobs) == 1:
        results = [_search_job(jobs[0])]
    else:
        context = multiprocessing.get_context(
            "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        )
        with ProcessPoolExecutor(max_workers=len(jobs), mp_context=context) as pool:
            results = list(pool.map(_search_job, jobs))
    return min(results, key=_rank)


def _rank(raw: Raw) -> tuple[bool, int, int]:
    """Plans first, then fewer seats left out, then the objective."""
    return raw.objective is None, raw.unserved_seats, raw.objective or 0


def _split_search(
    model: Model, best: Raw, params: SolverParams, deadline: float
) -> tuple[Model, Raw] | None:
    """Go on with the requests left out for want of room split into parts, from the
    best plan so far (with nothing to split, go on with the plan as it is); None
    when the plan so far stays the best."""
    prepared, problem = model.prepared, model.prepared.problem
    served = {node for visits in best.routes for node, _ in visits}
    whole: dict[int, bool] = {}  # request -> all its parts left out
    for m, j in enumerate(prepared.parts):
        r = problem.parts[j].request
        whole[r] = whole.get(r, True) and model.n_depots + 2 * m not in served
    to_split = [
        r
        for r, out in whole.items()
        if out and problem.requests[r].seats > 1 and r not in problem.pinned
    ]
    if best.objective is None:
        return None
    t0, t1 = params.lns_temperature
    cooler = replace(params, lns_temperature=(t0 * (t1 / t0) ** params.split_share, t1))
    status = best.status.removesuffix("+LNS")
    if not to_split:  # nothing to split: the search goes on with the time left
        routes = [[n for n, _ in v[1:-1]] for v in best.routes]
        jobs = [_Job(model, cooler, c, i, deadline, routes, status) for i, c in _configs(params)]
        result = _portfolio(jobs)
        if _rank(result) < _rank(best):
            return model, replace(result, status=f"{status}+LNS")
        return None
    split = build_model(prepare(problem.with_split(to_split), params), params)
    start = _carry(model, best.routes, split)
    assert start is not None  # every served part is whole in both problems
    jobs = [
        _Job(split, cooler, c, i, deadline, [[n for n, _ in v[1:-1]] for v in start], status)
        for i, c in _configs(params)
    ]
    result = _portfolio(jobs)
    if result.unserved_seats < best.unserved_seats:
        return split, replace(result, status=f"{status}+LNS+split")
    back = _carry(split, result.routes, model)
    if back is None:  # a split part is served yet nothing more: keep the plan as it was
        return None
    return model, replace(result, routes=back)


def _carry(src: Model, routes: Visits, dst: Model) -> Visits | None:
    """Routes of one model in the nodes of another of the same problem with other
    splits; None when a part served in ``src`` is not a part of ``dst``."""
    index = {_key(dst, j): m for m, j in enumerate(dst.prepared.parts)}
    carried: Visits = []
    for visits in routes:
        nodes: list[tuple[int, int]] = []
        for node, t in visits:
            found = src.part_of(node)
            if found is None:  # the same vehicles, the same depots
                nodes.append((node, t))
                continue
            target = index.get(_key(src, src.prepared.parts[found[0]]))
            if target is None:
                return None
            nodes.append((dst.n_depots + 2 * target + found[1], t))
        carried.append(nodes)
    return carried


def _key(model: Model, j: int) -> tuple[int, int, int, int]:
    part = model.prepared.problem.parts[j]
    return part.request, part.part, part.parts, part.seats
