"""A lower bound on the number of vehicles a dial-a-ride problem needs.

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
are split.
"""

from __future__ import annotations

import math

import numpy as np

from optimizer.problem import RoutingProblem

__all__ = ["vehicle_lower_bound"]


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
    latest, free_after, drive = _times(problem)
    # follows[i, j]: j can be picked up after i is dropped off on the same vehicle
    follows = free_after[:, None] + drive <= latest[None, :]
    conflict = ~follows & ~follows.T
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
            members = [int(seed)]
            candidates = pool & conflict[seed]
            candidates[seed] = False
            while True:
                left = order[candidates[order]]
                if left.size == 0:
                    break
                members.append(int(left[0]))
                candidates &= conflict[left[0]]
                candidates[left[0]] = False
            best = max(best, math.ceil(int(seats[members].sum()) / limit))
    return best
