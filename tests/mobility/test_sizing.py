"""Fleet sizing of a stored day: the command, the run it leaves, the day overview."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from mobility.bookings import RideRequest, register_worker, request_rides
from mobility.cli import main
from mobility.dispatch import day_overview, vehicle_types
from mobility.store import PlanKind, PlanRun, Profile, Stop, StopKind, Vehicle
from tests.clock import DAY
from tests.conftest import NODES, RULES


@pytest.fixture
def short_shifts(db: Session) -> dict[str, int]:
    """A camp at A, a field at C, one minibus whose short shift allows one trip."""
    ids = {}
    for key, name, kind in [("A", "Camp", StopKind.SETTLEMENT), ("C", "Field", StopKind.FARM)]:
        stop = Stop(name=name, kind=kind, lat=NODES[key][0], lon=NODES[key][1])
        db.add(stop)
        db.flush()
        ids[key] = stop.id
    db.add(
        Vehicle(
            name="MB-1",
            seats=8,
            profile=Profile.MINIBUS,
            depot_stop_id=ids["A"],
            shift_start_min=352,
            shift_end_min=364,
        )
    )
    db.commit()
    return ids


def test_vehicle_types_take_the_widest_shift_and_the_highest_cost(db: Session) -> None:
    depot = Stop(name="Depot", kind=StopKind.DEPOT, lat=41.46, lon=15.5)
    db.add(depot)
    db.flush()
    for name, seats, start, end, cost in [
        ("A", 8, 300, 700, 1),
        ("B", 8, 200, 600, 2),
        ("C", 28, 180, 1260, 2),
    ]:
        profile = Profile.MINIBUS if seats == 8 else Profile.BUS
        db.add(
            Vehicle(
                name=name,
                seats=seats,
                profile=profile,
                depot_stop_id=depot.id,
                shift_start_min=start,
                shift_end_min=end,
                fixed_cost=cost,
            )
        )
    db.commit()
    types = vehicle_types(list(db.query(Vehicle)))
    assert [(t.label, t.shift_start_s, t.shift_end_s, t.fixed_cost) for t in types] == [
        ("minibus 8", 200 * 60, 700 * 60, 2),
        ("bus 28", 180 * 60, 1260 * 60, 2),
    ]


def test_fleet_size_command_answers_in_json_and_the_day_page_sees_it(
    db: Session,
    short_shifts: dict[str, int],
    tiny_osm: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for _ in range(2):  # two crews of 8 at 06:00: one minibus trip each
        worker, _ = register_worker(db)
        request_rides(
            db, worker, RideRequest(DAY, short_shifts["A"], short_shifts["C"], 360, 8), rules=RULES
        )
    monkeypatch.setenv("MOBILITY_DATABASE_URL", database_url)
    monkeypatch.setenv("MOBILITY_OSM_PATH", str(tiny_osm))
    monkeypatch.delenv("MOBILITY_REDIS_URL", raising=False)
    argv = ["fleet", "size", "--date", DAY.isoformat(), "--time-limit", "3", "--json"]
    assert main(argv) == 0
    answer = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert answer["fleet"] == {"minibus 8": 2} and answer["vehicles"] == 2
    assert answer["cost"] == 2 and answer["reachable_seats"] == answer["served_seats"] == 16
    assert 1 <= answer["lower_bound"] <= 2
    db.expire_all()
    (run,) = db.query(PlanRun).all()
    assert run.kind is PlanKind.SIZING
    overview = day_overview(db, DAY)
    assert overview.plan is None  # sizing plans nothing
    assert overview.sizing is not None and overview.sizing["add"] == {"minibus 8": 1}
    assert overview.sizing["by_depot"] == {"Camp": {"minibus 8": 2}}
    # the words too
    assert main(argv[:-1]) == 0
    out = capsys.readouterr().out
    assert "minibus 8: 2" in out and "to add to the active fleet: 1 minibus 8" in out


def test_fleet_size_of_a_day_without_vehicles_is_one_line_and_status_2(
    db: Session,
    tiny_osm: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MOBILITY_DATABASE_URL", database_url)
    monkeypatch.setenv("MOBILITY_OSM_PATH", str(tiny_osm))
    monkeypatch.delenv("MOBILITY_REDIS_URL", raising=False)
    assert main(["fleet", "size", "--date", DAY.isoformat(), "--time-limit", "1"]) == 2
    err = capsys.readouterr().err
    assert "fleet: no active vehicle" in err and len(err.strip().splitlines()) == 1
