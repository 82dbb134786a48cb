"""Fleet sizing of a stored day: the vehicle types and depots of the active fleet,
the day's bookings, the answer of :func:`mobility.planning.size_fleet`.

A sizing run is a planning run of kind ``sizing`` (queued and done by a job like a
plan, one run of a day at a time); its answer is kept as JSON on the run, so the
day page can say which vehicles would serve the seats left unserved.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mobility.dispatch.planner import (
    GraphLoader,
    PlanOutcome,
    booking_row,
    day_bookings,
    stop_matrices,
)
from mobility.dispatch.run_state import fail_on_error, finish_run
from mobility.errors import ServiceError
from mobility.planning import (
    DayFigures,
    FleetSizing,
    PlanningSettings,
    VehicleType,
    size_fleet,
)
from mobility.planning.sizing import candidate_fleet
from mobility.store import PlanRun, Stop, Vehicle

__all__ = [
    "run_sizing",
    "size_day",
    "sizing_answer",
    "type_label",
    "vehicle_types",
]


def type_label(profile: str, seats: int) -> str:
    """A vehicle type's name in answers: ``minibus 8``, ``bus 28``, ``bus 50``."""
    return f"{profile} {seats}"


def vehicle_types(vehicles: list[Vehicle]) -> list[VehicleType]:
    """The types of a fleet: one per profile and seat count, with the widest shift
    and the highest fixed cost of its vehicles."""
    types: dict[str, VehicleType] = {}
    for v in sorted(vehicles, key=lambda v: (v.seats, v.profile.value)):
        label = type_label(v.profile.value, v.seats)
        seen = types.get(label)
        types[label] = VehicleType(
            label,
            v.seats,
            v.profile.value,
            min(v.shift_start_min * 60, seen.shift_start_s if seen else 86_400),
            max(v.shift_end_min * 60, seen.shift_end_s if seen else 0),
            max(v.fixed_cost, seen.fixed_cost if seen else 0),
        )
    return list(types.values())


def size_day(
    session: Session,
    service_date: dt.date,
    graphs: GraphLoader,
    *,
    settings: PlanningSettings,
    progress: Callable[[str], None] | None = None,
) -> FleetSizing:
    """The cheapest fleet (types and depots of the active vehicles) for a day.

    Raises
    ------
    ServiceError
        ``no_fleet`` when there is no active vehicle to take types and depots from.
    """
    say = progress or (lambda _msg: None)
    vehicles = list(session.scalars(select(Vehicle).where(Vehicle.active.is_(True))))
    if not vehicles:
        raise ServiceError("fleet", "no_fleet", "fleet: no active vehicle to take types from")
    types = vehicle_types(vehicles)
    depots = sorted({v.depot_stop_id for v in vehicles})
    rows = [booking_row(b, None) for b in day_bookings(session, service_date)]
    say("computing travel times on the road network")
    matrices = stop_matrices(session, rows, candidate_fleet(types, depots, {}), graphs)
    say(f"sizing the fleet ({settings.time_limit_s:.0f} s)")
    return size_fleet(rows, types, depots, matrices, settings=settings)


def sizing_answer(session: Session, sizing: FleetSizing) -> dict[str, Any]:
    """The answer as stored and shown: the JSON of ``--json`` plus the vehicles per
    depot (by stop name), the active fleet per type and what would be added."""
    names = {
        s.id: s.name for s in session.scalars(select(Stop).where(Stop.id.in_(sizing.by_depot)))
    }
    active: dict[str, int] = {}
    for v in session.scalars(select(Vehicle).where(Vehicle.active.is_(True))):
        label = type_label(v.profile.value, v.seats)
        active[label] = active.get(label, 0) + 1
    return {
        **sizing.to_dict(),
        "seats": sizing.seats,
        "by_depot": {names[d]: counts for d, counts in sorted(sizing.by_depot.items())},
        "active": active,
        "add": {
            label: n - active.get(label, 0)
            for label, n in sizing.fleet.items()
            if n > active.get(label, 0)
        },
    }


def run_sizing(
    session: Session,
    run: PlanRun,
    graphs: GraphLoader,
    settings: PlanningSettings,
    progress: Callable[[str], None],
) -> PlanOutcome:
    """Do a claimed sizing run: its answer is stored on the run (a failure is
    recorded on it and re-raised)."""
    run_id = run.id
    try:
        sizing = size_day(session, run.service_date, graphs, settings=settings, progress=progress)
        finish_run(session, run_id, json.dumps(sizing_answer(session, sizing), sort_keys=True))
    except Exception as exc:
        fail_on_error(session, run_id, exc)
        raise
    return PlanOutcome(run_id, sizing.figures or DayFigures())
