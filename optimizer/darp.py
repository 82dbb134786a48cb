"""Cordeau's dial-a-ride instances (Cordeau 2006; Ropke, Cordeau & Laporte 2007).

File format: a header ``K n T Q L`` (vehicles, requests - some copies write 2n -,
maximum route duration, capacity, maximum ride time), then one line
``id x y d q e l`` per node: node 0 is the depot, 1..n the pickups, n+i the
drop-off of request i, and optionally 2n+1 the end depot. Travel time equals the
Euclidean distance.

Times are scaled by :data:`SCALE` and rounded up to integers for the solver, so a
plan feasible for the solver is feasible with the exact distances; the reported
cost is the exact Euclidean length of the routes.

Run ``python -m optimizer.darp FILE --time-limit SECONDS --json``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from optimizer.check import check
from optimizer.plan import Plan, VisitKind
from optimizer.problem import Request, RoutingProblem, Vehicle
from optimizer.solve import SolverParams, solve

__all__ = ["SCALE", "DarpInstance", "euclidean_length", "plan_cost", "read_darp"]

#: Solver time units per instance time unit.
SCALE: Final = 1000


@dataclass(frozen=True)
class DarpInstance:
    """A Cordeau instance and its solver problem.

    ``node_ids[loc]`` is the file's node id of location ``loc``; request ``r`` of the
    problem is request ``r + 1`` of the file.
    """

    name: str
    problem: RoutingProblem
    coords: npt.NDArray[np.float64]
    node_ids: tuple[int, ...]
    n_requests: int


def _euclid(coords: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    diff = coords[:, None, :] - coords[None, :, :]
    return np.asarray(np.sqrt((diff**2).sum(axis=2)))


def scaled_up(matrix: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """Scale and round up (a hair of float noise is not rounded up)."""
    return np.ceil(matrix * SCALE - 1e-7).astype(np.int64)


def read_darp(path: Path) -> DarpInstance:
    """Read a Cordeau DARP file.

    Raises
    ------
    ValueError
        If the file does not follow the format; the message names the line.
    """
    lines = [ln.split() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    if not lines or len(lines[0]) < 5:
        raise ValueError(f"{path}: line 1 must be 'K n T Q L'")
    try:
        k, _n_header, t_max, q, l_max = (float(x) for x in lines[0][:5])
        rows = [[float(x) for x in ln[:7]] for ln in lines[1:]]
    except ValueError as exc:
        raise ValueError(f"{path}: a value is not a number ({exc})") from None
    if any(len(r) < 7 for r in rows):
        raise ValueError(f"{path}: every node line needs 'id x y d q e l'")
    n = (len(rows) - 1) // 2  # 2n+1 lines without the end depot, 2n+2 with it
    if n < 1 or len(rows) not in (2 * n + 1, 2 * n + 2):
        raise ValueError(f"{path}: {len(rows)} node lines is not 2n+1 or 2n+2")
    has_end = len(rows) == 2 * n + 2
    node_rows = rows[: 2 * n + 1]
    coords = np.array([[r[1], r[2]] for r in node_rows])
    exact = _euclid(coords)
    times = scaled_up(exact)
    depot = node_rows[0]
    end_row = rows[-1] if has_end else depot
    if has_end and (end_row[1], end_row[2]) != (depot[1], depot[2]):
        raise ValueError(f"{path}: the end depot is not at the start depot")
    requests = []
    for i in range(1, n + 1):
        p, d = node_rows[i], node_rows[n + i]
        if p[4] <= 0 or d[4] != -p[4]:
            raise ValueError(f"{path}: node {i} and {n + i} are not a pickup/drop-off pair")
        requests.append(
            Request(
                pickup=i,
                delivery=n + i,
                seats=int(p[4]),
                pickup_window=(int(p[5] * SCALE), int(p[6] * SCALE)),
                delivery_window=(int(d[5] * SCALE), int(d[6] * SCALE)),
                max_ride=int(l_max * SCALE),
                pickup_service=int(p[3] * SCALE),
                delivery_service=int(d[3] * SCALE),
                label=str(i),
            )
        )
    vehicles = [
        Vehicle(
            seats=int(q),
            start=0,
            end=0,
            shift=(int(depot[5] * SCALE), int(end_row[6] * SCALE)),
            max_duration=int(t_max * SCALE),
            label=str(v),
        )
        for v in range(int(k))
    ]
    problem = RoutingProblem(
        durations=times,
        requests=tuple(requests),
        vehicles=tuple(vehicles),
        distances=np.rint(exact * SCALE).astype(np.int64),
    )
    ids = tuple(int(r[0]) for r in node_rows)
    return DarpInstance(path.stem, problem, coords, ids, n)


def euclidean_length(coords: npt.NDArray[np.float64], plan: Plan) -> float:
    """Exact Euclidean length of a plan's routes (locations index ``coords``)."""
    exact = _euclid(coords)
    return float(
        sum(
            exact[a.location, b.location]
            for route in plan.routes
            for a, b in itertools.pairwise(route.visits)
        )
    )


def plan_cost(instance: DarpInstance, plan: Plan) -> float:
    """Exact Euclidean length of the plan's routes."""
    return euclidean_length(instance.coords, plan)


def solve_instance(instance: DarpInstance, params: SolverParams) -> dict[str, object]:
    """Solve and summarise as the JSON object of the command line."""
    plan = solve(instance.problem, params)
    violations = check(instance.problem, plan)
    routes = [
        [instance.node_ids[v.location] for v in r.visits if v.kind not in _DEPOTS]
        for r in plan.routes
        if r.is_used
    ]
    unassigned = sorted({instance.problem.parts[u.part].request + 1 for u in plan.unassigned})
    return {
        "instance": instance.name,
        "cost": round(plan_cost(instance, plan), 4),
        "routes": routes,
        "unassigned": unassigned,
        "feasible": not violations and not unassigned,
        "seconds": round(plan.wall_time_s, 2),
        "violations": violations,
    }


_DEPOTS: Final = (VisitKind.START, VisitKind.END)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: solve one instance and print the result."""
    parser = argparse.ArgumentParser(prog="python -m optimizer.darp", description=__doc__)
    parser.add_argument("file", type=Path)
    parser.add_argument("--time-limit", type=float, default=30.0, metavar="SECONDS")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    try:
        instance = read_darp(args.file)
    except (OSError, ValueError) as exc:
        print(f"darp: error: {exc}", file=sys.stderr)
        return 2
    params = SolverParams(time_limit_s=args.time_limit, workers=args.workers, arc_cost="distance")
    result = solve_instance(instance, params)
    if args.json:
        result.pop("violations")
        print(json.dumps(result))
    else:
        state = "feasible" if result["feasible"] else f"INFEASIBLE {result['violations']}"
        print(f"{result['instance']}: cost {result['cost']:.2f}, {state}, {result['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
