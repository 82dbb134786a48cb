"""Bounds on what any plan of a dial-a-ride problem needs or can do: a lower bound on
its vehicles, an upper bound on the seats its fleet serves.

Two requests *conflict* when no vehicle can serve one and then the other in either
order: the earliest it can leave the first drop-off, plus the drive to the other
pickup, is after the latest that pickup may start. On a vehicle, conflicting
requests are on board at overlapping times, and intervals that overlap pairwise
share a moment (Helly's theorem on the line), so a set of pairwise conflicting
requests needs at least ``ceil(seats / capacity)`` vehicles. The bound takes the
best of such sets found greedily from every request, with the fastest profile's
travel times (a relaxation, so the bound stays valid for every profile).

A request that could ride in parts on two trips of one vehicle (it does not
conflict with itself) is left out of the sets, so the bound also holds when crews
are split (a part boards and leaves in its request's service times).

The same sets bound the seats served: pairwise conflicting requests that only the
vehicles of a set may serve ride at one moment, so those vehicles' seats carry them
at most; the rest of their seats stay out of every plan. The shortfalls of sets
sharing no request add up.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from optimizer.problem import RoutingProblem

__all__ = ["served_seats_bound", "vehicle_lower_bound"]


def _times(problem: RoutingProblem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per request: latest pickup start and earliest time free after its drop-off;
    the drive from each drop-off to each pickup."""
    fastest = np.min(np.stack(problem.profile_durations), axis=0)
    latest_pickup, free_after = [], []
    for r in problem.requests:
        direct = int(fastest[r.pickup, r.delivery])
        latest = min(r.pickup_window[1], r.delivery_window[1] - r.pickup_service - direct)
        earliest_drop = max(r.delivery_window[0], r.pickup_window[0] + r.pickup_service + direct)
        latest_pickup.append(latest)
        free_after.append(earliest_drop + r.delivery_service)
    pickups = [r.pickup for r in problem.requests]
    deliveries = [r.delivery for r in problem.requests]
    return (
        np.array(latest_pickup, dtype=np.int64),
        np.array(free_after, dtype=np.int64),
        fastest[np.ix_(deliveries, pickups)].astype(np.int64),
    )


def _conflicts(problem: RoutingProblem) -> np.ndarray:
    """``conflict[i, j]``: no vehicle can serve ``i`` then ``j``, nor ``j`` then ``i``
    (on the diagonal: a request that cannot ride in two trips of one vehicle)."""
    latest, free_after, drive = _times(problem)
    # follows[i, j]: j can be picked up after i is dropped off on the same vehicle
    follows = free_after[:, None] + drive <= latest[None, :]
    return ~follows & ~follows.T


def vehicle_lower_bound(problem: RoutingProblem) -> int:
    """Vehicles that any plan serving every request needs, at least.

    Parameters
    ----------
    problem
        The problem (every request is counted as served).

    Returns
    -------
    int
        0 without requests; otherwise at least 1.
    """
    n = len(problem.requests)
    if n == 0:
        return 0
    conflict = _conflicts(problem)
    alone = np.diag(conflict).copy()  # cannot ride in two trips of one vehicle
    seats = np.array([r.seats for r in problem.requests])
    capacity = np.zeros(n, dtype=np.int64)  # the largest vehicle that may serve each
    for v in problem.vehicles:
        served = list(v.serves) if v.serves is not None else slice(None)
        capacity[served] = np.maximum(capacity[served], v.seats)
    best = 1
    order = np.argsort(-seats, kind="stable")
    for limit in sorted({int(c) for c in capacity if c > 0}):
        # among requests only vehicles of at most ``limit`` seats may serve
        pool = alone & (capacity <= limit) & (capacity > 0)
        for seed in order[pool[order]]:
            members = _greedy_clique(int(seed), pool, conflict, order)
            best = max(best, math.ceil(int(seats[members].sum()) / limit))
    return best


def _greedy_clique(
    seed: int, pool: np.ndarray, conflict: np.ndarray, order: np.ndarray
) -> list[int]:
    """A set of pairwise conflicting requests of ``pool`` with ``seed``, largest first."""
    members = [seed]
    candidates = pool & conflict[seed]
    candidates[seed] = False
    while True:
        left = order[candidates[order]]
        if left.size == 0:
            return members
        members.append(int(left[0]))
        candidates &= conflict[left[0]]
        candidates[left[0]] = False


def served_seats_bound(problem: RoutingProblem, requests: Iterable[int] | None = None) -> int:
    """Seats of ``requests`` (default: all) that any plan serves, at most.

    Parameters
    ----------
    problem
        The problem: its requests, fleet and matrices.
    requests
        The requests counted (e.g. those some vehicle could serve alone).

    Returns
    -------
    int
        Their seats minus, for sets of pairwise conflicting requests that share no
        request, the seats more than the vehicles that may serve them hold at once.
    """
    n = len(problem.requests)
    counted = np.zeros(n, dtype=bool)
    counted[list(range(n)) if requests is None else list(requests)] = True
    seats = np.array([r.seats for r in problem.requests], dtype=np.int64)
    total = int(seats[counted].sum())
    if not counted.any():
        return total
    conflict = _conflicts(problem)
    serves = np.array([[v.may_serve(i) for i in range(n)] for v in problem.vehicles], dtype=bool)
    capacity = np.array([v.seats for v in problem.vehicles], dtype=np.int64)
    pool = counted & np.diag(conflict)
    # per set of vehicles serving a request: the requests only vehicles of the set serve
    sets = {tuple(serves[:, i]) for i in np.flatnonzero(pool)}
    within = [~serves[~np.array(vehicles)].any(axis=0) for vehicles in sets]
    order = np.argsort(-seats, kind="stable")
    short = 0
    while True:
        best, best_members = 0, None
        for inside in within:
            members_pool = pool & inside
            for seed in order[members_pool[order]]:
                members = _greedy_clique(int(seed), members_pool, conflict, order)
                on_board = serves[:, members] @ seats[members]
                excess = int(seats[members].sum() - np.minimum(capacity, on_board).sum())
                if excess > best:
                    best, best_members = excess, members
        if best_members is None:
            return total - short
        short += best
        pool[best_members] = False
