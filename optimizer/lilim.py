"""Li & Lim's pickup-and-delivery instances with time windows (PDPTW, 2001).

File format: a header ``K Q speed``, then one line per node
``id x y demand e l service pickup delivery``: node 0 is the depot; a pickup has
``pickup = 0`` and names its drop-off in ``delivery``; a drop-off names its pickup.
Travel time is the Euclidean distance (speed 1). The literature ranks solutions by
vehicles used, then total distance, which is what the lexicographic objective of
:func:`optimizer.solve.solve` does when every vehicle has the same fixed cost.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from optimizer.check import check
from optimizer.darp import SCALE, euclidean_length, scaled_up
from optimizer.problem import Request, RoutingProblem, Vehicle
from optimizer.solve import SolverParams, solve

__all__ = ["LiLimInstance", "main", "read_lilim", "solve_lilim"]


@dataclass(frozen=True)
class LiLimInstance:
    """A Li & Lim instance and its solver problem (location = node id)."""

    name: str
    problem: RoutingProblem
    coords: npt.NDArray[np.float64]


def read_lilim(path: Path) -> LiLimInstance:
    """Read a Li & Lim file.

    Raises
    ------
    ValueError
        If the file does not follow the format.
    """
    lines = [ln.split() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    try:
        k, q = int(float(lines[0][0])), int(float(lines[0][1]))
        rows = [[float(x) for x in ln[:9]] for ln in lines[1:]]
    except (IndexError, ValueError) as exc:
        raise ValueError(f"{path}: not a Li & Lim file ({exc})") from None
    if any(int(r[0]) != i for i, r in enumerate(rows)):
        raise ValueError(f"{path}: node ids must run 0, 1, 2, ... in order")
    coords = np.array([[r[1], r[2]] for r in rows])
    exact = np.sqrt(((coords[:, None, :] - coords[None, :, :]) ** 2).sum(axis=2))
    requests = []
    for r in rows[1:]:
        if r[3] > 0:  # demand > 0: a pickup
            d = rows[int(r[8])]
            requests.append(
                Request(
                    pickup=int(r[0]),
                    delivery=int(d[0]),
                    seats=int(r[3]),
                    pickup_window=(int(r[4] * SCALE), int(r[5] * SCALE)),
                    delivery_window=(int(d[4] * SCALE), int(d[5] * SCALE)),
                    pickup_service=int(r[6] * SCALE),
                    delivery_service=int(d[6] * SCALE),
                    label=str(int(r[0])),
                )
            )
    depot = rows[0]
    vehicles = [
        Vehicle(
            seats=q,
            start=0,
            end=0,
            shift=(int(depot[4] * SCALE), int(depot[5] * SCALE)),
            fixed_cost=1,
            label=str(v),
        )
        for v in range(k)
    ]
    problem = RoutingProblem(
        durations=scaled_up(exact),
        requests=tuple(requests),
        vehicles=tuple(vehicles),
        distances=np.rint(exact * SCALE).astype(np.int64),
    )
    return LiLimInstance(path.stem, problem, coords)


def solve_lilim(instance: LiLimInstance, params: SolverParams) -> dict[str, object]:
    """Solve and summarise: vehicles, exact distance, feasibility."""
    plan = solve(instance.problem, params)
    violations = check(instance.problem, plan)
    return {
        "instance": instance.name,
        "vehicles": plan.vehicles_used,
        "cost": round(euclidean_length(instance.coords, plan), 4),
        "unassigned": len(plan.unassigned),
        "feasible": not violations and not plan.unassigned,
        "seconds": round(plan.wall_time_s, 2),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: solve one Li & Lim file; ``--json`` prints ``{"instance",
    "vehicles", "cost", "feasible", "seconds"}`` (cost: exact Euclidean distance;
    feasible: every request served and the independent checker finds nothing)."""
    parser = argparse.ArgumentParser(prog="python -m optimizer.lilim", description=__doc__)
    parser.add_argument("file", type=Path)
    parser.add_argument("--time-limit", type=float, default=60.0, metavar="SECONDS")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    try:
        instance = read_lilim(args.file)
    except (OSError, ValueError) as exc:
        print(f"lilim: error: {exc}", file=sys.stderr)
        return 2
    params = SolverParams(time_limit_s=args.time_limit, workers=args.workers, arc_cost="distance")
    result = solve_lilim(instance, params)
    if args.json:
        keys = ("instance", "vehicles", "cost", "feasible", "seconds")
        print(json.dumps({k: result[k] for k in keys}))
    else:
        state = "feasible" if result["feasible"] else "INFEASIBLE"
        print(
            f"{result['instance']}: {result['vehicles']} vehicles, distance "
            f"{result['cost']:.2f}, {state}, {result['seconds']} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
