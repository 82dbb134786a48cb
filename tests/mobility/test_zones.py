"""Planning by zones (a depot each) with a repair across zone borders."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from mobility.codes import UnservedReason
from mobility.jobs.zones import on_queue
from mobility.planning import BookingRow, DayPlan, FleetVehicle, ProfileMatrix, plan_bookings
from mobility.planning.zones import (
    assign_zones,
    plan_by_zones,
    zone_fleets,
    zone_time_limits,
)
from tests.conftest import QUICK, REDIS_URL
from tests.mobility.test_jobs import MOBILITY, job_env

#: Stops on a line, at these driving minutes from the west depot.
W_DEPOT, W_SET, W_FARM, E_FARM, E_SET, E_DEPOT = 10, 11, 12, 22, 21, 20
AT_MIN = {W_DEPOT: 0, W_SET: 10, W_FARM: 35, E_FARM: 65, E_SET: 80, E_DEPOT: 90}


def line_matrix() -> ProfileMatrix:
    ids = tuple(AT_MIN)
    minutes = np.array([[abs(AT_MIN[a] - AT_MIN[b]) for b in ids] for a in ids], dtype=float)
    return ProfileMatrix(ids, minutes * 60, minutes * 800)


MATRICES = {"minibus": line_matrix()}
FLEET = [
    FleetVehicle(1, "W-1", 8, "minibus", W_DEPOT, 3 * 3600, 20 * 3600),
    FleetVehicle(2, "E-1", 8, "minibus", E_DEPOT, 3 * 3600, 20 * 3600),
    FleetVehicle(3, "E-2", 8, "minibus", E_DEPOT, 3 * 3600, 20 * 3600),
]


def crews() -> list[BookingRow]:
    return [
        BookingRow(1, "W1", "to_work", W_SET, W_FARM, 360, 8),
        BookingRow(2, "W2", "to_work", W_SET, W_FARM, 360, 8),  # the west has one minibus
        BookingRow(3, "W1B", "back", W_FARM, W_SET, 1020, 8),
        BookingRow(4, "E1", "to_work", E_SET, E_FARM, 360, 6),
    ]


def test_a_booking_belongs_to_the_depot_nearest_its_home_end() -> None:
    zones = assign_zones(crews(), FLEET, MATRICES)
    assert {d: [b.id for b in z] for d, z in zones.items()} == {
        W_DEPOT: [1, 2, 3],  # the ride back too: its home end is the west settlement
        E_DEPOT: [4],
    }


def test_zones_are_planned_apart_and_an_idle_vehicle_across_the_border_repairs() -> None:
    day, zoning = plan_by_zones(crews(), FLEET, MATRICES, settings=QUICK, processes=2)
    assert zoning == {"zones": 2, "repair_bookings": 1, "repair_served": 1}
    assert day.figures.violations == ()
    assert day.unserved == {} and set(day.pickups) == {1, 2, 3, 4}
    assert day.figures.served_seats == day.figures.seats == 30
    west_rides = {day.vehicles_of[1][0], day.vehicles_of[2][0]}
    assert 1 in west_rides and west_rides - {1} <= {2, 3}  # one came from the east depot
    assert len({r.vehicle_id for r in day.routes}) == len(day.routes) == 3
    whole = plan_bookings(crews(), FLEET, MATRICES, settings=QUICK)
    assert whole.figures.served_seats == day.figures.served_seats


def test_without_an_idle_vehicle_the_left_out_crew_keeps_its_reason() -> None:
    day, zoning = plan_by_zones(crews(), FLEET[:2], MATRICES, settings=QUICK, processes=1)
    assert zoning["repair_bookings"] == 1 and zoning["repair_served"] == 0
    (left,) = day.unserved
    assert left in (1, 2) and day.unserved[left] is UnservedReason.FLEET_FULL
    assert day.figures.reachable_seats == day.figures.seats == 30
    assert day.figures.unserved_seats == 8 and day.figures.violations == ()


def test_a_depot_nearest_to_no_booking_lends_its_vehicles_to_the_nearest_zone() -> None:
    west_only = [b for b in crews() if b.id != 4]
    zones = assign_zones(west_only, FLEET, MATRICES)
    assert zone_fleets(zones, FLEET, MATRICES) == {W_DEPOT: FLEET}
    day, zoning = plan_by_zones(west_only, FLEET, MATRICES, settings=QUICK, processes=1)
    assert zoning == {"zones": 1, "repair_bookings": 0, "repair_served": 0}
    assert day.unserved == {} and day.figures.violations == ()


def test_zones_go_to_the_job_queue_and_a_real_worker_plans_them(
    database_url: str, queue_name: str, tiny_osm: Path
) -> None:
    from redis import Redis
    from rq import Queue
    from rq.registry import FinishedJobRegistry

    queue = Queue(queue_name, connection=Redis.from_url(REDIS_URL))
    out: dict[str, tuple[DayPlan, dict[str, int]]] = {}
    runner = on_queue(REDIS_URL, queue_name, poll_s=0.1)

    def plan() -> None:
        out["zones"] = plan_by_zones(
            crews(), FLEET, MATRICES, settings=QUICK, processes=2, runner=runner
        )

    planner = threading.Thread(target=plan)
    planner.start()
    deadline = time.monotonic() + 30
    while queue.count < 2:  # both zones wait on the queue for a worker
        assert time.monotonic() < deadline and planner.is_alive(), "the zones were not queued"
        time.sleep(0.05)
    worker = subprocess.run(
        [str(MOBILITY), "worker", "--burst", "--nice", "0"],
        env=job_env(database_url, queue_name, tiny_osm),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert worker.returncode == 0, worker.stderr[-2000:]
    planner.join(60)
    day, zoning = out["zones"]
    assert zoning == {"zones": 2, "repair_bookings": 1, "repair_served": 1}
    assert day.unserved == {} and day.figures.violations == ()
    zone_jobs = [j for j in FinishedJobRegistry(queue=queue).get_job_ids() if "-zone-" in j]
    assert len(zone_jobs) == 2
    local, _ = plan_by_zones(crews(), FLEET, MATRICES, settings=QUICK, processes=2)
    assert day.pickups == local.pickups  # the same plans as in local processes


def test_the_budget_goes_to_the_zones_by_size_on_the_processes_they_take() -> None:
    assert zone_time_limits([920, 652, 440], 2, 100.0) == pytest.approx(
        [100.0, 100 * 652 / 1092, 100 * 440 / 1092]
    )
    assert zone_time_limits([30, 20, 10], 3, 60.0) == [60.0, 60.0, 60.0]
    assert zone_time_limits([30, 20, 10], 1, 60.0) == [30.0, 20.0, 10.0]
