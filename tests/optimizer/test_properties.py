"""Property: random small problems give plans the independent checker accepts."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.bounds import served_seats_bound, vehicle_lower_bound
from optimizer.check import check
from optimizer.problem import UNLIMITED, Request, RoutingProblem, Vehicle
from optimizer.solve import SolverParams, solve


@st.composite
def problems(draw: st.DrawFn) -> RoutingProblem:
    n_loc = draw(st.integers(3, 9))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    pts = rng.uniform(0, 60, size=(n_loc, 2))
    # rounded-up Euclidean times: a metric, like road travel times
    times = np.ceil(np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1))).astype(int)
    requests = []
    for _ in range(draw(st.integers(1, 7))):
        a, b = rng.choice(np.arange(1, n_loc), 2, replace=False) if n_loc > 2 else (1, 2)
        open_p = int(rng.integers(0, 150))
        requests.append(
            Request(
                int(a),
                int(b),
                seats=int(rng.integers(1, 12)),
                pickup_window=(open_p, open_p + int(rng.integers(0, 60))),
                delivery_window=(0, 400),
                max_ride=int(rng.choice([UNLIMITED, 60, 120])),
                pickup_service=int(rng.integers(0, 5)),
                delivery_service=int(rng.integers(0, 5)),
            )
        )
    # a second, slower profile (a bus), and vehicles that may serve only some requests
    slow = np.ceil(times * 1.3).astype(int)
    vehicles = [
        Vehicle(
            seats=int(rng.choice([4, 8, 9])),
            start=0,
            end=int(rng.integers(0, n_loc)),
            shift=(0, int(rng.integers(200, 500))),
            max_duration=int(rng.choice([UNLIMITED, 250])),
            fixed_cost=int(rng.integers(0, 3)),
            profile=int(rng.integers(0, 2)),
            serves=(
                None
                if rng.random() < 0.5
                else frozenset(int(r) for r in np.flatnonzero(rng.random(len(requests)) < 0.7))
            ),
        )
        for _ in range(draw(st.integers(1, 3)))
    ]
    return RoutingProblem(np.stack([times, slow]), tuple(requests), tuple(vehicles))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_random_problems_give_plans_the_checker_accepts(problem: RoutingProblem) -> None:
    plan = solve(problem, SolverParams(time_limit_s=0.3, workers=1))
    assert check(problem, plan) == []
    assert plan.served_seats + plan.unserved_seats == sum(r.seats for r in problem.requests)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_the_vehicle_lower_bound_never_exceeds_a_plan_serving_everyone(
    problem: RoutingProblem,
) -> None:
    plan = solve(problem, SolverParams(time_limit_s=0.3, workers=1))
    bound = vehicle_lower_bound(problem)
    assert bound >= 1
    if not plan.unassigned:
        assert bound <= plan.vehicles_used


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.booleans())
def test_no_plan_serves_more_seats_than_the_bound(problem: RoutingProblem, split: bool) -> None:
    if split:  # crews in parts board in their request's time: the bound holds for them
        problem = problem.with_split(range(len(problem.requests)))
    plan = solve(problem, SolverParams(time_limit_s=0.3, workers=1))
    assert (
        plan.served_seats <= served_seats_bound(problem) <= sum(r.seats for r in problem.requests)
    )
