"""Small problem builders shared by the optimizer tests."""

from __future__ import annotations

import numpy as np

from optimizer.check import check
from optimizer.plan import Plan
from optimizer.problem import RoutingProblem
from optimizer.solve import SolverParams, solve

FAST = SolverParams(time_limit_s=1.0, workers=1)


def line_matrix(positions: list[int]) -> np.ndarray:
    """Travel times between points on a line: |a - b|."""
    pos = np.asarray(positions)
    return np.abs(pos[:, None] - pos[None, :])


def solve_and_check(problem: RoutingProblem, params: SolverParams = FAST) -> Plan:
    """Solve, and fail the test if the independent checker finds a violation."""
    plan = solve(problem, params)
    assert check(problem, plan) == []
    return plan
