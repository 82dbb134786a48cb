"""The routable road graph of one vehicle profile, as flat numpy arrays.

A :class:`RoadGraph` loads from its cache file in a fraction of a second and feeds
``scipy.sparse.csgraph`` and RoutingKit's contraction hierarchy directly;
:meth:`RoadGraph.to_networkx` gives an osmnx-style ``MultiDiGraph`` for export and
cross-checks. Snapping and routing live in the package's private modules; the
methods here are their entry points.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import numpy.typing as npt

from mobility.errors import CorruptRoadDataError
from mobility.roads import _routing, _snapping
from mobility.roads.geo import M_PER_DEG_LAT, TIME_RESOLUTION_S
from mobility.roads.points import RoadPath, Snap
from mobility.roads.source import CACHE_FORMAT_VERSION

if TYPE_CHECKING:
    import networkx as nx
    from scipy.sparse import csr_matrix

__all__ = ["RoadGraph", "RoadPath", "Snap", "decode_weight"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


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
        _write_atomic(
            path,
            dict(
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
            ),
        )
        # the snapping index's samples beside it: a command then starts without them
        _write_atomic(_snap_path(path), _snapping.snap_index(self)._asdict())

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
                graph = cls(
                    profile=meta["profile"],
                    source=meta["source"],
                    source_sha256=meta["source_sha256"],
                    **{name: data[name] for name in _ARRAY_FIELDS},
                )
                graph._lazy["cache_path"] = path
                return graph
        except CorruptRoadDataError:
            raise
        except (OSError, ValueError, KeyError) as exc:
            raise CorruptRoadDataError(f"road graph cache {path} is unreadable: {exc}") from exc

    # ---------------------------------------------------------------- routing structures

    @cached_property
    def mean_lat_rad(self) -> float:
        return math.radians(float(self.node_lat.mean()))

    def project(self, lat: FloatArray, lon: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Project WGS84 degrees to local planar metres (equirectangular, for snapping)."""
        k_lon = M_PER_DEG_LAT * math.cos(self.mean_lat_rad)
        return np.asarray(lon) * k_lon, np.asarray(lat) * M_PER_DEG_LAT

    @cached_property
    def geom_xy(self) -> tuple[FloatArray, FloatArray]:
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
    def geom_cumlen(self) -> FloatArray:
        """Planar length from each edge's start to each of its polyline vertices."""
        gx, gy = self.geom_xy
        step = np.hypot(np.diff(gx), np.diff(gy))
        cum = np.concatenate([[0.0], np.cumsum(step)])
        return np.asarray(cum - np.repeat(cum[self.geom_ptr[:-1]], np.diff(self.geom_ptr)))

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

    @cached_property
    def snap_index(self) -> _snapping.SnapIndex:
        """Points sampled along every road, filed in a grid (read from beside the
        graph's cache when it is there)."""
        path = self._lazy.get("cache_path")
        if path is None:
            return _snapping.snap_index(self)
        side = _snap_path(path)
        try:
            with np.load(side, allow_pickle=False) as data:
                return _snapping.SnapIndex(*(data[f] for f in _snapping.SnapIndex._fields))
        except (OSError, ValueError, KeyError):  # not written yet, or unreadable: compute
            index = _snapping.snap_index(self)
            with contextlib.suppress(OSError):  # a read-only cache folder: next time again
                _write_atomic(side, index._asdict())
            return index

    # ---------------------------------------------------------------- snapping and routes

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
            If a point lies outside the extract or more than ``MAX_SNAP_M`` (1 km)
            from every road of the profile; the message names the point.
        """
        return _snapping.snap_points(self, lat, lon)

    def route(self, origin: tuple[float, float], destination: tuple[float, float]) -> RoadPath:
        """Fastest path between two ``(lat, lon)`` points, with its geometry.

        Uses the contraction hierarchy (a millisecond or so), so it agrees with
        :func:`mobility.roads.travel_time_matrix`.

        Raises
        ------
        SnapError
            If a point is off the network, or the destination cannot be reached.
        """
        return _routing.fastest_path(self, origin, destination)

    def point_links(self, snaps: Sequence[Snap]) -> tuple[_routing.LinkArrays, _routing.LinkArrays]:
        """How each snapped point joins the graph (see :func:`_routing.point_links`)."""
        return _routing.point_links(self, snaps)

    def same_road_pairs(
        self, snaps: Sequence[Snap]
    ) -> tuple[IntArray, IntArray, IntArray, FloatArray]:
        """Pairs of points on one road, the second ahead of the first along it."""
        return _routing.same_road_pairs(self, snaps)

    def augmented_csr(self, snaps: Sequence[Snap]) -> tuple[csr_matrix, IntArray, IntArray]:
        """The graph plus a source and a target node per snapped point (encoded weights)."""
        return _routing.augmented_csr(self, snaps)

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


def _snap_path(cache: Path) -> Path:
    return cache.with_name(cache.name.removesuffix(".npz") + ".snap.npz")


def _write_atomic(path: Path, arrays: dict[str, Any]) -> None:
    """An uncompressed ``.npz`` written under a name of this process's own, then
    renamed: two processes writing at once never mix, a crash leaves no half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as fh:
        np.savez(fh, **arrays)
    tmp.replace(path)
