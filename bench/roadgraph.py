"""Road graph benchmark: XML build, cache load, matrices against networkx, and the
``mobility matrix`` command on 1,000 points as a user runs it.

Usage: python bench/roadgraph.py [--source PATH] [--seed N] [--command-only]
Measures and prints; not a test.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import networkx as nx
import numpy as np

from mobility.roads import (
    RoadGraph,
    build_road_graphs,
    cache_path,
    find_source,
    get_profile,
    travel_time_matrix,
)

FARMS = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "farm_access_points.csv"


def whole_command(n: int = 1000, runs: int = 5) -> None:
    """``mobility matrix`` on ``n`` farm access points, start to end in a new process
    each time (the province's cache built beforehand): the median of ``runs``."""
    with tempfile.TemporaryDirectory() as tmp:
        points = Path(tmp) / "points.csv"
        with FARMS.open(encoding="utf-8") as src, points.open("w", encoding="utf-8") as dst:
            writer = csv.writer(dst)
            writer.writerow(["id", "lat", "lon"])
            for row, _ in zip(csv.DictReader(src), range(n), strict=False):
                writer.writerow([row["id"], row["lat"], row["lon"]])
        command = [str(Path(sys.executable).with_name("mobility")), "matrix", str(points)]
        command += ["--out", str(Path(tmp) / "out.csv")]
        subprocess.run(command, check=True, capture_output=True)  # caches warm
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            times.append(time.perf_counter() - started)
    print(
        f"mobility matrix, {n} points, whole command: median {statistics.median(times):.2f} s "
        f"of {runs} (min {min(times):.2f}, max {max(times):.2f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--command-only", action="store_true")
    args = parser.parse_args()
    if args.command_only:
        whole_command()
        return
    source = find_source(args.source)
    print(f"source: {source}")

    started = time.perf_counter()
    graphs = build_road_graphs(source)
    build_s = time.perf_counter() - started
    graph = graphs["minibus"]
    print(f"XML parse + build (both profiles): {build_s:.1f} s")

    with tempfile.TemporaryDirectory() as tmp:
        path = cache_path(source, get_profile("minibus"), Path(tmp))
        graph.save(path)
        started = time.perf_counter()
        loaded = RoadGraph.load(path)
        load_s = time.perf_counter() - started
    print(f"cache load (minibus, {loaded.n_nodes} nodes, {loaded.n_edges} edges): {load_s:.3f} s")

    started = time.perf_counter()
    _ = loaded.cch_metric
    print(
        "contraction hierarchy customisation (once per process): "
        f"{time.perf_counter() - started:.3f} s"
    )
    started = time.perf_counter()
    _ = loaded.snap([41.4206], [15.7096])
    print(f"snapping index build (once per process): {time.perf_counter() - started:.3f} s")

    rng = np.random.default_rng(args.seed)
    farms = np.loadtxt(FARMS, delimiter=",", skiprows=1, usecols=(1, 2))

    plain = nx.DiGraph()
    for u, v, t in zip(
        loaded.edge_u.tolist(), loaded.edge_v.tolist(), loaded.edge_time_s.tolist(), strict=True
    ):
        if not plain.has_edge(u, v) or plain[u][v]["w"] > t:
            plain.add_edge(u, v, w=t)
    sources = rng.choice(loaded.n_nodes, 5, replace=False).tolist()
    started = time.perf_counter()
    for s in sources:
        nx.single_source_dijkstra_path_length(plain, s, weight="w")
    nx_per_source = (time.perf_counter() - started) / len(sources)
    print(f"networkx single-source Dijkstra: {nx_per_source * 1000:.0f} ms per source")

    print(
        f"{'points':>6} {'durations s':>12} {'+distances s':>13} "
        f"{'networkx est. s':>16} {'ratio':>7}"
    )
    for n in (100, 500, 1000):
        pts = [tuple(p) for p in farms[rng.choice(len(farms), n, replace=False)]]
        started = time.perf_counter()
        travel_time_matrix(pts, loaded, distances=False)
        durations_s = time.perf_counter() - started
        started = time.perf_counter()
        travel_time_matrix(pts, loaded, distances=True)
        both_s = time.perf_counter() - started
        nx_s = nx_per_source * n
        print(
            f"{n:>6} {durations_s:>12.2f} {both_s:>13.2f} {nx_s:>16.0f} {nx_s / durations_s:>7.0f}x"
        )
    whole_command()


if __name__ == "__main__":
    main()
