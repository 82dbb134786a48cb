"""A longer time limit is never worse: the search's start and its cooling cycles do
not depend on the limit, which only cuts the search short (``Schedule``)."""

from __future__ import annotations

import numpy as np

from optimizer.check import check
from optimizer.problem import Request, RoutingProblem, Vehicle
from optimizer.solve import SolverParams, solve


def small_day(seed: int = 7) -> RoutingProblem:
    """A morning of 16 crews from 10 settlements to 12 farms within 40 km of the
    depot, and 2 minibuses: more seats than the fleet can take in the hour."""
    rng = np.random.default_rng(seed)
    where = rng.uniform(-20.0, 20.0, size=(23, 2))  # km; 0: the depot
    where[0] = 0.0
    km = np.hypot(*(where[:, None, :] - where[None, :, :]).transpose(2, 0, 1))
    durations = np.rint(km * 1.3 / 50 * 3600).astype(np.int64)  # 50 km/h on roads
    requests = []
    for _ in range(16):
        home, farm = int(rng.integers(1, 11)), int(rng.integers(11, 23))
        seats = int(rng.integers(1, 9))
        board = 4 * 3600 + int(rng.integers(0, 4)) * 900
        direct = int(durations[home, farm])
        requests.append(
            Request(
                home,
                farm,
                seats=seats,
                pickup_window=(board, board + 1800),
                max_ride=int(1.5 * direct) + 900,
                pickup_service=60 + 10 * seats,
                delivery_service=60,
            )
        )
    fleet = (Vehicle(8, 0, 0, shift=(3 * 3600, 9 * 3600), fixed_cost=3600),) * 2
    return RoutingProblem(durations, tuple(requests), fleet)


def _outcome(problem: RoutingProblem, limit: float) -> tuple[int, int, int]:
    params = SolverParams(time_limit_s=limit, workers=1, seed=0, split_crews=True)
    plan = solve(problem, params)
    assert check(problem, plan) == []
    left_out = sum(plan.parts[u.part].seats for u in plan.unassigned)
    return left_out, plan.vehicles_used, plan.travel_time


def test_a_longer_limit_is_never_worse_on_a_small_day() -> None:
    problem = small_day()
    short, long = _outcome(problem, 10.0), _outcome(problem, 30.0)
    assert short[0] > 0  # the fleet is short: which crews ride matters
    assert long <= short  # seats left out first, then vehicles, then driving
