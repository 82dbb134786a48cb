"""The Region's figures on a hand-made week, where each one is computed by hand:
two days, two vehicles, a service ride, taps with and without an odometer, a
no-show, a missed ride, a late cancellation, an unserved booking; then suppression,
the CSV and the PDF (pdftotext and pdfimages)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from mobility.bookings import register_worker
from mobility.clock import zone
from mobility.codes import UnservedReason
from mobility.config import UnitCosts
from mobility.outputs import (
    figures_csv,
    month_period,
    period_of,
    region_figures,
    render_region_pdf,
    suppressed,
)
from mobility.store import (
    Booking,
    BookingStatus,
    Direction,
    PlanKind,
    PlanMove,
    PlanRoute,
    PlanRun,
    PlanStatus,
    PlanStop,
    Profile,
    RoadEvent,
    ServiceCategory,
    Stop,
    StopKind,
    Vehicle,
)

MONDAY = dt.date(2026, 7, 6)
TUESDAY = MONDAY + dt.timedelta(days=1)
ROME = zone("Europe/Rome")
COSTS = UnitCosts(per_km=0.5, per_driver_hour=20.0, per_vehicle_day=50.0)
H = 3600


def _at(day: dt.date, seconds: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), ROME) + dt.timedelta(seconds=seconds)


@pytest.fixture
def week(db: Session) -> dict[str, Any]:
    stops = {}
    for key, kind in [
        ("Depot One", StopKind.DEPOT),
        ("Depot Two", StopKind.DEPOT),
        ("Camp North", StopKind.SETTLEMENT),
        ("Camp South", StopKind.SETTLEMENT),
        ("Farm", StopKind.FARM),
    ]:
        stops[key] = Stop(name=key, kind=kind, lat=41.4, lon=15.5)
    stops["Hospital"] = Stop(
        name="Hospital",
        kind=StopKind.SERVICE,
        category=ServiceCategory.HOSPITAL,
        lat=41.4,
        lon=15.5,
    )
    db.add_all(stops.values())
    db.flush()
    v1 = Vehicle(name="V1", seats=8, profile=Profile.MINIBUS, depot_stop_id=stops["Depot One"].id)
    v2 = Vehicle(name="V2", seats=8, profile=Profile.MINIBUS, depot_stop_id=stops["Depot Two"].id)
    db.add_all([v1, v2])
    db.flush()
    workers = [register_worker(db)[0] for _ in range(8)]

    def booking(
        n: int, day: dt.date, frm: str, to: str, seats: int, status: BookingStatus, **kw: Any
    ) -> Booking:
        b = Booking(
            code=f"B{n:06d}",
            worker_id=workers[n].id,
            service_date=day,
            direction=Direction.TO_WORK,
            from_stop_id=stops[frm].id,
            to_stop_id=stops[to].id,
            time_min=6 * 60,
            seats=seats,
            status=status,
            **kw,
        )
        db.add(b)
        db.flush()
        return b

    # Monday: V1 takes b1 (4) and b2 (2) from Camp North to the farm; b2 is a no-show
    b1 = booking(1, MONDAY, "Camp North", "Farm", 4, BookingStatus.COMPLETED, pickup_time_min=300)
    b2 = booking(2, MONDAY, "Camp North", "Farm", 2, BookingStatus.NO_SHOW, pickup_time_min=300)
    booking(
        3, MONDAY, "Camp South", "Farm", 3, BookingStatus.UNSERVED, reason=UnservedReason.FLEET_FULL
    )
    booking(4, MONDAY, "Camp South", "Farm", 2, BookingStatus.CANCELLED, pickup_time_min=310)
    booking(5, MONDAY, "Camp South", "Farm", 5, BookingStatus.CANCELLED)  # in time: not counted
    # Tuesday: V2 takes b6 (1 seat to the hospital, missed) and b7 (2, boarded 12 min late)
    b6 = booking(
        6, TUESDAY, "Camp South", "Hospital", 1, BookingStatus.SCHEDULED, pickup_time_min=480
    )
    b7 = booking(7, TUESDAY, "Camp South", "Farm", 2, BookingStatus.COMPLETED, pickup_time_min=480)

    def plan(
        day: dt.date,
        vehicle: Vehicle,
        km: float,
        stops_: list[tuple[str, int, int, int, list[tuple[Booking, bool, int]]]],
    ) -> None:
        figures = {"served_bookings": 2, "mean_ride_over_direct": 1.2 if day == MONDAY else 1.5}
        run = PlanRun(
            service_date=day,
            status=PlanStatus.DONE,
            kind=PlanKind.PLAN,
            figures=json.dumps(figures),
            published_version=1,
        )
        route = PlanRoute(vehicle_id=vehicle.id, distance_m=km * 1000, driving_s=H)
        run.routes.append(route)
        for seq, (name, arr, dep, load, moves) in enumerate(stops_):
            stop = PlanStop(
                seq=seq, stop_id=stops[name].id, arrival_s=arr, departure_s=dep, load_after=load
            )
            stop.moves = [
                PlanMove(booking_id=b.id, boarding=on, seats=n, start_s=arr if on else None)
                for b, on, n in moves
            ]
            route.stops.append(stop)
        db.add(run)

    plan(
        MONDAY,
        v1,
        40.0,
        [
            ("Depot One", 4 * H, 4 * H, 0, []),
            ("Camp North", 5 * H, 5 * H + 120, 6, [(b1, True, 4), (b2, True, 2)]),
            ("Farm", 5 * H + 1800, 5 * H + 1920, 0, [(b1, False, 4), (b2, False, 2)]),
            ("Depot One", 6 * H, 6 * H, 0, []),
        ],
    )
    plan(
        TUESDAY,
        v2,
        30.0,
        [
            ("Depot Two", 7 * H, 7 * H, 0, []),
            ("Camp South", 8 * H, 8 * H + 120, 3, [(b6, True, 1), (b7, True, 2)]),
            ("Farm", 8 * H + 1800, 8 * H + 1860, 1, [(b7, False, 2)]),
            ("Hospital", 8 * H + 2700, 8 * H + 2760, 0, [(b6, False, 1)]),
            ("Depot Two", 9 * H + 1200, 9 * H + 1200, 0, []),
        ],
    )

    def tap(key: str, day: dt.date, vehicle: Vehicle, kind: str, seconds: int, **kw: Any) -> None:
        db.add(
            RoadEvent(
                key=key,
                service_date=day,
                vehicle_id=vehicle.id,
                kind=kind,
                phone_at=_at(day, seconds).astimezone(dt.UTC),
                **kw,
            )
        )

    tap("m-start", MONDAY, v1, "shift_start", 4 * H - 300, odometer_km=1000.0)
    tap("m-arr", MONDAY, v1, "arrived", 5 * H + 180, stop_seq=1)
    tap("m-b1", MONDAY, v1, "boarded", 5 * H + 240, stop_seq=1, booking_id=b1.id, seats=4)
    tap("m-ns", MONDAY, v1, "no_show", 5 * H + 600, stop_seq=1, booking_id=b2.id)
    tap("m-dep", MONDAY, v1, "departed", 5 * H + 660, stop_seq=1)
    tap("m-alight", MONDAY, v1, "alighted", 5 * H + 2100, stop_seq=2, booking_id=b1.id, seats=4)
    tap("m-end", MONDAY, v1, "shift_end", 6 * H + 600, odometer_km=1042.0)
    tap("t-b7", TUESDAY, v2, "boarded", 8 * H + 720, stop_seq=1, booking_id=b7.id, seats=2)
    tap("t-end", TUESDAY, v2, "shift_end", 9 * H + 1300)  # no odometer: the plan's km
    db.commit()
    return {"workers": workers}


def figures(db: Session, **kw: Any) -> dict[str, Any]:
    return region_figures(db, month_period("2026-07"), costs=COSTS, timezone="Europe/Rome", **kw)


def test_each_figure_is_what_its_definition_says(db: Session, week: dict[str, Any]) -> None:
    f = figures(db)
    assert f["rides"] == {
        "booked_bookings": 6,  # b5 was cancelled before it was published
        "booked_seats": 4 + 2 + 3 + 2 + 1 + 2,
        "served_bookings": 4,
        "served_seats": 4 + 2 + 1 + 2,
        "completed_bookings": 2,
        "completed_seats": 6,
        "unique_workers": 2,
        "cancelled_late_bookings": 1,
    }
    assert f["outcomes"]["no_show_bookings"] == 1 and f["outcomes"]["no_show_rate"] == 0.25
    assert f["outcomes"]["missed_by_service_bookings"] == 1
    assert f["outcomes"]["missed_by_service_rate"] == 0.25
    assert f["unserved"] == {"bookings": 1, "seats": 3, "reasons": {"fleet_full": 1}}
    p = f["punctuality"]
    assert p["on_time_rate"] == 0.5  # 4 minutes late is on time, 12 is not
    assert p["mean_wait_min"] == 8.0
    assert p["mean_ride_min"] == round((31 + 30) / 2, 1)  # taps for b1, the plan for b7
    assert p["mean_ride_over_direct"] == 1.35
    v = f["vehicles"]
    assert v["vehicle_days"] == 2 and v["odometer_share"] == 0.5
    assert v["vehicle_km"] == 42 + 30  # the odometer on Monday, the plan on Tuesday
    # Monday's shift as tapped (2 h 15), Tuesday's as planned (2 h 20)
    assert v["vehicle_hours"] == round(2.25 + 140 / 60, 1)
    hours = 2.25 + 140 / 60
    assert v["passengers_per_vehicle_hour"] == round(6 / hours, 2)
    # Monday: 60 + 28 of 116 planned minutes empty; Tuesday: 60 + 34 of 136
    assert v["deadhead_km"] == round(42 * 88 / 116 + 30 * 94 / 136, 1)
    assert v["deadhead_hours"] == round(88 / 116 + 94 / 136, 1)  # of one hour's driving each
    # planned seat-minutes: Monday 6 seats x 28 min, Tuesday 3 x 28 + 1 x 14, of 8 seats
    assert v["seat_occupancy"] == round((6 * 28 + 3 * 28 + 14) * 60 / (8 * (116 + 136) * 60), 3)
    c = f["cost"]
    total = 72 * 0.5 + v["vehicle_hours"] * 20 + 2 * 50
    assert c["total_eur"] == round(total, 2)
    assert c["per_ride_eur"] == round(total / 6, 2) and c["per_worker_eur"] == round(total / 2, 2)
    assert f["period"]["days_operated"] == 2 and f["period"]["heat_ban_days"] == []
    assert [d["date"] for d in f["by_day"]] == ["2026-07-06", "2026-07-07"]
    assert f["by_day"][1] == {"date": "2026-07-07", "work_seats": 2, "service_seats": 0}
    assert [s["category"] for s in f["services"]] == ["hospital"]
    assert f["services"][0]["missed_by_service_bookings"] == 1
    depots = {d["depot"]: d for d in f["by_depot"]}
    assert depots["Depot One"]["vehicle_km"] == 42 and depots["Depot Two"]["vehicle_km"] == 30
    only = figures(db, depot="Depot Two")
    assert only["rides"]["served_bookings"] == 2 and only["vehicles"]["vehicle_days"] == 1


def test_counts_under_five_people_leave_the_hub_as_less_than_five(
    db: Session, week: dict[str, Any]
) -> None:
    out = suppressed(figures(db))
    assert out["rides"]["completed_bookings"] == "< 5"
    assert out["rides"]["completed_seats"] == 6 and out["rides"]["booked_seats"] == 14
    assert out["outcomes"]["no_show_rate"] == "< 5"  # a rate over 4 bookings
    assert out["unserved"]["reasons"] == {"fleet_full": "< 5"}
    assert all(row["booked_bookings"] == "< 5" for row in out["by_settlement"])
    assert out["vehicles"]["vehicle_km"] == 72  # not people
    text = figures_csv(out)
    assert "rides,,completed_bookings,< 5" in text and "rides,,completed_seats,6" in text


def test_the_pdf_has_its_headline_figures_and_a_chart_for_each_table(
    db: Session, week: dict[str, Any], tmp_path: Path
) -> None:
    if not (shutil.which("pdftotext") and shutil.which("pdfimages")):
        pytest.fail("poppler-utils is missing: run `make system-deps`")
    out = suppressed(figures(db))
    path = tmp_path / "report.pdf"
    path.write_bytes(render_region_pdf(out, language="it"))
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "2026-07-01" in text and "2026-07-31" in text
    assert str(out["cost"]["total_eur"]).split(".")[0] in text.replace(" ", "")
    assert "< 5" in text
    images = subprocess.run(
        ["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True
    ).stdout
    charts = [line for line in images.splitlines()[2:] if line.split()[2] == "image"]
    assert len(charts) == 6
    arabic = tmp_path / "report-ar.pdf"
    arabic.write_bytes(render_region_pdf(out, language="ar"))
    text = subprocess.run(
        ["pdftotext", str(arabic), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert any("\u0600" <= ch <= "\u06ff" or "\ufe70" <= ch <= "\ufeff" for ch in text)


def test_periods_are_days_weeks_months_and_the_season() -> None:
    day = dt.date(2026, 7, 8)  # a Wednesday
    assert period_of("week", day).first == MONDAY
    assert period_of("month", day).last == dt.date(2026, 7, 31)
    season = period_of("season", day)
    assert (season.first, season.last) == (dt.date(2026, 6, 1), dt.date(2026, 10, 31))
    with pytest.raises(Exception, match="period"):
        period_of("year", day)
