"""The main job: a complete demo day, from bookings to published routes and sheets.

``mobility demo`` fills the database with the real places as stops, synthetic farms
at field edges (labelled synthetic), a fleet at four depots, demo staff accounts
and a realistic peak day booked for tomorrow (:mod:`mobility.demo.peak`); then it plans, publishes
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
from mobility.config import Config
from mobility.demo.peak import peak_day
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
from mobility.outputs import plan_map_html, plan_overview_png, render_sheets_pdf
from mobility.roads import RoadGraph
from mobility.stops import load_places, load_places_as_stops, worker_name
from mobility.store import Booking, BookingStatus, Profile, StaffUser, Stop, StopKind, Vehicle

__all__ = ["DemoResult", "run_demo", "seed_demo_day"]

#: Workers per vehicle of the demo's fleet (a hub with room to spare: the peak day
#: of the bench has 50).
WORKERS_PER_VEHICLE: Final = 30
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
    session: Session,
    day: dt.date,
    graphs: Callable[[str], RoadGraph],
    *,
    rules: BookingRules,
    seed: int = 7,
    workers: int = 1200,
    vehicles: int | None = None,
) -> dict[str, int]:
    """Fill the database for a demo day: a realistic peak day
    (:func:`mobility.demo.peak_day`: crews near home, both waves, a fleet at four
    depots). Stops and vehicles already there are kept (idempotent).

    ``vehicles``: the fleet (default: one per :data:`WORKERS_PER_VEHICLE` workers).

    Returns
    -------
    dict
        Counts: farms, vehicles, workers (people), bookings.
    """
    peak = peak_day(
        seed,
        graphs("minibus"),
        workers=workers,
        vehicles=vehicles or max(4, round(workers / WORKERS_PER_VEHICLE)),
        bus_graph=graphs("bus"),
    )
    load_places_as_stops(session, load_places())
    stops = {s.name: s for s in session.scalars(select(Stop))}
    for farm in peak.farms:
        if farm.name not in stops:
            stops[farm.name] = Stop(
                name=farm.name,
                kind=StopKind.FARM,
                lat=farm.lat,
                lon=farm.lon,
                active=True,
                synthetic=True,
                note="synthetic farm at a field edge" + (" (minibus only)" * farm.minibus_only),
            )
            session.add(stops[farm.name])
    for v in peak.fleet:
        if session.scalar(select(Vehicle).where(Vehicle.name == v.name)) is None:
            session.add(
                Vehicle(
                    name=v.name,
                    seats=v.seats,
                    profile=Profile(v.profile),
                    depot_stop_id=stops[worker_name(v.depot)].id,
                    shift_start_min=v.shift_start_min,
                    shift_end_min=v.shift_end_min,
                    fixed_cost=fixed_cost_for_seats(v.seats),
                )
            )
    session.commit()
    rng = np.random.default_rng(seed + 1)
    # booked yesterday afternoon, before the cut-off
    booked_at = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(15, 0), rules.zone)
    made = 0
    for crew in peak.crews:
        leader, _ = register_worker(
            session, language=str(rng.choice(["fr", "en", "ar", "it", "ro", "bg"]))
        )
        farm = peak.farms[crew.farm]
        ride = RideRequest(
            service_date=day,
            from_stop_id=stops[worker_name(peak.places[crew.settlement].name)].id,
            to_stop_id=stops[farm.name].id,
            time_min=farm.starts_min,
            seats=crew.seats,
            return_time_min=farm.ends_min,
        )
        made += len(request_rides(session, leader, ride, now=booked_at, rules=rules))
    return {
        "farms": len(peak.farms),
        "vehicles": len(peak.fleet),
        "workers": peak.workers,
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
    config: Config,
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
            counts = seed_demo_day(
                session, day, graphs, rules=config.booking, seed=seed, workers=workers
            )
            say(
                f"seeded {counts['workers']} workers in {counts['bookings']} bookings, "
                f"{counts['farms']} synthetic farms, {counts['vehicles']} vehicles"
            )
        else:
            say(f"bookings for {day} exist already: planning them again")
        logins = _demo_staff(session, day)
        outcome = plan_here(
            sessions,
            config.database_url,
            day,
            graphs,
            config.planning.with_time_limit(time_limit_s),
            progress=lambda msg: say(f"... {msg}"),
        )
        version = publish_plan(session, day)
        say(f"published plan #{outcome.plan_id} (version {version})")
        outputs = _write_outputs(session, graphs, day, out, config.hub_phone)
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
    session: Session, graphs: Callable[[str], RoadGraph], day: dt.date, out: Path, hub_phone: str
) -> list[Path]:
    """The plan's map, overview picture and route sheets."""
    run = latest_plan(session, day)
    assert run is not None
    out.mkdir(parents=True, exist_ok=True)
    map_path = out / "plan_map.html"
    unserved = session.scalars(
        select(Booking).where(Booking.service_date == day, Booking.status == BookingStatus.UNSERVED)
    )
    map_path.write_text(plan_map_html(run, graphs, list(unserved)), encoding="utf-8")
    overview_path = out / "plan_overview.png"
    overview_path.write_bytes(plan_overview_png(run, graphs))
    sheets_path = out / "route_sheets.pdf"
    sheets_path.write_bytes(
        render_sheets_pdf(run, list(run.routes), graphs, language="it", hub_phone=hub_phone)
    )
    return [map_path, overview_path, sheets_path]
