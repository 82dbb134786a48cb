"""Road graph: sources, profiles, components, cache, snapping and routes."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from mobility.errors import CorruptRoadDataError, RoadDataNotFoundError, SnapError
from mobility.roads import (
    MAX_SNAP_M,
    PROFILES,
    RoadGraph,
    build_road_graphs,
    cache_path,
    find_source,
    get_profile,
    load_road_graph,
)
from tests.conftest import NODES, WAYS, write_osm


def _classes(graph: RoadGraph) -> set[str]:
    return set(graph.edge_highway.tolist())


def test_find_source_prefers_explicit_path_then_environment(tmp_path: Path) -> None:
    explicit = write_osm(tmp_path / "a.osm", NODES, WAYS)
    env_file = write_osm(tmp_path / "b.osm", NODES, WAYS)
    environ = {"MOBILITY_OSM_PATH": str(env_file)}
    assert find_source(explicit, environ=environ) == explicit
    assert find_source(None, environ=environ) == env_file


def test_find_source_uses_project_data_folder_before_shared(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    local = write_osm(data_dir / "local.osm", NODES, WAYS)
    shared = write_osm(tmp_path / "shared.osm", NODES, WAYS)
    assert find_source(environ={}, data_dir=data_dir, shared_extract=shared) == local
    local.unlink()
    assert find_source(environ={}, data_dir=data_dir, shared_extract=shared) == shared


def test_missing_extract_error_says_where_it_looked_and_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(RoadDataNotFoundError) as err:
        find_source(environ={}, data_dir=tmp_path / "none", shared_extract=tmp_path / "x.osm.bz2")
    message = str(err.value)
    assert "MOBILITY_OSM_PATH" in message
    assert "mobility osm download" in message
    assert "\n" not in message


def test_environment_path_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RoadDataNotFoundError, match="MOBILITY_OSM_PATH"):
        find_source(environ={"MOBILITY_OSM_PATH": str(tmp_path / "nope.osm")})


def test_corrupt_extract_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.osm"
    bad.write_text("<osm><node id='1' lat='x'", encoding="utf-8")
    with pytest.raises(CorruptRoadDataError, match=r"bad\.osm"):
        build_road_graphs(bad)


def test_bus_profile_has_no_tracks_service_roads_or_living_streets(
    tiny_graphs: dict[str, RoadGraph],
) -> None:
    assert {"track", "service"} <= _classes(tiny_graphs["minibus"])
    assert _classes(tiny_graphs["bus"]).isdisjoint({"track", "service", "living_street"})
    for name, profile in PROFILES.items():
        assert all(profile.allows(c) for c in _classes(tiny_graphs[name]))


def test_tracks_are_slow_for_the_minibus(tiny_graphs: dict[str, RoadGraph]) -> None:
    g = tiny_graphs["minibus"]
    speed_kph = g.edge_length_m / g.edge_time_s * 3.6
    for cls in ("track", "primary"):
        expected = get_profile("minibus").speeds_kph[cls]
        # times are rounded to 0.1 s, so speeds match to a fraction of a percent
        np.testing.assert_allclose(speed_kph[g.edge_highway == cls], expected, rtol=0.01)


def test_only_the_largest_strongly_connected_component_is_kept(
    tiny_graphs: dict[str, RoadGraph],
) -> None:
    g = tiny_graphs["minibus"]
    far_lat, far_lon = NODES["H"]
    assert not np.any(np.isclose(g.node_lat, far_lat) & np.isclose(g.node_lon, far_lon))
    graph = g.to_networkx()
    assert nx.is_strongly_connected(graph)


def test_every_edge_has_length_and_travel_time(tiny_graphs: dict[str, RoadGraph]) -> None:
    for g in tiny_graphs.values():
        assert np.all(g.edge_length_m > 0)
        assert np.all(g.edge_time_s > 0)
        graph = g.to_networkx()
        for _, _, data in graph.edges(data=True):
            assert data["length"] > 0 and data["travel_time"] > 0


def test_two_way_edges_know_their_reverse_and_one_way_edges_do_not(
    tiny_graphs: dict[str, RoadGraph],
) -> None:
    g = tiny_graphs["minibus"]
    for e in range(g.n_edges):
        r = int(g.edge_reverse[e])
        if g.edge_highway[e] == "residential":
            assert r == -1
        else:
            assert r >= 0 and g.edge_u[r] == g.edge_v[e] and g.edge_v[r] == g.edge_u[e]


def test_cache_round_trip_keeps_every_array(
    tiny_graphs: dict[str, RoadGraph], tmp_path: Path
) -> None:
    g = tiny_graphs["minibus"]
    path = tmp_path / "g.npz"
    g.save(path)
    loaded = RoadGraph.load(path)
    assert loaded.info() == g.info()
    np.testing.assert_array_equal(loaded.edge_time_s, g.edge_time_s)
    np.testing.assert_array_equal(loaded.geom_lat, g.geom_lat)
    np.testing.assert_array_equal(loaded.cch_order, g.cch_order)


def test_cache_key_changes_with_the_source_file(tiny_osm: Path, tmp_path: Path) -> None:
    other = write_osm(tmp_path / "tiny.osm", {**NODES, "A": (41.4601, 15.50)}, WAYS)
    profile = get_profile("minibus")
    assert cache_path(tiny_osm, profile, tmp_path) != cache_path(other, profile, tmp_path)


def test_load_builds_the_cache_once_then_reads_it(tiny_osm: Path, tmp_path: Path) -> None:
    first = load_road_graph("bus", tiny_osm, cache_dir=tmp_path)
    graphs = sorted(p.name for p in tmp_path.glob("*.npz") if not p.name.endswith(".snap.npz"))
    assert len(graphs) == len(PROFILES)  # one parse wrote every profile
    # and beside each, the snapping index's samples: a command starts without computing them
    assert len(list(tmp_path.glob("*.snap.npz"))) == len(PROFILES)
    again = load_road_graph("bus", tiny_osm, cache_dir=tmp_path)
    assert again.info() == first.info()
    assert (
        again.snap([41.46], [15.505])[0].distance_m == first.snap([41.46], [15.505])[0].distance_m
    )


def test_corrupt_cache_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "x.npz"
    bad.write_bytes(b"not a cache")
    with pytest.raises(CorruptRoadDataError, match=r"x\.npz"):
        RoadGraph.load(bad)


def test_unknown_profile_is_rejected() -> None:
    with pytest.raises(ValueError, match="profile"):
        get_profile("tractor")


def test_point_beside_a_road_snaps_onto_it_with_its_distance(
    tiny_graphs: dict[str, RoadGraph],
) -> None:
    g = tiny_graphs["minibus"]
    # 0.001 deg of latitude south of the primary road, halfway between A and B
    (snap,) = g.snap([41.459], [15.505])
    assert snap.lat == pytest.approx(41.46, abs=1e-6)
    assert snap.lon == pytest.approx(15.505, abs=1e-6)
    assert snap.distance_m == pytest.approx(111.0, abs=1.5)
    assert 0.0 < snap.fraction < 1.0


def test_snapping_finds_the_nearest_road_of_all(tiny_graphs: dict[str, RoadGraph]) -> None:
    # the grid index looks at the cells around a point only: it must agree with a
    # look at every segment of the graph, for points near and far from the roads
    g = tiny_graphs["minibus"]
    rng = np.random.default_rng(5)
    lat = 41.44 + rng.random(300) * 0.04
    lon = 15.49 + rng.random(300) * 0.04
    near = [i for i in range(300) if _nearest_by_brute_force(g, lat[i], lon[i]) < MAX_SNAP_M]
    snaps = g.snap(lat[near], lon[near])
    expected = [_nearest_by_brute_force(g, lat[i], lon[i]) for i in near]
    assert len(near) > 100
    # (the snap measures on the sphere, the brute force on the plane: 0.1 % apart)
    assert [s.distance_m for s in snaps] == pytest.approx(expected, rel=1e-3, abs=0.5)


def _nearest_by_brute_force(g: RoadGraph, lat: float, lon: float) -> float:
    """Metres from a point to the nearest segment of any road, every one measured."""
    x, y = g.project(np.array([lat]), np.array([lon]))
    best = np.inf
    for e in range(g.n_edges):
        a, b = int(g.geom_ptr[e]), int(g.geom_ptr[e + 1])
        gx, gy = g.project(g.geom_lat[a:b], g.geom_lon[a:b])
        for i in range(b - a - 1):
            dx, dy = gx[i + 1] - gx[i], gy[i + 1] - gy[i]
            t = np.clip(((x[0] - gx[i]) * dx + (y[0] - gy[i]) * dy) / (dx * dx + dy * dy), 0, 1)
            best = min(best, float(np.hypot(gx[i] + t * dx - x[0], gy[i] + t * dy - y[0])))
    return best


def test_point_far_from_every_road_is_an_error_naming_it(tiny_graphs: dict[str, RoadGraph]) -> None:
    g = tiny_graphs["bus"]
    # near F, which only a track reaches: more than 1 km from any bus road
    with pytest.raises(SnapError, match=r"point 2 \(41\.44"):
        g.snap([41.46, 41.44], [15.51, 15.51])


def test_point_outside_the_extract_is_an_error(tiny_graphs: dict[str, RoadGraph]) -> None:
    with pytest.raises(SnapError, match="outside the road extract"):
        tiny_graphs["minibus"].snap([45.0], [9.0])


def test_route_follows_one_way_streets(tiny_graphs: dict[str, RoadGraph]) -> None:
    g = tiny_graphs["minibus"]
    there = g.route(NODES["C"], NODES["E"])  # C -> D -> E along the one-way
    back = g.route(NODES["E"], NODES["C"])  # must go E -> A -> B -> C
    assert there.duration_s != back.duration_s
    assert back.distance_m == pytest.approx(
        sum(g.edge_length_m[g.edge_highway == "primary"]) / 2 + 1110, rel=0.05
    )


def test_route_geometry_runs_from_snapped_origin_to_snapped_destination(
    tiny_graphs: dict[str, RoadGraph],
) -> None:
    g = tiny_graphs["minibus"]
    route = g.route((41.4595, 15.503), (41.451, 15.5105))
    assert route.geometry[0] == pytest.approx((41.46, 15.503), abs=1e-6)
    assert route.geometry[-1] == pytest.approx((41.451, 15.51), abs=1e-6)
    assert route.snap_m[0] < MAX_SNAP_M and route.snap_m[1] < MAX_SNAP_M
    # the geometry's length is the route's distance
    lat = np.radians([p[0] for p in route.geometry])
    lon = np.radians([p[1] for p in route.geometry])
    step = np.hypot(np.diff(lat), np.diff(lon) * np.cos(lat[:-1])) * 6_371_008.8
    assert step.sum() == pytest.approx(route.distance_m, rel=0.01)
