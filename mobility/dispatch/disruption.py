"""When the day goes wrong: what a dispatcher says happened, and the day as it stands.

A disruption is one of: a vehicle *out of service* from a time (it broke down where
it last stopped, or at a point placed on the map), a driver *absent* (the vehicle
never leaves its depot), a vehicle *running late* by some minutes from its next
stop on; or, with no vehicle at fault, *standby*: same-day requests to fit in where
room allows. :func:`day_under_way` reads the published plan and the drivers' taps at
the disruption's time and says, for the re-plan (:mod:`mobility.dispatch.replan`):

- which stops have happened (tapped; for a vehicle with no tap at all, those whose
  planned departure is past): they are kept exactly as they were;
- where each vehicle is and when it can leave there, who is on board, and the stop
  it is driving to (its route's fixed beginning);
- the bookings left to serve, as planning rows: riders on board stay in their
  vehicle; riders of a vehicle lost or late come first (``priority``), in their own
  windows, and those on board a vehicle that broke down are picked up where it
  stopped; everyone else keeps the time they were told within the promise;
  bookings without a seat so far (and same-day requests) are a standby list.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from mobility.clock import hhmm
from mobility.codes import UnservedReason
from mobility.dispatch.planner import fleet_vehicle
from mobility.dispatch.plans import latest_plan
from mobility.dispatch.road import live_events
from mobility.errors import ServiceError
from mobility.planning import BookingRow, FleetVehicle
from mobility.store import (
    ACTIVE_STATUSES,
    Booking,
    BookingStatus,
    EventKind,
    PlanMove,
    PlanRoute,
    PlanRun,
    PlanStop,
    Stop,
    StopKind,
    Vehicle,
)

__all__ = [
    "MAX_LATE_MIN",
    "DayUnderWay",
    "Disruption",
    "DisruptionKind",
    "VehicleUnderWay",
    "day_under_way",
]

#: A vehicle "running late" by more than this is out of service for the day's plan.
MAX_LATE_MIN: Final = 240


class DisruptionKind(enum.StrEnum):
    """What went wrong with a vehicle (or, ``standby``, with none)."""

    OUT_OF_SERVICE = "out_of_service"
    ABSENT = "absent"
    LATE = "late"
    #: nothing went wrong: bookings made after publishing (and those without a seat)
    #: are served where room allows, without moving anyone beyond the promise
    STANDBY = "standby"


@dataclass(frozen=True)
class Disruption:
    """What a dispatcher says happened.

    Attributes
    ----------
    kind
        Out of service, absent driver, or running late.
    vehicle
        The vehicle's name (empty for ``standby``).
    at_min
        When, in minutes into the service day: from when the vehicle is out of
        service; for the others, when it was said (the re-plan keeps what happened
        before).
    minutes
        How late (``late`` only).
    lat, lon
        Where a vehicle out of service stands, when it is not at its last stop.
    """

    kind: DisruptionKind
    vehicle: str
    at_min: int
    minutes: int = 0
    lat: float | None = None
    lon: float | None = None

    def __post_init__(self) -> None:
        if (self.kind is DisruptionKind.STANDBY) != (not self.vehicle):
            raise ServiceError("vehicle", "required", "vehicle: which vehicle (none for standby)")
        if not 0 <= self.at_min < 24 * 60:
            raise ServiceError("from", "bad_time", f"from: {self.at_min} is not a time of day")
        if self.kind is DisruptionKind.LATE and not 1 <= self.minutes <= MAX_LATE_MIN:
            raise ServiceError(
                "minutes",
                "late_range",
                f"minutes: between 1 and {MAX_LATE_MIN}",
                low=1,
                high=MAX_LATE_MIN,
            )
        if (self.lat is None) != (self.lon is None) or (
            self.lat is not None
            and self.lon is not None
            and not (-90 <= self.lat <= 90 and -180 <= self.lon <= 180)
        ):
            raise ServiceError("at", "off_map", "at: not a point (LAT,LON)")

    def to_json(self) -> str:
        """The disruption as stored on its re-plan run."""
        data: dict[str, Any] = {"kind": self.kind.value, "vehicle": self.vehicle}
        data |= {"at_min": self.at_min, "minutes": self.minutes}
        if self.lat is not None:
            data |= {"lat": self.lat, "lon": self.lon}
        return json.dumps({"disruption": data})

    @classmethod
    def from_json(cls, text: str) -> Disruption:
        """A disruption stored by :meth:`to_json`."""
        data = json.loads(text)["disruption"]
        return cls(
            DisruptionKind(data["kind"]),
            data["vehicle"],
            int(data["at_min"]),
            int(data.get("minutes", 0)),
            data.get("lat"),
            data.get("lon"),
        )


@dataclass
class VehicleUnderWay:
    """One vehicle of the published plan at the disruption's time."""

    route: PlanRoute
    kept: list[PlanStop]  # the stops that happened, as they were
    at_stop: int | None  # where it is (None: at its depot, not left yet)
    at_s: int  # when it can leave there
    next_stop: PlanStop | None  # the stop it is driving to (its fixed beginning)
    lost: bool = False  # out of service or absent: it serves nobody more
    late: bool = False


@dataclass
class DayUnderWay:
    """The day at the disruption's time, as planning inputs."""

    disruption: Disruption
    plan: PlanRun
    at_s: int
    vehicles: dict[int, VehicleUnderWay]  # by vehicle id, for the published routes
    rows: list[BookingRow] = field(default_factory=list)
    fleet: list[FleetVehicle] = field(default_factory=list)
    affected: set[int] = field(default_factory=set)  # bookings of the lost or late vehicle
    published: dict[int, tuple[int, int]] = field(default_factory=dict)  # id -> told (s, stop)
    stranded: dict[int, int] = field(default_factory=dict)  # on board the lost vehicle: seats
    standby: set[int] = field(default_factory=set)
    #: booking id -> the vehicle that was to carry it (the first, for a split crew)
    published_vehicle: dict[int, int] = field(default_factory=dict)
    #: for each row, the vehicle the published plan gave those seats (None: standby)
    row_vehicle: list[int | None] = field(default_factory=list)
    breakdown_stop: int | None = None  # where the vehicle out of service stands


def _kept(route: PlanRoute, tapped: set[int], at_s: int) -> list[PlanStop]:
    """The stops of a route that happened: up to the last one tapped; without any tap,
    those whose planned departure is past."""
    stops = sorted(route.stops, key=lambda s: s.seq)
    if tapped:
        last = max(tapped)
        return [s for s in stops if s.seq <= last]
    return [s for s in stops if s.departure_s <= at_s]


def _leaves(stop: PlanStop) -> int:
    """When a vehicle leaves a stop that happened: as tapped, else as planned (after a
    tapped arrival, with the planned time there)."""
    if stop.actual_departure_min is not None:
        return stop.actual_departure_min * 60
    if stop.actual_arrival_min is not None:
        return stop.actual_arrival_min * 60 + (stop.departure_s - stop.arrival_s)
    return stop.departure_s


def _under_way(route: PlanRoute, tapped: set[int], at_s: int) -> VehicleUnderWay:
    kept = _kept(route, tapped, at_s)
    later = sorted((s for s in route.stops if s not in kept), key=lambda s: s.seq)
    if not kept:  # still at the depot: it may leave from now on
        start = route.vehicle.shift_start_min * 60
        return VehicleUnderWay(route, [], None, max(at_s, start), None)
    last = kept[-1]
    leaves = _leaves(last)
    # left its last stop before now: it is driving to the next one, which stays first
    driving_to = later[0] if later and leaves <= at_s and len(later) > 1 else None
    return VehicleUnderWay(route, kept, last.stop_id, leaves, driving_to)


def _vehicle_named(plan: PlanRun, name: str) -> PlanRoute:
    route = next((r for r in plan.routes if r.vehicle.name == name), None)
    if route is None:
        raise ServiceError(
            "vehicle", "not_found", f"vehicle: {name!r} has no route in the published plan"
        )
    return route


def day_under_way(
    session: Session, day: dt.date, disruption: Disruption, *, window_min: int
) -> DayUnderWay:
    """The published plan of ``day`` and the taps so far, at the disruption's time.

    Parameters
    ----------
    window_min
        The planning window (minutes): a same-day request whose window is past is not
        a standby.

    Raises
    ------
    ServiceError
        ``no_plan`` when the day has no published plan, ``not_found`` for a vehicle
        without a route in it, ``already_left`` for an absent driver whose vehicle
        has tapped stops.
    """
    plan = latest_plan(session, day)
    if plan is None or plan.published_version is None:
        raise ServiceError("date", "no_plan", f"date: no published plan for {day}")
    hit = _vehicle_named(plan, disruption.vehicle) if disruption.vehicle else None
    at_s = disruption.at_min * 60
    tapped: dict[int, set[int]] = {}
    said_no_show: set[int] = set()
    for event in live_events(session, day):
        if event.stop_seq is not None:
            tapped.setdefault(event.vehicle_id, set()).add(event.stop_seq)
        if event.kind == EventKind.NO_SHOW and event.booking_id is not None:
            said_no_show.add(event.booking_id)
    vehicles = {
        r.vehicle_id: _under_way(r, tapped.get(r.vehicle_id, set()), at_s) for r in plan.routes
    }
    state = DayUnderWay(disruption, plan, at_s, vehicles)
    if hit is not None:
        _apply(session, state, vehicles[hit.vehicle_id], tapped.get(hit.vehicle_id, set()))
    _rows(session, state, said_no_show)
    _standby(session, state, window_min)
    _fleet(session, state)
    return state


def _apply(session: Session, state: DayUnderWay, hit: VehicleUnderWay, tapped: set[int]) -> None:
    """The disruption on its vehicle."""
    d = state.disruption
    if d.kind is DisruptionKind.LATE:
        hit.late = True
        hit.next_stop = None  # a late vehicle's next stop may be better served by another
        if hit.kept:
            hit.at_s += 60 * d.minutes
        else:  # it leaves its depot that much after it was to leave
            first = min(hit.route.stops, key=lambda s: s.seq)
            hit.at_s = max(hit.at_s, first.departure_s + 60 * d.minutes)
        return
    hit.lost = True
    if d.kind is DisruptionKind.ABSENT:
        if tapped or hit.kept:
            raise ServiceError(
                "vehicle",
                "already_left",
                f"vehicle: {d.vehicle} has left its depot; say it is out of service",
            )
        return
    if d.lat is not None and d.lon is not None:
        state.breakdown_stop = _roadside_stop(session, state, d.lat, d.lon).id
    elif hit.kept:
        state.breakdown_stop = hit.kept[-1].stop_id
    else:
        state.breakdown_stop = hit.route.vehicle.depot_stop_id


def _roadside_stop(session: Session, state: DayUnderWay, lat: float, lon: float) -> Stop:
    """The point where a vehicle out of service stands, as a stop (not bookable)."""
    d = state.disruption
    name = f"{d.vehicle} {state.plan.service_date.isoformat()} {hhmm(d.at_min)}"
    stop = session.scalar(select(Stop).where(Stop.name == name))
    if stop is None:
        stop = Stop(name=name, kind=StopKind.ROADSIDE, lat=lat, lon=lon, active=False)
        session.add(stop)
    stop.lat, stop.lon = lat, lon
    # kept at once: the re-plan then writes nothing until it stores its proposal
    session.commit()
    return stop


def _row(b: Booking, seats: int, **state: Any) -> BookingRow:
    return BookingRow(
        b.id,
        b.code,
        b.direction.value,
        state.pop("from_stop", b.from_stop_id),
        b.to_stop_id,
        b.time_min,
        seats,
        service=StopKind.SERVICE in (b.from_stop.kind, b.to_stop.kind),
        allow_parts=b.allow_parts,
        **state,
    )


def _rows(session: Session, state: DayUnderWay, said_no_show: set[int]) -> None:
    """The bookings of the published plan left to serve, as planning rows."""
    for vehicle_id, v in state.vehicles.items():
        kept = {s.seq for s in v.kept}
        stops = sorted(v.route.stops, key=lambda s: s.seq)
        for stop in stops:
            for move in (m for m in stop.moves if m.boarding):
                b = move.booking
                if b.status in (BookingStatus.CANCELLED, BookingStatus.NO_SHOW):
                    continue
                if b.id in said_no_show:
                    continue
                leaves = next(
                    (
                        s
                        for s in stops
                        if s.seq > stop.seq
                        and any(m.booking_id == b.id and not m.boarding for m in s.moves)
                    ),
                    None,
                )
                boarded, alighted = stop.seq in kept, leaves is not None and leaves.seq in kept
                if alighted:
                    continue
                _one_row(state, v, vehicle_id, move, boarded, stop, leaves)
    for vehicle_id, v in state.vehicles.items():
        for stop in v.route.stops:
            for m in stop.moves:
                state.published_vehicle.setdefault(m.booking_id, vehicle_id)
    state.published = {
        b.id: (b.pickup_time_min * 60, b.pickup_stop_id or b.from_stop_id)
        for v in state.vehicles.values()
        for stop in v.route.stops
        for b in (m.booking for m in stop.moves if m.boarding)
        if b.pickup_time_min is not None
    }


def _one_row(
    state: DayUnderWay,
    v: VehicleUnderWay,
    vehicle_id: int,
    move: PlanMove,
    boarded: bool,
    stop: PlanStop,
    leaves: PlanStop | None,
) -> None:
    b, seats = move.booking, move.seats
    hit = v.lost or v.late
    if hit:
        state.affected.add(b.id)
    if boarded and v.lost:  # picked up again where the vehicle stands
        state.stranded[b.id] = state.stranded.get(b.id, 0) + seats
        row = _row(b, seats, from_stop=state.breakdown_stop, rescue=True, priority=True)
    elif boarded:  # rides on in its vehicle
        fixed = v.next_stop is not None and leaves is v.next_stop
        from_stop = v.at_stop if v.at_stop is not None else v.route.vehicle.depot_stop_id
        row = _row(
            b,
            seats,
            from_stop=from_stop,
            vehicle_pin=vehicle_id,
            on_board=True,
            priority=hit,
            fixed=fixed,
        )
    elif hit:  # another vehicle, in its own windows
        row = _row(b, seats, priority=True)
    else:  # keeps the time told, within the promise; its vehicle's next stop stays
        fixed = v.next_stop is not None and stop is v.next_stop
        # each part of a crew keeps its own boarding (the crew was told the first)
        told = None
        if b.pickup_time_min is not None:
            told = stop.arrival_s if move.start_s is None else move.start_s
        row = _row(
            b,
            seats,
            published_pickup_s=told,
            vehicle_pin=vehicle_id if fixed else None,
            fixed=fixed,
        )
    state.rows.append(row)
    state.row_vehicle.append(vehicle_id)


def _standby(session: Session, state: DayUnderWay, window_min: int) -> None:
    """Bookings with no seat so far that may still ride: same-day requests and those
    left out for want of room."""
    planned = {r.id for r in state.rows} | set(state.published)
    for b in session.scalars(
        select(Booking).where(
            Booking.service_date == state.plan.service_date,
            Booking.status.in_([*ACTIVE_STATUSES, BookingStatus.UNSERVED]),
        )
    ):
        if b.id in planned or b.reason not in (None, UnservedReason.FLEET_FULL):
            continue
        latest = b.time_min + (window_min if b.direction.value == "back" else 0)
        if latest * 60 < state.at_s:
            continue
        state.standby.add(b.id)
        state.rows.append(_row(b, b.seats))
        state.row_vehicle.append(None)


def _fleet(session: Session, state: DayUnderWay) -> None:
    """The vehicles that can still serve: those of the plan not lost, where they are,
    and the active vehicles the plan did not use, at their depots from now."""
    for v in state.vehicles.values():
        if v.lost:
            continue
        state.fleet.append(fleet_vehicle(v.route.vehicle, at_stop=v.at_stop, at_s=v.at_s))
    for vehicle in session.scalars(
        select(Vehicle).where(Vehicle.active.is_(True)).order_by(Vehicle.id)
    ):
        if vehicle.id not in state.vehicles:
            start = max(state.at_s, vehicle.shift_start_min * 60)
            state.fleet.append(fleet_vehicle(vehicle, at_s=start))
