"""What goes into planning a day and what comes out, in booking terms.

Plain dataclasses, no database and no optimizer: a planning run is described by
:class:`BookingRow`, :class:`FleetVehicle`, :class:`StopPoint` and a
:class:`ProfileMatrix` per vehicle profile, and answered by a :class:`DayPlan`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from mobility.codes import UnservedReason
from optimizer.plan import Plan

__all__ = [
    "BookingRow",
    "DayFigures",
    "DayPlan",
    "FleetVehicle",
    "PlannedRoute",
    "PlannedStop",
    "ProfileMatrix",
    "RideGroup",
    "StopPoint",
    "booking_figures",
    "told_pickups",
]


@dataclass(frozen=True)
class DayFigures:
    """What a dispatcher reads of a plan (stored with the plan as JSON).

    Seats count people; bookings count bookings (a crew booking has many seats);
    requests are the groups of bookings the optimizer sees.
    """

    bookings: int = 0
    requests: int = 0
    seats: int = 0
    reachable_seats: int = 0  # seats some vehicle of the fleet could serve alone
    #: no plan of this fleet serves more (a proven bound: optimizer.bounds); None when
    #: not computed (a plan merged from zones)
    servable_seats: int | None = None
    served_bookings: int = 0
    served_seats: int = 0
    unserved_bookings: int = 0
    unserved_seats: int = 0
    unserved_reasons: dict[str, int] = field(default_factory=dict)
    vehicles_used: int = 0
    vehicle_km: float = 0.0
    vehicle_hours: float = 0.0
    mean_ride_min: float = 0.0
    max_ride_min: float = 0.0
    mean_ride_over_direct: float = 0.0
    seat_occupancy: float = 0.0
    solver_status: str = "EMPTY"
    solver_seconds: float = 0.0
    violations: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The figures as a JSON-ready mapping (the keys of ``mobility plan --json``)."""
        data = dataclasses.asdict(self)
        data["violations"] = list(self.violations)
        return data

    def to_json(self) -> str:
        """The figures as a JSON document."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str | None) -> DayFigures:
        """Figures stored by :meth:`to_json` (missing keys take their defaults)."""
        data = json.loads(text or "{}")
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "violations" in values:
            values["violations"] = tuple(values["violations"])
        return cls(**values)


@dataclass(frozen=True)
class StopPoint:
    """A stop with coordinates."""

    id: int
    name: str
    lat: float
    lon: float


@dataclass(frozen=True)
class BookingRow:
    """What planning needs of a booking."""

    id: int
    code: str
    direction: str  # "to_work" or "back"
    from_stop: int
    to_stop: int
    time_min: int
    seats: int
    published_pickup_s: int | None = None
    vehicle_pin: int | None = None  # the fleet vehicle it must ride (a dispatcher's move)
    service: bool = False  # a ride to or from a service (an appointment), not to work
    allow_parts: bool = False  # the crew may ride in part: some seats served, not all
    #: a re-plan of a day under way (see :mod:`mobility.dispatch.disruption`): the
    #: seats are on board ``vehicle_pin``, which is at ``from_stop``; only the drop-off
    #: is left, whenever it can be
    on_board: bool = False
    #: served before every booking without it (riders of a vehicle lost or late),
    #: within its own windows rather than the time it was told
    priority: bool = False
    #: its next move (boarding, or leaving when on board) is at the stop
    #: ``vehicle_pin`` is driving to: part of the route's fixed beginning
    fixed: bool = False
    #: riders of a vehicle that broke down, waiting at ``from_stop`` where it stands:
    #: picked up and taken on as soon as any vehicle can, first of all
    rescue: bool = False
    #: a re-plan keeps its published pickup in place (``keep_late_min`` later at
    #: most) rather than within the promise (``max_shift_min`` either way)
    keep: bool = False


@dataclass(frozen=True)
class FleetVehicle:
    """A vehicle available on the day."""

    id: int
    name: str
    seats: int
    profile: str
    depot_stop: int
    shift_start_s: int
    shift_end_s: int
    fixed_cost: int = 1
    locked: bool = False  # serves only the bookings pinned to it
    #: under way (a re-plan): the stop it is at, or last left, and when it leaves it;
    #: ``None``: at its depot from the start of its shift
    at_stop: int | None = None
    at_s: int | None = None


@dataclass
class RideGroup:
    """Bookings with the same direction, origin, destination, time (and vehicle pin),
    the same choice about riding in part, and (in a re-plan) the same state: on board,
    priority, fixed."""

    direction: str
    from_stop: int
    to_stop: int
    time_min: int
    pin: int | None = None
    allow_parts: bool = False
    on_board: bool = False
    priority: bool = False
    fixed: bool = False
    rescue: bool = False
    keep: bool = False
    bookings: list[BookingRow] = field(default_factory=list)

    @property
    def service(self) -> bool:
        """A ride to or from an appointment (its bookings share the service stop)."""
        return any(b.service for b in self.bookings)

    @property
    def seats(self) -> int:
        """Seats of all the group's bookings."""
        return sum(b.seats for b in self.bookings)


@dataclass(frozen=True)
class ProfileMatrix:
    """Travel times (s) and distances (m) of one profile between the stops it reaches."""

    stop_ids: tuple[int, ...]
    durations_s: npt.NDArray[np.float64]
    distances_m: npt.NDArray[np.float64]


@dataclass
class PlannedStop:
    """A stop of a planned route."""

    stop_id: int
    arrival_s: int
    departure_s: int
    load_after: int
    board: list[tuple[int, int]] = field(default_factory=list)  # (booking id, seats)
    alight: list[tuple[int, int]] = field(default_factory=list)
    #: booking id -> when its boarding starts here (s): the vehicle is at the stop by
    #: then and leaves after the booking's seats have boarded
    board_start_s: dict[int, int] = field(default_factory=dict)


@dataclass
class PlannedRoute:
    """A vehicle's route."""

    vehicle_id: int
    stops: list[PlannedStop]
    duration_s: int  # from leaving the depot to coming back
    distance_m: float
    driving_s: int = 0


@dataclass
class DayPlan:
    """The plan of a day in booking terms."""

    routes: list[PlannedRoute]
    pickups: dict[int, tuple[int, int]]  # booking id -> (pickup time s, stop id)
    vehicles_of: dict[int, list[int]]  # booking id -> vehicle ids
    unserved: dict[int, UnservedReason]  # booking id -> reason
    figures: DayFigures
    plan: Plan | None = None
    # booking id -> vehicle id -> seats: more than one vehicle for a split crew
    seats_in: dict[int, dict[int, int]] = field(default_factory=dict)

    @property
    def split_bookings(self) -> dict[int, dict[int, int]]:
        """Bookings whose seats ride in more than one vehicle."""
        return {b: v for b, v in self.seats_in.items() if len(v) > 1}


def told_pickups(boardings: Iterable[tuple[int, int, int]]) -> dict[int, tuple[int, int]]:
    """The pickup each booking is told: the one time a worker hears on every channel.

    A worker is told the time his boarding starts: the vehicle is at the stop by
    then (it arrived earlier, or waited for the window), and it leaves only after
    his crew has boarded (other crews at the same stop board before or after). A
    crew split over vehicles is told the earliest of its boardings; the other
    vehicles come later in its window. Nothing else may derive a worker's time
    (the stop's departure, after every crew has boarded, is later).

    Parameters
    ----------
    boardings
        ``(booking id, boarding start s, stop id)`` for every boarding of a plan.

    Returns
    -------
    dict
        Booking id -> ``(time told s, stop id)``.
    """
    told: dict[int, tuple[int, int]] = {}
    for booking_id, start_s, stop_id in boardings:
        here = (start_s, stop_id)
        told[booking_id] = min(told.get(booking_id, here), here)
    return told


def booking_figures(
    bookings: Iterable[BookingRow],
    seats_in: dict[int, dict[int, int]],
    unserved: dict[int, UnservedReason],
) -> dict[str, Any]:
    """The figures counted by booking, in one definition for a planned day, a day
    merged from zones and a fleet sizing: seats served are the seats riding some
    vehicle; a booking without all its seats served is unserved (with its reason);
    reachable seats are the seats of every booking but those left out for a reason
    no vehicle could overcome (``UnservedReason.for_want_of_room`` is false).

    Returns
    -------
    dict
        The ``DayFigures`` fields ``bookings``, ``seats``, ``reachable_seats``,
        ``served_bookings``, ``served_seats``, ``unserved_bookings``,
        ``unserved_seats`` and ``unserved_reasons``.
    """
    rows = list(bookings)
    seats = sum(b.seats for b in rows)
    riding = {b.id: min(b.seats, sum(seats_in.get(b.id, {}).values())) for b in rows}
    served = sum(riding.values())
    out_of_reach = sum(
        b.seats - riding[b.id]
        for b in rows
        if b.id in unserved and not unserved[b.id].for_want_of_room
    )
    reasons: dict[str, int] = {}
    for b in rows:
        if b.id in unserved:
            reasons[unserved[b.id].value] = reasons.get(unserved[b.id].value, 0) + 1
    return {
        "bookings": len(rows),
        "seats": seats,
        "reachable_seats": seats - out_of_reach,
        "served_bookings": sum(1 for n in riding.values() if n > 0),
        "served_seats": served,
        "unserved_bookings": sum(1 for b in rows if b.id in unserved),
        "unserved_seats": seats - served,
        "unserved_reasons": reasons,
    }
