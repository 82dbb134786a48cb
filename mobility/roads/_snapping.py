"""Snapping points to the nearest road of a profile's graph (private to ``roads``).

Points are sampled every few tens of metres along every road and filed in a grid of
square cells (built with the graph's cache and read with it: a command starts
without building anything, and without scipy). A point looks at the samples of the
cells around it, ring after ring, until the nearest sample is close enough that no
road outside the rings can be nearer; the exact nearest point on the segments of the
nearest samples decides. A point outside the extract or farther than ``MAX_SNAP_M``
from every road is an error naming it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final, NamedTuple

import numpy as np
import numpy.typing as npt

from mobility.errors import SnapError
from mobility.roads.geo import M_PER_DEG_LAT, MAX_SNAP_M, haversine_m, ramp
from mobility.roads.points import Snap

if TYPE_CHECKING:
    from mobility.roads.graph import RoadGraph

__all__ = ["SnapIndex", "snap_index", "snap_points"]
# Sample spacing along roads: a point's true nearest road has a sample within half
# of this of its nearest point.
_SNAP_SAMPLE_M: Final = 40.0
# Side of a grid cell.
_CELL_M: Final = 250.0

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class SnapIndex(NamedTuple):
    """Samples along the roads filed by grid cell (row-major), and the grid."""

    points: FloatArray  # (samples, 2): x, y in local metres, sorted by cell
    sample_seg: IntArray  # the segment of each sample
    seg_first: IntArray  # each segment's first geometry point
    seg_edge: IntArray  # each segment's edge
    cell_start: IntArray  # cell c holds samples cell_start[c]:cell_start[c + 1]
    grid: FloatArray  # x0, y0 (the grid's corner), nx, ny


def snap_index(graph: RoadGraph) -> SnapIndex:
    """Points sampled along every road of ``graph``, filed in a grid (what the
    graph's cache keeps beside it)."""
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
    corner_x = float(sx.min()) if len(sx) else 0.0
    corner_y = float(sy.min()) if len(sy) else 0.0
    ix = ((sx - corner_x) // _CELL_M).astype(np.int64)
    iy = ((sy - corner_y) // _CELL_M).astype(np.int64)
    nx, ny = int(ix.max(initial=0)) + 1, int(iy.max(initial=0)) + 1
    cell = iy * nx + ix
    order = np.argsort(cell, kind="stable")
    return SnapIndex(
        np.column_stack([sx, sy])[order],
        sample_seg[order].astype(np.int64),
        seg_first.astype(np.int64),
        seg_edge.astype(np.int64),
        np.searchsorted(cell[order], np.arange(nx * ny + 1)).astype(np.int64),
        np.array([corner_x, corner_y, nx, ny], dtype=np.float64),
    )


def _block(index: SnapIndex, px: float, py: float, r: int) -> IntArray:
    """The samples in the cells at most ``r`` cells from the point's cell."""
    corner_x, corner_y, nx_f, ny_f = index.grid
    nx, ny = int(nx_f), int(ny_f)
    ix, iy = int((px - corner_x) // _CELL_M), int((py - corner_y) // _CELL_M)
    lo, hi = max(ix - r, 0), min(ix + r, nx - 1)
    rows = range(max(iy - r, 0), min(iy + r, ny - 1) + 1)
    if lo > hi or not rows:
        return np.empty(0, dtype=np.int64)
    starts = index.cell_start
    return np.concatenate(
        [np.arange(starts[row * nx + lo], starts[row * nx + hi + 1]) for row in rows]
    )


def _nearest_segments(index: SnapIndex, px: float, py: float) -> IntArray:
    """Segments one of which holds the point's nearest road point: those of the
    samples nearly as near as the nearest, once the rings searched hold every
    sample that near."""
    far = int((MAX_SNAP_M + _SNAP_SAMPLE_M) // _CELL_M) + 2
    for r in range(1, far + 1):
        cand = _block(index, px, py, r)
        if len(cand) == 0:
            continue
        d = np.hypot(index.points[cand, 0] - px, index.points[cand, 1] - py)
        nearest = float(d.min())
        # every sample within r cells' width of the point is in the block
        if nearest + _SNAP_SAMPLE_M / 2 <= r * _CELL_M:
            return np.unique(index.sample_seg[cand[d <= nearest + _SNAP_SAMPLE_M]])
    # nothing near (an error follows): the nearest sample of all tells how far
    d = np.hypot(index.points[:, 0] - px, index.points[:, 1] - py)
    return index.sample_seg[[int(np.argmin(d))]]


def _on_segments(
    graph: RoadGraph, index: SnapIndex, px: float, py: float, seg: IntArray
) -> tuple[int, float]:
    """(segment, position along it in 0..1) of the point's nearest point on ``seg``."""
    first = index.seg_first[seg]
    # only these vertices are projected: a command snapping a few points does not
    # project the whole province
    x0, y0 = graph.project(graph.geom_lat[first], graph.geom_lon[first])
    x1, y1 = graph.project(graph.geom_lat[first + 1], graph.geom_lon[first + 1])
    dx, dy = x1 - x0, y1 - y0
    len2 = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(len2 > 0, ((px - x0) * dx + (py - y0) * dy) / len2, 0.0)
    t = np.clip(t, 0.0, 1.0)
    d2 = (x0 + t * dx - px) ** 2 + (y0 + t * dy - py) ** 2
    best = int(np.argmin(d2))
    return int(seg[best]), float(t[best])


def _lengths_along(
    graph: RoadGraph, edge: IntArray, first: IntArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """For each snapped point: the planar length of its edge up to its segment, of
    its segment, and of the whole edge (as :attr:`RoadGraph.geom_cumlen` measures,
    for these edges only)."""
    start_len = np.empty(len(edge))
    seg_len = np.empty(len(edge))
    total = np.empty(len(edge))
    for i, (e, f) in enumerate(zip(edge.tolist(), first.tolist(), strict=True)):
        a, b = int(graph.geom_ptr[e]), int(graph.geom_ptr[e + 1])
        x, y = graph.project(graph.geom_lat[a:b], graph.geom_lon[a:b])
        cum = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))])
        start_len[i], seg_len[i], total[i] = cum[f - a], cum[f - a + 1] - cum[f - a], cum[-1]
    return start_len, seg_len, total


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
    index = graph.snap_index
    px, py = graph.project(lat_a, lon_a)
    found = [
        _on_segments(graph, index, x, y, _nearest_segments(index, x, y))
        for x, y in zip(px, py, strict=True)
    ]
    best_seg = np.array([seg for seg, _ in found], dtype=np.int64)
    best_t = np.array([t for _, t in found], dtype=np.float64)
    seg_first, seg_edge = index.seg_first, index.seg_edge
    edge = seg_edge[best_seg]
    first_v = seg_first[best_seg]
    seg_start_len, seg_len, total = _lengths_along(graph, edge, first_v)
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
