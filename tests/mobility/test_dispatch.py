"""Planning a day on a small graph: grouping, reasons, publishing, late requests,
a failed run, the export, the fleet import."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mobility.bookings import RideRequest, register_worker, request_rides
from mobility.codes import UnservedReason
from mobility.dispatch import import_fleet, latest_plan, plan_day, publish_plan, run_figures
from mobility.errors import InputDataError, ServiceError
from mobility.outputs import export_plan
from mobility.roads import RoadGraph
from mobility.store import Booking, BookingStatus, PlanStatus, Profile, Stop, StopKind, Vehicle
from tests.clock import DAY
from tests.conftest import NODES, QUICK, RULES


@pytest.fixture
def small_day(db: Session) -> dict[str, int]:
    """Stops on the tiny network: a settlement at A, a farm at C, a farm on the
    track at F, a depot at B; one 8-seat minibus."""
    ids = {}
    for key, name, kind in [
        ("A", "Test settlement", StopKind.SETTLEMENT),
        ("C", "Test farm", StopKind.FARM),
        ("F", "Track farm", StopKind.FARM),
        ("B", "Test depot", StopKind.DEPOT),
    ]:
        stop = Stop(name=name, kind=kind, lat=NODES[key][0], lon=NODES[key][1], active=True)
        db.add(stop)
        db.flush()
        ids[key] = stop.id
    db.add(Vehicle(name="MB-1", seats=8, profile=Profile.MINIBUS, depot_stop_id=ids["B"]))
    db.commit()
    return ids


def book(
    db: Session, ids: dict[str, int], seats: int, *, to: str = "C", time_min: int = 360
) -> Booking:
    worker, _ = register_worker(db)
    ride = RideRequest(DAY, ids["A"], ids[to], time_min, seats=seats)
    (booking,) = request_rides(db, worker, ride, rules=RULES)
    return booking


def loader(graphs: dict[str, RoadGraph]):  # type: ignore[no-untyped-def]
    return lambda profile: graphs[profile]


def test_bookings_with_same_route_and_time_are_grouped_and_served(
    db: Session, small_day: dict[str, int], tiny_graphs: dict[str, RoadGraph]
) -> None:
    codes = [book(db, small_day, s).code for s in (2, 3, 3)]
    outcome = plan_day(db, DAY, loader(tiny_graphs), settings=QUICK)
    assert outcome.figures.requests == 1
    assert outcome.figures.served_seats == 8 and outcome.figures.vehicles_used == 1
    plan = latest_plan(db, DAY)
    assert plan is not None and plan.status is PlanStatus.DONE
    (route,) = plan.routes
    boarding = [m for s in route.stops for m in s.moves if m.boarding]
    assert sorted(m.booking.code for m in boarding) == sorted(codes)
    assert max(s.load_after for s in route.stops) == 8


def test_arrival_is_within_the_30_minutes_before_arrive_by(
    db: Session, small_day: dict[str, int], tiny_graphs: dict[str, RoadGraph]
) -> None:
    book(db, small_day, 4, time_min=6 * 60)
    plan_day(db, DAY, loader(tiny_graphs), settings=QUICK)
    plan = latest_plan(db, DAY)
    assert plan is not None
    (route,) = plan.routes
    drop = next(s for s in route.stops if any(not m.boarding for m in s.moves))
    assert 5 * 3600 + 30 * 60 <= drop.arrival_s <= 6 * 3600


def test_what_the_fleet_cannot_serve_is_unserved_with_a_reason(
    db: Session, small_day: dict[str, int], tiny_graphs: dict[str, RoadGraph]
) -> None:
    vehicle = db.scalar(select(Vehicle))
    assert vehicle is not None
    vehicle.profile = Profile.BUS  # a bus cannot take the track to F
    vehicle.seats = 28
    db.commit()
    served = book(db, small_day, 4, to="C")
    stranded = book(db, small_day, 4, to="F")
    plan_day(db, DAY, loader(tiny_graphs), settings=QUICK)
    db.refresh(served)
    db.refresh(stranded)
    assert stranded.status is BookingStatus.UNSERVED and stranded.reason
    assert served.status is BookingStatus.REQUESTED


def test_publish_gives_workers_pickup_time_and_place(
    db: Session, small_day: dict[str, int], tiny_graphs: dict[str, RoadGraph]
) -> None:
    booking = book(db, small_day, 3)
    plan_day(db, DAY, loader(tiny_graphs), settings=QUICK)
    assert publish_plan(db, DAY) == 1
    db.refresh(booking)
    assert booking.status is BookingStatus.SCHEDULED
    assert booking.pickup_stop_id == small_day["A"]
    assert booking.pickup_time_min is not None and booking.pickup_time_min < 6 * 60
    plan_day(db, DAY, loader(tiny_graphs), settings=QUICK)
    assert publish_plan(db, DAY) == 2


def test_late_request_is_inserted_without_moving_published_pickups(
    db: Session, small_day: dict[str, int], tiny_graphs: dict[str, RoadGraph]
) -> None:
    first = book(db, small_day, 3)
    plan_day(db, DAY, loader(tiny_graphs), settings=QUICK)
    publish_plan(db, DAY)
    db.refresh(first)
    published = first.pickup_time_min
    assert published is not None
    late = book(db, small_day, 2, time_min=6 * 60 + 15)
    plan_day(db, DAY, loader(tiny_graphs), settings=QUICK)
    publish_plan(db, DAY)
    db.refresh(first)
    db.refresh(late)
    assert late.status is BookingStatus.SCHEDULED
    assert first.status is BookingStatus.SCHEDULED
    assert first.pickup_time_min is not None and abs(first.pickup_time_min - published) <= 10


def test_failed_run_keeps_the_previous_plan_and_bookings(
    db: Session, small_day: dict[str, int], tiny_graphs: dict[str, RoadGraph]
) -> None:
    booking = book(db, small_day, 3)
    plan_day(db, DAY, loader(tiny_graphs), settings=QUICK)
    before = latest_plan(db, DAY)
    assert before is not None

    def broken(_profile: str) -> RoadGraph:
        raise RuntimeError("road graph unavailable")

    with pytest.raises(RuntimeError):
        plan_day(db, DAY, broken, settings=QUICK)
    after = latest_plan(db, DAY)
    assert after is not None and after.id == before.id
    db.refresh(booking)
    assert booking.status is BookingStatus.REQUESTED


def test_export_has_the_documented_shape(
    db: Session, small_day: dict[str, int], tiny_graphs: dict[str, RoadGraph]
) -> None:
    booking = book(db, small_day, 3)
    plan_day(db, DAY, loader(tiny_graphs), settings=QUICK)
    doc = json.loads(json.dumps(export_plan(db, DAY)))
    assert doc["date"] == DAY.isoformat()
    (vehicle,) = doc["vehicles"]
    assert set(vehicle) == {"name", "seats", "profile", "stops"}
    assert set(vehicle["stops"][0]) == {
        "stop",
        "lat",
        "lon",
        "arrival",
        "departure",
        "board",
        "alight",
    }
    boards = [b for s in vehicle["stops"] for b in s["board"]]
    assert boards == [{"booking": booking.code, "seats": 3}]
    (entry,) = doc["bookings"]
    assert entry["vehicles"] == ["MB-1"] and entry["pickup"] is not None
    assert set(entry) == {
        "code",
        "status",
        "direction",
        "from",
        "to",
        "time",
        "seats",
        "vehicles",
        "seats_in",
        "pickup",
        "reason",
    }
    assert entry["seats_in"] == {"MB-1": 3}


def test_fleet_import_adds_then_updates(
    db: Session, small_day: dict[str, int], tmp_path: Path
) -> None:
    csv_path = tmp_path / "fleet.csv"
    csv_path.write_text(
        "name,seats,profile,depot,shift_start,shift_end\n"
        "BUS-1,28,bus,Test depot,03:30,13:00\nMB-9,8,minibus,Test depot,03:00,12:00\n",
        encoding="utf-8",
    )
    assert import_fleet(db, csv_path) == (2, 0)
    assert import_fleet(db, csv_path) == (0, 2)
    bus = db.scalar(select(Vehicle).where(Vehicle.name == "BUS-1"))
    assert bus is not None and bus.seats == 28 and bus.shift_start_min == 210


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("X,8,tractor,Test depot,03:00,12:00", "line 2: profile 'tractor'"),
        ("X,eight,bus,Test depot,03:00,12:00", "line 2: seats 'eight'"),
        ("X,8,bus,Nowhere,03:00,12:00", "line 2: depot 'Nowhere'"),
        ("X,8,bus,Test depot,12:00,03:00", "line 2: shift_end is not after"),
    ],
)
def test_bad_fleet_rows_name_line_and_field(
    db: Session, small_day: dict[str, int], tmp_path: Path, row: str, message: str
) -> None:
    csv_path = tmp_path / "fleet.csv"
    csv_path.write_text(
        f"name,seats,profile,depot,shift_start,shift_end\n{row}\n", encoding="utf-8"
    )
    with pytest.raises(InputDataError, match=message):
        import_fleet(db, csv_path)
    assert db.scalar(select(Vehicle).where(Vehicle.name == "X")) is None


def test_recorded_outcome_marks_bookings_completed_or_no_show(
    db: Session, small_day: dict[str, int], tiny_graphs: dict[str, RoadGraph]
) -> None:
    from mobility.dispatch import record_outcome

    rode, missed = book(db, small_day, 3), book(db, small_day, 2)
    plan_day(db, DAY, loader(tiny_graphs), settings=QUICK)
    publish_plan(db, DAY)
    plan = latest_plan(db, DAY)
    assert plan is not None
    first_stop = plan.routes[0].stops[1]
    counts = record_outcome(
        db,
        DAY,
        boarded={rode.code: True, missed.code: False},
        stop_times={first_stop.id: (5 * 60 + 2, 5 * 60 + 5)},
    )
    assert counts == {"completed": 1, "no_show": 1}
    db.refresh(rode)
    db.refresh(missed)
    db.refresh(first_stop)
    assert rode.status is BookingStatus.COMPLETED and missed.status is BookingStatus.NO_SHOW
    assert first_stop.actual_arrival_min == 302
    with pytest.raises(ServiceError, match="not a booking of that day"):
        record_outcome(db, DAY, boarded={"ZZZZZZZ": True})


def test_the_region_s_figures_count_the_recorded_day(
    db: Session, small_day: dict[str, int], tiny_graphs: dict[str, RoadGraph]
) -> None:
    from mobility.config import UnitCosts
    from mobility.dispatch import record_outcome
    from mobility.outputs import Period, region_figures

    bookings = [book(db, small_day, s) for s in (3, 2, 4)]
    book(db, small_day, 5, to="F")  # stays requested: booked, not served
    plan_day(db, DAY, loader(tiny_graphs), settings=QUICK)
    publish_plan(db, DAY)
    record_outcome(
        db, DAY, boarded={bookings[0].code: True, bookings[1].code: True, bookings[2].code: False}
    )
    f = region_figures(db, Period(DAY, DAY), costs=UnitCosts(), timezone="Europe/Rome")
    assert (f["rides"]["completed_bookings"], f["rides"]["completed_seats"]) == (2, 5)
    assert f["outcomes"]["no_show_bookings"] == 1
    (farm,) = [r for r in f["by_destination_kind"] if r["destination_kind"] == "farm"]
    assert farm["booked_seats"] == 3 + 2 + 4 + 5 and farm["completed_seats"] == 5
    assert f["vehicles"]["vehicle_km"] > 0 and f["services"] == []
    text = json.dumps(f)
    assert all(b.code not in text for b in bookings)  # counts only


def test_demo_generator_is_reproducible_from_its_seed() -> None:
    from mobility.demo import synthetic_crews, synthetic_farms

    assert synthetic_crews(600, 30, seed=5) == synthetic_crews(600, 30, seed=5)
    assert synthetic_farms(30, seed=5) == synthetic_farms(30, seed=5)
    assert synthetic_crews(600, 30, seed=5) != synthetic_crews(600, 30, seed=6)
    crews = synthetic_crews(600, 30, seed=5)
    assert sum(c.seats for c in crews) == 600
    assert all(1 <= c.seats <= 28 for c in crews)
    assert all(270 <= c.arrive_by_min <= 390 for c in crews)
    assert sum(c.seats for c in crews if c.seats >= 5) > 0.7 * 600  # most in crews
    assert all("synthetic" in f.name for f in synthetic_farms(30, seed=5))


def test_manual_edits_move_lock_and_unassign(
    db: Session, small_day: dict[str, int], tiny_graphs: dict[str, RoadGraph]
) -> None:
    LEFT_UNASSIGNED = UnservedReason.LEFT_UNASSIGNED

    db.add(Vehicle(name="MB-2", seats=8, profile=Profile.MINIBUS, depot_stop_id=small_day["B"]))
    db.commit()
    a, b, c = book(db, small_day, 3), book(db, small_day, 2), book(db, small_day, 2, time_min=420)
    plan_day(db, DAY, loader(tiny_graphs), settings=QUICK)
    from mobility.store import PlanKind, PlanRun

    plan_before = latest_plan(db, DAY)
    preview = plan_day(
        db,
        DAY,
        loader(tiny_graphs),
        settings=QUICK,
        kind=PlanKind.PREVIEW,
        moves={a.code: "MB-2"},
    )
    assert preview.moved == {a.code: "MB-2"}
    assert preview.figures.violations == ()
    run = db.get(PlanRun, preview.plan_id)
    assert run is not None and run.kind is PlanKind.PREVIEW and run.routes == []
    assert latest_plan(db, DAY) == plan_before  # a preview stores no plan
    saved = plan_day(
        db, DAY, loader(tiny_graphs), settings=QUICK, moves={a.code: "MB-2", c.code: None}
    )
    assert saved.moved == {a.code: "MB-2", c.code: LEFT_UNASSIGNED}
    # the figures stored and shown count the booking left out, with its reason
    assert saved.figures.unserved_reasons == {"left_unassigned": 1}
    assert saved.figures.seats == 7 and saved.figures.unserved_seats == 2
    stored = latest_plan(db, DAY)
    assert stored is not None and run_figures(stored) == saved.figures
    doc = export_plan(db, DAY)
    rides = {e["code"]: e for e in doc["bookings"]}
    assert rides[a.code]["vehicles"] == ["MB-2"]
    assert rides[c.code]["status"] == "unserved" and rides[c.code]["reason"] == LEFT_UNASSIGNED
    # lock MB-2: exactly its bookings stay on it; c, no longer held back, is planned again
    before = {e["code"] for e in doc["bookings"] if "MB-2" in e["vehicles"]}
    locked = plan_day(db, DAY, loader(tiny_graphs), settings=QUICK, locked={"MB-2"})
    assert locked.figures.violations == ()
    doc = export_plan(db, DAY)
    after = {e["code"] for e in doc["bookings"] if "MB-2" in e["vehicles"]}
    assert a.code in before and after == before
    assert {e["code"]: e["status"] for e in doc["bookings"]}[c.code] == "requested"
    del b
    with pytest.raises(ServiceError, match="no active vehicle"):
        plan_day(
            db,
            DAY,
            loader(tiny_graphs),
            settings=QUICK,
            kind=PlanKind.PREVIEW,
            moves={a.code: "MB-9"},
        )


def test_sheets_command_writes_one_pdf_for_the_day(
    db: Session,
    small_day: dict[str, int],
    tiny_graphs: dict[str, RoadGraph],
    tiny_osm: Path,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import shutil
    import subprocess

    from mobility.cli import main

    booking = book(db, small_day, 3)
    plan_day(db, DAY, loader(tiny_graphs), settings=QUICK)
    monkeypatch.setenv("MOBILITY_DATABASE_URL", database_url)
    monkeypatch.setenv("MOBILITY_OSM_PATH", str(tiny_osm))
    out = tmp_path / "sheets.pdf"
    assert main(["sheets", "--date", DAY.isoformat(), "--out", str(out), "--lang", "en"]) == 0
    assert "one per page" in capsys.readouterr().out
    assert shutil.which("pdftotext"), "poppler-utils is missing: run `make system-deps`"
    text = subprocess.run(
        ["pdftotext", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Route sheet" in text and "MB-1" in text and booking.code in text
    assert main(["sheets", "--date", "2001-01-01", "--out", str(out)]) == 2


def test_a_published_pickup_is_when_the_crews_boarding_starts_not_the_departure(
    db: Session, small_day: dict[str, int], tiny_graphs: dict[str, RoadGraph]
) -> None:
    vehicle = db.scalar(select(Vehicle))
    assert vehicle is not None
    vehicle.profile, vehicle.seats = Profile.BUS, 50
    db.commit()
    crews = [book(db, small_day, 28), book(db, small_day, 6), book(db, small_day, 9, time_min=370)]
    plan_day(db, DAY, loader(tiny_graphs), settings=QUICK)
    publish_plan(db, DAY)
    plan = latest_plan(db, DAY)
    assert plan is not None
    (route,) = plan.routes
    for crew in crews:
        db.refresh(crew)
        (stop,) = [
            s for s in route.stops if any(m.booking_id == crew.id and m.boarding for m in s.moves)
        ]
        (move,) = [m for m in stop.moves if m.booking_id == crew.id and m.boarding]
        assert move.start_s is not None and crew.pickup_time_min == move.start_s // 60
        told = crew.pickup_time_min * 60
        own = 60 + 10 * crew.seats
        assert stop.arrival_s - 60 < told <= move.start_s, "the vehicle is there at the time told"
        assert stop.departure_s >= move.start_s + own, "it leaves after the crew has boarded"
    # with three crews boarding at one stop, the last is told well before the departure
    assert max(c.pickup_time_min * 60 for c in crews) < route.stops[1].departure_s - 60
