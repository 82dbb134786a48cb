"""Re-planning a day under way: vehicles that start where they are, groups on board,
priority requests and fixed route prefixes, in the solver and in the checker."""

from __future__ import annotations

import dataclasses

import pytest

from optimizer.check import check
from optimizer.plan import Plan, Route, Unassigned, UnassignedReason, VisitKind
from optimizer.problem import Request, RoutingProblem, Vehicle
from tests.optimizer.helpers import line_matrix, solve_and_check

# locations on a line: 0 depot, 1..6 stops ten minutes apart
LINE = line_matrix([0, 600, 1200, 1800, 2400, 3000, 3600])
OPEN = (0, 20_000)


def kinds(plan: Plan, k: int) -> list[tuple[str, int, int]]:
    """(kind, location, request) of vehicle k's pickups and drop-offs."""
    return [
        (v.kind.value, v.location, plan.parts[v.part].request)
        for v in plan.routes[k].visits
        if v.part >= 0
    ]


def test_a_vehicle_under_way_starts_where_it_is_with_its_riders() -> None:
    # vehicle 0 is at location 3 at 05:00 with a group of 4 on board going to 6;
    # vehicle 1 waits at the depot and is nearer to nothing that matters
    requests = (
        Request(3, 6, seats=4, delivery_window=OPEN, on_board=0),
        Request(4, 5, seats=2, pickup_window=(18_000, 20_000), delivery_window=OPEN),
    )
    vehicles = (
        Vehicle(6, 3, 0, shift=(18_000, 30_000)),
        Vehicle(8, 0, 0, shift=(0, 30_000)),
    )
    problem = RoutingProblem(LINE, requests, vehicles)
    assert problem.requests[0].pickup_window == (18_000, 18_000)
    assert problem.eligible_vehicles(0) == [0]
    plan = solve_and_check(problem)
    route = plan.routes[0].visits
    assert route[0].location == 3 and route[0].start == 18_000
    assert (route[1].kind, route[1].start, route[1].load) == (VisitKind.PICKUP, 18_000, 4)
    assert ("delivery", 6, 0) in kinds(plan, 0)
    assert plan.unassigned == ()


def test_riders_on_board_are_never_moved_to_another_vehicle() -> None:
    # vehicle 1 starts at the drop-off itself, yet the group stays in vehicle 0
    requests = (Request(2, 5, seats=3, delivery_window=OPEN, on_board=0),)
    vehicles = (Vehicle(4, 2, 0, shift=(1_000, 30_000)), Vehicle(4, 5, 0, shift=(1_000, 30_000)))
    plan = solve_and_check(RoutingProblem(LINE, requests, vehicles))
    assert plan.vehicle_of() == {0: 0}
    assert not plan.routes[1].is_used


def test_a_priority_request_is_served_before_larger_ones() -> None:
    # one vehicle of 4 seats, two requests at the same time: 4 seats or 2 priority seats
    both = (7_000, 7_200)
    requests = (
        Request(1, 6, seats=4, pickup_window=both, delivery_window=OPEN),
        Request(2, 6, seats=2, pickup_window=both, delivery_window=OPEN, priority=True),
    )
    problem = RoutingProblem(LINE, requests, (Vehicle(4, 0, 0, shift=(0, 30_000)),))
    assert solve_and_check(problem).vehicle_of() == {1: 0}
    plain = dataclasses.replace(
        problem, requests=(requests[0], dataclasses.replace(requests[1], priority=False))
    )
    assert solve_and_check(plain).vehicle_of() == {0: 0}


def test_a_route_begins_with_its_prefix_and_the_rest_is_planned_after_it() -> None:
    # vehicle 0 is driving to 5 to pick up request 0 (a detour the solver would not
    # choose now that request 1 waits at 1); the prefix is kept
    requests = (
        Request(5, 6, seats=2, pickup_window=OPEN, delivery_window=OPEN),
        Request(1, 2, seats=2, pickup_window=OPEN, delivery_window=OPEN),
        Request(4, 3, seats=1, pickup_window=OPEN, delivery_window=OPEN),
    )
    vehicles = (
        Vehicle(4, 3, 0, shift=(10_000, 30_000), prefix=((0, "pickup"), (2, "pickup"))),
        Vehicle(4, 0, 0, shift=(0, 30_000)),
    )
    problem = RoutingProblem(LINE, requests, vehicles)
    plan = solve_and_check(problem)
    assert kinds(plan, 0)[:2] == [("pickup", 5, 0), ("pickup", 4, 2)]
    assert plan.vehicle_of()[0] == 0 and plan.vehicle_of()[2] == 0
    first = plan.routes[0].visits[1]
    assert first.arrival == 10_000 + 1_200  # from 3 to 5, leaving at once


def test_a_request_served_within_the_prefix_is_done() -> None:
    requests = (
        Request(1, 2, seats=2, pickup_window=OPEN, delivery_window=OPEN),
        Request(3, 4, seats=2, pickup_window=OPEN, delivery_window=OPEN),
    )
    vehicles = (Vehicle(4, 0, 0, shift=(0, 30_000), prefix=((0, "pickup"), (0, "delivery"))),)
    plan = solve_and_check(RoutingProblem(LINE, requests, vehicles))
    assert kinds(plan, 0) == [
        ("pickup", 1, 0),
        ("delivery", 2, 0),
        ("pickup", 3, 1),
        ("delivery", 4, 1),
    ]
    assert plan.served_seats == 4 and plan.distance == 2 * 2400


def test_a_prefix_with_a_group_on_board_drops_it_off() -> None:
    requests = (
        Request(3, 1, seats=3, delivery_window=OPEN, on_board=0),
        Request(2, 6, seats=1, pickup_window=OPEN, delivery_window=OPEN),
    )
    vehicles = (Vehicle(4, 3, 0, shift=(5_000, 30_000), prefix=((0, "delivery"),)),)
    plan = solve_and_check(RoutingProblem(LINE, requests, vehicles))
    assert kinds(plan, 0)[:2] == [("pickup", 3, 0), ("delivery", 1, 0)]
    assert plan.served_seats == 4


def test_the_checker_catches_a_rider_left_on_the_road_or_moved() -> None:
    requests = (Request(2, 5, seats=3, delivery_window=OPEN, on_board=0),)
    vehicles = (Vehicle(4, 2, 0, shift=(1_000, 30_000)), Vehicle(4, 2, 0, shift=(1_000, 30_000)))
    problem = RoutingProblem(LINE, requests, vehicles)
    plan = solve_and_check(problem)
    # the same route driven by the other vehicle
    moved = dataclasses.replace(
        plan, routes=(Route(0, ()), Route(1, plan.routes[0].visits)), vehicles_used=1
    )
    assert any("may not serve request 0" in e for e in check(problem, moved))
    left = dataclasses.replace(
        plan,
        routes=(Route(0, ()), Route(1, ())),
        unassigned=(Unassigned(0, UnassignedReason.FLEET_FULL),),
        served_seats=0,
        unserved_seats=3,
        vehicles_used=0,
        travel_time=0,
        distance=0,
    )
    assert check(problem, left) == ["request 0 is on board and its part 0 is left out"]


def test_the_checker_catches_a_route_that_skips_its_prefix() -> None:
    requests = (
        Request(1, 2, seats=1, pickup_window=OPEN, delivery_window=OPEN),
        Request(3, 4, seats=1, pickup_window=OPEN, delivery_window=OPEN),
    )
    free = RoutingProblem(LINE, requests, (Vehicle(4, 0, 0, shift=(0, 30_000)),))
    plan = solve_and_check(free)
    assert kinds(plan, 0)[0] == ("pickup", 1, 0)
    fixed = RoutingProblem(
        LINE, requests, (Vehicle(4, 0, 0, shift=(0, 30_000), prefix=((1, "pickup"),)),)
    )
    assert any("not its prefix" in e for e in check(fixed, plan))


@pytest.mark.parametrize(
    ("ride", "vehicle", "message"),
    [
        (Request(1, 2, on_board=0), Vehicle(4, 3, 0), "is not the vehicle's start"),
        (Request(3, 2, on_board=1), Vehicle(4, 3, 0), "unknown vehicle 1"),
        (Request(3, 2, seats=5, on_board=0), Vehicle(4, 3, 0), "more than its seats"),
        (Request(1, 2), Vehicle(4, 3, 0, prefix=((0, "delivery"),)), "before its pickup"),
        (Request(1, 2), Vehicle(4, 3, 0, prefix=((3, "pickup"),)), "unknown request index 3"),
    ],
)
def test_bad_re_plan_input_is_refused_naming_the_field(
    ride: Request, vehicle: Vehicle, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        RoutingProblem(LINE, (ride,), (vehicle,))


def test_a_prefix_visit_must_pick_up_or_drop_off() -> None:
    with pytest.raises(ValueError, match="not 'pickup' or 'delivery'"):
        Vehicle(4, 3, 0, prefix=((0, "board"),))
