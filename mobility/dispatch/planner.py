"""Planning a day (and previewing a manual edit): bookings and fleet to the planning
adapter, its plan stored in one transaction at the end. A run that fails leaves the
previous plan and every booking as they were; a run declared dead while it planned
stores nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from mobility.codes import UnservedReason
from mobility.dispatch.plans import latest_plan
from mobility.dispatch.run_state import (
    edits_json,
    fail_on_error,
    finish_run,
    run_edits,
    start_run,
)
from mobility.errors import ServiceError
from mobility.messages import queue_lost_seat
from mobility.planning import (
    BookingRow,
    DayFigures,
    DayPlan,
    FleetVehicle,
    PlanningSettings,
    ProfileMatrix,
    StopPoint,
    booking_figures,
    plan_bookings,
    profile_matrix,
)
from mobility.roads import RoadGraph
from mobility.stops import get_stops
from mobility.store import (
    ACTIVE_STATUSES,
    Booking,
    BookingStatus,
    PlanKind,
    PlanMove,
    PlanRoute,
    PlanRun,
    PlanStop,
    Stop,
    StopKind,
    Vehicle,
)

__all__ = ["GraphLoader", "PlanOutcome", "fill_run", "fleet_vehicle", "plan_day"]

GraphLoader = Callable[[str], RoadGraph]


@dataclass(frozen=True)
class PlanOutcome:
    """What a planning run produced: its run (a plan, or a preview that stored only
    its figures), the figures, and for each booking a dispatcher moved, the vehicles
    it now rides or why it does not ride."""

    plan_id: int
    figures: DayFigures
    moved: dict[str, str] = field(default_factory=dict)


def plan_day(
    session: Session,
    service_date: dt.date,
    graphs: GraphLoader,
    *,
    settings: PlanningSettings,
    kind: PlanKind = PlanKind.PLAN,
    moves: dict[str, str | None] | None = None,
    locked: set[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> PlanOutcome:
    """Plan a day here and now (a run of its own, started at once; jobs use
    :func:`fill_run` on the run they claimed).

    Parameters
    ----------
    session
        Database session.
    service_date
        The day.
    graphs
        Loads a profile's road graph (``"minibus"``, ``"bus"``).
    settings
        Planning settings, the optimizer's time limit included.
    kind
        ``plan`` stores the day's plan; ``preview`` only checks a manual edit.
    moves
        Manual edits: booking code -> the vehicle it must ride (``None``: leave it out).
    locked
        Names of vehicles whose routes keep exactly their current bookings.
    progress
        Called with a short message at each step.

    Returns
    -------
    PlanOutcome

    Raises
    ------
    ServiceError
        ``run_active`` when a run of the day is going already.
    """
    run = start_run(
        session,
        service_date,
        kind=kind,
        time_limit_s=settings.time_limit_s,
        edits=edits_json(moves, locked),
    )
    return fill_run(session, run, graphs, settings=settings, progress=progress)


def fill_run(
    session: Session,
    run: PlanRun,
    graphs: GraphLoader,
    *,
    settings: PlanningSettings,
    progress: Callable[[str], None] | None = None,
) -> PlanOutcome:
    """Do a ``running`` run: plan its day with its manual edit, and store the plan
    (a run of kind ``plan``) or only the figures and what became of each moved
    booking (``preview``), in one transaction at the end.

    Bookings the plan cannot serve become ``unserved`` with the optimizer's reason;
    served bookings get their planned pickup, shown to workers once published.

    Raises
    ------
    Exception
        Whatever fails, re-raised after marking the run failed (nothing stored).
    """
    say = progress or (lambda _msg: None)
    run_id, service_date, save = run.id, run.service_date, run.kind is PlanKind.PLAN
    moves, locked, _ = run_edits(run)
    try:
        say("loading bookings and fleet")
        bookings = day_bookings(session, service_date)
        vehicles = _active_vehicles(session)
        pins, dropped = _manual_pins(session, service_date, bookings, vehicles, moves, locked)
        rows = [booking_row(b, pins.get(b.id)) for b in bookings if b.id not in dropped]
        fleet = [fleet_vehicle(v, locked=v.name in locked) for v in vehicles]
        say("computing travel times on the road network")
        matrices = stop_matrices(session, rows, fleet, graphs)
        say(f"optimizing routes ({settings.time_limit_s:.0f} s)")
        day = plan_bookings(rows, fleet, matrices, settings=settings)
        moved = _moved(moves, bookings, vehicles, day)
        if not save:  # a preview's result is read from its row
            edits = json.dumps({"moves": moves, "locked": sorted(locked), "moved": moved})
            finish_run(session, run_id, day.figures.to_json(), edits)
            return PlanOutcome(run_id, day.figures, moved)
        say("saving the plan")
        for booking_id in dropped:
            day.unserved[booking_id] = UnservedReason.LEFT_UNASSIGNED
        if dropped:  # the day's figures count the bookings a dispatcher left out too
            counted = booking_figures(
                [booking_row(b, None) for b in bookings], day.seats_in, day.unserved
            )
            day.figures = dataclasses.replace(day.figures, **counted)
        _store(session, run_id, day, bookings)
        return PlanOutcome(run_id, day.figures, moved)
    except Exception as exc:
        fail_on_error(session, run_id, exc)
        raise


def day_bookings(session: Session, service_date: dt.date) -> list[Booking]:
    """The day's bookings that a plan serves (active ones and those unserved so far)."""
    return list(
        session.scalars(
            select(Booking).where(
                Booking.service_date == service_date,
                Booking.status.in_([*ACTIVE_STATUSES, BookingStatus.UNSERVED]),
            )
        )
    )


def _active_vehicles(session: Session) -> list[Vehicle]:
    return list(
        session.scalars(select(Vehicle).where(Vehicle.active.is_(True)).order_by(Vehicle.id))
    )


def booking_row(b: Booking, pin: int | None) -> BookingRow:
    published = (
        b.pickup_time_min * 60
        if b.status is BookingStatus.SCHEDULED and b.pickup_time_min is not None
        else None
    )
    return BookingRow(
        b.id,
        b.code,
        b.direction.value,
        b.from_stop_id,
        b.to_stop_id,
        b.time_min,
        b.seats,
        published,
        pin,
        service=StopKind.SERVICE in (b.from_stop.kind, b.to_stop.kind),
        allow_parts=b.allow_parts,
    )


def fleet_vehicle(
    v: Vehicle, *, locked: bool = False, at_stop: int | None = None, at_s: int | None = None
) -> FleetVehicle:
    """What planning needs of a vehicle (``at_stop``, ``at_s``: where it is when a day
    under way is re-planned)."""
    return FleetVehicle(
        v.id,
        v.name,
        v.seats,
        v.profile.value,
        v.depot_stop_id,
        v.shift_start_min * 60,
        v.shift_end_min * 60,
        v.fixed_cost,
        locked=locked,
        at_stop=at_stop,
        at_s=at_s,
    )


def _stop_point(stop: Stop) -> StopPoint:
    assert stop.lat is not None and stop.lon is not None
    return StopPoint(stop.id, stop.name, stop.lat, stop.lon)


def stop_matrices(
    session: Session, rows: list[BookingRow], fleet: list[FleetVehicle], graphs: GraphLoader
) -> dict[str, ProfileMatrix]:
    """A travel matrix per vehicle profile between the stops the day uses."""
    ids = {b.from_stop for b in rows} | {b.to_stop for b in rows} | {v.depot_stop for v in fleet}
    ids |= {v.at_stop for v in fleet if v.at_stop is not None}
    stops = [_stop_point(s) for s in get_stops(session, ids).values()]
    return {
        profile: profile_matrix(graphs(profile), stops) for profile in {v.profile for v in fleet}
    }


def _moved(
    moves: dict[str, str | None], bookings: list[Booking], vehicles: list[Vehicle], day: DayPlan
) -> dict[str, str]:
    """For each moved booking: the vehicles it now rides, or why it does not ride."""
    names = {v.id: v.name for v in vehicles}
    by_code = {b.code: b for b in bookings}
    moved: dict[str, str] = {}
    for code, target in moves.items():
        b = by_code[code]
        if target is None:
            moved[code] = UnservedReason.LEFT_UNASSIGNED
        elif b.id in day.vehicles_of:
            moved[code] = ", ".join(names[v] for v in day.vehicles_of[b.id])
        else:
            moved[code] = day.unserved.get(b.id, UnservedReason.FLEET_FULL)
    return moved


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


def _store(session: Session, run_id: int, day: DayPlan, bookings: list[Booking]) -> None:
    """Write routes, stops and moves, and update bookings, in one transaction."""
    run = session.get(PlanRun, run_id)
    assert run is not None
    for route in day.routes:
        plan_route = PlanRoute(
            vehicle_id=route.vehicle_id, distance_m=route.distance_m, driving_s=route.driving_s
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
                start = stop.board_start_s.get(booking_id)
                plan_stop.moves.append(
                    PlanMove(booking_id=booking_id, boarding=True, seats=seats, start_s=start)
                )
            for booking_id, seats in stop.alight:
                plan_stop.moves.append(PlanMove(booking_id=booking_id, boarding=False, seats=seats))
    for booking in bookings:
        if booking.id in day.unserved and booking.id not in day.pickups:
            lost_seat = booking.status is BookingStatus.SCHEDULED
            booking.status = BookingStatus.UNSERVED
            booking.reason = day.unserved[booking.id]
            if lost_seat:  # the worker sees it now in "My rides": tell them too
                queue_lost_seat(session, booking, run_id)
            continue
        if booking.status is BookingStatus.UNSERVED:
            booking.status = BookingStatus.REQUESTED  # served now: back in the queue to publish
        # a crew that allowed parts keeps the reason of its seats left without a ride
        booking.reason = day.unserved.get(booking.id)
    finish_run(session, run_id, day.figures.to_json())
