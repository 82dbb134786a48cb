"""The realistic peak-day generator on the Tavoliere extract."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mobility.demo import DEPOTS, peak_day
from mobility.demo.peak import MAX_RIDE_MIN, MINIBUS_TRIPS_PER_WAVE
from mobility.roads import RoadGraph, load_road_graph, travel_time_matrix
from tests.conftest import TAVOLIERE

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
    track_seats = sum(c.seats for c in day.crews if day.farms[c.farm].minibus_only)
    assert track_seats > 0
    minibuses = sum(v.seats == 8 for v in day.fleet)
    assert minibuses >= max(6, math.ceil(track_seats / (8 * MINIBUS_TRIPS_PER_WAVE)))
    assert len(day.fleet) == 30
    assert {v.depot for v in day.fleet if v.seats == 28} == {day.places[d].name for d in DEPOTS}
