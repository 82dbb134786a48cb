"""The realistic peak-day generator on the Tavoliere extract."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from mobility.demo import DEPOTS, peak_day
from mobility.demo.peak import (
    MAX_RIDE_MIN,
    PeakCrew,
    PeakFarm,
    Trip,
    bus_reached,
    chain_cover,
    minibus_pairs,
    minibuses_needed,
)
from mobility.roads import RoadGraph, load_road_graph, travel_time_matrix
from mobility.stops import Place
from tests.conftest import TAVOLIERE, write_osm

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def bus_graph(tavoliere_minibus: RoadGraph) -> RoadGraph:
    return load_road_graph("bus", TAVOLIERE)


def test_the_same_seed_gives_the_same_day_and_another_seed_another(
    tavoliere_minibus: RoadGraph, bus_graph: RoadGraph
) -> None:
    one = peak_day(4, tavoliere_minibus, workers=300, vehicles=10, bus_graph=bus_graph)
    again = peak_day(4, tavoliere_minibus, workers=300, vehicles=10, bus_graph=bus_graph)
    other = peak_day(5, tavoliere_minibus, workers=300, vehicles=10, bus_graph=bus_graph)
    assert one == again
    assert (one.crews, one.farms) != (other.crews, other.farms)


@pytest.mark.parametrize("heat_ban", [False, True])
def test_crews_work_near_home_in_two_waves_and_the_fleet_is_at_the_depots(
    tavoliere_minibus: RoadGraph, bus_graph: RoadGraph, heat_ban: bool
) -> None:
    day = peak_day(
        2, tavoliere_minibus, workers=500, vehicles=14, heat_ban=heat_ban, bus_graph=bus_graph
    )
    assert day.workers == 500 and day.heat_ban is heat_ban
    assert all(1 <= c.seats <= 28 for c in day.crews)
    assert sum(c.seats >= 5 for c in day.crews) > len(day.crews) / 2  # mostly crews
    for farm in day.farms:
        assert 4 * 60 + 30 <= farm.starts_min <= 6 * 60 + 30
        assert farm.ends_min == 12 * 60 + 30 if heat_ban else 17 * 60 <= farm.ends_min <= 19 * 60
    homes = sorted({c.settlement for c in day.crews})
    points = [(day.places[h].lat or 0.0, day.places[h].lon or 0.0) for h in homes]
    points += [(f.lat, f.lon) for f in day.farms]
    minutes = travel_time_matrix(points, tavoliere_minibus, distances=False).durations_s / 60
    rides = [minutes[homes.index(c.settlement), len(homes) + c.farm] for c in day.crews]
    assert max(rides) <= MAX_RIDE_MIN
    assert np.median(rides) < 25  # near home: distance decay
    assert len(day.fleet) == 14 and {v.depot for v in day.fleet} <= {
        day.places[d].name for d in DEPOTS
    }
    assert {v.seats for v in day.fleet} == {8, 28, 50}


def test_minibuses_are_rostered_for_the_fields_no_bus_reaches(
    tavoliere_minibus: RoadGraph, bus_graph: RoadGraph
) -> None:
    day = peak_day(3, tavoliere_minibus, workers=1500, vehicles=30, bus_graph=bus_graph)
    loads: dict[tuple[str, int], int] = {}  # minibus-loads arriving at a farm at a time
    for crew in day.crews:
        farm = day.farms[crew.farm]
        if farm.minibus_only:
            key = (crew.settlement, crew.farm)
            loads[key] = loads.get(key, 0) + crew.seats
    at_once: dict[int, int] = {}
    for (_, farm), seats in loads.items():
        start = day.farms[farm].starts_min
        at_once[start] = at_once.get(start, 0) + math.ceil(seats / 8)
    assert at_once
    minibuses = sum(v.seats == 8 for v in day.fleet)
    # trips at the same hour need a minibus each; the roster has at least that many
    assert minibuses >= max(6, min(15, max(at_once.values())))
    assert len(day.fleet) == 30
    assert {v.depot for v in day.fleet if v.seats == 28} == {day.places[d].name for d in DEPOTS}


def test_chain_cover_counts_the_vehicles_that_make_every_trip_on_time() -> None:
    # places 0 (home), 1 and 2 (fields); minutes between them
    minutes = np.array([[0, 10, 20], [10, 0, 25], [20, 25, 0]], dtype=float)

    def trip(start: int, end: int, leaves: float, free: float) -> Trip:
        return Trip(start, end, leaves, free, at=int(leaves))

    early = trip(0, 1, 0, 10)  # free at field 1 at 10, home again at 20
    later = trip(0, 2, 30, 50)
    assert chain_cover([], minutes) == 0
    assert chain_cover([early, later], minutes) == 1
    assert chain_cover([early, later, later], minutes) == 2  # two leaving at once
    too_soon = trip(0, 2, 15, 35)  # leaves before a vehicle of ``early`` is back
    assert chain_cover([early, too_soon], minutes) == 2
    # a vehicle waits where its trip ended: a chain of three
    assert chain_cover([trip(0, 2, 0, 20), trip(2, 1, 45, 60), trip(1, 0, 70, 80)], minutes) == 1
    # or drives empty to the next start: field 2 to field 1 takes 25 minutes
    assert chain_cover([trip(0, 2, 0, 20), trip(1, 0, 44, 54)], minutes) == 2
    assert chain_cover([trip(0, 2, 0, 20), trip(1, 0, 45, 55)], minutes) == 1
    # two loads booked at the same time (a crew picked up at 18:00, window 30 min,
    # home 10 minutes away): one minibus makes both trips within the window
    load = Trip(1, 0, leaves=18 * 60 + 30, free=18 * 60 + 10, at=18 * 60)
    assert chain_cover([load, load], minutes) == 1
    far = Trip(2, 0, leaves=18 * 60 + 30, free=18 * 60 + 20, at=18 * 60)  # 20 + 20 > 30
    assert chain_cover([far, far], minutes) == 2


def test_crews_only_a_minibus_can_take_get_minibuses(tmp_path: Path) -> None:
    # settlement S; field F 20 minutes away by a farm track, 70 by the bus road round
    # by the north (over the ride limit, 1.5 x 20 + 15 minutes); field G on the bus
    # road next to S; field T 2 km down a track from G (no bus road within 1 km)
    nodes = {
        "S": (41.46, 15.50),
        "F": (41.46, 15.56),
        "N1": (41.75, 15.50),
        "N2": (41.75, 15.56),
        "G": (41.46, 15.48),
        "T": (41.46, 15.455),
    }
    ways = [
        (["S", "F"], {"highway": "track"}),
        (["S", "N1", "N2", "F"], {"highway": "primary"}),
        (["G", "S"], {"highway": "primary"}),
        (["G", "T"], {"highway": "track"}),
    ]
    osm = write_osm(tmp_path / "loop.osm", nodes, ways)
    minibus, bus = (load_road_graph(profile, osm) for profile in ("minibus", "bus"))
    places = {"S": Place("S", "settlement", *nodes["S"])}
    farms = [
        PeakFarm(name, *nodes[name], starts_min=start, ends_min=end)
        for name, start, end in (("F", 270, 1020), ("G", 300, 1050), ("T", 390, 1140))
    ]
    reached = bus_reached(bus, [places["S"]], farms)
    assert reached == [True, True, False]
    farms = [replace(f, minibus_only=not ok) for f, ok in zip(farms, reached, strict=True)]
    crews = [PeakCrew("S", farm, 20) for farm in range(3)]
    pairs = minibus_pairs(minibus, bus, places, crews, farms)
    assert pairs == {("S", 0), ("S", 2)}
    # three minibus-loads to F at 04:30 (20 minutes each way: no minibus makes two in
    # the 30-minute window), three to T (5 minutes) two hours later
    assert minibuses_needed(minibus, places, crews, farms, pairs) == 3
    assert minibuses_needed(minibus, places, crews, farms, {("S", 2)}) == 1
    assert minibuses_needed(minibus, places, crews, farms, set()) == 0
