"""Travel-time matrices: equal to networkx's Dijkstra, one-way aware, robust."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from mobility.errors import SnapError
from mobility.roads import RoadGraph, travel_time_matrix
from tests.conftest import NODES


def _nx_durations(g: RoadGraph, nodes: list[int]) -> np.ndarray:
    graph = nx.DiGraph()
    for u, v, t in zip(g.edge_u.tolist(), g.edge_v.tolist(), g.edge_time_s.tolist(), strict=True):
        if not graph.has_edge(u, v) or graph[u][v]["travel_time"] > t:
            graph.add_edge(u, v, travel_time=t)
    out = np.full((len(nodes), len(nodes)), np.inf)
    for i, s in enumerate(nodes):
        lengths = nx.single_source_dijkstra_path_length(graph, s, weight="travel_time")
        for j, t in enumerate(nodes):
            out[i, j] = lengths.get(t, np.inf)
    return out


def test_matrix_between_nodes_equals_networkx_dijkstra(tiny_graphs: dict[str, RoadGraph]) -> None:
    g = tiny_graphs["minibus"]
    nodes = list(range(g.n_nodes))
    points = [(float(g.node_lat[n]), float(g.node_lon[n])) for n in nodes]
    result = travel_time_matrix(points, g)
    np.testing.assert_allclose(result.durations_s, _nx_durations(g, nodes), atol=1e-6)


def test_matrix_respects_one_way_streets(tiny_graphs: dict[str, RoadGraph]) -> None:
    result = travel_time_matrix([NODES["C"], NODES["E"]], tiny_graphs["minibus"])
    assert result.durations_s[0, 1] != result.durations_s[1, 0]
    assert result.distances_m is not None
    assert result.distances_m[0, 1] != result.distances_m[1, 0]


def test_durations_agree_between_the_hierarchy_and_dijkstra(
    tiny_graphs: dict[str, RoadGraph],
) -> None:
    g = tiny_graphs["minibus"]
    points = [(41.4595, 15.503), (41.4605, 15.507), (41.451, 15.5105), (41.4701, 15.515)]
    fast = travel_time_matrix(points, g, distances=False)
    full = travel_time_matrix(points, g, distances=True, workers=1)
    np.testing.assert_array_equal(fast.durations_s, full.durations_s)
    assert fast.distances_m is None


def test_two_points_on_the_same_road_use_the_road_between_them(
    tiny_graphs: dict[str, RoadGraph],
) -> None:
    g = tiny_graphs["minibus"]
    result = travel_time_matrix([(41.46, 15.502), (41.46, 15.504)], g)
    # 0.002 deg of longitude at 41.46 N is about 167 m; primary at 70 km/h
    assert result.distances_m is not None
    assert result.distances_m[0, 1] == pytest.approx(167, abs=3)
    assert result.durations_s[0, 1] == pytest.approx(167 / (70 / 3.6), abs=0.3)
    assert np.all(np.diag(result.durations_s) == 0)


def _without_class(g: RoadGraph, highway: str) -> RoadGraph:
    """The same graph without the edges of one road class (nodes kept)."""
    keep = g.edge_highway != highway
    kept = np.flatnonzero(keep)
    new_index = np.cumsum(keep) - 1
    rev = g.edge_reverse[keep]
    return RoadGraph(
        profile=g.profile,
        source=g.source,
        source_sha256=g.source_sha256,
        node_lat=g.node_lat,
        node_lon=g.node_lon,
        edge_u=g.edge_u[keep],
        edge_v=g.edge_v[keep],
        edge_length_m=g.edge_length_m[keep],
        edge_time_s=g.edge_time_s[keep],
        edge_highway=g.edge_highway[keep],
        edge_reverse=np.where(rev >= 0, new_index[rev], -1),
        geom_ptr=np.r_[0, np.cumsum(np.diff(g.geom_ptr)[keep])],
        geom_lat=np.concatenate([g.geom_lat[g.geom_ptr[e] : g.geom_ptr[e + 1]] for e in kept]),
        geom_lon=np.concatenate([g.geom_lon[g.geom_ptr[e] : g.geom_ptr[e + 1]] for e in kept]),
        cch_order=g.cch_order,
    )


def test_unreachable_pairs_are_marked_not_crashed_on(tiny_graphs: dict[str, RoadGraph]) -> None:
    # without the one-way residential loop, the service road E-G is cut off from A-B-C
    cut = _without_class(tiny_graphs["minibus"], "residential")
    result = travel_time_matrix([NODES["A"], NODES["G"]], cut)
    assert not result.reachable[0, 1] and not result.reachable[1, 0]
    assert np.isinf(result.durations_s[0, 1])
    assert result.distances_m is not None and np.isinf(result.distances_m[0, 1])
    assert result.durations_s[0, 0] == 0


def test_point_off_the_map_is_an_error_naming_it(tiny_graphs: dict[str, RoadGraph]) -> None:
    with pytest.raises(SnapError, match="point 2"):
        travel_time_matrix([NODES["A"], (41.0, 15.0)], tiny_graphs["minibus"])


def test_empty_point_list_gives_empty_matrices(tiny_graphs: dict[str, RoadGraph]) -> None:
    result = travel_time_matrix([], tiny_graphs["minibus"])
    assert result.durations_s.shape == (0, 0)
