"""Optimizer benchmark on Cordeau's DARP instances and Li & Lim's PDPTW instances.

Usage: python bench/darp.py [FOLDER] [--time-limit S] [--workers N] [--lilim FOLDER]
       python bench/darp.py --lilim FOLDER [--time-limit S]   (Li & Lim only, 120 s)
       python bench/darp.py --lilim-large [--time-limit S]   (120 s by default)
Prints, per instance: cost, best known, gap %, feasible (independent checker),
seconds; then the mean gap. Measures and prints; not a test.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
from pathlib import Path

from optimizer.darp import read_darp, solve_instance
from optimizer.lilim import read_lilim, solve_lilim
from optimizer.solve import SolverParams

SHARED_BENCH = Path(__file__).resolve().parent.parent.parent / "shared" / "bench"


def _bks(folder: Path) -> dict[str, dict[str, str]]:
    path = folder / "bks.csv"
    if not path.is_file():
        return {}
    with path.open(newline="", encoding="utf-8") as fh:
        return {row["instance"]: row for row in csv.DictReader(fh)}


def run_darp(folder: Path, time_limit: float, workers: int | None) -> None:
    bks = _bks(folder)
    params = SolverParams(time_limit_s=time_limit, workers=workers, arc_cost="distance")
    print(f"Cordeau DARP, {folder}, {time_limit:g} s per instance")
    print(f"{'instance':<10} {'cost':>9} {'best known':>10} {'gap %':>7} {'feasible':>8} {'s':>6}")
    gaps = []
    for path in sorted(folder.glob("*.txt")):
        result = solve_instance(read_darp(path), params)
        best = float(bks[path.stem]["bks"]) if path.stem in bks else None
        cost = float(result["cost"])  # type: ignore[arg-type]
        gap = 100 * (cost - best) / best if best else float("nan")
        if best:
            gaps.append(gap)
        print(
            f"{path.stem:<10} {cost:>9.2f} {best or float('nan'):>10.2f} {gap:>7.2f} "
            f"{result['feasible']!s:>8} {result['seconds']:>6}"
        )
    if gaps:
        print(f"mean gap {statistics.mean(gaps):.2f} %, max gap {max(gaps):.2f} %")


def run_lilim(folder: Path, time_limit: float, workers: int | None) -> None:
    """Vehicles first, then distance (Li & Lim's objective): the vehicles above the
    best known, and the distance gap where the vehicle count matches."""
    bks = _bks(folder)
    params = SolverParams(time_limit_s=time_limit, workers=workers, arc_cost="distance")
    print(f"\nLi & Lim PDPTW, {folder}, {time_limit:g} s per instance")
    print(
        f"{'instance':<10} {'vehicles':>8} {'best veh':>8} {'extra':>5} {'distance':>10} "
        f"{'best known':>10} {'gap %':>7} {'feasible':>8} {'seconds':>7}"
    )
    extra_vehicles, gaps = [], []
    for path in sorted(folder.glob("*.txt")):
        result = solve_lilim(read_lilim(path), params)
        row = bks.get(path.stem, {})
        best = float(row["bks"]) if row else float("nan")
        best_vehicles = int(row["vehicles"]) if row else -1
        dist = float(result["cost"])  # type: ignore[arg-type]
        extra = int(result["vehicles"]) - best_vehicles  # type: ignore[call-overload]
        gap = 100 * (dist - best) / best
        extra_vehicles.append(extra)
        if extra == 0:
            gaps.append(gap)
        print(
            f"{path.stem:<10} {result['vehicles']:>8} {best_vehicles:>8} {extra:>+5d} "
            f"{dist:>10.2f} {best:>10.2f} {gap:>7.2f} {result['feasible']!s:>8} "
            f"{result['seconds']:>7}",
            flush=True,
        )
    if extra_vehicles:
        print(
            f"most vehicles above the best known: {max(extra_vehicles)}; distance gap "
            f"where the count matches: "
            + (f"max {max(gaps):.2f} %" if gaps else "no instance matched")
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", nargs="?", type=Path, default=None)
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--lilim", type=Path, default=SHARED_BENCH / "lilim")
    parser.add_argument("--no-lilim", action="store_true")
    parser.add_argument(
        "--lilim-large",
        action="store_true",
        help="only Li & Lim's 200-1,000 locations (../shared/bench/lilim_large), 120 s each",
    )
    args = parser.parse_args()
    limit = args.time_limit if "--time-limit" in sys.argv else 120.0
    if args.lilim_large:
        run_lilim(SHARED_BENCH / "lilim_large", limit, args.workers)
        return
    if args.folder is None and "--lilim" in sys.argv:  # Li & Lim alone
        run_lilim(args.lilim, limit, args.workers)
        return
    run_darp(args.folder or SHARED_BENCH / "darp_cordeau", args.time_limit, args.workers)
    if not args.no_lilim and args.lilim.is_dir():
        run_lilim(args.lilim, args.time_limit, args.workers)


if __name__ == "__main__":
    main()
