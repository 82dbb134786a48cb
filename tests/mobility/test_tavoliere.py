"""Integration on the real Tavoliere extract (builds its cache on first use, ~35 s)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from mobility.roads import RoadGraph, travel_time_matrix

pytestmark = pytest.mark.integration

BORGO_MEZZANONE = (41.4206, 15.7096)
FOGGIA_CENTRE = (41.4620, 15.5433)


def test_borgo_mezzanone_to_foggia_is_15_to_17_5_km_and_15_to_30_min(
    tavoliere_minibus: RoadGraph,
) -> None:
    route = tavoliere_minibus.route(BORGO_MEZZANONE, FOGGIA_CENTRE)
    assert 15_000 <= route.distance_m <= 17_500
    assert 15 * 60 <= route.duration_s <= 30 * 60
    assert route.snap_m[0] < 100 and route.snap_m[1] < 100


def test_matrix_on_real_roads_equals_plain_dijkstra_between_nodes(
    tavoliere_minibus: RoadGraph,
) -> None:
    g = tavoliere_minibus
    rng = np.random.default_rng(7)
    nodes = rng.choice(g.n_nodes, 40, replace=False)
    points = [(float(g.node_lat[n]), float(g.node_lon[n])) for n in nodes]
    result = travel_time_matrix(points, g, distances=False)
    # reference: Dijkstra on the plain node graph, fastest of parallel edges
    key = g.edge_u * g.n_nodes + g.edge_v
    order = np.lexsort((g.edge_time_s, key))
    first = order[np.r_[True, key[order][1:] != key[order][:-1]]]
    plain = csr_matrix(
        (g.edge_time_s[first], (g.edge_u[first], g.edge_v[first])), shape=(g.n_nodes,) * 2
    )
    expected = dijkstra(plain, indices=nodes)[:, nodes]
    np.testing.assert_allclose(result.durations_s, expected, atol=1e-6)


def test_bus_matrix_is_slower_than_minibus_on_the_same_trip(
    tavoliere_minibus: RoadGraph,
) -> None:
    from mobility.roads import load_road_graph
    from tests.conftest import TAVOLIERE

    bus = load_road_graph("bus", TAVOLIERE)
    pts = [BORGO_MEZZANONE, FOGGIA_CENTRE]
    by_bus = travel_time_matrix(pts, bus, distances=False).durations_s[0, 1]
    by_minibus = travel_time_matrix(pts, tavoliere_minibus, distances=False).durations_s[0, 1]
    assert by_bus > by_minibus


def test_a_day_of_work_village_and_hospital_rides_on_real_roads(
    tavoliere_minibus: RoadGraph,
) -> None:
    from mobility.planning import BookingRow, FleetVehicle, plan_bookings, profile_matrix
    from mobility.planning.types import StopPoint
    from mobility.service_stops import load_services
    from mobility.store import ServiceCategory
    from tests.conftest import QUICK

    hospital = next(
        p for p in load_services() if p.category is ServiceCategory.HOSPITAL and p.town == "Foggia"
    )
    stops = [
        StopPoint(1, "Borgo Mezzanone", *BORGO_MEZZANONE),
        StopPoint(2, "Farm", 41.45, 15.62),
        StopPoint(3, "Foggia (centre)", *FOGGIA_CENTRE),  # the depot
        StopPoint(4, hospital.name, hospital.lat, hospital.lon),
        StopPoint(5, "Borgo Incoronata", 41.4118, 15.5958),  # a village as destination
    ]
    bookings = [
        BookingRow(1, "W1", "to_work", 1, 2, 6 * 60, 6),
        BookingRow(2, "V1", "to_work", 1, 5, 8 * 60, 2),
        BookingRow(3, "H1", "to_work", 1, 4, 11 * 60, 1, service=True),
        BookingRow(4, "H2", "back", 4, 1, 12 * 60 + 30, 1, service=True),
    ]
    minibus = FleetVehicle(1, "MB-1", 8, "minibus", 3, 5 * 3600, 16 * 3600)
    matrices = {"minibus": profile_matrix(tavoliere_minibus, stops)}
    day = plan_bookings(bookings, [minibus], matrices, settings=QUICK)
    assert day.figures.violations == () and day.unserved == {}
    # one vehicle: the morning run, the village, then the appointment and back
    assert {v for vs in day.vehicles_of.values() for v in vs} == {1}
    to_hospital = min(
        s.arrival_s for r in day.routes for s in r.stops if any(b == 3 for b, _ in s.alight)
    )
    assert to_hospital <= 11 * 3600 - QUICK.appointment_margin_min * 60
    assert day.pickups[1][0] < day.pickups[2][0] < day.pickups[3][0] < day.pickups[4][0]
