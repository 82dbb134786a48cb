"""Load, filter, speed and cache the OSM road graph; snap points to it; route on it.

The graph of a profile is held in flat numpy arrays (:class:`RoadGraph`) rather than
a networkx graph: it loads from the cache in a fraction of a second and feeds
``scipy.sparse.csgraph`` directly. :meth:`RoadGraph.to_networkx` gives an osmnx-style
``MultiDiGraph`` for export and for cross-checks.

How a graph is made (:func:`build_road_graphs`):

1. osmnx parses the OSM XML (all ``highway`` ways of the extract) and simplifies it,
   keeping a node wherever the road class changes, so that every simplified edge has
   one class.
2. For each vehicle profile (:mod:`mobility.profiles`) the edges of allowed classes
   are kept and timed: ``travel_time`` = length / planning speed, rounded to 0.1 s.
3. Only the largest strongly connected component is kept, so every node can reach
   every other one.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import numpy.typing as npt

from mobility.errors import CorruptRoadDataError, RoadDataNotFoundError, SnapError
from mobility.profiles import PROFILES, Profile, get_profile, profile_table_hash

if TYPE_CHECKING:
    import networkx as nx
    from scipy.sparse import csr_matrix

__all__ = [
    "CACHE_FORMAT_VERSION",
    "MAX_SNAP_M",
    "RoadGraph",
    "Route",
    "Snap",
    "build_road_graphs",
    "cache_path",
    "find_source",
    "load_road_graph",
]

#: Bump when the layout of the cache files changes.
CACHE_FORMAT_VERSION: Final = 1
#: A point farther than this from every road of a profile cannot be served by it.
MAX_SNAP_M: Final = 1000.0
#: Travel times are rounded to this many seconds, on edges and in matrices.
TIME_RESOLUTION_S: Final = 0.1

PROJECT_ROOT: Final = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR: Final = PROJECT_ROOT / "data" / "osm_foggia"
SHARED_EXTRACT: Final = (
    PROJECT_ROOT.parent / "shared" / "data" / "osm_foggia" / "foggia_province_roads.osm.bz2"
)
_EXTRACT_SUFFIXES: Final = (".osm", ".osm.bz2", ".xml", ".osm.xml")

_EARTH_RADIUS_M: Final = 6_371_008.8
_M_PER_DEG_LAT: Final = 111_132.0
# Sample spacing along roads for the snapping index: a point's true nearest road
# has an index sample within half of this of its nearest point.
_SNAP_SAMPLE_M: Final = 40.0
_SNAP_CANDIDATES: Final = 24
# A snap this close to an end of its road (as a fraction) is at that end's node.
_AT_NODE: Final = 1e-9

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


# --------------------------------------------------------------------------- source


def find_source(
    path: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    data_dir: Path = DEFAULT_DATA_DIR,
    shared_extract: Path = SHARED_EXTRACT,
) -> Path:
    """Find the OSM extract to read.

    Looks, in this order, at ``path`` (a ``--source`` option), the environment variable
    ``MOBILITY_OSM_PATH``, an extract under ``data/osm_foggia/`` and the province
    extract in ``../shared/data/osm_foggia/``.

    Parameters
    ----------
    path
        An explicit file, which must exist.
    environ
        The environment to read ``MOBILITY_OSM_PATH`` from (default ``os.environ``).
    data_dir
        The project's data folder.
    shared_extract
        The shared province extract.

    Returns
    -------
    Path
        The extract's path.

    Raises
    ------
    RoadDataNotFoundError
        If no extract exists in any of these places.
    """
    env = os.environ if environ is None else environ
    if path is not None:
        explicit = Path(path)
        if not explicit.is_file():
            raise RoadDataNotFoundError(f"road data: no OSM extract at {explicit}")
        return explicit
    env_path = env.get("MOBILITY_OSM_PATH")
    if env_path:
        candidate = Path(env_path)
        if not candidate.is_file():
            raise RoadDataNotFoundError(
                f"road data: MOBILITY_OSM_PATH points to {candidate}, which is not a file"
            )
        return candidate
    if data_dir.is_dir():
        local = sorted(
            p for p in data_dir.iterdir() if p.is_file() and p.name.endswith(_EXTRACT_SUFFIXES)
        )
        if local:
            return local[0]
    if shared_extract.is_file():
        return shared_extract
    raise RoadDataNotFoundError(
        "road data: no OSM extract found (looked at $MOBILITY_OSM_PATH, "
        f"{data_dir}/*.osm[.bz2], {shared_extract}); "
        "run `mobility osm download --out data/osm_foggia/` when online"
    )


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_path(source: Path, profile: Profile, cache_dir: Path | None = None) -> Path:
    """Return the cache file of ``profile`` built from ``source``.

    The name holds the source file's hash and the profile table's hash, so a changed
    extract or speed table misses the cache and is rebuilt.
    """
    folder = DEFAULT_DATA_DIR / "cache" if cache_dir is None else cache_dir
    key = f"{_file_sha256(source)[:16]}-{profile_table_hash(profile)}-v{CACHE_FORMAT_VERSION}"
    stem = source.name.split(".")[0]
    return folder / f"{stem}-{profile.name}-{key}.npz"


# --------------------------------------------------------------------------- data


@dataclass(frozen=True, slots=True)
class Snap:
    """Where a point meets the road network.

    Attributes
    ----------
    edge
        Index of the edge the point snaps to (the lower index of a two-way pair).
    fraction
        Position along the edge, 0 at its start node, 1 at its end node.
    lat, lon
        The snapped position on the road.
    distance_m
        Straight-line distance from the point to the road, in metres.
    """

    edge: int
    fraction: float
    lat: float
    lon: float
    distance_m: float


@dataclass(frozen=True, slots=True)
class Route:
    """A route between two points on one profile's graph.

    Attributes
    ----------
    duration_s
        Driving time, in seconds.
    distance_m
        Driving distance, in metres.
    snap_m
        Snap distances of the origin and the destination, in metres.
    geometry
        The route as ``(lat, lon)`` pairs, from the snapped origin to the snapped
        destination.
    """

    duration_s: float
    distance_m: float
    snap_m: tuple[float, float]
    geometry: list[tuple[float, float]]


@dataclass(frozen=True)
class RoadGraph:
    """The routable road graph of one vehicle profile, as flat arrays.

    Node ``i`` lies at (``node_lat[i]``, ``node_lon[i]``). Edge ``e`` runs from node
    ``edge_u[e]`` to ``edge_v[e]``; its polyline is
    ``geom_lat[geom_ptr[e]:geom_ptr[e + 1]]`` (with ``geom_lon``), both end nodes
    included. ``edge_reverse[e]`` is the edge that runs the same road the other way,
    or -1 on a one-way street.
    """

    profile: str
    source: str
    source_sha256: str
    node_lat: FloatArray
    node_lon: FloatArray
    edge_u: IntArray
    edge_v: IntArray
    edge_length_m: FloatArray
    edge_time_s: FloatArray
    edge_highway: npt.NDArray[np.str_]
    edge_reverse: IntArray
    geom_ptr: IntArray
    geom_lat: FloatArray
    geom_lon: FloatArray
    cch_order: IntArray
    _lazy: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    # ---------------------------------------------------------------- basics

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.node_lat.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of directed edges."""
        return int(self.edge_u.shape[0])

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """``(min_lon, min_lat, max_lon, max_lat)`` of the nodes and edge geometry."""
        return (
            float(self.geom_lon.min()),
            float(self.geom_lat.min()),
            float(self.geom_lon.max()),
            float(self.geom_lat.max()),
        )

    def info(self) -> dict[str, Any]:
        """Summary for ``mobility graph info``."""
        return {
            "nodes": self.n_nodes,
            "edges": self.n_edges,
            "bbox": list(self.bbox),
            "source": self.source,
            "profile": self.profile,
        }

    # ---------------------------------------------------------------- cache io

    def save(self, path: Path) -> None:
        """Write the graph to ``path`` (an uncompressed ``.npz``, fast to load)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = json.dumps(
            {
                "profile": self.profile,
                "source": self.source,
                "source_sha256": self.source_sha256,
                "format": CACHE_FORMAT_VERSION,
            }
        )
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("wb") as fh:
            np.savez(
                fh,
                meta=np.array(meta),
                node_lat=self.node_lat,
                node_lon=self.node_lon,
                edge_u=self.edge_u,
                edge_v=self.edge_v,
                edge_length_m=self.edge_length_m,
                edge_time_s=self.edge_time_s,
                edge_highway=self.edge_highway,
                edge_reverse=self.edge_reverse,
                geom_ptr=self.geom_ptr,
                geom_lat=self.geom_lat,
                geom_lon=self.geom_lon,
                cch_order=self.cch_order,
            )
        tmp.replace(path)  # atomic: a crash never leaves half a cache behind

    @classmethod
    def load(cls, path: Path) -> RoadGraph:
        """Read a graph written by :meth:`save`.

        Raises
        ------
        CorruptRoadDataError
            If the file is not a readable cache of this format.
        """
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                if meta.get("format") != CACHE_FORMAT_VERSION:
                    raise CorruptRoadDataError(f"road graph cache {path}: unknown format")
                return cls(
                    profile=meta["profile"],
                    source=meta["source"],
                    source_sha256=meta["source_sha256"],
                    **{name: data[name] for name in _ARRAY_FIELDS},
                )
        except CorruptRoadDataError:
            raise
        except (OSError, ValueError, KeyError) as exc:
            raise CorruptRoadDataError(f"road graph cache {path} is unreadable: {exc}") from exc

    # ---------------------------------------------------------------- routing structures

    @cached_property
    def _mean_lat_rad(self) -> float:
        return math.radians(float(self.node_lat.mean()))

    def project(self, lat: FloatArray, lon: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Project WGS84 degrees to local planar metres (equirectangular, for snapping)."""
        k_lon = _M_PER_DEG_LAT * math.cos(self._mean_lat_rad)
        return np.asarray(lon) * k_lon, np.asarray(lat) * _M_PER_DEG_LAT

    @cached_property
    def _geom_xy(self) -> tuple[FloatArray, FloatArray]:
        """Every polyline vertex in local planar metres (projected once)."""
        return self.project(self.geom_lat, self.geom_lon)

    @cached_property
    def edge_weight(self) -> FloatArray:
        """Edge weights that encode time and distance in one float.

        ``weight = round(time / 0.1 s) + length_m * 1e-6``: the integer part is the
        travel time in tenths of a second, the fraction the length in metres times
        1e-6. A shortest path on these weights is the fastest path (ties broken by
        distance), and its total decodes into both its duration and its length with
        no path reconstruction. Lengths stay below 1,000 km, so the fraction stays
        below 1, and float64 keeps both parts exact to well under a metre.
        """
        return np.asarray(self.edge_ticks + self.edge_length_m * 1e-6, dtype=np.float64)

    @cached_property
    def _snap_index(self) -> tuple[Any, IntArray, FloatArray, FloatArray]:
        """KD-tree of points sampled along every road, with their segment ids."""
        from scipy.spatial import cKDTree

        gx, gy = self._geom_xy
        canonical = np.flatnonzero(
            (self.edge_reverse < 0) | (self.edge_reverse > np.arange(self.n_edges))
        )
        starts = self.geom_ptr[canonical]
        counts = self.geom_ptr[canonical + 1] - starts - 1  # segments per edge
        seg_edge = np.repeat(canonical, counts)
        seg_first = np.repeat(starts, counts) + _ramp(counts)
        x0, y0 = gx[seg_first], gy[seg_first]
        x1, y1 = gx[seg_first + 1], gy[seg_first + 1]
        seg_len = np.hypot(x1 - x0, y1 - y0)
        pieces = np.maximum(1, np.ceil(seg_len / _SNAP_SAMPLE_M)).astype(np.int64)
        sample_seg = np.repeat(np.arange(len(seg_first)), pieces)
        t = (_ramp(pieces) + 0.5) / np.repeat(pieces, pieces)
        sx = x0[sample_seg] + t * (x1 - x0)[sample_seg]
        sy = y0[sample_seg] + t * (y1 - y0)[sample_seg]
        tree = cKDTree(np.column_stack([sx, sy]))
        return tree, sample_seg, seg_first.astype(np.int64), seg_edge.astype(np.int64)

    @cached_property
    def _geom_cumlen(self) -> FloatArray:
        """Planar length from each edge's start to each of its polyline vertices."""
        gx, gy = self._geom_xy
        step = np.hypot(np.diff(gx), np.diff(gy))
        cum = np.concatenate([[0.0], np.cumsum(step)])
        return np.asarray(cum - np.repeat(cum[self.geom_ptr[:-1]], np.diff(self.geom_ptr)))

    # ---------------------------------------------------------------- snapping

    def snap(self, lat: Sequence[float], lon: Sequence[float]) -> list[Snap]:
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
        bad = ~(np.isfinite(lat_a) & np.isfinite(lon_a))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise SnapError(f"point {i + 1} ({lat_a[i]}, {lon_a[i]}): coordinates are not numbers")
        min_lon, min_lat, max_lon, max_lat = self.bbox
        margin = MAX_SNAP_M / _M_PER_DEG_LAT
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
        tree, sample_seg, seg_first, seg_edge = self._snap_index
        px, py = self.project(lat_a, lon_a)
        k = min(_SNAP_CANDIDATES, tree.n)
        _, idx = tree.query(np.column_stack([px, py]), k=k)
        idx = np.asarray(idx).reshape(len(px), k)
        seg = sample_seg[idx]  # (points, k) candidate segments
        gx, gy = self._geom_xy
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
        cum = self._geom_cumlen
        seg_start_len = cum[first_v]
        seg_len = cum[first_v + 1] - seg_start_len
        total = cum[self.geom_ptr[edge + 1] - 1]
        with np.errstate(invalid="ignore", divide="ignore"):
            fraction = np.where(total > 0, (seg_start_len + best_t * seg_len) / total, 0.0)
        fraction = np.clip(fraction, 0.0, 1.0)
        glat, glon = self.geom_lat[first_v], self.geom_lon[first_v]
        slat = glat + best_t * (self.geom_lat[first_v + 1] - glat)
        slon = glon + best_t * (self.geom_lon[first_v + 1] - glon)
        dist = _haversine_m(lat_a, lon_a, slat, slon)
        far = dist > MAX_SNAP_M
        if far.any():
            i = int(np.flatnonzero(far)[0])
            raise SnapError(
                f"point {i + 1} ({lat_a[i]:.6f}, {lon_a[i]:.6f}) is {dist[i]:.0f} m from the "
                f"nearest {self.profile} road (limit {MAX_SNAP_M:.0f} m)"
            )
        return [
            Snap(int(e), float(f), float(a), float(o), float(d))
            for e, f, a, o, d in zip(edge, fraction, slat, slon, dist, strict=True)
        ]

    # ---------------------------------------------------------------- augmented graph

    def augmented_csr(self, snaps: Sequence[Snap]) -> tuple[csr_matrix, IntArray, IntArray]:
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

        n, p = self.n_nodes, len(snaps)
        src = n + np.arange(p)
        dst = n + p + np.arange(p)
        rows: list[IntArray] = [self.edge_u]
        cols: list[IntArray] = [self.edge_v]
        weights: list[FloatArray] = [self.edge_weight]
        (x_point, x_node, x_ticks, x_m), (n_point, n_node, n_ticks, n_m) = self.point_links(snaps)
        rows += [src[x_point], n_node]
        cols += [x_node, dst[n_point]]
        weights += [x_ticks + x_m * 1e-6, n_ticks + n_m * 1e-6]
        # a source and a target on the same road, the target ahead of the source
        pi, pj, pe, pf = self.same_road_pairs(snaps)
        rows.append(src[pi])
        cols.append(dst[pj])
        weights.append(self._part_weight(pe, pf))
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

    def same_road_pairs(
        self, snaps: Sequence[Snap]
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
            r = int(self.edge_reverse[edge_id])
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

    def point_links(
        self, snaps: Sequence[Snap]
    ) -> tuple[
        tuple[IntArray, IntArray, FloatArray, FloatArray],
        tuple[IntArray, IntArray, FloatArray, FloatArray],
    ]:
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
        rev = self.edge_reverse[e]
        has = rev >= 0
        at_start = f <= _AT_NODE
        at_end = f >= 1 - _AT_NODE
        ticks, length = self.edge_ticks, self.edge_length_m
        zeros = np.zeros(int(at_start.sum()) + int(at_end.sum()))
        exits = (
            np.r_[idx, idx[has], idx[at_start]],
            np.r_[self.edge_v[e], self.edge_u[e][has], self.edge_u[e][at_start]],
            np.r_[
                np.rint(ticks[e] * (1 - f)),
                np.rint(ticks[rev[has]] * f[has]),
                zeros[: at_start.sum()],
            ],
            np.r_[length[e] * (1 - f), length[rev[has]] * f[has], zeros[: at_start.sum()]],
        )
        entries = (
            np.r_[idx, idx[has], idx[at_end]],
            np.r_[self.edge_u[e], self.edge_v[e][has], self.edge_v[e][at_end]],
            np.r_[
                np.rint(ticks[e] * f),
                np.rint(ticks[rev[has]] * (1 - f[has])),
                zeros[: at_end.sum()],
            ],
            np.r_[length[e] * f, length[rev[has]] * (1 - f[has]), zeros[: at_end.sum()]],
        )
        return exits, entries

    @cached_property
    def edge_ticks(self) -> FloatArray:
        """Edge travel times in whole tenths of a second."""
        return np.asarray(np.rint(self.edge_time_s / TIME_RESOLUTION_S), dtype=np.float64)

    @cached_property
    def cch_metric(self) -> Any:
        """A customizable contraction hierarchy with travel-time weights.

        RoutingKit's CCH (``routingkit_cch``) answers one-to-many queries in about
        half a millisecond on the province graph, against about 10 ms for a full
        Dijkstra; its weights are integers, so times are in tenths of a second.
        """
        import routingkit_cch

        cch = routingkit_cch.CCH(
            self.cch_order.tolist(), self.edge_u.tolist(), self.edge_v.tolist(), False
        )
        metric = routingkit_cch.CCHMetric(cch, self.edge_ticks.astype(np.int64).tolist())
        self._lazy["cch"] = cch  # the metric refers to the hierarchy: keep it alive
        return metric

    def _part_weight(self, edges: IntArray, fraction: FloatArray) -> FloatArray:
        """Encoded weight of driving ``fraction`` of each edge."""
        ticks = np.rint(self.edge_ticks[edges] * fraction)
        return np.asarray(ticks + self.edge_length_m[edges] * fraction * 1e-6, dtype=np.float64)

    # ---------------------------------------------------------------- route

    def route(self, origin: tuple[float, float], destination: tuple[float, float]) -> Route:
        """Fastest route between two ``(lat, lon)`` points, with its geometry.

        Uses the contraction hierarchy (a millisecond or so), so it agrees with
        :func:`mobility.travel_times.travel_time_matrix`.

        Raises
        ------
        SnapError
            If a point is off the network, or the destination cannot be reached.
        """
        import routingkit_cch

        snaps = self.snap([origin[0], destination[0]], [origin[1], destination[1]])
        o, d = snaps
        (xp, xn, xt, xm), (np_, nn, nt, nm) = self.point_links(snaps)
        exits = {
            int(n): (int(t), float(m)) for p, n, t, m in zip(xp, xn, xt, xm, strict=True) if p == 0
        }
        entries = {
            int(n): (int(t), float(m)) for p, n, t, m in zip(np_, nn, nt, nm, strict=True) if p == 1
        }
        query = routingkit_cch.CCHQuery(self.cch_metric)
        result = query.run_multi(
            [(n, t) for n, (t, _) in exits.items()], [(n, t) for n, (t, _) in entries.items()]
        )
        ticks, nodes, arcs = result.distance, list(result.node_path), list(result.arc_path)
        del result, query
        best: tuple[float, float, list[tuple[float, float]]] | None = None
        if ticks is not None:
            first, last = nodes[0], nodes[-1]
            metres = exits[first][1] + entries[last][1] + float(self.edge_length_m[arcs].sum())
            coords = self._leave(o, first)
            for arc in arcs:
                coords += self._edge_part(int(arc), 0.0, 1.0)[1:]
            coords += self._reach(d, last)[1:]
            best = (float(ticks), metres, coords)
        # the destination may lie ahead on the origin's own road
        pi, pj, pe, pf = self.same_road_pairs(snaps)
        for i, j, e, f in zip(pi, pj, pe, pf, strict=True):
            direct = float(np.rint(self.edge_ticks[e] * f))
            if i == 0 and j == 1 and (best is None or direct < best[0]):
                start = o.fraction if e == o.edge else 1 - o.fraction
                best = (
                    direct,
                    float(self.edge_length_m[e] * f),
                    self._edge_part(int(e), start, start + f),
                )
        if best is None:
            raise SnapError(
                f"no {self.profile} route from ({origin[0]}, {origin[1]}) "
                f"to ({destination[0]}, {destination[1]})"
            )
        return Route(
            duration_s=best[0] * TIME_RESOLUTION_S,
            distance_m=best[1],
            snap_m=(o.distance_m, d.distance_m),
            geometry=best[2],
        )

    def _leave(self, snap: Snap, node: int) -> list[tuple[float, float]]:
        """Geometry from a snapped point to the node it leaves its road by."""
        rev = int(self.edge_reverse[snap.edge])
        if node == self.edge_v[snap.edge]:
            return self._edge_part(snap.edge, snap.fraction, 1.0)
        if rev >= 0 and node == self.edge_u[snap.edge]:
            return self._edge_part(rev, 1 - snap.fraction, 1.0)
        return [(float(self.node_lat[node]), float(self.node_lon[node]))]

    def _reach(self, snap: Snap, node: int) -> list[tuple[float, float]]:
        """Geometry from the node a road is entered by to the snapped point."""
        rev = int(self.edge_reverse[snap.edge])
        if node == self.edge_u[snap.edge]:
            return self._edge_part(snap.edge, 0.0, snap.fraction)
        if rev >= 0 and node == self.edge_v[snap.edge]:
            return self._edge_part(rev, 0.0, 1 - snap.fraction)
        return [(float(self.node_lat[node]), float(self.node_lon[node]))]

    def _edge_part(self, edge: int, f0: float, f1: float) -> list[tuple[float, float]]:
        """Polyline of ``edge`` between fractions ``f0`` and ``f1`` (``f0 <= f1``)."""
        a, b = int(self.geom_ptr[edge]), int(self.geom_ptr[edge + 1])
        cum = self._geom_cumlen[a:b]
        total = cum[-1] if cum[-1] > 0 else 1.0
        lat, lon = self.geom_lat[a:b], self.geom_lon[a:b]
        d0, d1 = f0 * total, f1 * total
        pts = [(float(np.interp(d0, cum, lat)), float(np.interp(d0, cum, lon)))]
        inside = np.flatnonzero((cum > d0) & (cum < d1))
        pts += [(float(lat[i]), float(lon[i])) for i in inside]
        pts.append((float(np.interp(d1, cum, lat)), float(np.interp(d1, cum, lon))))
        return pts

    # ---------------------------------------------------------------- export

    def to_networkx(self) -> nx.MultiDiGraph:
        """An osmnx-style ``MultiDiGraph`` (``x``/``y`` on nodes; ``length``,
        ``travel_time``, ``highway`` and ``geometry`` on edges; CRS EPSG:4326)."""
        import networkx as nx
        from shapely.geometry import LineString

        graph = nx.MultiDiGraph(crs="epsg:4326", profile=self.profile, source=self.source)
        for i in range(self.n_nodes):
            graph.add_node(i, x=float(self.node_lon[i]), y=float(self.node_lat[i]))
        for e in range(self.n_edges):
            a, b = int(self.geom_ptr[e]), int(self.geom_ptr[e + 1])
            graph.add_edge(
                int(self.edge_u[e]),
                int(self.edge_v[e]),
                length=float(self.edge_length_m[e]),
                travel_time=float(self.edge_time_s[e]),
                highway=str(self.edge_highway[e]),
                oneway=bool(self.edge_reverse[e] < 0),
                geometry=LineString(zip(self.geom_lon[a:b], self.geom_lat[a:b], strict=True)),
            )
        return graph


_ARRAY_FIELDS: Final = (
    "node_lat",
    "node_lon",
    "edge_u",
    "edge_v",
    "edge_length_m",
    "edge_time_s",
    "edge_highway",
    "edge_reverse",
    "geom_ptr",
    "geom_lat",
    "geom_lon",
    "cch_order",
)


def decode_weight(total: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Split summed encoded weights into durations (s) and distances (m).

    Infinite totals (unreachable) stay infinite in both parts.
    """
    unreachable = ~np.isfinite(total)
    finite = np.where(unreachable, 0.0, total)
    ticks = np.floor(finite + 5e-8)
    duration_s = ticks * TIME_RESOLUTION_S
    distance_m = np.clip((finite - ticks) * 1e6, 0.0, None)
    duration_s[unreachable] = np.inf
    distance_m[unreachable] = np.inf
    return duration_s, distance_m


def _ramp(counts: IntArray) -> IntArray:
    """``[0..c0-1, 0..c1-1, ...]`` for ``counts = [c0, c1, ...]``."""
    total = int(counts.sum())
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.asarray(np.arange(total) - starts, dtype=np.int64)


def _haversine_m(
    lat1: FloatArray, lon1: FloatArray, lat2: FloatArray, lon2: FloatArray
) -> FloatArray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(lon2 - lon1)
    h = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return np.asarray(2 * _EARTH_RADIUS_M * np.arcsin(np.sqrt(h)))


# --------------------------------------------------------------------------- build


def build_road_graphs(source: Path, profiles: Sequence[str] | None = None) -> dict[str, RoadGraph]:
    """Parse an OSM extract once and build the routable graph of each profile.

    Parameters
    ----------
    source
        OSM XML file (``.osm`` or ``.osm.bz2``).
    profiles
        Profile names (default: all).

    Returns
    -------
    dict
        Profile name -> :class:`RoadGraph`.

    Raises
    ------
    CorruptRoadDataError
        If the file cannot be parsed or holds no road of a profile.
    """
    import osmnx as ox

    names = list(PROFILES) if profiles is None else list(profiles)
    wanted = [get_profile(name) for name in names]
    try:
        raw = ox.graph_from_xml(source, simplify=False, retain_all=True)
        simple = ox.simplify_graph(raw, edge_attrs_differ=["highway"])
    except Exception as exc:  # osmnx raises many kinds on bad input
        raise CorruptRoadDataError(f"road data: cannot read {source}: {exc}") from exc
    sha = _file_sha256(source)
    return {p.name: _graph_for_profile(simple, p, source, sha) for p in wanted}


def _graph_for_profile(
    graph: nx.MultiDiGraph, profile: Profile, source: Path, sha: str
) -> RoadGraph:
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    node_ids = list(graph.nodes)
    index = {node: i for i, node in enumerate(node_ids)}
    xs = np.array([graph.nodes[n]["x"] for n in node_ids], dtype=np.float64)
    ys = np.array([graph.nodes[n]["y"] for n in node_ids], dtype=np.float64)
    us: list[int] = []
    vs: list[int] = []
    lengths: list[float] = []
    classes: list[str] = []
    geoms: list[tuple[Sequence[float], Sequence[float]]] = []
    for u, v, data in graph.edges(data=True):
        highway = data.get("highway")
        if isinstance(highway, list):  # cannot happen with edge_attrs_differ, but be safe
            highway = highway[0]
        if not isinstance(highway, str) or not profile.allows(highway):
            continue
        if u == v:
            continue  # self-loops never shorten a route
        us.append(index[u])
        vs.append(index[v])
        lengths.append(float(data["length"]))
        classes.append(highway)
        geom = data.get("geometry")
        if geom is not None:
            gx, gy = geom.xy
            geoms.append((list(gy), list(gx)))
        else:
            geoms.append(([ys[index[u]], ys[index[v]]], [xs[index[u]], xs[index[v]]]))
    if not us:
        raise CorruptRoadDataError(f"road data: {source} has no road a {profile.name} may use")
    u_a = np.array(us, dtype=np.int64)
    v_a = np.array(vs, dtype=np.int64)
    adjacency = csr_matrix((np.ones(len(u_a)), (u_a, v_a)), shape=(len(node_ids), len(node_ids)))
    _, labels = connected_components(adjacency, directed=True, connection="strong")
    largest = np.bincount(labels).argmax()
    keep_node = labels == largest
    keep_edge = keep_node[u_a] & keep_node[v_a]
    new_index = np.cumsum(keep_node) - 1
    edges = np.flatnonzero(keep_edge)
    speed = np.array([profile.speeds_kph[c] for c in classes], dtype=np.float64)[edges]
    length_m = np.array(lengths, dtype=np.float64)[edges]
    time_s = np.rint(length_m / (speed / 3.6) / TIME_RESOLUTION_S) * TIME_RESOLUTION_S
    time_s = np.maximum(time_s, TIME_RESOLUTION_S)
    geom_counts = np.array([len(geoms[e][0]) for e in edges], dtype=np.int64)
    geom_ptr = np.concatenate([[0], np.cumsum(geom_counts)]).astype(np.int64)
    geom_lat = np.concatenate([np.asarray(geoms[e][0], dtype=np.float64) for e in edges])
    geom_lon = np.concatenate([np.asarray(geoms[e][1], dtype=np.float64) for e in edges])
    edge_u = new_index[u_a[edges]].astype(np.int64)
    edge_v = new_index[v_a[edges]].astype(np.int64)
    node_lat, node_lon = ys[keep_node], xs[keep_node]
    return RoadGraph(
        profile=profile.name,
        source=str(source),
        source_sha256=sha,
        node_lat=node_lat,
        node_lon=node_lon,
        edge_u=edge_u,
        edge_v=edge_v,
        edge_length_m=length_m,
        edge_time_s=time_s,
        edge_highway=np.array([classes[e] for e in edges], dtype=np.str_),
        edge_reverse=_reverse_edges(edge_u, edge_v, length_m),
        geom_ptr=geom_ptr,
        geom_lat=geom_lat,
        geom_lon=geom_lon,
        cch_order=contraction_order(edge_u, edge_v, node_lat, node_lon),
    )


def contraction_order(
    edge_u: IntArray, edge_v: IntArray, node_lat: FloatArray, node_lon: FloatArray
) -> IntArray:
    """Node order for the customizable contraction hierarchy (inertial nested dissection).

    Computed once when the graph is built (about 2 s for the province) and cached.
    """
    import routingkit_cch

    order = routingkit_cch.compute_order_inertial(
        len(node_lat), edge_u.tolist(), edge_v.tolist(), node_lat.tolist(), node_lon.tolist()
    )
    return np.asarray(order, dtype=np.int64)


def _reverse_edges(u: IntArray, v: IntArray, length_m: FloatArray) -> IntArray:
    """For each edge, an edge on the same road the other way (same ends, same length)."""
    n = int(max(u.max(), v.max())) + 1
    forward = u * n + v
    backward = v * n + u
    rounded = np.rint(length_m * 10).astype(np.int64)  # same road: same length to 0.1 m
    order = np.lexsort((rounded, forward))
    f_sorted, l_sorted = forward[order], rounded[order]
    pos = np.searchsorted(f_sorted, backward)
    reverse = np.full(len(u), -1, dtype=np.int64)
    # scan the (rare) runs of parallel edges for one of the same length
    for shift in range(4):
        cand = pos + shift
        ok = cand < len(order)
        ok[ok] &= f_sorted[cand[ok]] == backward[ok]
        ok[ok] &= l_sorted[cand[ok]] == rounded[ok]
        fill = ok & (reverse < 0)
        reverse[fill] = order[cand[fill]]
    return reverse


def load_road_graph(
    profile: str = "minibus",
    source: str | os.PathLike[str] | None = None,
    *,
    cache_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> RoadGraph:
    """Load a profile's graph from the cache, building the cache on first use.

    Parameters
    ----------
    profile
        ``"minibus"`` or ``"bus"``.
    source
        OSM extract; default: found by :func:`find_source`.
    cache_dir
        Cache folder (default ``data/osm_foggia/cache``).
    environ
        Environment for :func:`find_source`.

    Returns
    -------
    RoadGraph

    Raises
    ------
    RoadDataNotFoundError, CorruptRoadDataError, ValueError
        No extract, an unreadable one, or an unknown profile.
    """
    prof = get_profile(profile)
    path = find_source(source, environ=environ)
    cached = cache_path(path, prof, cache_dir)
    if cached.is_file():
        return RoadGraph.load(cached)
    built = build_road_graphs(path)
    for name, graph in built.items():
        graph.save(cache_path(path, get_profile(name), cache_dir))
    return built[prof.name]
