"""The one adapter between bookings and the optimizer.

Bookings that share direction, origin, destination and time become one request
with a seat count (grouping is what makes thousands of workers plannable with tens
of vehicles); stops become matrix indices with a travel matrix per vehicle profile;
the optimizer's plan comes back as timed stops with the bookings boarding and
leaving at each, plus the figures a dispatcher needs.

Nothing here touches the database or Flask: the inputs and outputs are plain
dataclasses, so the translation is tested on its own. This is the only module of
``mobility`` that imports the optimizer; the solver's parameters are built here,
from :class:`PlanningSettings` (:func:`solver_params`). The package is the
adapter; its modules split it by concern.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from mobility.codes import UnservedReason
from mobility.planning._build import build_problem, group_bookings, profile_matrix
from mobility.planning._read import day_plan
from mobility.planning.settings import PlanningSettings, solver_params
from mobility.planning.sizing import FleetSizing, VehicleType, size_fleet
from mobility.planning.types import (
    BookingRow,
    DayFigures,
    DayPlan,
    FleetVehicle,
    PlannedRoute,
    PlannedStop,
    ProfileMatrix,
    RideGroup,
    StopPoint,
    booking_figures,
    told_pickups,
)
from mobility.planning.zones import plan_by_zones

__all__ = [
    "BookingRow",
    "DayFigures",
    "DayPlan",
    "FleetSizing",
    "FleetVehicle",
    "PlannedRoute",
    "PlannedStop",
    "PlanningSettings",
    "ProfileMatrix",
    "RideGroup",
    "StopPoint",
    "VehicleType",
    "booking_figures",
    "build_problem",
    "group_bookings",
    "plan_bookings",
    "plan_by_zones",
    "profile_matrix",
    "size_fleet",
    "solver_params",
    "told_pickups",
]


def plan_bookings(
    bookings: Sequence[BookingRow],
    fleet: Sequence[FleetVehicle],
    matrices: Mapping[str, ProfileMatrix],
    *,
    settings: PlanningSettings,
) -> DayPlan:
    """Plan a day's bookings on a fleet.

    Parameters
    ----------
    bookings
        The bookings to serve (published ones keep their pickup within
        ``settings.max_shift_min``).
    fleet
        The vehicles.
    matrices
        A :class:`ProfileMatrix` per vehicle profile used by the fleet.
    settings
        Windows, ride-time limits, boarding times and the solver's time limit.

    Returns
    -------
    DayPlan
        Its figures carry the independent checker's verdict (``violations``).
    """
    groups = group_bookings(bookings, settings.max_group_seats)
    if not groups or not fleet:
        unserved = {b.id: UnservedReason.NO_FLEET for b in bookings}
        return DayPlan([], {}, {}, unserved, DayFigures(**booking_figures(bookings, {}, unserved)))
    # the solver (and numba) load here, when a plan is made: commands that only read
    # settings start faster
    from optimizer.check import check
    from optimizer.solve import solve

    problem, loc_ids = build_problem(groups, fleet, matrices, settings)
    plan = solve(problem, solver_params(settings))
    day = day_plan(problem, plan, groups, fleet, loc_ids, bookings)
    # every plan is re-checked independently before anyone sees it
    day.figures = dataclasses.replace(day.figures, violations=tuple(check(problem, plan)))
    return day
