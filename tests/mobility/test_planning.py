"""The planning adapter on its own (no database, no road graph): how bookings become
optimizer requests, and how the optimizer's plan comes back in booking terms."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from mobility.codes import UnservedReason
from mobility.planning import (
    BookingRow,
    FleetVehicle,
    PlanningSettings,
    ProfileMatrix,
    VehicleType,
    build_problem,
    group_bookings,
    plan_bookings,
    size_fleet,
    solver_params,
)
from optimizer.check import check
from tests.conftest import QUICK

SETTLEMENT, FARM, TRACK_FARM, DEPOT = 1, 2, 3, 4
MIN = 60


def matrix(stop_ids: tuple[int, ...], minutes: dict[tuple[int, int], float]) -> ProfileMatrix:
    """A symmetric matrix from travel minutes; distances are 800 m a minute."""
    n = len(stop_ids)
    durations = np.zeros((n, n))
    for (a, b), value in minutes.items():
        i, j = stop_ids.index(a), stop_ids.index(b)
        durations[i, j] = durations[j, i] = value * MIN
    return ProfileMatrix(stop_ids, durations, durations / MIN * 800)


MINUTES = {
    (SETTLEMENT, FARM): 20,
    (SETTLEMENT, DEPOT): 10,
    (FARM, DEPOT): 15,
    (SETTLEMENT, TRACK_FARM): 12,
    (FARM, TRACK_FARM): 9,
    (TRACK_FARM, DEPOT): 8,
}
#: The bus is slower and cannot reach the farm on the track.
MATRICES = {
    "minibus": matrix((SETTLEMENT, FARM, TRACK_FARM, DEPOT), MINUTES),
    "bus": matrix(
        (SETTLEMENT, FARM, DEPOT),
        {k: v * 1.25 for k, v in MINUTES.items() if TRACK_FARM not in k},
    ),
}
MINIBUS = FleetVehicle(1, "MB-1", 8, "minibus", DEPOT, 3 * 3600, 20 * 3600)
BUS = FleetVehicle(2, "BUS-1", 28, "bus", DEPOT, 3 * 3600, 20 * 3600, fixed_cost=2)


def row(id_: int, seats: int, *, to: int = FARM, time_min: int = 360, **kw: object) -> BookingRow:
    return BookingRow(id_, f"B{id_}", "to_work", SETTLEMENT, to, time_min, seats, **kw)  # type: ignore[arg-type]


def test_same_route_and_time_are_grouped_and_other_times_are_not() -> None:
    groups = group_bookings([row(1, 3), row(2, 4), row(3, 2, time_min=390)], max_seats=28)
    assert sorted(g.seats for g in groups) == [2, 7]
    assert {tuple(sorted(b.id for b in g.bookings)) for g in groups} == {(1, 2), (3,)}


def test_a_crowd_is_packed_into_groups_of_whole_bookings_up_to_the_limit() -> None:
    crowd = [row(i, s) for i, s in enumerate([20, 15, 10, 5, 3], start=1)]
    groups = group_bookings(crowd, max_seats=28)
    assert all(g.seats <= 28 for g in groups) and sum(g.seats for g in groups) == 53
    assert sorted(b.id for g in groups for b in g.bookings) == [1, 2, 3, 4, 5]


def test_a_booking_pinned_to_a_vehicle_rides_apart_from_its_crowd() -> None:
    groups = group_bookings([row(1, 3), row(2, 4, vehicle_pin=1)], max_seats=28)
    assert {(g.pin, g.seats) for g in groups} == {(None, 3), (1, 4)}


def test_to_work_arrives_in_the_window_before_the_arrive_by_time() -> None:
    settings = PlanningSettings(window_min=30)
    groups = group_bookings([row(1, 3, time_min=360)], max_seats=28)
    problem, loc_ids = build_problem(groups, [MINIBUS], MATRICES, settings)
    (request,) = problem.requests
    assert request.delivery_window == (360 * MIN - 30 * MIN, 360 * MIN)
    assert request.pickup_window == (0, 360 * MIN - 20 * MIN)
    assert loc_ids[request.pickup] == SETTLEMENT and loc_ids[request.delivery] == FARM


def test_back_ride_is_picked_up_in_the_window_after_depart_after() -> None:
    back = BookingRow(1, "B1", "back", FARM, SETTLEMENT, 17 * 60, 4)
    problem, _ = build_problem(
        group_bookings([back], max_seats=28), [MINIBUS], MATRICES, PlanningSettings()
    )
    (request,) = problem.requests
    assert request.pickup_window == (17 * 3600, 17 * 3600 + 30 * MIN)


def test_ride_limit_is_factor_times_direct_plus_extra_on_the_fastest_profile() -> None:
    settings = PlanningSettings(ride_factor=1.5, ride_extra_min=15)
    problem, _ = build_problem(
        group_bookings([row(1, 3)], max_seats=28), [MINIBUS, BUS], MATRICES, settings
    )
    (request,) = problem.requests
    # direct is the minibus's 20 minutes, not the bus's 25
    assert request.max_ride == math.ceil(1.5 * 20 * MIN + 15 * MIN)


def test_each_profile_drives_its_own_matrix_and_reaches_only_its_roads() -> None:
    groups = group_bookings([row(1, 3), row(2, 2, to=TRACK_FARM)], max_seats=28)
    problem, loc_ids = build_problem(groups, [MINIBUS, BUS], MATRICES, PlanningSettings())
    s, f = loc_ids.index(SETTLEMENT), loc_ids.index(FARM)
    assert problem.travel(0)[0][s, f] == 20 * MIN and problem.travel(1)[0][s, f] == 25 * MIN
    to_track = next(i for i, g in enumerate(groups) if g.to_stop == TRACK_FARM)
    assert problem.vehicles[0].may_serve(to_track) and not problem.vehicles[1].may_serve(to_track)


def test_a_published_pickup_moves_by_at_most_the_allowed_shift() -> None:
    published = row(1, 3, published_pickup_s=5 * 3600)
    settings = PlanningSettings(max_shift_min=10)
    problem, _ = build_problem(
        group_bookings([published], max_seats=28), [MINIBUS], MATRICES, settings
    )
    (request,) = problem.requests
    # the minute told, any second of it, moves by ten minutes at most either way
    assert request.pickup_window == (5 * 3600 - 10 * MIN, 5 * 3600 + 10 * MIN + 59)
    kept = dataclasses.replace(published, keep=True, published_pickup_s=5 * 3600 + 25)
    problem, _ = build_problem(group_bookings([kept], max_seats=28), [MINIBUS], MATRICES, settings)
    # kept in place: in the minute told, or at most keep_late_min later, never earlier
    assert problem.requests[0].pickup_window == (5 * 3600, 5 * 3600 + MIN + 59)


def test_boarding_time_grows_with_the_group() -> None:
    settings = PlanningSettings(boarding_base_s=60, boarding_per_seat_s=10)
    problem, _ = build_problem(
        group_bookings([row(1, 7)], max_seats=28), [MINIBUS], MATRICES, settings
    )
    assert problem.requests[0].pickup_service == 60 + 7 * 10


def test_solver_parameters_come_from_the_settings() -> None:
    params = solver_params(
        PlanningSettings(time_limit_s=7, solver_workers=1, solution_limit=3, lns_iterations=9)
    )
    assert (params.time_limit_s, params.workers) == (7, 1)
    assert (params.solution_limit, params.lns_iterations) == (3, 9)


def test_planned_day_serves_the_bookings_and_checks_clean() -> None:
    bookings = [row(1, 3), row(2, 4), row(3, 2, to=TRACK_FARM), row(4, 20, time_min=390)]
    day = plan_bookings(bookings, [MINIBUS, BUS], MATRICES, settings=QUICK)
    assert day.figures.violations == ()
    assert day.figures.served_seats == day.figures.seats == 29
    assert set(day.pickups) == {1, 2, 3, 4} and day.unserved == {}
    # the 20-seat crew rides the bus; the track farm only the minibus reaches
    assert day.vehicles_of[4] == [BUS.id] and day.vehicles_of[3] == [MINIBUS.id]
    for route in day.routes:
        boarded = sum(s for stop in route.stops for _, s in stop.board)
        left = sum(s for stop in route.stops for _, s in stop.alight)
        assert boarded == left > 0


def test_what_no_vehicle_can_carry_comes_back_unserved_with_a_reason() -> None:
    off_the_bus_roads = row(1, 3, to=TRACK_FARM)
    day = plan_bookings([off_the_bus_roads], [BUS], MATRICES, settings=QUICK)
    assert (
        day.unserved == {1: UnservedReason.NO_VEHICLE_MAY_SERVE} and day.figures.unserved_seats == 3
    )
    day = plan_bookings([row(1, 3)], [], MATRICES, settings=QUICK)
    assert day.unserved == {1: UnservedReason.NO_FLEET}


def test_figures_round_trip_through_json() -> None:
    day = plan_bookings([row(1, 3)], [MINIBUS], MATRICES, settings=QUICK)
    again = type(day.figures).from_json(day.figures.to_json())
    assert again == day.figures


def test_every_plan_of_the_adapter_is_checked_independently() -> None:
    bookings = [row(i, 1 + i % 5, time_min=330 + 15 * (i % 4)) for i in range(1, 13)]
    day = plan_bookings(bookings, [MINIBUS, BUS], MATRICES, settings=QUICK)
    assert day.plan is not None
    problem, _ = build_problem(
        group_bookings(bookings, max_seats=28), [MINIBUS, BUS], MATRICES, QUICK
    )
    assert check(problem, day.plan) == [] == list(day.figures.violations)


@pytest.mark.parametrize("seats", [9, 28])
def test_a_crew_larger_than_the_minibus_waits_for_the_bus(seats: int) -> None:
    day = plan_bookings([row(1, seats)], [MINIBUS, BUS], MATRICES, settings=QUICK)
    assert day.vehicles_of[1] == [BUS.id]


MINIBUS_2 = FleetVehicle(3, "MB-2", 8, "minibus", DEPOT, 3 * 3600, 20 * 3600)


def test_a_crew_rides_two_minibuses_when_the_bus_is_full() -> None:
    # the bus takes the crew of 28; the crew of 10 fits no vehicle left alone
    bookings = [row(1, 28), row(2, 10)]
    day = plan_bookings(bookings, [BUS, MINIBUS, MINIBUS_2], MATRICES, settings=QUICK)
    assert day.figures.violations == () and day.unserved == {}
    assert day.figures.served_seats == 38
    assert day.seats_in[1] == {BUS.id: 28}
    assert day.split_bookings == {2: {MINIBUS.id: 5, MINIBUS_2.id: 5}}
    assert sorted(day.vehicles_of[2]) == [MINIBUS.id, MINIBUS_2.id]
    # both parts board at the crew's stop; the published pickup is the first of them
    boarding = [
        (stop.arrival_s, stop.departure_s, stop.stop_id)
        for route in day.routes
        for stop in route.stops
        if any(b == 2 for b, _ in stop.board)
    ]
    assert len(boarding) == 2 and {s for *_, s in boarding} == {SETTLEMENT}
    time_s, stop_id = day.pickups[2]
    assert stop_id == SETTLEMENT
    assert min(a for a, _, _ in boarding) <= time_s <= min(d for _, d, _ in boarding)


def test_a_group_is_split_at_its_bookings_before_a_booking_is() -> None:
    bookings = [row(1, 28), row(2, 6), row(3, 4)]
    day = plan_bookings(bookings, [BUS, MINIBUS, MINIBUS_2], MATRICES, settings=QUICK)
    assert day.figures.served_seats == 38 and day.split_bookings == {}
    assert {b: len(v) for b, v in day.seats_in.items()} == {1: 1, 2: 1, 3: 1}
    assert day.seats_in[2].keys() != day.seats_in[3].keys()


def test_the_cheapest_fleet_serves_every_reachable_seat_with_its_bound() -> None:
    types = [
        VehicleType("minibus 8", 8, "minibus", 3 * 3600, 20 * 3600, fixed_cost=1),
        VehicleType("bus 28", 28, "bus", 3 * 3600, 20 * 3600, fixed_cost=2),
    ]
    bookings = [row(1, 12), row(2, 8), row(3, 8), row(4, 8)]  # 36 seats at 06:00
    bookings += [row(5, 2, to=TRACK_FARM, time_min=600)]  # a field only minibuses reach
    bookings += [row(6, 3, time_min=10)]  # arrive by 00:10: before every shift
    sizing = size_fleet(bookings, types, [DEPOT], MATRICES, settings=QUICK)
    # a bus and a minibus (cost 3) beat two buses (cost 4) or one bus and two minibuses
    assert sizing.fleet == {"minibus 8": 1, "bus 28": 1}
    assert (sizing.vehicles, sizing.cost, sizing.lower_bound) == (2, 3, 2)
    assert sizing.seats == 41 and sizing.reachable_seats == sizing.served_seats == 38
    assert sizing.unserved == {6: UnservedReason.UNREACHABLE}
    assert sizing.by_depot == {DEPOT: {"minibus 8": 1, "bus 28": 1}}
    assert sizing.figures is not None and sizing.figures.violations == ()
    assert set(sizing.to_dict()) == {
        "fleet",
        "vehicles",
        "lower_bound",
        "reachable_seats",
        "served_seats",
        "cost",
    }


def test_sizing_needs_a_type_and_a_depot() -> None:
    with pytest.raises(ValueError, match="types and depots"):
        size_fleet([row(1, 2)], [], [DEPOT], MATRICES, settings=QUICK)


def test_a_ride_to_an_appointment_arrives_before_it_with_the_margin() -> None:
    # (a service stop is always a service: its bookings never group with work rides)
    appointment = row(1, 1, to=TRACK_FARM, time_min=9 * 60 + 30, service=True)
    work = row(2, 1, time_min=9 * 60 + 30)
    problem, _ = build_problem(
        group_bookings([appointment, work], max_seats=28), [MINIBUS], MATRICES, QUICK
    )
    windows = sorted(r.delivery_window for r in problem.requests)
    margin = QUICK.appointment_margin_min * 60
    assert windows == [
        ((570 - 30) * MIN - margin, 570 * MIN - margin),  # the appointment: 10 min early
        ((570 - 30) * MIN, 570 * MIN),  # work: by the arrive-by time
    ]


def test_a_vehicle_back_from_the_morning_run_takes_a_midday_appointment() -> None:
    morning = row(1, 6, time_min=6 * 60)  # a crew to the farm at dawn
    hospital = row(2, 1, to=TRACK_FARM, time_min=11 * 60, service=True)
    back = BookingRow(3, "B3", "back", TRACK_FARM, SETTLEMENT, 12 * 60, 1, service=True)
    day = plan_bookings([morning, hospital, back], [MINIBUS], MATRICES, settings=QUICK)
    assert day.figures.violations == () and day.unserved == {}
    assert day.vehicles_of[1] == day.vehicles_of[2] == day.vehicles_of[3] == [MINIBUS.id]
    arrive = next(
        stop.arrival_s
        for r in day.routes
        for stop in r.stops
        if any(b == 2 for b, _ in stop.alight)
    )
    assert arrive <= 11 * 3600 - QUICK.appointment_margin_min * 60


def test_the_figures_say_how_many_seats_no_plan_of_the_fleet_can_exceed() -> None:
    # 18 seats to a field only the one minibus reaches, all by 06:00: no time for a
    # second trip, so 8 seats at most whatever the search
    crews = [row(i, 6, to=TRACK_FARM) for i in (1, 2, 3)]
    day = plan_bookings(crews, [MINIBUS], MATRICES, settings=QUICK)
    figures = day.figures
    assert (figures.reachable_seats, figures.servable_seats) == (18, 8)
    assert 0 < figures.served_seats <= 8
    # with a second minibus there is room for 16
    more = plan_bookings(crews, [MINIBUS, MINIBUS_2], MATRICES, settings=QUICK)
    assert more.figures.servable_seats == 16
    # what no vehicle reaches is not counted
    late = plan_bookings([*crews, row(4, 3, time_min=10)], [MINIBUS], MATRICES, settings=QUICK)
    assert (late.figures.reachable_seats, late.figures.servable_seats) == (18, 8)


def test_a_worker_told_t_finds_the_vehicle_there_until_his_crew_has_boarded() -> None:
    coach = FleetVehicle(3, "COACH-1", 50, "bus", DEPOT, 3 * 3600, 20 * 3600, fixed_cost=3)
    crews = [row(1, 28), row(2, 6), row(3, 9, time_min=370)]
    day = plan_bookings(crews, [coach], MATRICES, settings=QUICK)
    assert set(day.pickups) == {1, 2, 3}
    (route,) = day.routes
    shared = [s for s in route.stops if len(s.board) > 1]
    assert shared, "the three crews should board at one stop for this test to mean anything"
    settings = PlanningSettings()
    for crew in crews:
        told, stop_id = day.pickups[crew.id]
        (stop,) = [s for s in route.stops if any(b == crew.id for b, _ in s.board)]
        own = settings.boarding_base_s + settings.boarding_per_seat_s * crew.seats
        assert stop.stop_id == stop_id
        assert stop.arrival_s <= told, "the vehicle is there by the time told"
        assert stop.departure_s >= told + own, "and leaves only after his crew has boarded"
    # the crew boarding last is told later than the stop's first arrival, never the
    # stop's departure (which follows every crew's boarding)
    assert max(t for t, _ in day.pickups.values()) < shared[0].departure_s


def test_a_crew_rides_whole_or_is_left_out_unless_its_leader_allowed_parts() -> None:
    # 12 seats only a minibus reaches, one minibus, a 10-minute window: one trip of 8
    tight = dataclasses.replace(QUICK, window_min=10)
    whole = plan_bookings([row(1, 12, to=TRACK_FARM)], [MINIBUS], MATRICES, settings=tight)
    assert whole.pickups == {} and whole.unserved == {1: UnservedReason.FLEET_FULL}
    assert whole.figures.served_seats == 0 and whole.figures.violations == ()
    crew = row(1, 12, to=TRACK_FARM, allow_parts=True)
    parts = plan_bookings([crew], [MINIBUS], MATRICES, settings=tight)
    assert set(parts.pickups) == {1} and parts.seats_in == {1: {MINIBUS.id: 8}}
    assert parts.unserved == {1: UnservedReason.FLEET_FULL}  # for its other 4 seats
    assert parts.figures.served_seats == 8 and parts.figures.violations == ()


def test_crews_that_allow_parts_are_grouped_apart_from_those_that_do_not() -> None:
    groups = group_bookings([row(1, 3), row(2, 4, allow_parts=True), row(3, 2)], max_seats=28)
    assert sorted((g.allow_parts, g.seats) for g in groups) == [(False, 5), (True, 4)]
    problem, _ = build_problem(groups, [MINIBUS], MATRICES, PlanningSettings())
    assert sorted(r.partial for r in problem.requests) == [False, True]
