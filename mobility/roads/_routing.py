"""How snapped points join the graph, and point-to-point routes (private to ``roads``).

Each point leaves the graph through the end(s) of its road it can drive to and is
reached through the end(s) that can drive to it, with the part of the road driven
as an offset; two points on the same road may also be joined directly along it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt

from mobility.errors import SnapError
from mobility.roads.geo import TIME_RESOLUTION_S
from mobility.roads.points import RoadPath, Snap

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

    from mobility.roads.graph import RoadGraph

__all__ = ["augmented_csr", "fastest_path", "part_weight", "point_links", "same_road_pairs"]

# A snap this close to an end of its road (as a fraction) is at that end's node.
_AT_NODE: Final = 1e-9

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
LinkArrays = tuple[IntArray, IntArray, FloatArray, FloatArray]


def point_links(graph: RoadGraph, snaps: Sequence[Snap]) -> tuple[LinkArrays, LinkArrays]:
    """How each snapped point joins the graph.

    Returns
    -------
    tuple
        ``exits`` and ``entries``, each ``(point, node, ticks, metres)``: from
        ``point`` one drives to ``node`` in ``ticks`` tenths of a second over
        ``metres`` (exits), or from ``node`` to ``point`` (entries). A point at the
        very end of a road is that node, so it also leaves or is reached there at
        no cost, even on a one-way street.
    """
    e = np.array([s.edge for s in snaps], dtype=np.int64)
    f = np.array([s.fraction for s in snaps], dtype=np.float64)
    idx = np.arange(len(snaps))
    rev = graph.edge_reverse[e]
    has = rev >= 0
    at_start = f <= _AT_NODE
    at_end = f >= 1 - _AT_NODE
    ticks, length = graph.edge_ticks, graph.edge_length_m
    zeros = np.zeros(int(at_start.sum()) + int(at_end.sum()))
    exits = (
        np.r_[idx, idx[has], idx[at_start]],
        np.r_[graph.edge_v[e], graph.edge_u[e][has], graph.edge_u[e][at_start]],
        np.r_[
            np.rint(ticks[e] * (1 - f)),
            np.rint(ticks[rev[has]] * f[has]),
            zeros[: at_start.sum()],
        ],
        np.r_[length[e] * (1 - f), length[rev[has]] * f[has], zeros[: at_start.sum()]],
    )
    entries = (
        np.r_[idx, idx[has], idx[at_end]],
        np.r_[graph.edge_u[e], graph.edge_v[e][has], graph.edge_v[e][at_end]],
        np.r_[
            np.rint(ticks[e] * f),
            np.rint(ticks[rev[has]] * (1 - f[has])),
            zeros[: at_end.sum()],
        ],
        np.r_[length[e] * f, length[rev[has]] * (1 - f[has]), zeros[: at_end.sum()]],
    )
    return exits, entries


def same_road_pairs(
    graph: RoadGraph, snaps: Sequence[Snap]
) -> tuple[IntArray, IntArray, IntArray, FloatArray]:
    """Pairs of distinct points on the same road, the second reachable along it.

    Returns
    -------
    tuple of arrays
        ``(i, j, edge, fraction)``: point ``j`` is reached from point ``i`` by
        driving ``fraction`` of ``edge`` (the road's forward edge, or its reverse).
    """
    e = np.array([s.edge for s in snaps], dtype=np.int64)
    f = np.array([s.fraction for s in snaps], dtype=np.float64)
    out_i: list[IntArray] = []
    out_j: list[IntArray] = []
    out_e: list[IntArray] = []
    out_f: list[FloatArray] = []
    order = np.argsort(e, kind="stable")
    sorted_e = e[order]
    group_start = np.flatnonzero(np.r_[True, sorted_e[1:] != sorted_e[:-1]])
    group_end = np.r_[group_start[1:], len(order)]
    for a, b in zip(group_start, group_end, strict=True):
        if b - a < 2:
            continue
        members = order[a:b]
        fi, fj = np.meshgrid(f[members], f[members], indexing="ij")
        ii, jj = np.meshgrid(members, members, indexing="ij")
        edge_id = int(sorted_e[a])
        ahead = (fj >= fi) & (ii != jj)
        out_i.append(ii[ahead])
        out_j.append(jj[ahead])
        out_e.append(np.full(int(ahead.sum()), edge_id, dtype=np.int64))
        out_f.append((fj - fi)[ahead])
        r = int(graph.edge_reverse[edge_id])
        if r >= 0:
            behind = (fj <= fi) & (ii != jj)
            out_i.append(ii[behind])
            out_j.append(jj[behind])
            out_e.append(np.full(int(behind.sum()), r, dtype=np.int64))
            out_f.append((fi - fj)[behind])
    if not out_i:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy(), empty.copy(), np.zeros(0)
    return (
        np.concatenate(out_i),
        np.concatenate(out_j),
        np.concatenate(out_e),
        np.concatenate(out_f),
    )


def part_weight(graph: RoadGraph, edges: IntArray, fraction: FloatArray) -> FloatArray:
    """Encoded weight of driving ``fraction`` of each edge."""
    ticks = np.rint(graph.edge_ticks[edges] * fraction)
    return np.asarray(ticks + graph.edge_length_m[edges] * fraction * 1e-6, dtype=np.float64)


def augmented_csr(graph: RoadGraph, snaps: Sequence[Snap]) -> tuple[csr_matrix, IntArray, IntArray]:
    """The graph plus a source node and a target node for every snapped point.

    Source node ``n + i`` has edges to the ends of point ``i``'s road it can drive
    to; target node ``n + p + j`` has edges from the ends of point ``j``'s road
    that can drive to it, and a direct edge comes from a source on the same road
    ahead of it. Sources have no incoming and targets no outgoing edges, so they
    add no shortcuts.

    Returns
    -------
    tuple
        The CSR matrix of encoded weights (see :attr:`edge_weight`), the source
        node ids and the target node ids.
    """
    from scipy.sparse import csr_matrix

    n, p = graph.n_nodes, len(snaps)
    src = n + np.arange(p)
    dst = n + p + np.arange(p)
    rows: list[IntArray] = [graph.edge_u]
    cols: list[IntArray] = [graph.edge_v]
    weights: list[FloatArray] = [graph.edge_weight]
    (x_point, x_node, x_ticks, x_m), (n_point, n_node, n_ticks, n_m) = point_links(graph, snaps)
    rows += [src[x_point], n_node]
    cols += [x_node, dst[n_point]]
    weights += [x_ticks + x_m * 1e-6, n_ticks + n_m * 1e-6]
    # a source and a target on the same road, the target ahead of the source
    pi, pj, pe, pf = same_road_pairs(graph, snaps)
    rows.append(src[pi])
    cols.append(dst[pj])
    weights.append(part_weight(graph, pe, pf))
    row = np.concatenate(rows)
    col = np.concatenate(cols)
    w = np.concatenate(weights)
    # csr_matrix sums duplicate entries: keep only the lightest of parallel edges
    key = row * (n + 2 * p) + col
    order = np.lexsort((w, key))
    keep = order[np.r_[True, key[order][1:] != key[order][:-1]]]
    w_keep = np.maximum(w[keep], 1e-9)  # an explicit zero would read as "no edge"
    matrix = csr_matrix((w_keep, (row[keep], col[keep])), shape=(n + 2 * p, n + 2 * p))
    return matrix, src, dst


def fastest_path(
    graph: RoadGraph, origin: tuple[float, float], destination: tuple[float, float]
) -> RoadPath:
    """Fastest route between two ``(lat, lon)`` points, with its geometry.

    Uses the contraction hierarchy (a millisecond or so), so it agrees with
    :func:`mobility.travel_times.travel_time_matrix`.

    Raises
    ------
    SnapError
        If a point is off the network, or the destination cannot be reached.
    """
    import routingkit_cch

    snaps = graph.snap([origin[0], destination[0]], [origin[1], destination[1]])
    o, d = snaps
    (xp, xn, xt, xm), (np_, nn, nt, nm) = point_links(graph, snaps)
    exits = {
        int(n): (int(t), float(m)) for p, n, t, m in zip(xp, xn, xt, xm, strict=True) if p == 0
    }
    entries = {
        int(n): (int(t), float(m)) for p, n, t, m in zip(np_, nn, nt, nm, strict=True) if p == 1
    }
    query = routingkit_cch.CCHQuery(graph.cch_metric)
    result = query.run_multi(
        [(n, t) for n, (t, _) in exits.items()], [(n, t) for n, (t, _) in entries.items()]
    )
    ticks, nodes, arcs = result.distance, list(result.node_path), list(result.arc_path)
    del result, query
    best: tuple[float, float, list[tuple[float, float]]] | None = None
    if ticks is not None:
        first, last = nodes[0], nodes[-1]
        metres = exits[first][1] + entries[last][1] + float(graph.edge_length_m[arcs].sum())
        coords = _leave(graph, o, first)
        for arc in arcs:
            coords += _edge_part(graph, int(arc), 0.0, 1.0)[1:]
        coords += _reach(graph, d, last)[1:]
        best = (float(ticks), metres, coords)
    # the destination may lie ahead on the origin's own road
    pi, pj, pe, pf = same_road_pairs(graph, snaps)
    for i, j, e, f in zip(pi, pj, pe, pf, strict=True):
        direct = float(np.rint(graph.edge_ticks[e] * f))
        if i == 0 and j == 1 and (best is None or direct < best[0]):
            start = o.fraction if e == o.edge else 1 - o.fraction
            best = (
                direct,
                float(graph.edge_length_m[e] * f),
                _edge_part(graph, int(e), start, start + f),
            )
    if best is None:
        raise SnapError(
            f"no {graph.profile} route from ({origin[0]}, {origin[1]}) "
            f"to ({destination[0]}, {destination[1]})"
        )
    return RoadPath(
        duration_s=best[0] * TIME_RESOLUTION_S,
        distance_m=best[1],
        snap_m=(o.distance_m, d.distance_m),
        geometry=best[2],
    )


def _leave(graph: RoadGraph, snap: Snap, node: int) -> list[tuple[float, float]]:
    """Geometry from a snapped point to the node it leaves its road by."""
    rev = int(graph.edge_reverse[snap.edge])
    if node == graph.edge_v[snap.edge]:
        return _edge_part(graph, snap.edge, snap.fraction, 1.0)
    if rev >= 0 and node == graph.edge_u[snap.edge]:
        return _edge_part(graph, rev, 1 - snap.fraction, 1.0)
    return [(float(graph.node_lat[node]), float(graph.node_lon[node]))]


def _reach(graph: RoadGraph, snap: Snap, node: int) -> list[tuple[float, float]]:
    """Geometry from the node a road is entered by to the snapped point."""
    rev = int(graph.edge_reverse[snap.edge])
    if node == graph.edge_u[snap.edge]:
        return _edge_part(graph, snap.edge, 0.0, snap.fraction)
    if rev >= 0 and node == graph.edge_v[snap.edge]:
        return _edge_part(graph, rev, 0.0, 1 - snap.fraction)
    return [(float(graph.node_lat[node]), float(graph.node_lon[node]))]


def _edge_part(graph: RoadGraph, edge: int, f0: float, f1: float) -> list[tuple[float, float]]:
    """Polyline of ``edge`` between fractions ``f0`` and ``f1`` (``f0 <= f1``)."""
    a, b = int(graph.geom_ptr[edge]), int(graph.geom_ptr[edge + 1])
    cum = graph.geom_cumlen[a:b]
    total = cum[-1] if cum[-1] > 0 else 1.0
    lat, lon = graph.geom_lat[a:b], graph.geom_lon[a:b]
    d0, d1 = f0 * total, f1 * total
    pts = [(float(np.interp(d0, cum, lat)), float(np.interp(d0, cum, lon)))]
    inside = np.flatnonzero((cum > d0) & (cum < d1))
    pts += [(float(lat[i]), float(lon[i])) for i in inside]
    pts.append((float(np.interp(d1, cum, lat)), float(np.interp(d1, cum, lon))))
    return pts
