"""The fleet: vehicles (from a CSV or one by one) and which driver drives which vehicle."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from mobility.clock import parse_hhmm
from mobility.errors import InputDataError, ServiceError
from mobility.store import DriverAssignment, Profile, Role, StaffUser, Stop, Vehicle

__all__ = [
    "add_vehicle",
    "assign_driver",
    "assigned_vehicle_ids",
    "driver_names",
    "fixed_cost_for_seats",
    "import_fleet",
    "list_vehicles",
]


def fixed_cost_for_seats(seats: int) -> int:
    """A vehicle's fixed cost in the plan's objective: 1 for a minibus (up to 9
    seats), 2 for a bus (up to 30), 3 for a coach. With fewest vehicles first, the
    optimizer prefers small vehicles when they serve as many seats."""
    return 1 if seats <= 9 else (2 if seats <= 30 else 3)


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
        vehicle.fixed_cost = fixed_cost_for_seats(seats)
    session.commit()
    return added, updated


def add_vehicle(
    session: Session,
    *,
    name: str,
    seats: int,
    profile: str,
    depot_stop_id: int,
    shift_start_min: int,
    shift_end_min: int,
) -> Vehicle:
    """Add one vehicle to the fleet.

    Raises
    ------
    ServiceError
        Naming the field: an empty or taken name, seats out of 1-90, an unknown
        profile or depot, or a shift that does not end after it starts.
    """
    name = name.strip()
    if not name:
        raise ServiceError("name", "required", "name: required")
    if session.scalar(select(Vehicle.id).where(Vehicle.name == name)) is not None:
        raise ServiceError("name", "taken", f"name: {name!r} exists already")
    if not 1 <= seats <= 90:
        raise ServiceError("seats", "seats_range", "seats: out of range", low=1, high=90)
    try:
        vehicle_profile = Profile(profile)
    except ValueError:
        raise ServiceError("profile", "bad_profile", "profile: not minibus or bus") from None
    depot = session.get(Stop, depot_stop_id)
    if depot is None or not depot.is_placed:
        raise ServiceError("depot", "unknown_stop", "depot: not a placed stop")
    if not 0 <= shift_start_min < shift_end_min <= 24 * 60:
        raise ServiceError("shift_end", "bad_time", "shift_end: not after shift_start")
    vehicle = Vehicle(
        name=name,
        seats=seats,
        profile=vehicle_profile,
        depot_stop_id=depot.id,
        shift_start_min=shift_start_min,
        shift_end_min=shift_end_min,
        fixed_cost=fixed_cost_for_seats(seats),
    )
    session.add(vehicle)
    session.commit()
    return vehicle


def list_vehicles(session: Session, *, active_only: bool = False) -> list[Vehicle]:
    """The fleet, by name."""
    query = select(Vehicle)
    if active_only:
        query = query.where(Vehicle.active.is_(True))
    return list(session.scalars(query.order_by(Vehicle.name)))


def assign_driver(
    session: Session, service_date: dt.date, vehicle_id: int, driver_id: int | None
) -> None:
    """Give a vehicle to a driver for a day, or take it back (``driver_id=None``).

    A driver then sees only the routes of the vehicles assigned to them.

    Raises
    ------
    ServiceError
        For an unknown vehicle, or a user who is not a driver.
    """
    vehicle = session.get(Vehicle, vehicle_id)
    if vehicle is None:
        raise ServiceError("vehicle", "not_found", "vehicle: no such vehicle")
    driver = session.get(StaffUser, driver_id) if driver_id else None
    if driver_id and (driver is None or driver.role is not Role.DRIVER):
        raise ServiceError("driver", "not_found", "driver: no such driver")
    current = session.scalar(
        select(DriverAssignment).where(
            DriverAssignment.service_date == service_date,
            DriverAssignment.vehicle_id == vehicle.id,
        )
    )
    if current is not None:
        session.delete(current)
        session.flush()
    if driver is not None:
        session.add(
            DriverAssignment(service_date=service_date, vehicle_id=vehicle.id, user_id=driver.id)
        )
    session.commit()


def driver_names(session: Session, service_date: dt.date) -> dict[int, str]:
    """Vehicle id -> the user name of its driver on that day."""
    rows = session.scalars(
        select(DriverAssignment).where(DriverAssignment.service_date == service_date)
    )
    return {a.vehicle_id: a.user.username for a in rows}


def assigned_vehicle_ids(session: Session, service_date: dt.date, user_id: int) -> set[int]:
    """The vehicles a driver drives on that day."""
    return set(
        session.scalars(
            select(DriverAssignment.vehicle_id).where(
                DriverAssignment.service_date == service_date,
                DriverAssignment.user_id == user_id,
            )
        )
    )
