"""Solve a dial-a-ride problem with OR-Tools: ``solve(problem, params) -> Plan``.

The model follows the OR-Tools routing samples' build order: index manager, routing
model, transit matrices, arc costs, dimensions (time, seats), pickup-and-delivery
pairs with ride-time limits, vehicle eligibility, disjunctions, search parameters.
Transits are given as matrices and vectors, never Python callbacks: callbacks are
the biggest cost in the search (see ``../shared/notes/optimizer-findings.md``).

Before the model is built, time windows are tightened from the data (what a request
implies for its other end, what the depots can reach), and requests no single
vehicle could serve even alone are set aside with a reason. Several searches with
different strategies can run at once in worker processes (a *portfolio*); the best
plan wins. In each worker OR-Tools has the first share of the time limit
(``SolverParams.ortools_share``); the dial-a-ride large-neighbourhood search of
:mod:`optimizer.lns` then improves its plan for the rest (with its own seed per
worker), and the OR-Tools plan is kept only if the search did not beat it.

Objective, lexicographic by default: most seats served (a request left out costs
more than any route), then least fixed cost of the vehicles used (with equal fixed
costs: fewest vehicles), then least total travel cost (driving time by default).
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from optimizer.lns import BIG, LnsData, improve, warm_up
from optimizer.plan import Plan, Route, Unassigned, UnassignedReason, Visit, VisitKind
from optimizer.prefix import after_prefixes, with_prefixes
from optimizer.problem import UNLIMITED, RoutingProblem

__all__ = ["SearchConfig", "SolverParams", "solve"]

_ROUTING_STATUS: Final = {
    0: "ROUTING_NOT_SOLVED",
    1: "ROUTING_SUCCESS",
    2: "ROUTING_PARTIAL_SUCCESS_LOCAL_OPTIMUM_NOT_REACHED",
    3: "ROUTING_FAIL",
    4: "ROUTING_FAIL_TIMEOUT",
    5: "ROUTING_INVALID",
    6: "ROUTING_INFEASIBLE",
    7: "ROUTING_OPTIMAL",
}


@dataclass(frozen=True, slots=True)
class SearchConfig:
    """One search strategy of the portfolio.

    Parameters
    ----------
    first_solution
        Name of an OR-Tools ``FirstSolutionStrategy`` (e.g.
        ``"PARALLEL_CHEAPEST_INSERTION"``).
    metaheuristic
        Name of an OR-Tools ``LocalSearchMetaheuristic`` (e.g.
        ``"GUIDED_LOCAL_SEARCH"``, ``"TABU_SEARCH"``).
    gls_lambda
        Guided local search penalty coefficient.
    settings
        Further OR-Tools ``RoutingSearchParameters`` fields as ``(dotted name,
        value)`` pairs, e.g. ``("local_search_operators.use_exchange", False)``
        (an ``OptionalBoolean`` field takes ``True``/``False``).
    """

    first_solution: str = "PARALLEL_CHEAPEST_INSERTION"
    metaheuristic: str = "GUIDED_LOCAL_SEARCH"
    gls_lambda: float = 0.3
    settings: tuple[tuple[str, object], ...] = ()


#: Measured on Cordeau's instances (bench/darp.py): GLS with lambda 0.3 leads; a
#: second core adds most with a different first solution and lambda.
DEFAULT_PORTFOLIO: Final = (
    SearchConfig("PARALLEL_CHEAPEST_INSERTION", "GUIDED_LOCAL_SEARCH", 0.3),
    SearchConfig("LOCAL_CHEAPEST_INSERTION", "GUIDED_LOCAL_SEARCH", 0.1),
    SearchConfig("PARALLEL_CHEAPEST_INSERTION", "TABU_SEARCH", 0.0),
)


@dataclass(frozen=True)
class SolverParams:
    """How to search.

    Parameters
    ----------
    time_limit_s
        Wall-clock limit of each search; the best plan found by then is returned.
    workers
        Searches run at once in worker processes, each with the next strategy of
        ``portfolio`` (default: the number of CPUs, at most the portfolio's size).
    portfolio
        Strategies, in order of preference.
    solution_limit
        Stop each search after this many improving solutions; with it (and one
        worker) a run is reproducible, whatever the machine's speed.
    arc_cost
        ``"duration"`` (driving time) or ``"distance"``.
    lexicographic
        Whether fixed costs dominate travel costs (fewest vehicles first); if not,
        fixed costs are added to travel costs as they are.
    tighten_windows
        Derive tighter time windows from the data before solving.
    log_search
        Print OR-Tools' search log.
    lns
        After OR-Tools, improve its plan with the dial-a-ride large-neighbourhood
        search of :mod:`optimizer.lns` for the rest of the time limit.
    ortools_share
        With ``lns``: share of the time limit given to OR-Tools first.
    lns_iterations
        With ``lns``: run exactly this many iterations instead of until the time
        limit (with ``solution_limit`` and one worker, a reproducible run).
    lns_temperature
        With ``lns``: annealing temperature at the start and at the end, as shares
        of the starting plan's arc cost (a plan that much worse is accepted with
        probability 1/e).
    seed
        Random seed of the large-neighbourhood search (worker ``i`` uses
        ``seed + i``).
    split_crews
        With ``lns``: after ``split_share`` of the time, requests still left out
        for want of room may ride in several vehicles (one part per unit of the
        request, or halves; see :meth:`RoutingProblem.with_split`), and the search
        goes on from the best plan so far. A crew is split only where that serves
        seats the whole crew could not take; the plan keeps the whole requests
        when splitting serves nothing more.
    split_share
        With ``split_crews``: share of the search time before crews are split.
    plateau
        With ``lns``: stop a search early when its best plan has not improved for
        ``plateau`` times the iterations it took to find it (and at least
        ``PLATEAU_MIN_ITERATIONS``), and give OR-Tools at most 1 s + 50 ms a request
        part; ``None``: always use the whole time limit.
    """

    time_limit_s: float = 30.0
    workers: int | None = None
    portfolio: tuple[SearchConfig, ...] = DEFAULT_PORTFOLIO
    solution_limit: int | None = None
    arc_cost: Literal["duration", "distance"] = "duration"
    lexicographic: bool = True
    tighten_windows: bool = True
    log_search: bool = False
    lns: bool = True
    ortools_share: float = 0.1
    lns_iterations: int | None = None
    lns_temperature: tuple[float, float] = (0.03, 0.001)
    seed: int = 0
    split_crews: bool = False
    split_share: float = 0.7
    plateau: float | None = 2.0

    def __post_init__(self) -> None:
        if self.time_limit_s <= 0:
            raise ValueError("time_limit_s: must be positive")
        if self.workers is not None and self.workers < 1:
            raise ValueError("workers: must be at least 1")
        if not self.portfolio:
            raise ValueError("portfolio: at least one search strategy is needed")
        if self.arc_cost not in ("duration", "distance"):
            raise ValueError("arc_cost: must be 'duration' or 'distance'")
        if self.solution_limit is not None and self.solution_limit < 1:
            raise ValueError("solution_limit: must be at least 1")
        if not 0 < self.ortools_share <= 1:
            raise ValueError("ortools_share: must be in (0, 1]")
        if not 0 < self.split_share < 1:
            raise ValueError("split_share: must be in (0, 1)")
        if self.plateau is not None and self.plateau <= 0:
            raise ValueError("plateau: must be positive (or None)")
        if self.lns_iterations is not None and self.lns_iterations < 0:
            raise ValueError("lns_iterations: must be >= 0")
        if (
            len(self.lns_temperature) != 2
            or not 0 <= self.lns_temperature[1] <= self.lns_temperature[0]
        ):
            raise ValueError("lns_temperature: must be (start, end) with start >= end >= 0")


# --------------------------------------------------------------------------- preparation


@dataclass
class _Prepared:
    """What the model is built from: the parts worth modelling, tightened."""

    problem: RoutingProblem
    parts: list[int]  # indices into problem.parts, in model order
    pickup_window: list[tuple[int, int]]
    delivery_window: list[tuple[int, int]]
    set_aside: dict[int, UnassignedReason] = field(default_factory=dict)
    # request -> seats of the largest vehicle that could serve a smaller part alone,
    # for requests no vehicle large enough for its part can serve in time
    cut: dict[int, int] = field(default_factory=dict)


def _prepare(problem: RoutingProblem, params: SolverParams) -> _Prepared:
    prepared = _Prepared(problem, [], [], [])
    for j, part in enumerate(problem.parts):
        req = problem.requests[part.request]
        eligible = problem.eligible_vehicles(part.request)
        if not eligible:
            prepared.set_aside[j] = UnassignedReason.NO_ELIGIBLE_VEHICLE
            continue
        if part.seats > max(problem.vehicles[k].seats for k in eligible):
            prepared.set_aside[j] = UnassignedReason.TOO_MANY_SEATS
            continue
        pw, dw = req.pickup_window, req.delivery_window
        if params.tighten_windows:
            tightened = _tighten(problem, part.request, eligible)
            if tightened is None:
                prepared.set_aside[j] = UnassignedReason.UNREACHABLE_IN_WINDOW
                continue
            pw, dw = tightened
        fits = [k for k in eligible if problem.vehicles[k].seats >= part.seats]
        if not any(_alone_feasible(problem, part.request, k, pw, dw) for k in fits):
            prepared.set_aside[j] = UnassignedReason.UNREACHABLE_IN_WINDOW
            smaller = [
                problem.vehicles[k].seats
                for k in eligible
                if problem.vehicles[k].seats < part.seats
                and _alone_feasible(problem, part.request, k, pw, dw)
            ]
            if smaller:
                prepared.cut[part.request] = max(smaller)
            continue
        prepared.parts.append(j)
        prepared.pickup_window.append(pw)
        prepared.delivery_window.append(dw)
    return _set_aside_together(prepared)


def _set_aside_together(prepared: _Prepared) -> _Prepared:
    """A part served with others all or none (``RequestPart.together``) is set aside
    with the reason of any of them that is: the set can never be served whole."""
    parts = prepared.problem.parts
    reason_of = {parts[j].together: why for j, why in prepared.set_aside.items()}
    keep = [m for m, j in enumerate(prepared.parts) if parts[j].together not in reason_of]
    for j in prepared.parts:
        if parts[j].together in reason_of:
            prepared.set_aside[j] = reason_of[parts[j].together]
    prepared.parts = [prepared.parts[m] for m in keep]
    prepared.pickup_window = [prepared.pickup_window[m] for m in keep]
    prepared.delivery_window = [prepared.delivery_window[m] for m in keep]
    return prepared


def _tighten(
    problem: RoutingProblem, r: int, eligible: Sequence[int]
) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """Tighten a request's windows until nothing changes; None if they empty out."""
    req = problem.requests[r]
    # lower bounds over the vehicles that may serve it (each drives its own matrix)
    direct = min(int(problem.travel(k)[0][req.pickup, req.delivery]) for k in eligible)
    sp, sd, ride = req.pickup_service, req.delivery_service, req.max_ride
    if ride != UNLIMITED and direct > ride:
        return None
    pe, pl = req.pickup_window
    de, dl = req.delivery_window
    reach = min(
        problem.vehicles[k].shift[0]
        + int(problem.travel(k)[0][problem.vehicles[k].start, req.pickup])
        for k in eligible
    )
    home = max(
        problem.vehicles[k].shift[1]
        - sd
        - int(problem.travel(k)[0][req.delivery, problem.vehicles[k].end])
        for k in eligible
    )
    while True:
        before = (pe, pl, de, dl)
        pe = max(pe, reach)
        dl = min(dl, home)
        pl = min(pl, dl - sp - direct)
        de = max(de, pe + sp + direct)
        if ride != UNLIMITED:
            pe = max(pe, de - ride - sp)
            dl = min(dl, pl + sp + ride)
        if pe > pl or de > dl:
            return None
        if (pe, pl, de, dl) == before:
            return (pe, pl), (de, dl)


def _alone_feasible(
    problem: RoutingProblem, r: int, k: int, pw: tuple[int, int], dw: tuple[int, int]
) -> bool:
    """Whether vehicle ``k`` could serve request ``r`` on an otherwise empty route."""
    req, v, dur = problem.requests[r], problem.vehicles[k], problem.travel(k)[0]
    to_p = int(dur[v.start, req.pickup])
    direct = int(dur[req.pickup, req.delivery])
    b_p = max(v.shift[0] + to_p, pw[0])
    if b_p > pw[1]:
        return False
    b_d = max(b_p + req.pickup_service + direct, dw[0])
    if b_d > dw[1]:
        return False
    b_p = min(pw[1], b_d - req.pickup_service - direct)  # board as late as possible
    if req.max_ride != UNLIMITED and b_d - b_p - req.pickup_service > req.max_ride:
        return False
    end = b_d + req.delivery_service + int(dur[req.delivery, v.end])
    if end > v.shift[1]:
        return False
    start = max(v.shift[0], b_p - to_p)
    return v.max_duration == UNLIMITED or end - start <= v.max_duration


# --------------------------------------------------------------------------- model


@dataclass
class _Raw:
    """A search's result in plain data (crosses process boundaries)."""

    routes: list[list[tuple[int, int]]]  # per vehicle: (node, service start time)
    objective: int
    unserved_seats: int
    status: str
    config: SearchConfig
    lns: bool = False


def _node_layout(prepared: _Prepared) -> tuple[list[int], dict[int, int], int]:
    """Locations of the model's nodes: depots first, then pickup/delivery pairs."""
    problem = prepared.problem
    depot_locs = sorted({v.start for v in problem.vehicles} | {v.end for v in problem.vehicles})
    depot_node = {loc: i for i, loc in enumerate(depot_locs)}
    node_loc = list(depot_locs)
    for j in prepared.parts:
        req = problem.requests[problem.parts[j].request]
        node_loc += [req.pickup, req.delivery]
    return node_loc, depot_node, len(depot_locs)


def _cost_scales(
    problem: RoutingProblem, params: SolverParams, max_cost: int, n_nodes: int
) -> tuple[list[int], int]:
    """Weights of the objective: each vehicle's fixed cost (lexicographic: in units
    of a bound on any plan's arc costs) and the penalty per unserved seat (more than
    all else)."""
    route_cost_bound = max_cost * (n_nodes + 2 * len(problem.vehicles)) + 1
    unit = route_cost_bound if params.lexicographic else 1
    fixed = [v.fixed_cost * unit for v in problem.vehicles]
    return fixed, route_cost_bound + sum(fixed) + 1


def _penalties(prepared: _Prepared, seat_penalty: int) -> npt.NDArray[np.int64]:
    """Cost of leaving out each modelled part: its seats at ``seat_penalty``, times a
    weight for a priority request (``Request.priority``) that makes one of its seats
    cost more than all the other seats together, as far as 64-bit costs allow."""
    problem = prepared.problem
    seats = np.array([problem.parts[j].seats for j in prepared.parts], dtype=np.int64)
    first = np.array(
        [problem.requests[problem.parts[j].request].priority for j in prepared.parts], dtype=bool
    )
    weight = 1
    if first.any():
        headroom = (1 << 61) // max(1, seat_penalty * int(seats.sum()))
        weight = max(1, min(int(seats[~first].sum()) + 1, headroom))
    return seat_penalty * seats * np.where(first, weight, 1)


def _horizon(prepared: _Prepared) -> int:
    """Latest time in the model: the last shift end or drop-off window close."""
    return int(
        max(
            max(v.shift[1] for v in prepared.problem.vehicles),
            max((w[1] for w in prepared.delivery_window), default=0),
        )
    )


def _served_parts(prepared: _Prepared, routes: list[list[tuple[int, int]]]) -> set[int]:
    """Model indices of the parts a plan serves, counting none of a set served in
    part (``RequestPart.together``: all or none)."""
    n_depots = _node_layout(prepared)[2]
    nodes = {node for visits in routes for node, _ in visits}
    parts = prepared.problem.parts
    on = [n_depots + 2 * m in nodes for m in range(len(prepared.parts))]
    whole: dict[int, bool] = {}
    for m, j in enumerate(prepared.parts):
        whole[parts[j].together] = whole.get(parts[j].together, True) and on[m]
    return {m for m, j in enumerate(prepared.parts) if whole[parts[j].together]}


def _unserved_seats(prepared: _Prepared, routes: list[list[tuple[int, int]]]) -> int:
    """Seats of the modelled parts a plan does not serve (a set served in part
    counts as not served)."""
    served = _served_parts(prepared, routes)
    return sum(
        prepared.problem.parts[j].seats for m, j in enumerate(prepared.parts) if m not in served
    )


def _is_whole(prepared: _Prepared, routes: list[list[tuple[int, int]]]) -> bool:
    """Whether a plan serves no set in part."""
    n_depots = _node_layout(prepared)[2]
    on = {(node - n_depots) // 2 for visits in routes for node, _ in visits if node >= n_depots}
    return on == _served_parts(prepared, routes)


def _whole_routes(
    prepared: _Prepared, routes: list[list[tuple[int, int]]]
) -> list[list[tuple[int, int]]]:
    """The routes without the parts of sets served in part (OR-Tools' plans may
    have them; the large-neighbourhood search never keeps one). Service starts stay:
    a route with fewer stops reaches the rest no later."""
    n_depots = _node_layout(prepared)[2]
    served = _served_parts(prepared, routes)
    kept = [
        [(node, t) for node, t in visits if node < n_depots or (node - n_depots) // 2 in served]
        for visits in routes
    ]
    return [visits if len(visits) > 2 else visits[:1] + visits[-1:] for visits in kept]


def _search(prepared: _Prepared, params: SolverParams, config: SearchConfig) -> _Raw:
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    problem = prepared.problem
    node_loc, depot_node, n_depots = _node_layout(prepared)
    n_nodes = len(node_loc)
    vehicles = problem.vehicles
    manager = pywrapcp.RoutingIndexManager(
        n_nodes,
        len(vehicles),
        [depot_node[v.start] for v in vehicles],
        [depot_node[v.end] for v in vehicles],
    )
    routing = pywrapcp.RoutingModel(manager)
    solver = routing.solver()

    locs = np.asarray(node_loc, dtype=np.int64)
    service = np.zeros(n_nodes, dtype=np.int64)
    demand = np.zeros(n_nodes, dtype=np.int64)
    for m, j in enumerate(prepared.parts):
        part = problem.parts[j]
        req = problem.requests[part.request]
        service[n_depots + 2 * m] = req.pickup_service
        service[n_depots + 2 * m + 1] = req.delivery_service
        demand[n_depots + 2 * m] = part.seats
        demand[n_depots + 2 * m + 1] = -part.seats
    # one transit and one cost matrix per vehicle profile
    time_indices, cost_indices, max_cost = [], [], 0
    for profile, durations in enumerate(problem.profile_durations):
        travel = durations[np.ix_(locs, locs)]
        transit = travel + service[:, None]
        np.fill_diagonal(transit, 0)
        costs = (
            travel
            if params.arc_cost == "duration"
            else problem.profile_distances[profile][np.ix_(locs, locs)]
        )
        max_cost = max(max_cost, int(costs.max(initial=0)))
        time_indices.append(routing.RegisterTransitMatrix(transit.tolist()))
        cost_indices.append(routing.RegisterTransitMatrix(costs.tolist()))

    # arc costs
    for k, v in enumerate(vehicles):
        routing.SetArcCostEvaluatorOfVehicle(cost_indices[v.profile], k)
    fixed_costs, seat_penalty = _cost_scales(problem, params, max_cost, n_nodes)
    for k, fixed in enumerate(fixed_costs):
        if fixed:
            routing.SetFixedCostOfVehicle(int(fixed), k)

    # time
    horizon = _horizon(prepared)
    routing.AddDimensionWithVehicleTransits(
        [time_indices[v.profile] for v in vehicles], horizon, horizon, False, "time"
    )
    time_dim = routing.GetDimensionOrDie("time")
    for k, v in enumerate(vehicles):
        time_dim.CumulVar(routing.Start(k)).SetRange(v.shift[0], v.shift[1])
        time_dim.CumulVar(routing.End(k)).SetRange(v.shift[0], v.shift[1])
        if v.max_duration != UNLIMITED:
            time_dim.SetSpanUpperBoundForVehicle(v.max_duration, k)

    # seats
    seat_index = routing.RegisterUnaryTransitVector(demand.tolist())
    routing.AddDimensionWithVehicleCapacity(
        seat_index, 0, [v.seats for v in vehicles], True, "seats"
    )

    # pickup and delivery pairs
    all_vehicles = list(range(len(vehicles)))
    penalties = _penalties(prepared, seat_penalty)
    for m, j in enumerate(prepared.parts):
        part = problem.parts[j]
        req = problem.requests[part.request]
        p_idx = manager.NodeToIndex(n_depots + 2 * m)
        d_idx = manager.NodeToIndex(n_depots + 2 * m + 1)
        routing.AddPickupAndDelivery(p_idx, d_idx)
        solver.Add(routing.VehicleVar(p_idx) == routing.VehicleVar(d_idx))
        p_time, d_time = time_dim.CumulVar(p_idx), time_dim.CumulVar(d_idx)
        p_time.SetRange(*prepared.pickup_window[m])
        d_time.SetRange(*prepared.delivery_window[m])
        solver.Add(p_time + req.pickup_service <= d_time)
        if req.max_ride != UNLIMITED:
            solver.Add(d_time - p_time - req.pickup_service <= req.max_ride)
        allowed = [
            k for k in problem.eligible_vehicles(part.request) if vehicles[k].seats >= part.seats
        ]
        if len(allowed) < len(all_vehicles):
            # -1 keeps the request optional (unperformed)
            routing.VehicleVar(p_idx).SetValues([-1, *allowed])
            routing.VehicleVar(d_idx).SetValues([-1, *allowed])
        routing.AddDisjunction([p_idx], int(penalties[m]))
        routing.AddDisjunction([d_idx], 0)
        solver.Add(routing.ActiveVar(p_idx) == routing.ActiveVar(d_idx))

    # a schedule without needless waiting: leave the depot as late as possible,
    # then serve every stop as early as possible
    for k in all_vehicles:
        routing.AddVariableMaximizedByFinalizer(time_dim.CumulVar(routing.Start(k)))
    for node in range(n_depots, n_nodes):
        routing.AddVariableMinimizedByFinalizer(time_dim.CumulVar(manager.NodeToIndex(node)))
    for k in all_vehicles:
        routing.AddVariableMinimizedByFinalizer(time_dim.CumulVar(routing.End(k)))

    search = pywrapcp.DefaultRoutingSearchParameters()
    search.first_solution_strategy = getattr(
        routing_enums_pb2.FirstSolutionStrategy, config.first_solution
    )
    search.local_search_metaheuristic = getattr(
        routing_enums_pb2.LocalSearchMetaheuristic, config.metaheuristic
    )
    if config.metaheuristic == "GUIDED_LOCAL_SEARCH":
        search.guided_local_search_lambda_coefficient = config.gls_lambda
    for name, value in config.settings:
        _set_field(search, name, value)
    search.time_limit.FromMilliseconds(int(params.time_limit_s * 1000))
    if params.solution_limit is not None:
        search.solution_limit = params.solution_limit
    search.log_search = params.log_search

    assignment = routing.SolveWithParameters(search)
    status = _ROUTING_STATUS.get(routing.status(), str(routing.status()))
    if assignment is None:
        return _Raw(
            [[] for _ in vehicles],
            -1,
            sum(problem.parts[j].seats for j in prepared.parts),
            status,
            config,
        )
    routes: list[list[tuple[int, int]]] = []
    for k in all_vehicles:
        index = routing.Start(k)
        visits = []
        while True:
            node = manager.IndexToNode(index)
            visits.append((node, int(assignment.Value(time_dim.CumulVar(index)))))
            if routing.IsEnd(index):
                break
            index = assignment.Value(routing.NextVar(index))
        routes.append(visits)
    unserved = _unserved_seats(prepared, routes)
    return _Raw(routes, int(assignment.ObjectiveValue()), unserved, status, config)


def _set_field(message: object, dotted: str, value: object) -> None:
    """Set a (nested) protobuf field; booleans fill OR-Tools' OptionalBoolean."""
    *path, last = dotted.split(".")
    try:
        for name in path:
            message = getattr(message, name)
        field = message.DESCRIPTOR.fields_by_name[last]  # type: ignore[attr-defined]
    except (AttributeError, KeyError):
        raise ValueError(f"settings: unknown search parameter {dotted!r}") from None
    if field.enum_type is not None and field.enum_type.name == "OptionalBoolean":
        value = 3 if value else 2  # BOOL_TRUE, BOOL_FALSE
    setattr(message, last, value)


@dataclass(frozen=True)
class _Job:
    """What one worker of the portfolio does: OR-Tools then (``params.lns``) the
    large-neighbourhood search until ``deadline`` (a ``time.perf_counter`` value);
    or, given ``start`` routes (nodes without depots), only the search from them."""

    prepared: _Prepared
    params: SolverParams
    config: SearchConfig
    worker: int
    deadline: float
    start: list[list[int]] | None = None
    status: str = ""


def _search_job(job: _Job) -> _Raw:
    prepared, params, config = job.prepared, job.params, job.config
    if job.start is not None:
        raw = _Raw([], -1, 0, job.status, config)
        start_routes = job.start
    elif not params.lns:
        return _search(prepared, params, config)
    else:
        started = time.perf_counter()
        limit = max(0.05, params.ortools_share * (job.deadline - started))
        if params.plateau is not None:  # a small problem needs little of OR-Tools
            limit = min(limit, 1.0 + 0.05 * len(prepared.parts))
        raw = _search(prepared, replace(params, time_limit_s=limit), config)
        start_routes = [[node for node, _ in visits[1:-1]] for visits in raw.routes]
        if len(start_routes) != len(prepared.problem.vehicles):  # OR-Tools found nothing
            start_routes = [[] for _ in prepared.problem.vehicles]
    left = job.deadline - time.perf_counter()
    if params.lns_iterations is None and left <= 0 and job.start is None:
        return raw
    result = improve(
        _lns_data(prepared, params),
        start_routes,
        time_limit_s=max(left, 0.0),
        seed=params.seed + job.worker,
        iterations=params.lns_iterations,
        plateau=params.plateau,
        start_temperature=params.lns_temperature[0],
        end_temperature=params.lns_temperature[1],
    )
    if raw.objective >= 0 and result.objective >= raw.objective and _is_whole(prepared, raw.routes):
        return raw
    unserved = _unserved_seats(prepared, result.routes)
    status = raw.status if raw.status.endswith("+LNS") else f"{raw.status}+LNS"
    return _Raw(result.routes, result.objective, unserved, status, config, lns=True)


def _lns_data(prepared: _Prepared, params: SolverParams) -> LnsData:
    """The OR-Tools model of :func:`_search` as arrays for :mod:`optimizer.lns`."""
    problem = prepared.problem
    node_loc, depot_node, n_depots = _node_layout(prepared)
    locs = np.asarray(node_loc, dtype=np.int64)
    n_nodes = len(node_loc)
    vehicles = problem.vehicles
    early = np.zeros(n_nodes, dtype=np.int64)
    late = np.full(n_nodes, _horizon(prepared), dtype=np.int64)
    service = np.zeros(n_nodes, dtype=np.int64)
    demand = np.zeros(n_nodes, dtype=np.int64)
    n_req = len(prepared.parts)
    ride = np.full(n_req, BIG, dtype=np.int64)
    seats = np.zeros(n_req, dtype=np.int64)
    allowed = np.zeros((n_req, len(vehicles)), dtype=np.bool_)
    for m, j in enumerate(prepared.parts):
        part = problem.parts[j]
        req = problem.requests[part.request]
        p, d = n_depots + 2 * m, n_depots + 2 * m + 1
        early[p], late[p] = prepared.pickup_window[m]
        early[d], late[d] = prepared.delivery_window[m]
        service[p], service[d] = req.pickup_service, req.delivery_service
        demand[p], demand[d] = part.seats, -part.seats
        seats[m] = part.seats
        if req.max_ride != UNLIMITED:
            ride[m] = req.max_ride
        for k in problem.eligible_vehicles(part.request):
            allowed[m, k] = vehicles[k].seats >= part.seats
    travel = np.stack([dur[np.ix_(locs, locs)] for dur in problem.profile_durations])
    if params.arc_cost == "duration":
        cost = travel
    else:
        cost = np.stack([dist[np.ix_(locs, locs)] for dist in problem.profile_distances])
    fixed_costs, seat_penalty = _cost_scales(problem, params, int(cost.max(initial=0)), n_nodes)
    return LnsData(
        nd=n_depots,
        travel=np.ascontiguousarray(travel, dtype=np.int64),
        cost=np.ascontiguousarray(cost, dtype=np.int64),
        early=early,
        late=late,
        service=service,
        demand=demand,
        ride=ride,
        penalty=_penalties(prepared, seat_penalty),
        v_cap=np.array([v.seats for v in vehicles], dtype=np.int64),
        v_start=np.array([depot_node[v.start] for v in vehicles], dtype=np.int64),
        v_end=np.array([depot_node[v.end] for v in vehicles], dtype=np.int64),
        v_early=np.array([v.shift[0] for v in vehicles], dtype=np.int64),
        v_late=np.array([v.shift[1] for v in vehicles], dtype=np.int64),
        v_dur=np.array(
            [BIG if v.max_duration == UNLIMITED else v.max_duration for v in vehicles],
            dtype=np.int64,
        ),
        v_prof=np.array([v.profile for v in vehicles], dtype=np.int64),
        v_fixed=np.array(fixed_costs, dtype=np.int64),
        allowed=allowed,
        together=_model_sets(prepared),
    )


def _model_sets(prepared: _Prepared) -> npt.NDArray[np.int64]:
    """Per modelled part, the model index of the first part of its set (all or none)."""
    parts = prepared.problem.parts
    first: dict[int, int] = {}
    for m, j in enumerate(prepared.parts):
        first.setdefault(parts[j].together, m)
    return np.array([first[parts[j].together] for j in prepared.parts], dtype=np.int64)


# --------------------------------------------------------------------------- plan


def _to_plan(prepared: _Prepared, raw: _Raw, wall_time_s: float) -> Plan:
    problem = prepared.problem
    node_loc, _, n_depots = _node_layout(prepared)
    raw = replace(raw, routes=_whole_routes(prepared, raw.routes))
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
            if node < n_depots:
                kind = VisitKind.START if position == 0 else VisitKind.END
                part_index, service = -1, 0
            else:
                m, is_delivery = divmod(node - n_depots, 2)
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
    prepared = _prepare(problem, params)
    if prepared.cut:  # crews only smaller vehicles reach in time ride in their size
        prepared = _prepare(problem.with_part_limits(prepared.cut), params)
    if not prepared.parts:
        empty = _Raw([[] for _ in problem.vehicles], 0, 0, "EMPTY", params.portfolio[0])
        return _to_plan(prepared, empty, time.perf_counter() - started)
    if params.lns:
        warm_up()  # compiles once (numba caches it on disk); forked workers inherit it
    # leave time to collect the workers' results and build the plan
    deadline = started + params.time_limit_s - min(1.0, 0.05 * params.time_limit_s)
    splitting = params.split_crews and params.lns
    first_end = started + params.split_share * (deadline - started) if splitting else deadline
    best = _portfolio([_Job(prepared, params, c, i, first_end) for i, c in _configs(params)])
    if splitting:
        split = _split_search(prepared, best, params, deadline)
        if split is not None:
            prepared, best = split
    return _to_plan(prepared, best, time.perf_counter() - started)


def _configs(params: SolverParams) -> list[tuple[int, SearchConfig]]:
    """The portfolio's strategy for each worker."""
    workers = params.workers or min(os.cpu_count() or 1, len(params.portfolio))
    return [(i, params.portfolio[i % len(params.portfolio)]) for i in range(workers)]


def _portfolio(jobs: list[_Job]) -> _Raw:
    """Run the jobs (in worker processes when there are several); the best result."""
    if len(jobs) == 1:
        results = [_search_job(jobs[0])]
    else:
        context = multiprocessing.get_context(
            "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        )
        with ProcessPoolExecutor(max_workers=len(jobs), mp_context=context) as pool:
            results = list(pool.map(_search_job, jobs))
    return min(results, key=lambda r: (r.objective < 0, r.unserved_seats, r.objective))


def _split_search(
    prepared: _Prepared, best: _Raw, params: SolverParams, deadline: float
) -> tuple[_Prepared, _Raw] | None:
    """Go on with the requests left out for want of room split into parts, from the
    best plan so far (with nothing to split, go on with the plan as it is); None
    when the plan so far stays the best."""
    n_depots = _node_layout(prepared)[2]
    served = {node for visits in best.routes for node, _ in visits}
    problem = prepared.problem
    whole: dict[int, bool] = {}  # request -> all its parts left out
    for m, j in enumerate(prepared.parts):
        r = problem.parts[j].request
        whole[r] = whole.get(r, True) and n_depots + 2 * m not in served
    to_split = [
        r
        for r, out in whole.items()
        if out and problem.requests[r].seats > 1 and r not in problem.pinned
    ]
    if best.objective < 0:
        return None
    t0, t1 = params.lns_temperature
    cooler = replace(params, lns_temperature=(t0 * (t1 / t0) ** params.split_share, t1))
    status = best.status.removesuffix("+LNS")
    if not to_split:  # nothing to split: the search goes on with the time left
        routes = [[n for n, _ in v[1:-1]] for v in best.routes]
        jobs = [_Job(prepared, cooler, c, i, deadline, routes, status) for i, c in _configs(params)]
        result = _portfolio(jobs)
        if (result.unserved_seats, result.objective) < (best.unserved_seats, best.objective):
            return prepared, replace(result, status=f"{status}+LNS")
        return None
    split = _prepare(problem.with_split(to_split), params)
    start = _carry(prepared, best.routes, split)
    assert start is not None  # every served part is whole in both problems
    jobs = [
        _Job(split, cooler, c, i, deadline, [[n for n, _ in v[1:-1]] for v in start], status)
        for i, c in _configs(params)
    ]
    result = _portfolio(jobs)
    if result.unserved_seats < best.unserved_seats:
        return split, replace(result, status=f"{status}+LNS+split")
    back = _carry(split, result.routes, prepared)
    if back is None:  # a split part is served yet nothing more: keep the plan as it was
        return None
    return prepared, replace(result, routes=back)


def _carry(
    src: _Prepared, routes: list[list[tuple[int, int]]], dst: _Prepared
) -> list[list[tuple[int, int]]] | None:
    """Routes of one model in the nodes of another of the same problem with other
    splits; None when a part served in ``src`` is not a part of ``dst``."""
    src_depots, dst_depots = _node_layout(src)[2], _node_layout(dst)[2]
    index = {_key(dst, j): m for m, j in enumerate(dst.parts)}
    carried: list[list[tuple[int, int]]] = []
    for visits in routes:
        nodes: list[tuple[int, int]] = []
        for node, t in visits:
            if node < src_depots:  # the same vehicles, the same depots
                nodes.append((node, t))
                continue
            m, is_delivery = divmod(node - src_depots, 2)
            target = index.get(_key(src, src.parts[m]))
            if target is None:
                return None
            nodes.append((dst_depots + 2 * target + is_delivery, t))
        carried.append(nodes)
    return carried


def _key(prepared: _Prepared, j: int) -> tuple[int, int, int, int]:
    part = prepared.problem.parts[j]
    return part.request, part.part, part.parts, part.seats
