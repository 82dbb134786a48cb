"""Snapping points to the nearest road of a profile's graph (private to ``roads``).

A KD-tree holds points sampled every few tens of metres along every road; the
nearest samples give candidate segments, and the exact nearest point on each
candidate decides. A point outside the extract or farther than ``MAX_SNAP_M`` from
every road is an error naming it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import numpy.typing as npt

from mobility.errors import SnapError
from mobility.roads.geo import M_PER_DEG_LAT, MAX_SNAP_M, haversine_m, ramp
from mobility.roads.points import Snap

if TYPE_CHECKING:
    from mobility.roads.graph import RoadGraph

__all__ = ["snap_index", "snap_points", "snap_samples"]
# Sample spacing along roads for the snapping index: a point's true nearest road
# has an index sample within half of this of its nearest point.
_SNAP_SAMPLE_M: Final = 40.0
_SNAP_CANDIDATES: Final = 24

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def snap_index(
    graph: RoadGraph, samples: tuple[FloatArray, IntArray, IntArray, IntArray] | None = None
) -> tuple[Any, IntArray, IntArray, IntArray]:
    """KD-tree of points sampled along every road, with their segment ids (from
    ``samples`` of :func:`snap_samples` when given, e.g. read from the graph's cache).

    The tree is built unbalanced and not compacted: four times faster to build for the
    same answers (what a command pays at every start), and queries of a few thousand
    points do not notice."""
    from scipy.spatial import cKDTree

    points, sample_seg, seg_first, seg_edge = samples or snap_samples(graph)
    tree = cKDTree(points, balanced_tree=False, compact_nodes=False)
    return tree, sample_seg, seg_first, seg_edge


def snap_samples(graph: RoadGraph) -> tuple[FloatArray, IntArray, IntArray, IntArray]:
    """Points sampled along every road (x, y), the segment of each, and each
    segment's first geometry point and edge."""
    gx, gy = graph.geom_xy
    canonical = np.flatnonzero(
        (graph.edge_reverse < 0) | (graph.edge_reverse > np.arange(graph.n_edges))
    )
    starts = graph.geom_ptr[canonical]
    counts = graph.geom_ptr[canonical + 1] - starts - 1  # segments per edge
    seg_edge = np.repeat(canonical, counts)
    seg_first = np.repeat(starts, counts) + ramp(counts)
    x0, y0 = gx[seg_first], gy[seg_first]
    x1, y1 = gx[seg_first + 1], gy[seg_first + 1]
    seg_len = np.hypot(x1 - x0, y1 - y0)
    pieces = np.maximum(1, np.ceil(seg_len / _SNAP_SAMPLE_M)).astype(np.int64)
    sample_seg = np.repeat(np.arange(len(seg_first)), pieces)
    t = (ramp(pieces) + 0.5) / np.repeat(pieces, pieces)
    sx = x0[sample_seg] + t * (x1 - x0)[sample_seg]
    sy = y0[sample_seg] + t * (y1 - y0)[sample_seg]
    points = np.column_stack([sx, sy])
    return (
        points,
        sample_seg.astype(np.int64),
        seg_first.astype(np.int64),
        seg_edge.astype(np.int64),
    )


def _check_inside(graph: RoadGraph, lat_a: FloatArray, lon_a: FloatArray) -> None:
    """Every point is a number and lies within the extract (with a margin)."""
    bad = ~(np.isfinite(lat_a) & np.isfinite(lon_a))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise SnapError(f"point {i + 1} ({lat_a[i]}, {lon_a[i]}): coordinates are not numbers")
    min_lon, min_lat, max_lon, max_lat = graph.bbox
    margin = MAX_SNAP_M / M_PER_DEG_LAT
    outside = (
        (lat_a < min_lat - margin)
        | (lat_a > max_lat + margin)
        | (lon_a < min_lon - 2 * margin)
        | (lon_a > max_lon + 2 * margin)
    )
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        raise SnapError(
            f"point {i + 1} ({lat_a[i]:.6f}, {lon_a[i]:.6f}) is outside the road extract "
            f"(lon {min_lon:.4f}..{max_lon:.4f}, lat {min_lat:.4f}..{max_lat:.4f})"
        )


def snap_points(graph: RoadGraph, lat: Sequence[float], lon: Sequence[float]) -> list[Snap]:
    """Snap points to the nearest road of this graph.

    Parameters
    ----------
    lat, lon
        Coordinates in WGS84 degrees, one pair per point.

    Returns
    -------
    list of Snap
        One per point, in order.

    Raises
    ------
    SnapError
        If a point lies outside the extract or more than ``MAX_SNAP_M`` from
        every road of the profile; the message names the point.
    """
    lat_a = np.asarray(lat, dtype=np.float64)
    lon_a = np.asarray(lon, dtype=np.float64)
    if lat_a.shape != lon_a.shape or lat_a.ndim != 1:
        raise ValueError("lat, lon: must be two sequences of the same length")
    if len(lat_a) == 0:
        return []
    _check_inside(graph, lat_a, lon_a)
    tree, sample_seg, seg_first, seg_edge = graph.snap_index
    px, py = graph.project(lat_a, lon_a)
    k = min(_SNAP_CANDIDATES, tree.n)
    _, idx = tree.query(np.column_stack([px, py]), k=k)
    idx = np.asarray(idx).reshape(len(px), k)
    seg = sample_seg[idx]  # (points, k) candidate segments
    gx, gy = graph.geom_xy
    first = seg_first[seg]
    x0, y0, x1, y1 = gx[first], gy[first], gx[first + 1], gy[first + 1]
    dx, dy = x1 - x0, y1 - y0
    len2 = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(len2 > 0, ((px[:, None] - x0) * dx + (py[:, None] - y0) * dy) / len2, 0.0)
    t = np.clip(t, 0.0, 1.0)
    qx, qy = x0 + t * dx, y0 + t * dy
    d2 = (qx - px[:, None]) ** 2 + (qy - py[:, None]) ** 2
    best = np.argmin(d2, axis=1)
    rows = np.arange(len(px))
    best_seg = seg[rows, best]
    best_t = t[rows, best]
    edge = seg_edge[best_seg]
    first_v = seg_first[best_seg]
    cum = graph.geom_cumlen
    seg_start_len = cum[first_v]
    seg_len = cum[first_v + 1] - seg_start_len
    total = cum[graph.geom_ptr[edge + 1] - 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = np.where(total > 0, (seg_start_len + best_t * seg_len) / total, 0.0)
    fraction = np.clip(fraction, 0.0, 1.0)
    glat, glon = graph.geom_lat[first_v], graph.geom_lon[first_v]
    slat = glat + best_t * (graph.geom_lat[first_v + 1] - glat)
    slon = glon + best_t * (graph.geom_lon[first_v + 1] - glon)
    dist = haversine_m(lat_a, lon_a, slat, slon)
    far = dist > MAX_SNAP_M
    if far.any():
        i = int(np.flatnonzero(far)[0])
        raise SnapError(
            f"point {i + 1} ({lat_a[i]:.6f}, {lon_a[i]:.6f}) is {dist[i]:.0f} m from the "
            f"nearest {graph.profile} road (limit {MAX_SNAP_M:.0f} m)"
        )
    return [
        Snap(int(e), float(f), float(a), float(o), float(d))
        for e, f, a, o, d in zip(edge, fraction, slat, slon, dist, strict=True)
    ]
