"""Bookings and fleet -> the optimizer's routing problem (private to ``planning``)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Final

import numpy as np
import numpy.typing as npt

from mobility.errors import SnapError
from mobility.planning.settings import PlanningSettings
from mobility.planning.types import BookingRow, FleetVehicle, ProfileMatrix, RideGroup, StopPoint
from mobility.roads import RoadGraph, travel_time_matrix
from optimizer.problem import UNLIMITED, Request, RoutingProblem, Vehicle, boarding_time

__all__ = ["DAY_S", "UNREACHABLE_S", "build_problem", "group_bookings", "profile_matrix"]

#: Travel time standing for "this profile cannot get there" (10 days).
UNREACHABLE_S: Final = 864_000
DAY_S: Final = 86_400


def group_bookings(bookings: Sequence[BookingRow], max_seats: int) -> list[RideGroup]:
    """Group bookings that can ride together as requests of at most ``max_seats``.

    Bookings with the same direction, origin, destination and time ride together;
    a larger crowd is packed (first fit, largest bookings first) into several
    requests of whole bookings. Crews that allowed riding in part are grouped apart
    from those that did not, and bookings told a pickup time apart from those told
    another (or none): a re-plan keeps each within its promise. A single booking
    larger than ``max_seats`` stays whole: the optimizer splits it if no vehicle can
    take it.
    """
    Key = tuple[str, int, int, int, int | None, bool, bool, bool, bool, bool, bool, int | None]
    by_key: dict[Key, list[BookingRow]] = defaultdict(list)
    for b in sorted(bookings, key=lambda b: b.id):
        trip = (b.direction, b.from_stop, b.to_stop, b.time_min, b.vehicle_pin)
        state = (b.on_board, b.priority, b.fixed, b.rescue)
        # a booking told a time rides with those told the same time: each keeps it
        by_key[(*trip, b.allow_parts, *state, b.keep, b.published_pickup_s)].append(b)
    groups: list[RideGroup] = []
    for key, members in by_key.items():
        packed: list[RideGroup] = []
        for b in sorted(members, key=lambda b: (-b.seats, b.id)):
            target = next((g for g in packed if g.seats + b.seats <= max_seats), None)
            if target is None:
                target = RideGroup(*key[:-1])
                packed.append(target)
            target.bookings.append(b)
        groups += packed
    return groups


def profile_matrix(graph: RoadGraph, stops: Sequence[StopPoint]) -> ProfileMatrix:
    """Matrices between the stops a profile's graph reaches (others are left out)."""
    reachable: list[StopPoint] = []
    for stop in stops:
        try:
            graph.snap([stop.lat], [stop.lon])
        except SnapError:
            continue
        reachable.append(stop)
    result = travel_time_matrix([(s.lat, s.lon) for s in reachable], graph, distances=True)
    assert result.distances_m is not None
    return ProfileMatrix(tuple(s.id for s in reachable), result.durations_s, result.distances_m)


def build_problem(
    groups: list[RideGroup],
    fleet: Sequence[FleetVehicle],
    matrices: Mapping[str, ProfileMatrix],
    settings: PlanningSettings,
) -> tuple[RoutingProblem, list[int]]:
    """The routing problem of the day's groups, and the stop id of each location."""
    profiles = sorted({v.profile for v in fleet})
    loc_ids = sorted(
        {g.from_stop for g in groups}
        | {g.to_stop for g in groups}
        | {v.depot_stop for v in fleet}
        | {v.at_stop for v in fleet if v.at_stop is not None}
    )
    index = {stop_id: i for i, stop_id in enumerate(loc_ids)}
    durations, distances, reach = _travel_arrays(profiles, matrices, index)
    fleet_index = {v.id: k for k, v in enumerate(fleet)}
    requests = [
        _request(g, index, durations, profiles, reach, settings, fleet_index) for g in groups
    ]
    vehicles = [_vehicle(v, groups, index, profiles, reach) for v in fleet]
    problem = RoutingProblem(durations, tuple(requests), tuple(vehicles), distances=distances)
    return problem, loc_ids


def _travel_arrays(
    profiles: list[str], matrices: Mapping[str, ProfileMatrix], index: dict[int, int]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], dict[str, set[int]]]:
    """Integer durations and distances per profile between the day's locations, and
    the stops each profile reaches."""
    n = len(index)
    durations = np.full((len(profiles), n, n), UNREACHABLE_S, dtype=np.int64)
    distances = np.full((len(profiles), n, n), UNREACHABLE_S * 10, dtype=np.int64)
    reach: dict[str, set[int]] = {}
    for p, name in enumerate(profiles):
        m = matrices[name]
        pos = [i for i, sid in enumerate(m.stop_ids) if sid in index]
        rows = np.array([index[m.stop_ids[i]] for i in pos], dtype=np.int64)
        sub_d = m.durations_s[np.ix_(pos, pos)]
        sub_m = m.distances_m[np.ix_(pos, pos)]
        ok = np.isfinite(sub_d)
        # round up: a plan feasible with these times is feasible on the road
        block_d = np.where(ok, np.ceil(sub_d), UNREACHABLE_S).astype(np.int64)
        block_m = np.where(ok, np.rint(np.nan_to_num(sub_m, posinf=0)), UNREACHABLE_S * 10)
        durations[p][np.ix_(rows, rows)] = block_d
        distances[p][np.ix_(rows, rows)] = block_m.astype(np.int64)
        np.fill_diagonal(durations[p], 0)
        np.fill_diagonal(distances[p], 0)
        reach[name] = {m.stop_ids[i] for i in pos}
    return durations, distances, reach


def _request(
    g: RideGroup,
    index: dict[int, int],
    durations: npt.NDArray[np.int64],
    profiles: list[str],
    reach: dict[str, set[int]],
    settings: PlanningSettings,
    fleet_index: dict[int, int],
) -> Request:
    """The optimizer's request for a group: windows, ride limit, boarding time; a
    group on board is only dropped off, whenever it can be, by its vehicle."""
    a, b = index[g.from_stop], index[g.to_stop]
    usable = [p for p, name in enumerate(profiles) if {g.from_stop, g.to_stop} <= reach[name]]
    direct = min((int(durations[p, a, b]) for p in usable), default=UNREACHABLE_S)
    max_ride = math.ceil(settings.ride_factor * direct + settings.ride_extra_min * 60)
    window = settings.window_min * 60
    t = g.time_min * 60
    if g.direction == "to_work":
        if g.service:  # an appointment: be there a little before it
            t = max(0, t - settings.appointment_margin_min * 60)
        pickup_window = (0, max(0, t - direct))
        delivery_window = (max(0, t - window), t)
    else:
        pickup_window = (t, min(DAY_S, t + window))
        delivery_window = (t, DAY_S)
    published = [bk.published_pickup_s for bk in g.bookings if bk.published_pickup_s is not None]
    if published and len(published) == len(g.bookings):
        # a published pickup moves by at most max_shift_min on a re-plan: the minute
        # told (any second of it), at most that many minutes earlier or later
        keep = min(published) // 60 * 60
        earlier = 0 if g.keep else settings.max_shift_min
        later = settings.keep_late_min if g.keep else settings.max_shift_min
        low = max(pickup_window[0], keep - 60 * earlier)
        pickup_window = (low, max(min(pickup_window[1], keep + 60 * later + 59), low))
    service = boarding_time(
        g.seats, base_s=settings.boarding_base_s, per_seat_s=settings.boarding_per_seat_s
    )
    on_board = fleet_index[g.pin] if g.on_board and g.pin is not None else None
    if on_board is not None or g.fixed:  # aboard (or boarding now): taken on, however late
        delivery_window, max_ride = (delivery_window[0], DAY_S), UNLIMITED
    elif g.rescue:  # waiting by the road: as soon as any vehicle can, wherever it is going
        pickup_window, delivery_window, max_ride = (0, DAY_S), (0, DAY_S), UNLIMITED
    return Request(
        pickup=a,
        delivery=b,
        seats=g.seats,
        pickup_window=pickup_window,
        delivery_window=delivery_window,
        max_ride=max_ride,
        pickup_service=service,
        delivery_service=service,
        label=f"{g.direction}:{g.from_stop}->{g.to_stop}@{g.time_min}",
        units=tuple(b.seats for b in g.bookings) if len(g.bookings) > 1 else (),
        partial=g.allow_parts,
        priority=g.priority or g.rescue,
        on_board=on_board,
    )


def _told(g: RideGroup) -> int:
    """When a group was told to board (the end of the day when it was not told)."""
    return min(
        (b.published_pickup_s for b in g.bookings if b.published_pickup_s is not None),
        default=DAY_S,
    )


def _vehicle(
    v: FleetVehicle,
    groups: list[RideGroup],
    index: dict[int, int],
    profiles: list[str],
    reach: dict[str, set[int]],
) -> Vehicle:
    """The optimizer's vehicle: the groups it may serve (its roads, pins and locks)."""
    serves = frozenset(
        i
        for i, g in enumerate(groups)
        if {g.from_stop, g.to_stop} <= reach[v.profile]
        and (g.pin == v.id if (v.locked or g.pin is not None) else True)
    )
    # under way, the stop it is driving to comes first: who leaves, then who boards
    mine = [i for i, g in enumerate(groups) if g.fixed and g.pin == v.id]
    prefix = [(i, "delivery") for i in mine if groups[i].on_board]
    boarding = sorted((i for i in mine if not groups[i].on_board), key=lambda i: _told(groups[i]))
    prefix += [(i, "pickup") for i in boarding]
    start = v.shift_start_s if v.at_s is None else v.at_s
    return Vehicle(
        seats=v.seats,
        start=index[v.depot_stop if v.at_stop is None else v.at_stop],
        end=index[v.depot_stop],
        shift=(start, max(start, v.shift_end_s)),
        fixed_cost=v.fixed_cost,
        serves=serves,
        label=v.name,
        profile=profiles.index(v.profile),
        prefix=tuple(prefix),
    )
