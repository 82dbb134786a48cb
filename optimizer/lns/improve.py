"""Improve a plan: route minimisation first (:mod:`optimizer.lns.ejection`), then
the annealing search (:mod:`optimizer.lns.anneal`)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from optimizer.lns.anneal import (
    PLATEAU_MIN_ITERATIONS,
    Schedule,
    Search,
    anneal,
    first_cycle,
    seed_random,
    total,
)
from optimizer.lns.arrays import BIG, I64, NOWHERE, Arrays, Scratch, State, new_scratch, new_state
from optimizer.lns.ejection import fewer_routes
from optimizer.lns.repair import repair_whole
from optimizer.lns.routes import refresh, schedule

__all__ = ["PLATEAU_MIN_ITERATIONS", "LnsResult", "alone", "improve", "most_removed", "warm_up"]

#: Insertion noise, as a share of the largest arc cost.
NOISE = 0.025


@dataclass(frozen=True)
class LnsResult:
    """Per vehicle the (node, service start) visits, depots included; the
    objective; the iterations run; the routes the route minimisation removed."""

    routes: list[list[tuple[int, int]]]
    objective: int
    iterations: int
    routes_removed: int = 0


def alone(n_req: int) -> I64:
    """``Arrays.together`` for requests that are each served on their own."""
    return np.arange(n_req, dtype=np.int64)


def _empty_infeasible(state: State, data: Arrays, ws: Scratch) -> None:
    """Empty every route the exact schedule refuses."""
    for k in range(len(state.lens)):
        if not refresh(k, state, data, ws):
            state.where[state.where == k] = NOWHERE
            state.lens[k] = 0
            refresh(k, state, data, ws)


def _start_state(data: Arrays, routes: list[list[int]], ws: Scratch) -> State:
    """The search's first solution: the given routes that are well formed and
    feasible, then every request left out inserted where it fits."""
    n_veh, n_req = len(data.v_cap), len(data.ride)
    cur = new_state(n_veh, n_req)
    for k, seq in enumerate(routes):
        # a route that is malformed, or serves a request twice or on a vehicle
        # that may not take it, is left out
        served = [(node - data.nd) // 2 for node in seq if (node - data.nd) % 2 == 0]
        if (
            _well_formed(seq, data.nd, n_req)
            and data.allowed[served, k].all()
            and (cur.where[served] == NOWHERE).all()
        ):
            cur.routes[k, : len(seq)] = seq
            cur.lens[k] = len(seq)
            cur.where[served] = k
    _empty_infeasible(cur, data, ws)
    # insert what is left out; a set served in part (by the given routes or the
    # insertion) is taken out
    for _ in range(2):
        pending = np.flatnonzero(cur.where == NOWHERE)
        if repair_whole(2, 0.0, pending, cur, data, ws):
            break
        # a route shortened by taking a set out has no schedule (only with travel
        # times that break the triangle inequality): empty it, and try again
        _empty_infeasible(cur, data, ws)
    return cur


#: Most requests an iteration removes: this many, or ``ROUTES_REMOVED`` routes' worth
#: at the plan's mean route length when that is more (never over the share asked).
MOST_REMOVED, ROUTES_REMOVED = 40, 3


def most_removed(state: State, share: float) -> int:
    """Most requests an iteration of the search from plan ``state`` removes:
    ``share`` of all, and at most ``MOST_REMOVED`` or, on plans of long routes,
    ``ROUTES_REMOVED`` routes' worth: the remove-and-reinsert moves restructure long
    routes (Li & Lim's lrc2: 20-30 requests each) only when they take out more than
    one at once."""
    n_req = len(state.where)
    used = int((state.lens > 0).sum())
    per_route = int((state.where != NOWHERE).sum()) // max(1, used)
    cap = max(MOST_REMOVED, ROUTES_REMOVED * per_route)
    return max(1, min(n_req, cap, round(share * n_req)))


def improve(
    data: Arrays,
    routes: list[list[int]],
    *,
    time_limit_s: float,
    seed: int = 0,
    iterations: int | None = None,
    start_temperature: float = 0.03,
    end_temperature: float = 0.001,
    max_removed_share: float = 0.3,
    plateau: float | None = None,
    route_time_s: float = 0.0,
) -> LnsResult:
    """Improve a plan by large-neighbourhood search.

    Parameters
    ----------
    data
        The model in arrays (:class:`optimizer.lns.arrays.Arrays`).
    routes
        A starting plan: per vehicle the pickup and drop-off nodes in order (depots
        left out). A route the exact schedule refuses is emptied; requests in no
        route are inserted where they fit before the search starts.
    time_limit_s
        Wall-clock budget, unless ``iterations`` is given.
    seed
        Random seed.
    iterations
        Run exactly this many iterations (reproducible) instead of until the time
        limit.
    start_temperature, end_temperature
        Annealing temperatures as shares of the starting plan's arc cost: a plan
        worse by that much is accepted with probability 1/e (a timed search cools
        in cycles of iterations: :class:`optimizer.lns.anneal.Schedule`).
    max_removed_share
        Most requests removed in one iteration, as a share of all (see
        :func:`most_removed`).
    plateau
        Stop before the time limit, at the end of a cycle, once the best plan has
        not improved for this many times the iterations it took to find it (at
        least ``PLATEAU_MIN_ITERATIONS``); ``None``: use the whole time limit.
    route_time_s
        At most this much of the time goes first to taking whole routes out of the
        plan (vehicles with a fixed cost only; see :mod:`optimizer.lns.ejection`);
        ``math.inf``: the phase ends on its own step counts only (reproducible).
    """
    started = time.perf_counter()
    n_veh, n_req = len(data.v_cap), len(data.ride)
    ws = new_scratch(int(data.early.shape[0]), n_req)
    seed_random(seed)
    cur = _start_state(data, routes, ws)
    removed = 0
    if route_time_s > 0:
        cur, removed = fewer_routes(cur, data, ws, started + route_time_s, seed)
    first = int(total(cur, data.penalty))
    search = Search(
        data,
        cur,
        new_state(n_veh, n_req),
        State(*(a.copy() for a in cur)),
        np.array([first, first], dtype=np.int64),
        ws,
    )
    arc = float(cur.rcost.sum() - data.v_fixed[cur.lens > 0].sum())
    temp0 = max(start_temperature * arc, 1e-9)
    temp1 = max(end_temperature * arc, 1e-9)
    qmax = most_removed(cur, max_removed_share)
    qrange = np.array([min(qmax, 2), qmax], dtype=np.int64)
    noise = NOISE * float(data.cost.max(initial=0))
    schedule_ = Schedule(
        time.perf_counter(),
        started + time_limit_s - time.perf_counter(),
        iterations,
        temp0,
        temp1,
        plateau,
        first_cycle(n_req),
    )
    done = anneal(schedule_, qrange, noise, search)
    return LnsResult(_timed(data, search.best, ws), int(search.costs[1]), done, removed)


def _well_formed(seq: list[int], nd: int, n_req: int) -> bool:
    """Whether a route visits each of its requests' pickup once, then its drop-off."""
    seen: set[int] = set()
    open_: set[int] = set()
    for node in seq:
        r, is_drop = divmod(node - nd, 2)
        if not 0 <= r < n_req:
            return False
        if is_drop:
            if r not in open_:
                return False
            open_.remove(r)
        elif r in seen:
            return False
        else:
            seen.add(r)
            open_.add(r)
    return not open_


def _timed(data: Arrays, state: State, ws: Scratch) -> list[list[tuple[int, int]]]:
    """Routes with service starts: the earliest schedule, leaving the depot as late
    as that schedule allows."""
    out: list[list[tuple[int, int]]] = []
    for k in range(len(state.lens)):
        m = int(state.lens[k])
        start, end = int(data.v_start[k]), int(data.v_end[k])
        if m == 0:
            out.append([(start, int(data.v_early[k])), (end, int(data.v_early[k]))])
            continue
        sched = ws.sched
        if not schedule(state.routes[k], m, k, data, sched, ws.lb, ws.pos):
            raise AssertionError(f"route {k} lost its schedule")  # pragma: no cover
        first = int(state.routes[k, 0])
        leave = max(int(sched[0]), int(sched[1]) - int(data.travel[data.v_prof[k], start, first]))
        visits = [(start, leave)]
        visits += [(int(state.routes[k, i]), int(sched[i + 1])) for i in range(m)]
        visits.append((end, int(sched[m + 1])))
        out.append(visits)
    return out


def warm_up() -> float:
    """Compile the search (or load it from numba's cache on disk); seconds taken."""
    started = time.perf_counter()
    n_nodes = 6  # two depots, two requests
    travel = np.full((1, n_nodes, n_nodes), 5, dtype=np.int64)
    travel[0][np.diag_indices(n_nodes)] = 0

    def ints(*values: int) -> I64:
        return np.array(values, dtype=np.int64)

    data = Arrays(
        nd=2,
        travel=travel,
        cost=travel,
        early=np.zeros(n_nodes, dtype=np.int64),
        late=np.full(n_nodes, 100, dtype=np.int64),
        service=np.zeros(n_nodes, dtype=np.int64),
        demand=ints(0, 0, 1, -1, 1, -1),
        ride=ints(50, 50),
        penalty=ints(1000, 1000),
        v_cap=ints(2, 2),
        v_start=ints(0, 1),
        v_end=ints(0, 1),
        v_early=ints(0, 0),
        v_late=ints(100, 100),
        v_dur=ints(BIG, BIG),
        v_prof=ints(0, 0),
        v_fixed=ints(10, 10),
        allowed=np.ones((2, 2), dtype=np.bool_),
        together=alone(2),
    )
    # one request in each vehicle: the route minimisation moves one over (with no
    # deadline: compiling what runs before it must not use up its time)
    result = improve(data, [[2, 3], [4, 5]], time_limit_s=1.0, iterations=3, route_time_s=math.inf)
    if result.routes_removed != 1:  # pragma: no cover - the phase was not compiled
        raise AssertionError("the warm-up did not run the route minimisation")
    return time.perf_counter() - started
