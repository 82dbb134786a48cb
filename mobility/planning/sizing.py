"""Fleet sizing: the cheapest fleet, from given vehicle types and depots, that serves
every reachable seat of a day, and a lower bound on the number of vehicles.

The optimizer plans the day on a generous candidate fleet (copies of every type at
every depot); its objective puts the vehicles' fixed costs first, so the vehicles it
uses are the fleet. The bound (:func:`optimizer.bounds.vehicle_lower_bound`) is
taken on the requests some vehicle can serve, so the gap between the two says how
far from the best fleet the answer may be.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from mobility.codes import UnservedReason
from mobility.planning._build import build_problem, group_bookings
from mobility.planning.settings import PlanningSettings
from mobility.planning.types import BookingRow, DayFigures, FleetVehicle, ProfileMatrix
from optimizer.bounds import vehicle_lower_bound

__all__ = ["FleetSizing", "VehicleType", "size_fleet"]


@dataclass(frozen=True)
class VehicleType:
    """A kind of vehicle the hub can roster (its label names it in the answer)."""

    label: str
    seats: int
    profile: str
    shift_start_s: int
    shift_end_s: int
    fixed_cost: int = 1


@dataclass
class FleetSizing:
    """The answer: vehicles per type (and per depot), the bound, the seats served."""

    fleet: dict[str, int]
    by_depot: dict[int, dict[str, int]]  # depot stop id -> type label -> vehicles
    vehicles: int
    lower_bound: int
    seats: int
    reachable_seats: int
    served_seats: int
    cost: int
    figures: DayFigures | None = None
    unserved: dict[int, UnservedReason] = field(default_factory=dict)  # booking -> reason

    def to_dict(self) -> dict[str, object]:
        """The JSON answer of ``mobility fleet size --json``."""
        return {
            "fleet": dict(self.fleet),
            "vehicles": self.vehicles,
            "lower_bound": self.lower_bound,
            "reachable_seats": self.reachable_seats,
            "served_seats": self.served_seats,
            "cost": self.cost,
        }


def candidate_fleet(
    types: Sequence[VehicleType], depots: Sequence[int], copies: Mapping[str, int]
) -> list[FleetVehicle]:
    """``copies[label]`` vehicles of each type (default: one per depot), spread over
    the depots."""
    fleet: list[FleetVehicle] = []
    for t in types:
        per_depot = math.ceil(copies.get(t.label, len(depots)) / len(depots))
        for depot in depots:
            for n in range(per_depot):
                fleet.append(
                    FleetVehicle(
                        len(fleet) + 1,
                        f"{t.label} {depot}.{n + 1}",
                        t.seats,
                        t.profile,
                        depot,
                        t.shift_start_s,
                        t.shift_end_s,
                        t.fixed_cost,
                    )
                )
    return fleet


def size_fleet(
    bookings: Sequence[BookingRow],
    types: Sequence[VehicleType],
    depots: Sequence[int],
    matrices: Mapping[str, ProfileMatrix],
    *,
    settings: PlanningSettings,
    most: int | None = None,
) -> FleetSizing:
    """The cheapest fleet serving every seat some vehicle type can serve.

    Parameters
    ----------
    bookings
        The day's bookings.
    types
        The vehicle types to choose from (at least one).
    depots
        Depot stop ids (at least one); every type may stand at every depot.
    matrices
        A :class:`ProfileMatrix` per profile of the types, depots included.
    settings
        Planning settings (windows, ride limits, the solver's time limit).
    most
        Vehicles of each type the search may use (default: twice the lower bound,
        at least 4, at most one per seat-load of a wave).

    Raises
    ------
    ValueError
        Without types or depots.
    """
    from mobility.planning import plan_bookings  # the adapter's entry point

    if not types or not depots:
        raise ValueError("types and depots: at least one of each is needed")
    seats = sum(b.seats for b in bookings)
    one_each = candidate_fleet(types, depots, {})
    bound = _bound(bookings, one_each, matrices, settings)
    copies = {
        t.label: max(1, min(most or max(4, 2 * bound), math.ceil(seats / t.seats))) for t in types
    }
    candidates = candidate_fleet(types, depots, copies)
    day = plan_bookings(bookings, candidates, matrices, settings=settings)
    out_of_reach = {b: r for b, r in day.unserved.items() if not r.for_want_of_room}
    reachable = [b for b in bookings if b.id not in out_of_reach]
    bound = _bound(reachable, one_each, matrices, settings)
    used = {route.vehicle_id for route in day.routes}
    type_of = {(t.seats, t.profile): t.label for t in types}
    label = {v.id: type_of[(v.seats, v.profile)] for v in candidates}
    by_depot: dict[int, dict[str, int]] = {}
    for v in candidates:
        if v.id in used:
            counts = by_depot.setdefault(v.depot_stop, {})
            counts[label[v.id]] = counts.get(label[v.id], 0) + 1
    fleet = Counter(label[v] for v in used)
    return FleetSizing(
        fleet={t.label: fleet.get(t.label, 0) for t in types},
        by_depot=by_depot,
        vehicles=len(used),
        lower_bound=bound if reachable else 0,
        seats=seats,
        reachable_seats=day.figures.reachable_seats,
        served_seats=day.figures.served_seats,
        cost=sum(v.fixed_cost for v in candidates if v.id in used),
        figures=day.figures,
        unserved=dict(day.unserved),
    )


def _bound(
    bookings: Sequence[BookingRow],
    fleet: Sequence[FleetVehicle],
    matrices: Mapping[str, ProfileMatrix],
    settings: PlanningSettings,
) -> int:
    if not bookings:
        return 0
    groups = group_bookings(bookings, settings.max_group_seats)
    problem, _ = build_problem(groups, fleet, matrices, settings)
    return vehicle_lower_bound(problem)
