"""Use cases of the hub's staff: fleet, staff accounts, planning a day, publishing.

Like :mod:`mobility.services`, every function takes a session and primitives and
commits explicitly. A planning run writes its plan in one transaction at the end:
a run that fails leaves the previous plan and every booking as they were.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from mobility.clock import hhmm, parse_hhmm, seconds_hhmm
from mobility.errors import InputDataError
from mobility.planning import (
    BookingRow,
    FleetVehicle,
    PlanningSettings,
    ProfileMatrix,
    StopPoint,
    plan_bookings,
    profile_matrix,
)
from mobility.roadgraph import RoadGraph
from mobility.services import ServiceError
from mobility.store import (
    ACTIVE_STATUSES,
    AuditLog,
    Booking,
    BookingStatus,
    PlanMove,
    PlanRoute,
    PlanRun,
    PlanStatus,
    PlanStop,
    Profile,
    Role,
    StaffUser,
    Stop,
    Vehicle,
    utcnow,
)
from optimizer.solve import SolverParams

__all__ = [
    "PlanOutcome",
    "create_staff_user",
    "export_plan",
    "import_fleet",
    "latest_plan",
    "log_access",
    "plan_day",
    "publish_plan",
]

GraphLoader = Callable[[str], RoadGraph]


def log_access(session: Session, user_id: int | None, action: str, detail: str = "") -> None:
    """Record that staff read or exported personal data (committed with the caller)."""
    session.add(AuditLog(user_id=user_id, action=action, detail=detail[:300]))


def create_staff_user(session: Session, username: str, role: str, password: str) -> StaffUser:
    """Create a staff account with a hashed password.

    Raises
    ------
    ServiceError
        For an unknown role, a taken name or a password under 10 characters.
    """
    try:
        staff_role = Role(role)
    except ValueError:
        raise ServiceError(
            "role", "bad_role", f"role: must be one of {[r.value for r in Role]}"
        ) from None
    if not username.strip():
        raise ServiceError("username", "required", "username: required")
    if len(password) < 10:
        raise ServiceError("password", "weak_password", "password: at least 10 characters")
    if session.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None:
        raise ServiceError("username", "taken", f"username: {username!r} exists already")
    user = StaffUser(
        username=username.strip(), password_hash=generate_password_hash(password), role=staff_role
    )
    session.add(user)
    session.commit()
    return user


def _minutes(text: str, field: str, line: int) -> int:
    minutes = parse_hhmm(text)
    if minutes is None:
        raise InputDataError(f"fleet line {line}: {field} {text!r} is not a time of day HH:MM")
    return minutes


def import_fleet(session: Session, path: Path) -> tuple[int, int]:
    """Load or update vehicles from ``name,seats,profile,depot,shift_start,shift_end``.

    The depot is a stop name. All rows are checked before anything is written.

    Returns
    -------
    tuple
        Vehicles added and vehicles updated.

    Raises
    ------
    InputDataError
        Naming the line and the field.
    """
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            expected = ["name", "seats", "profile", "depot", "shift_start", "shift_end"]
            if [h.strip() for h in (reader.fieldnames or [])] != expected:
                raise InputDataError(f"{path}: the header must be {','.join(expected)}")
            rows = list(reader)
    except FileNotFoundError:
        raise InputDataError(f"{path}: no such file") from None
    stops = {s.name: s for s in session.scalars(select(Stop))}
    parsed = []
    for line, row in enumerate(rows, start=2):
        name = (row["name"] or "").strip()
        if not name:
            raise InputDataError(f"fleet line {line}: name is empty")
        try:
            seats = int(row["seats"])
        except (TypeError, ValueError):
            raise InputDataError(
                f"fleet line {line}: seats {row['seats']!r} is not a number"
            ) from None
        if not 1 <= seats <= 90:
            raise InputDataError(f"fleet line {line}: seats {seats} is out of range 1-90")
        try:
            profile = Profile((row["profile"] or "").strip())
        except ValueError:
            raise InputDataError(
                f"fleet line {line}: profile {row['profile']!r} is not minibus or bus"
            ) from None
        depot = stops.get((row["depot"] or "").strip())
        if depot is None or not depot.is_placed:
            raise InputDataError(f"fleet line {line}: depot {row['depot']!r} is not a placed stop")
        start = _minutes(row["shift_start"] or "", "shift_start", line)
        end = _minutes(row["shift_end"] or "", "shift_end", line)
        if end <= start:
            raise InputDataError(f"fleet line {line}: shift_end is not after shift_start")
        parsed.append((name, seats, profile, depot.id, start, end))
    existing = {v.name: v for v in session.scalars(select(Vehicle))}
    added = updated = 0
    for name, seats, profile, depot_id, start, end in parsed:
        vehicle = existing.get(name)
        if vehicle is None:
            vehicle = Vehicle(name=name)
            session.add(vehicle)
            added += 1
        else:
            updated += 1
        vehicle.seats, vehicle.profile, vehicle.depot_stop_id = seats, profile, depot_id
        vehicle.shift_start_min, vehicle.shift_end_min, vehicle.active = start, end, True
        vehicle.fixed_cost = 1 if seats <= 9 else (2 if seats <= 30 else 3)
    session.commit()
    return added, updated


# --------------------------------------------------------------------------- planning


@dataclass(frozen=True)
class PlanOutcome:
    """What a planning run produced.

    ``plan_id`` is -1 for a preview that was not saved; ``moved`` tells, for each
    booking a dispatcher moved, the vehicles it now rides or why it does not ride.
    """

    plan_id: int
    figures: dict[str, Any]
    moved: dict[str, str] = field(default_factory=dict)


def latest_plan(session: Session, service_date: dt.date) -> PlanRun | None:
    """The newest successful planning run of a day."""
    return session.scalar(
        select(PlanRun)
        .where(PlanRun.service_date == service_date, PlanRun.status == PlanStatus.DONE)
        .order_by(PlanRun.id.desc())
        .limit(1)
    )


def _stop_point(stop: Stop) -> StopPoint:
    assert stop.lat is not None and stop.lon is not None
    return StopPoint(stop.id, stop.name, stop.lat, stop.lon)


def plan_day(
    session: Session,
    service_date: dt.date,
    graphs: GraphLoader,
    *,
    settings: PlanningSettings | None = None,
    params: SolverParams | None = None,
    run: PlanRun | None = None,
    progress: Callable[[str], None] | None = None,
    moves: dict[str, str | None] | None = None,
    locked: set[str] | None = None,
    save: bool = True,
) -> PlanOutcome:
    """Plan a day's bookings on the active fleet and store the plan.

    Bookings the plan cannot serve become ``unserved`` with the optimizer's reason;
    served bookings get their planned pickup, shown to workers once published.

    Parameters
    ----------
    session
        Database session.
    service_date
        The day.
    graphs
        Loads a profile's road graph (``"minibus"``, ``"bus"``).
    settings, params
        Planning and solver settings.
    run
        An existing ``running`` PlanRun to fill (the web page's background job);
        one is created otherwise.
    progress
        Called with a short message at each step.
    moves
        Manual edits: booking code -> the vehicle name it must ride, or ``None`` to
        leave it unassigned.
    locked
        Names of vehicles whose routes keep exactly their current bookings.
    save
        Store the plan (otherwise a preview: nothing is written).

    Returns
    -------
    PlanOutcome

    Raises
    ------
    Exception
        Whatever fails is re-raised after marking the run failed; bookings and the
        previous plan are left untouched.
    """
    params = params or SolverParams(time_limit_s=60)
    say = progress or (lambda _msg: None)
    moves = moves or {}
    locked = locked or set()
    if run is None and save:
        run = PlanRun(
            service_date=service_date, status=PlanStatus.RUNNING, time_limit_s=params.time_limit_s
        )
        session.add(run)
        session.commit()
    run_id = run.id if run is not None else -1
    try:
        say("loading bookings and fleet")
        bookings = list(
            session.scalars(
                select(Booking).where(
                    Booking.service_date == service_date,
                    Booking.status.in_([*ACTIVE_STATUSES, BookingStatus.UNSERVED]),
                )
            )
        )
        vehicles = list(
            session.scalars(select(Vehicle).where(Vehicle.active.is_(True)).order_by(Vehicle.id))
        )
        pins, dropped = _manual_pins(session, service_date, bookings, vehicles, moves, locked)
        rows = [
            BookingRow(
                b.id,
                b.code,
                b.direction.value,
                b.from_stop_id,
                b.to_stop_id,
                b.time_min,
                b.seats,
                b.pickup_time_min * 60
                if b.status is BookingStatus.SCHEDULED and b.pickup_time_min is not None
                else None,
                pins.get(b.id),
            )
            for b in bookings
            if b.id not in dropped
        ]
        fleet = [
            FleetVehicle(
                v.id,
                v.name,
                v.seats,
                v.profile.value,
                v.depot_stop_id,
                v.shift_start_min * 60,
                v.shift_end_min * 60,
                v.fixed_cost,
                locked=v.name in locked,
            )
            for v in vehicles
        ]
        stop_ids = (
            {b.from_stop for b in rows} | {b.to_stop for b in rows} | {v.depot_stop for v in fleet}
        )
        stops = [_stop_point(s) for s in session.scalars(select(Stop).where(Stop.id.in_(stop_ids)))]
        say("computing travel times on the road network")
        matrices: dict[str, ProfileMatrix] = {
            profile: profile_matrix(graphs(profile), stops)
            for profile in {v.profile for v in fleet}
        }
        say(f"optimizing routes ({params.time_limit_s:.0f} s)")
        day = plan_bookings(rows, fleet, matrices, settings=settings, params=params)
        names = {v.id: v.name for v in vehicles}
        by_code = {b.code: b for b in bookings}
        moved: dict[str, str] = {}
        for code, target in moves.items():
            b = by_code[code]
            if target is None:
                moved[code] = LEFT_UNASSIGNED
            elif b.id in day.vehicles_of:
                moved[code] = ", ".join(names[v] for v in day.vehicles_of[b.id])
            else:
                moved[code] = day.unserved.get(b.id, "not served")
        if not save:
            return PlanOutcome(-1, day.figures, moved)
        say("saving the plan")
        for b in bookings:
            if b.id in dropped:
                day.unserved[b.id] = LEFT_UNASSIGNED
        _store(session, run_id, day, bookings)
        return PlanOutcome(run_id, day.figures, moved)
    except Exception as exc:
        session.rollback()
        failed = session.get(PlanRun, run_id) if run_id >= 0 else None
        if failed is not None:
            failed.status = PlanStatus.FAILED
            failed.message = f"{type(exc).__name__}: {exc}"[:2000]
            failed.finished_at = utcnow()
            session.commit()
        raise


LEFT_UNASSIGNED = "left unassigned by the dispatcher"


def _manual_pins(
    session: Session,
    service_date: dt.date,
    bookings: list[Booking],
    vehicles: list[Vehicle],
    moves: dict[str, str | None],
    locked: set[str],
) -> tuple[dict[int, int], set[int]]:
    """Booking id -> vehicle id it must ride, and the bookings left unassigned.

    Bookings on a locked route stay on it; a move overrides that.

    Raises
    ------
    ServiceError
        For a booking code not of that day, or an unknown vehicle.
    """
    by_code = {b.code: b for b in bookings}
    by_name = {v.name: v for v in vehicles}
    for name in locked:
        if name not in by_name:
            raise ServiceError("vehicle", "not_found", f"vehicle: no active vehicle {name!r}")
    pins: dict[int, int] = {}
    if locked:
        run = latest_plan(session, service_date)
        for route in run.routes if run else []:
            if route.vehicle.name in locked:
                for stop in route.stops:
                    for move in stop.moves:
                        pins[move.booking_id] = route.vehicle_id
    dropped: set[int] = set()
    for code, target in moves.items():
        booking = by_code.get(code)
        if booking is None:
            raise ServiceError(
                "booking", "not_found", f"booking: {code} is not a booking of that day"
            )
        pins.pop(booking.id, None)
        if target is None:
            dropped.add(booking.id)
        elif target not in by_name:
            raise ServiceError("vehicle", "not_found", f"vehicle: no active vehicle {target!r}")
        else:
            pins[booking.id] = by_name[target].id
    return pins, dropped


def _store(session: Session, run_id: int, day: Any, bookings: list[Booking]) -> None:
    """Write routes, stops and moves, and update bookings, in one transaction."""
    run = session.get(PlanRun, run_id)
    assert run is not None
    for route in day.routes:
        plan_route = PlanRoute(
            vehicle_id=route.vehicle_id, distance_m=route.distance_m, duration_s=route.driving_s
        )
        run.routes.append(plan_route)
        for seq, stop in enumerate(route.stops):
            plan_stop = PlanStop(
                seq=seq,
                stop_id=stop.stop_id,
                arrival_s=stop.arrival_s,
                departure_s=stop.departure_s,
                load_after=stop.load_after,
            )
            plan_route.stops.append(plan_stop)
            for booking_id, seats in stop.board:
                plan_stop.moves.append(PlanMove(booking_id=booking_id, boarding=True, seats=seats))
            for booking_id, seats in stop.alight:
                plan_stop.moves.append(PlanMove(booking_id=booking_id, boarding=False, seats=seats))
    for booking in bookings:
        if booking.id in day.unserved and booking.id not in day.pickups:
            booking.status = BookingStatus.UNSERVED
            booking.reason = day.unserved[booking.id]
        elif booking.status is BookingStatus.UNSERVED:
            booking.status = BookingStatus.REQUESTED  # served now: back in the queue to publish
            booking.reason = None
    run.figures = json.dumps(day.figures)
    run.status = PlanStatus.DONE
    run.progress = "done"
    run.finished_at = utcnow()
    session.commit()


def _plan_pickups(run: PlanRun) -> dict[int, tuple[int, int]]:
    pickups: dict[int, tuple[int, int]] = {}
    for route in run.routes:
        for stop in route.stops:
            for move in stop.moves:
                if move.boarding:
                    pickups.setdefault(move.booking_id, (stop.departure_s, stop.stop_id))
    return pickups


def publish_plan(session: Session, service_date: dt.date) -> int:
    """Publish the day's latest plan: served bookings get pickup time and stop.

    Returns
    -------
    int
        The published version number (1, 2, ... per day).

    Raises
    ------
    ServiceError
        If the day has no plan.
    """
    run = latest_plan(session, service_date)
    if run is None:
        raise ServiceError("date", "no_plan", f"date: no plan for {service_date}")
    pickups = _plan_pickups(run)
    for booking in session.scalars(select(Booking).where(Booking.id.in_(pickups))):
        if booking.status in (BookingStatus.REQUESTED, BookingStatus.LATE, BookingStatus.SCHEDULED):
            seconds, stop_id = pickups[booking.id]
            booking.status = BookingStatus.SCHEDULED
            booking.pickup_time_min = seconds // 60
            booking.pickup_stop_id = stop_id
    previous = session.scalar(
        select(func.max(PlanRun.published_version)).where(PlanRun.service_date == service_date)
    )
    run.published_version = (previous or 0) + 1
    run.published_at = utcnow()
    session.commit()
    return run.published_version


def export_plan(session: Session, service_date: dt.date) -> dict[str, Any]:
    """The stored plan as the JSON document of ``mobility plan --export``."""
    run = latest_plan(session, service_date)
    vehicles_json = []
    names: dict[int, list[str]] = {}
    pickups = _plan_pickups(run) if run else {}
    if run is not None:
        for route in run.routes:
            stops_json = []
            for stop in route.stops:
                board = [
                    {"booking": m.booking.code, "seats": m.seats} for m in stop.moves if m.boarding
                ]
                alight = [
                    {"booking": m.booking.code, "seats": m.seats}
                    for m in stop.moves
                    if not m.boarding
                ]
                for m in stop.moves:
                    if m.boarding:
                        names.setdefault(m.booking_id, [])
                        if route.vehicle.name not in names[m.booking_id]:
                            names[m.booking_id].append(route.vehicle.name)
                stops_json.append(
                    {
                        "stop": stop.stop.name,
                        "lat": stop.stop.lat,
                        "lon": stop.stop.lon,
                        "arrival": seconds_hhmm(stop.arrival_s),
                        "departure": seconds_hhmm(stop.departure_s),
                        "board": board,
                        "alight": alight,
                    }
                )
            vehicles_json.append(
                {
                    "name": route.vehicle.name,
                    "seats": route.vehicle.seats,
                    "profile": route.vehicle.profile.value,
                    "stops": stops_json,
                }
            )
    bookings_json = []
    for b in session.scalars(
        select(Booking).where(Booking.service_date == service_date).order_by(Booking.id)
    ):
        pickup = pickups.get(b.id)
        bookings_json.append(
            {
                "code": b.code,
                "status": b.status.value,
                "direction": b.direction.value,
                "from": b.from_stop.name,
                "to": b.to_stop.name,
                "time": hhmm(b.time_min),
                "seats": b.seats,
                "vehicles": names.get(b.id, []),
                "pickup": seconds_hhmm(pickup[0]) if pickup else None,
                "reason": b.reason,
            }
        )
    return {"date": service_date.isoformat(), "vehicles": vehicles_json, "bookings": bookings_json}


# --------------------------------------------------------------------------- after the day


def record_outcome(
    session: Session,
    service_date: dt.date,
    *,
    boarded: dict[str, bool],
    stop_times: dict[int, tuple[int | None, int | None]] | None = None,
) -> dict[str, int]:
    """Type in a route sheet's results: who boarded, and the real times per stop.

    Parameters
    ----------
    session
        Database session (committed here).
    service_date
        The day.
    boarded
        Booking code -> boarded (True) or no-show (False), for the day's scheduled
        bookings; a no-show is a recorded fact, never a sanction.
    stop_times
        Plan stop id -> (real arrival, real departure) in minutes after midnight.

    Returns
    -------
    dict
        Counts of ``completed`` and ``no_show`` bookings.

    Raises
    ------
    ServiceError
        If a code is not a booking of that day, or a stop not of the day's plan.
    """
    bookings = {
        b.code: b
        for b in session.scalars(select(Booking).where(Booking.service_date == service_date))
    }
    unknown = sorted(set(boarded) - set(bookings))
    if unknown:
        raise ServiceError(
            "booking", "not_found", f"booking: {unknown[0]} is not a booking of that day"
        )
    run = latest_plan(session, service_date)
    stops = {s.id: s for r in (run.routes if run else []) for s in r.stops}
    for stop_id, (arrival, departure) in (stop_times or {}).items():
        if stop_id not in stops:
            raise ServiceError(
                "stop", "not_found", f"stop: {stop_id} is not a stop of that day's plan"
            )
        for value in (arrival, departure):
            if value is not None and not 0 <= value < 24 * 60:
                raise ServiceError("stop", "bad_time", "stop: real times must be times of day")
        stops[stop_id].actual_arrival_min = arrival
        stops[stop_id].actual_departure_min = departure
    counts = {"completed": 0, "no_show": 0}
    for code, rode in boarded.items():
        booking = bookings[code]
        booking.status = BookingStatus.COMPLETED if rode else BookingStatus.NO_SHOW
        counts["completed" if rode else "no_show"] += 1
    session.commit()
    return counts


def monthly_report(
    session: Session, year: int, month: int, graphs: GraphLoader | None = None
) -> list[dict[str, Any]]:
    """Ridership of a month by settlement and destination, for the Region.

    Counts only, no personal data: rides (bookings done or scheduled), seats,
    no-shows, and km (road distance between the two stops by minibus, per ride;
    0 when no road graph is given).
    """
    first = dt.date(year, month, 1)
    after = dt.date(year + (month == 12), month % 12 + 1, 1)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    distance_cache: dict[tuple[int, int], float] = {}
    graph = graphs("minibus") if graphs else None
    counted = (BookingStatus.COMPLETED, BookingStatus.NO_SHOW, BookingStatus.SCHEDULED)
    query = select(Booking).where(
        Booking.service_date >= first, Booking.service_date < after, Booking.status.in_(counted)
    )
    for b in session.scalars(query.order_by(Booking.id)):
        settlement, destination = (
            (b.from_stop, b.to_stop) if b.direction.value == "to_work" else (b.to_stop, b.from_stop)
        )
        key = (settlement.name, destination.name)
        row = rows.setdefault(
            key,
            {
                "settlement": key[0],
                "destination": key[1],
                "rides": 0,
                "seats": 0,
                "no_shows": 0,
                "km": 0.0,
            },
        )
        pair = (b.from_stop_id, b.to_stop_id)
        if graph is not None and pair not in distance_cache:
            try:
                distance_cache[pair] = (
                    graph.route(
                        (b.from_stop.lat or 0.0, b.from_stop.lon or 0.0),
                        (b.to_stop.lat or 0.0, b.to_stop.lon or 0.0),
                    ).distance_m
                    / 1000
                )
            except Exception:  # a stop off the map counts no km
                distance_cache[pair] = 0.0
        if b.status is BookingStatus.NO_SHOW:
            row["no_shows"] += 1
            continue
        row["rides"] += 1
        row["seats"] += b.seats
        row["km"] = round(row["km"] + distance_cache.get(pair, 0.0), 1)
    return [rows[k] for k in sorted(rows)]
