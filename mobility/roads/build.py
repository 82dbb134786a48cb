"""Build the routable graph of each vehicle profile from an OSM extract.

1. osmnx parses the OSM XML (all ``highway`` ways of the extract) and simplifies it,
   keeping a node wherever the road class changes, so that every simplified edge has
   one class.
2. For each vehicle profile (:mod:`mobility.roads.profiles`) the edges of allowed
   classes are kept and timed: ``travel_time`` = length / planning speed, rounded to
   0.1 s.
3. Only the largest strongly connected component is kept, so every node can reach
   every other one.

Building takes about a minute for the province; it is run by ``mobility graph
build`` (or on first use by a command), never inside a web request.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from mobility.errors import CorruptRoadDataError
from mobility.roads.geo import TIME_RESOLUTION_S
from mobility.roads.graph import RoadGraph
from mobility.roads.profiles import PROFILES, SpeedProfile, get_profile
from mobility.roads.source import file_sha256

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["build_road_graphs", "contraction_order"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


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
    sha = file_sha256(source)
    return {p.name: _graph_for_profile(simple, p, source, sha) for p in wanted}


def _graph_for_profile(
    graph: nx.MultiDiGraph, profile: SpeedProfile, source: Path, sha: str
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
