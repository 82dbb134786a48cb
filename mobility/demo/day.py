"""The main job: a complete demo day, from bookings to published routes and sheets.

``mobility demo`` fills the database with the real places as stops, synthetic farms
on farmland roads (labelled synthetic), a demo fleet at a depot in Foggia, demo
staff accounts and a realistic booked day for tomorrow; then it plans, publishes
and writes the map, the route sheets and the day's figures.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mobility.bookings import BookingRules, RideRequest, register_worker, request_rides
from mobility.demo.data import synthetic_crews, synthetic_farms
from mobility.dispatch import (
    assign_driver,
    create_staff_user,
    driver_names,
    fixed_cost_for_seats,
    latest_plan,
    publish_plan,
    set_staff_password,
)
from mobility.errors import ServiceError
from mobility.jobs import plan_here
from mobility.outputs import plan_map, plan_overview_png, render_sheets_pdf
from mobility.planning import PlanningSettings
from mobility.roads import RoadGraph
from mobility.stops import load_places, load_places_as_stops
from mobility.store import Booking, Profile, StaffUser, Stop, StopKind, Vehicle

__all__ = ["DEMO_SETTLEMENTS", "DemoResult", "run_demo", "seed_demo_day"]

#: Six settlements the demo's workers live in (places_foggia.csv names).
DEMO_SETTLEMENTS: Final = (
    "Borgo Mezzanone",
    "Borgo Tre Titoli",
    "Borgo Libertà",
    "Stornara",
    "Borgo Tressanti",
    "San Severo",
)
DEMO_FLEET: Final = (
    [("MB", 8, Profile.MINIBUS)] * 10
    + [("BUS", 28, Profile.BUS)] * 20
    + [("COACH", 50, Profile.BUS)] * 12
)
DEMO_STAFF: Final = (
    ("admin", "admin"),
    ("dispatcher", "dispatcher"),
    ("mediator", "mediator"),
    ("driver", "driver"),
)


@dataclass(frozen=True)
class DemoResult:
    """What the demo made."""

    day: dt.date
    workers: int
    bookings: int
    figures: dict[str, Any]
    logins: dict[str, str]
    outputs: list[Path]


def seed_demo_day(
    session: Session, day: dt.date, *, seed: int = 7, workers: int = 1200, farms: int = 40
) -> dict[str, int]:
    """Fill the database for a demo day (idempotent for the stops and fleet).

    Returns
    -------
    dict
        Counts: farms, vehicles, workers (people), bookings.
    """
    load_places_as_stops(session, load_places())
    stops = {s.name: s for s in session.scalars(select(Stop))}
    for farm in synthetic_farms(farms, seed=seed):
        if farm.name not in stops:
            stop = Stop(
                name=farm.name,
                kind=StopKind.FARM,
                lat=farm.lat,
                lon=farm.lon,
                active=True,
                synthetic=True,
                note=f"synthetic farm at field edge {farm.source_id}",
            )
            session.add(stop)
            stops[farm.name] = stop
    depot_name = "Foggia (centre)"
    for n, (prefix, seats, profile) in enumerate(DEMO_FLEET):
        name = f"{prefix}-{n + 1:02d}"
        if session.scalar(select(Vehicle).where(Vehicle.name == name)) is None:
            session.add(
                Vehicle(
                    name=name,
                    seats=seats,
                    profile=profile,
                    depot_stop_id=stops[depot_name].id,
                    shift_start_min=3 * 60,
                    shift_end_min=20 * 60,
                    fixed_cost=fixed_cost_for_seats(seats),
                )
            )
    session.commit()
    farm_stops = sorted((s for s in stops.values() if s.synthetic), key=lambda s: s.name)
    by_settlement = {
        s: next(v for k, v in stops.items() if k.startswith(s)) for s in DEMO_SETTLEMENTS
    }
    crews = synthetic_crews(workers, len(farm_stops), seed=seed, settlements=DEMO_SETTLEMENTS)
    rng = np.random.default_rng(seed + 1)
    rules = BookingRules()
    # booked yesterday afternoon, before the cut-off
    booked_at = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(15, 0), rules.zone)
    made = 0
    for crew in crews:
        leader, _ = register_worker(
            session, language=str(rng.choice(["fr", "en", "ar", "it", "ro", "bg"]))
        )
        back = 12 * 60 + 30 if rng.random() < 0.3 else 17 * 60
        ride = RideRequest(
            service_date=day,
            from_stop_id=by_settlement[crew.settlement].id,
            to_stop_id=farm_stops[crew.farm].id,
            time_min=crew.arrive_by_min,
            seats=crew.seats,
            return_time_min=back,
        )
        made += len(request_rides(session, leader, ride, now=booked_at, rules=rules))
    return {
        "farms": len(farm_stops),
        "vehicles": len(DEMO_FLEET),
        "workers": sum(c.seats for c in crews),
        "bookings": made,
    }


def _demo_staff(session: Session, day: dt.date) -> dict[str, str]:
    """Demo accounts with fresh passwords; the driver drives the first vehicle."""
    logins = {}
    for username, role in DEMO_STAFF:
        password = f"demo-{username}-{secrets.token_hex(3)}"
        try:
            create_staff_user(session, username, role, password)
        except ServiceError:  # the account exists: give it the new password
            set_staff_password(session, username, password)
        logins[username] = password
    driver = session.scalar(select(StaffUser).where(StaffUser.username == "driver"))
    first = session.scalar(select(Vehicle).order_by(Vehicle.id))
    if driver and first and first.id not in driver_names(session, day):
        assign_driver(session, day, first.id, driver.id)
    return logins


def run_demo(
    sessions: sessionmaker[Session],
    database_url: str,
    graphs: Callable[[str], RoadGraph],
    out: Path,
    *,
    day: dt.date,
    seed: int = 7,
    workers: int = 1200,
    time_limit_s: float = 60.0,
    say: Callable[[str], None] = print,
) -> DemoResult:
    """Seed, plan and publish; write ``plan_map.html``, ``plan_overview.png``,
    ``route_sheets.pdf`` and ``day.json``. The plan is a run like any other (one per
    day, with a heartbeat)."""
    started = time.perf_counter()
    session = sessions()
    try:
        already = session.scalar(select(Booking.id).where(Booking.service_date == day).limit(1))
        if already is None:
            counts = seed_demo_day(session, day, seed=seed, workers=workers)
            say(
                f"seeded {counts['workers']} workers in {counts['bookings']} bookings, "
                f"{counts['farms']} synthetic farms, {counts['vehicles']} vehicles"
            )
        else:
            say(f"bookings for {day} exist already: planning them again")
        logins = _demo_staff(session, day)
        outcome = plan_here(
            sessions,
            database_url,
            day,
            graphs,
            PlanningSettings(time_limit_s=time_limit_s),
            progress=lambda msg: say(f"... {msg}"),
        )
        version = publish_plan(session, day)
        say(f"published plan #{outcome.plan_id} (version {version})")
        outputs = _write_outputs(session, graphs, day, out)
        figures = outcome.figures.to_dict()
        figures["date"] = day.isoformat()
        figures["seconds"] = round(time.perf_counter() - started, 1)
        day_path = out / "day.json"
        day_path.write_text(json.dumps(figures, indent=1), encoding="utf-8")
        bookings = len(list(session.scalars(select(Booking.id).where(Booking.service_date == day))))
    finally:
        session.close()
    return DemoResult(day, workers, bookings, figures, logins, [*outputs, day_path])


def _write_outputs(
    session: Session, graphs: Callable[[str], RoadGraph], day: dt.date, out: Path
) -> list[Path]:
    """The plan's map, overview picture and route sheets."""
    run = latest_plan(session, day)
    assert run is not None
    out.mkdir(parents=True, exist_ok=True)
    map_path = out / "plan_map.html"
    plan_map(run, graphs).save(str(map_path))
    overview_path = out / "plan_overview.png"
    overview_path.write_bytes(plan_overview_png(run, graphs))
    sheets_path = out / "route_sheets.pdf"
    sheets_path.write_bytes(
        render_sheets_pdf(run, list(run.routes), graphs, language="it", hub_phone="+39 0881 000000")
    )
    return [map_path, overview_path, sheets_path]
