"""Travel-time and distance matrices between points on a profile's road graph.

Each point is snapped to its road; it leaves the graph through the end(s) of that
road it can drive to and is reached through the end(s) that can drive to it, with
the part of the road driven as an offset.

- Durations come from RoutingKit's customizable contraction hierarchy
  (:attr:`RoadGraph.cch_metric`): one multi-source, many-target sweep per point,
  about 0.7 ms each on the province graph.
- Distances (metres along the fastest route) come from ``scipy.sparse.csgraph``
  Dijkstra on encoded weights (:attr:`RoadGraph.edge_weight`), which carry time
  and length together; a full Dijkstra costs about 10 ms per point on the province
  graph, so rows are spread over the cores with forked worker processes (csgraph
  holds the GIL). Ask for them only when needed (``distances=True``).

Both computations round partial-road times the same way, so their durations agree.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt

from mobility.roads.geo import TIME_RESOLUTION_S
from mobility.roads.graph import RoadGraph, decode_weight
from mobility.roads.points import Snap

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

__all__ = ["TravelTimes", "travel_time_matrix"]

#: Below this many points a single process is faster than starting workers.
PARALLEL_MIN_POINTS: Final = 150
_CHUNK_ROWS: Final = 64

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class TravelTimes:
    """Matrices between points, row = from, column = to.

    Attributes
    ----------
    durations_s
        Driving time in seconds (multiples of 0.1 s); ``inf`` where unreachable.
    distances_m
        Driving distance in metres along the fastest route; ``inf`` where
        unreachable; ``None`` when not asked for.
    snaps
        Where each point meets the road.
    profile
        The vehicle profile of the graph used.
    """

    durations_s: FloatArray
    distances_m: FloatArray | None
    snaps: list[Snap]
    profile: str

    @property
    def reachable(self) -> npt.NDArray[np.bool_]:
        """Boolean matrix: can the column be reached from the row."""
        return np.isfinite(self.durations_s)


def travel_time_matrix(
    points: Sequence[tuple[float, float]],
    profile: str | RoadGraph = "minibus",
    *,
    distances: bool = True,
    workers: int | None = None,
) -> TravelTimes:
    """Durations (and distances) between every ordered pair of points.

    One-way streets are respected, so the matrices are not symmetric.

    Parameters
    ----------
    points
        ``(lat, lon)`` pairs in WGS84 degrees.
    profile
        A profile name (its cached graph is loaded) or a loaded :class:`RoadGraph`.
    distances
        Also compute distances (m) along the fastest routes; slower (see module doc).
    workers
        Worker processes for the distance Dijkstra runs (default: the CPU count).

    Returns
    -------
    TravelTimes

    Raises
    ------
    SnapError
        If a point is off the profile's network; the message names the point.
    """
    if isinstance(profile, RoadGraph):
        graph = profile
    else:
        from mobility.roads.cache import load_road_graph

        graph = load_road_graph(profile)
    p = len(points)
    if p == 0:
        return TravelTimes(
            np.zeros((0, 0)), np.zeros((0, 0)) if distances else None, [], graph.profile
        )
    snaps = graph.snap([pt[0] for pt in points], [pt[1] for pt in points])
    durations = _durations_cch(graph, snaps)
    dist = _distances_dijkstra(graph, snaps, workers) if distances else None
    return TravelTimes(durations, dist, snaps, graph.profile)


def _durations_cch(graph: RoadGraph, snaps: Sequence[Snap]) -> FloatArray:
    import routingkit_cch

    p = len(snaps)
    (x_point, x_node, x_ticks, _), (n_point, n_node, n_ticks, _) = graph.point_links(snaps)
    targets, target_slot = np.unique(n_node, return_inverse=True)
    sweep = routingkit_cch.CCHOneToMany(graph.cch_metric, targets.tolist())
    per_point: list[list[tuple[int, int]]] = [[] for _ in range(p)]
    for point, node, ticks in zip(x_point.tolist(), x_node.tolist(), x_ticks.tolist(), strict=True):
        per_point[point].append((node, int(ticks)))
    rows = np.empty((p, len(targets)), dtype=np.float64)
    for i in range(p):
        rows[i] = np.array(sweep.distances_from_multi(per_point[i]), dtype=np.float64)
    rows[np.isnan(rows)] = np.inf  # None (unreachable) became NaN
    # point j is reached through each of its entry nodes, plus the part of its road
    best = np.full((p, p), np.inf)
    for slot, point, ticks in zip(target_slot, n_point, n_ticks, strict=True):
        np.minimum(best[:, point], rows[:, slot] + ticks, out=best[:, point])
    pi, pj, pe, pf = graph.same_road_pairs(snaps)
    if len(pi):
        direct = np.rint(graph.edge_ticks[pe] * pf)
        best[pi, pj] = np.minimum(best[pi, pj], direct)
    np.fill_diagonal(best, 0.0)
    return best * TIME_RESOLUTION_S


def _distances_dijkstra(graph: RoadGraph, snaps: Sequence[Snap], workers: int | None) -> FloatArray:
    p = len(snaps)
    matrix, src, dst = graph.augmented_csr(snaps)
    n_workers = workers if workers is not None else (os.cpu_count() or 1)
    chunks = [src[i : i + _CHUNK_ROWS] for i in range(0, p, _CHUNK_ROWS)]
    if n_workers <= 1 or p < PARALLEL_MIN_POINTS or len(chunks) < 2:
        blocks = [_rows(matrix, chunk, dst) for chunk in chunks]
    else:
        blocks = _parallel_rows(matrix, chunks, dst, n_workers)
    _, distances = decode_weight(np.vstack(blocks))
    np.fill_diagonal(distances, 0.0)
    return distances


def _rows(matrix: csr_matrix, sources: IntArray, targets: IntArray) -> FloatArray:
    from scipy.sparse.csgraph import dijkstra

    dist = dijkstra(matrix, directed=True, indices=sources)
    return np.asarray(dist[:, targets], dtype=np.float64)


# The worker processes are forked after this is set, so they share the matrix
# copy-on-write instead of receiving it pickled.
_SHARED: dict[str, object] = {}


def _worker_rows(sources: IntArray) -> FloatArray:
    matrix = _SHARED["matrix"]
    targets = _SHARED["targets"]
    return _rows(matrix, sources, targets)  # type: ignore[arg-type]


def _parallel_rows(
    matrix: csr_matrix, chunks: list[IntArray], targets: IntArray, n_workers: int
) -> list[FloatArray]:
    if "fork" not in multiprocessing.get_all_start_methods():
        return [_rows(matrix, chunk, targets) for chunk in chunks]
    _SHARED["matrix"] = matrix
    _SHARED["targets"] = targets
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=n_workers, mp_context=context) as pool:
            return list(pool.map(_worker_rows, chunks))
    finally:
        _SHARED.clear()
