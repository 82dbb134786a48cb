"""A regional day planned by zones: one zone per depot, solved as separate searches
(in parallel processes), then repaired across zone borders.

Choices (see the README's regional figures for what they cost):

- A zone is a depot with its vehicles. A booking belongs to the zone of the depot
  nearest (by driving time) to its home end (where a crew lives: the pickup of a ride
  to work, the drop-off of a ride back), so both rides of a crew land in one zone.
- A depot nearest to no booking lends its vehicles to the zone of the depot nearest
  to it (they would otherwise wait for the repair).
- Each zone is planned by :func:`plan_bookings` with one search process, the zones
  running side by side in a process pool of ``processes`` or, given the job queue's
  runner, as jobs that any ``mobility worker`` takes (more worker machines, fewer
  rounds); the time limit is the
  wall-clock budget of the whole: the zones get ``share`` of it, divided by the
  rounds the pool needs (4 zones on 2 processes: 2 rounds of 40 %).
- Repair across borders: the bookings a zone left out for want of room (whole, not
  a part of a split crew) are planned, with the rest of the time, on the vehicles no
  zone used, wherever their depot. Routes a zone planned are kept as they are.

Every zone's plan and the repair's plan are checked by the independent checker; the
vehicles and bookings of the sub-plans are disjoint, so the merged plan holds if each
part does (the merged ``violations`` are theirs).
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from mobility.codes import UnservedReason
from mobility.planning.settings import PlanningSettings
from mobility.planning.types import (
    BookingRow,
    DayFigures,
    DayPlan,
    FleetVehicle,
    ProfileMatrix,
    booking_figures,
)

__all__ = [
    "ZONE_SHARE",
    "Part",
    "PartRunner",
    "assign_zones",
    "in_processes",
    "merge_plans",
    "plan_by_zones",
    "zone_fleets",
    "zone_time_limits",
]

#: Share of the time limit the zones' searches get; the repair gets the rest.
ZONE_SHARE = 0.8

#: A part of the day: its bookings, its vehicles, the matrices between its stops.
Part = tuple[list[BookingRow], list[FleetVehicle], dict[str, ProfileMatrix]]
#: Plans parts, each with its settings, in order (the first ones first).
PartRunner = Callable[[list[Part], list[PlanningSettings]], list[DayPlan]]


def _home(booking: BookingRow) -> int:
    return booking.from_stop if booking.direction == "to_work" else booking.to_stop


def assign_zones(
    bookings: Sequence[BookingRow],
    fleet: Sequence[FleetVehicle],
    matrices: Mapping[str, ProfileMatrix],
) -> dict[int, list[BookingRow]]:
    """Depot stop id -> the bookings whose home end is nearest to it by driving time
    (the first profile that reaches both decides; unreachable homes go to the first
    depot, where the planner gives them their reason)."""
    depots = sorted({v.depot_stop for v in fleet})
    zones: dict[int, list[BookingRow]] = {d: [] for d in depots}
    index = {name: {sid: i for i, sid in enumerate(m.stop_ids)} for name, m in matrices.items()}
    for booking in bookings:
        home = _home(booking)
        best, best_s = depots[0], math.inf
        for name, m in sorted(matrices.items()):
            at = index[name]
            if home not in at:
                continue
            for depot in depots:
                if depot in at:
                    seconds = float(m.durations_s[at[depot], at[home]])
                    if seconds < best_s:
                        best, best_s = depot, seconds
            if best_s < math.inf:
                break
        zones[best].append(booking)
    return zones


def _seconds(matrices: Mapping[str, ProfileMatrix], a: int, b: int) -> float:
    """Driving time from stop ``a`` to ``b`` on the first profile reaching both."""
    for _, m in sorted(matrices.items()):
        if a in m.stop_ids and b in m.stop_ids:
            return float(m.durations_s[m.stop_ids.index(a), m.stop_ids.index(b)])
    return math.inf


def zone_fleets(
    zones: Mapping[int, Sequence[BookingRow]],
    fleet: Sequence[FleetVehicle],
    matrices: Mapping[str, ProfileMatrix],
) -> dict[int, list[FleetVehicle]]:
    """Depot -> the vehicles its zone plans with: its own, and those of depots nearest
    to no booking whose nearest busy depot it is."""
    busy = [d for d, z in zones.items() if z]
    fleets: dict[int, list[FleetVehicle]] = {d: [] for d in busy}
    for vehicle in fleet:
        home = vehicle.depot_stop
        if home not in fleets and busy:
            home = min(busy, key=lambda d: _seconds(matrices, vehicle.depot_stop, d))
        fleets.setdefault(home, []).append(vehicle)
    return fleets


def _restricted(matrices: Mapping[str, ProfileMatrix], stops: set[int]) -> dict[str, ProfileMatrix]:
    """The matrices between ``stops`` only (what a zone's process is sent)."""
    out = {}
    for name, m in matrices.items():
        keep = [i for i, sid in enumerate(m.stop_ids) if sid in stops]
        out[name] = ProfileMatrix(
            tuple(m.stop_ids[i] for i in keep),
            m.durations_s[np.ix_(keep, keep)],
            m.distances_m[np.ix_(keep, keep)],
        )
    return out


def _part(
    part_bookings: list[BookingRow],
    part_fleet: list[FleetVehicle],
    matrices: Mapping[str, ProfileMatrix],
) -> Part:
    stops = {b.from_stop for b in part_bookings} | {b.to_stop for b in part_bookings}
    stops |= {v.depot_stop for v in part_fleet}
    return part_bookings, part_fleet, _restricted(matrices, stops)


def _weighted(plans: Sequence[DayPlan], value: Callable[[DayFigures], float], weight: str) -> float:
    total = sum(getattr(p.figures, weight) for p in plans)
    if not total:
        return 0.0
    return sum(value(p.figures) * getattr(p.figures, weight) for p in plans) / total


def merge_plans(plans: Sequence[DayPlan], bookings: Sequence[BookingRow]) -> DayPlan:
    """One plan of disjoint sub-plans (their vehicles and bookings do not overlap; a
    booking unserved in one part and served in a later one is served)."""
    routes = [r for p in plans for r in p.routes]
    pickups = {b: t for p in plans for b, t in p.pickups.items()}
    vehicles_of = {b: v for p in plans for b, v in p.vehicles_of.items()}
    seats_in = {b: s for p in plans for b, s in p.seats_in.items()}
    unserved: dict[int, UnservedReason] = {}
    for plan in plans:
        for booking_id, reason in plan.unserved.items():
            if booking_id not in pickups or booking_id in plan.pickups:  # a part left out
                unserved.setdefault(booking_id, reason)  # the zone's reason first
    figures = DayFigures(
        **booking_figures(bookings, seats_in, unserved),
        requests=sum(p.figures.requests for p in plans),
        vehicles_used=len(routes),
        vehicle_km=round(sum(r.distance_m for r in routes) / 1000, 1),
        vehicle_hours=round(sum(r.duration_s for r in routes) / 3600, 2),
        mean_ride_min=round(_weighted(plans, lambda f: f.mean_ride_min, "served_bookings"), 1),
        max_ride_min=max((p.figures.max_ride_min for p in plans), default=0.0),
        mean_ride_over_direct=round(
            _weighted(plans, lambda f: f.mean_ride_over_direct, "served_bookings"), 2
        ),
        seat_occupancy=round(_weighted(plans, lambda f: f.seat_occupancy, "vehicle_hours"), 3),
        solver_status="ZONES",
        solver_seconds=round(sum(p.figures.solver_seconds for p in plans), 1),
        violations=tuple(v for p in plans for v in p.figures.violations),
    )
    return DayPlan(routes, pickups, vehicles_of, unserved, figures, None, seats_in)


def zone_time_limits(sizes: Sequence[int], processes: int, budget_s: float) -> list[float]:
    """Each zone's time limit when ``processes`` take the zones in the given order
    (largest first) as they come free: the zones are dealt to processes as the
    longest-processing-time rule would (each to the least loaded, by size), and a
    process shares the budget among its zones in proportion to their sizes. One zone
    a process: the whole budget each."""
    loads = [0] * max(1, processes)
    of = []
    for size in sizes:
        k = loads.index(min(loads))
        loads[k] += max(size, 1)
        of.append(k)
    return [budget_s * max(size, 1) / loads[k] for size, k in zip(sizes, of, strict=True)]


def in_processes(processes: int | None = None) -> PartRunner:
    """A runner planning the parts in a local process pool (``processes`` at once,
    default the CPUs)."""

    def run(parts: list[Part], settings: list[PlanningSettings]) -> list[DayPlan]:
        from mobility.planning import plan_bookings

        workers = max(1, min(processes or os.cpu_count() or 1, len(parts)))
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [
                pool.submit(plan_bookings, b, f, m, settings=one)
                for (b, f, m), one in zip(parts, settings, strict=True)
            ]
            return [future.result() for future in futures]

    return run


def plan_by_zones(
    bookings: Sequence[BookingRow],
    fleet: Sequence[FleetVehicle],
    matrices: Mapping[str, ProfileMatrix],
    *,
    settings: PlanningSettings,
    processes: int | None = None,
    share: float = ZONE_SHARE,
    runner: PartRunner | None = None,
) -> tuple[DayPlan, dict[str, int]]:
    """Plan a day zone by zone, then repair across borders (see the module).

    Parameters
    ----------
    processes
        Zones planned at once (default: the CPUs; with a queue, its workers); each
        zone's search uses one process. Sets the rounds the time limit is cut into.
    runner
        Plans the zones' parts (default :func:`in_processes`; the job queue's
        :func:`mobility.jobs.zones.on_queue` sends each to a worker).

    Returns
    -------
    tuple
        The merged plan, and what happened: ``{"zones", "repair_bookings",
        "repair_served"}``.
    """
    from mobility.planning import plan_bookings

    zones = assign_zones(bookings, fleet, matrices)
    fleets = zone_fleets(zones, fleet, matrices)
    jobs = [_part(list(zone), fleets[depot], matrices) for depot, zone in zones.items() if zone]
    jobs.sort(key=lambda job: -len(job[0]))  # largest first: the order processes take them
    at_once = max(1, min(processes or os.cpu_count() or 1, len(jobs)))
    limits = zone_time_limits([len(job[0]) for job in jobs], at_once, settings.time_limit_s * share)
    zone_settings = [
        dataclasses.replace(settings, time_limit_s=limit, solver_workers=1) for limit in limits
    ]
    parts = (runner or in_processes(at_once))(jobs, zone_settings)
    used = {r.vehicle_id for p in parts for r in p.routes}
    served = {b for p in parts for b in p.pickups}
    leftovers = [
        b
        for p, (zone_bookings, _, _) in zip(parts, jobs, strict=True)
        for b in zone_bookings
        if p.unserved.get(b.id) is UnservedReason.FLEET_FULL and b.id not in served
    ]
    idle = [v for v in fleet if v.id not in used]
    repair_served = 0
    if leftovers and idle:
        repair_settings = dataclasses.replace(
            settings, time_limit_s=max(settings.time_limit_s * (1 - share), 5.0)
        )
        repair = plan_bookings(*_part(leftovers, idle, matrices), settings=repair_settings)
        repair_served = repair.figures.served_bookings
        parts.append(repair)
    merged = merge_plans(parts, bookings)
    return merged, {
        "zones": len(jobs),
        "repair_bookings": len(leftovers),
        "repair_served": repair_served,
    }
