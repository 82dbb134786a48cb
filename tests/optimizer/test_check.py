"""The checker catches each kind of violation in an otherwise good plan."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from optimizer.check import check
from optimizer.plan import Plan, Route, Unassigned, UnassignedReason, Visit, VisitKind
from optimizer.problem import Request, RoutingProblem, Vehicle
from tests.optimizer.helpers import line_matrix, solve_and_check

LINE = line_matrix([0, 10, 20, 30, 40])


@pytest.fixture
def problem() -> RoutingProblem:
    # the ride limit makes 1, 2, 3, 4 the only best order (1, 2, 4, 3 costs the
    # same, but request 0 would ride 40)
    requests = (
        Request(1, 3, seats=2, max_ride=30, pickup_window=(0, 100), delivery_window=(0, 100)),
        Request(2, 4, seats=2, pickup_window=(0, 100), delivery_window=(0, 100)),
    )
    return RoutingProblem(LINE, requests, (Vehicle(4, 0, 0, shift=(0, 200)),))


@pytest.fixture
def good(problem: RoutingProblem) -> Plan:
    plan = solve_and_check(problem)
    assert [v.location for v in plan.routes[0].visits] == [0, 1, 2, 3, 4, 0]
    return plan


def with_visits(plan: Plan, visits: list[Visit]) -> Plan:
    return dataclasses.replace(plan, routes=(Route(0, tuple(visits)),))


def shift_from(visits: list[Visit], i: int, delta: int) -> list[Visit]:
    return [
        dataclasses.replace(
            v, arrival=v.arrival + delta, start=v.start + delta, departure=v.departure + delta
        )
        if k >= i
        else v
        for k, v in enumerate(visits)
    ]


def test_good_plan_passes(problem: RoutingProblem, good: Plan) -> None:
    assert check(problem, good) == []


def test_too_many_seats_on_board_is_caught(problem: RoutingProblem, good: Plan) -> None:
    small = dataclasses.replace(problem, vehicles=(Vehicle(3, 0, 0, shift=(0, 200)),))
    assert any("more than 3 seats" in e for e in check(small, good))


def test_service_outside_its_window_is_caught(problem: RoutingProblem, good: Plan) -> None:
    late = shift_from(list(good.routes[0].visits), 1, 150)
    errors = check(problem, with_visits(good, late))
    assert any("outside window" in e for e in errors)


def test_arrival_faster_than_the_matrix_is_caught(problem: RoutingProblem, good: Plan) -> None:
    visits = list(good.routes[0].visits)
    visits[2] = dataclasses.replace(visits[2], arrival=visits[2].arrival - 5)
    assert any("is not departure" in e for e in check(problem, with_visits(good, visits)))


def test_ride_time_over_the_limit_is_caught(problem: RoutingProblem, good: Plan) -> None:
    visits = list(good.routes[0].visits)
    # wait 30 after the first pickup: request 0 then rides 50 > 30
    visits = shift_from(visits, 2, 30)
    errors = check(problem, with_visits(good, visits))
    assert any("more than its limit 30" in e for e in errors)


def test_drop_off_before_pickup_is_caught(problem: RoutingProblem, good: Plan) -> None:
    v = list(good.routes[0].visits)
    swapped = [v[0], v[3], v[2], v[1], v[4], v[5]]
    errors = check(problem, with_visits(good, swapped))
    assert any("dropped off before it is picked up" in e for e in errors)


def test_part_served_and_listed_unassigned_is_caught(problem: RoutingProblem, good: Plan) -> None:
    bad = dataclasses.replace(good, unassigned=(Unassigned(0, UnassignedReason.FLEET_FULL),))
    assert any("unassigned and served" in e for e in check(problem, bad))


def test_part_missing_from_plan_is_caught(problem: RoutingProblem, good: Plan) -> None:
    empty = dataclasses.replace(good, routes=(Route(0, ()),), served_seats=0, unserved_seats=4)
    errors = check(problem, dataclasses.replace(empty, travel_time=0, distance=0))
    assert any("neither served nor unassigned" in e for e in errors)


def test_wrong_totals_are_caught(problem: RoutingProblem, good: Plan) -> None:
    errors = check(problem, dataclasses.replace(good, travel_time=good.travel_time - 1))
    assert any("travel time" in e for e in errors)


def test_vehicle_not_allowed_is_caught(problem: RoutingProblem, good: Plan) -> None:
    restricted = dataclasses.replace(
        problem, vehicles=(Vehicle(4, 0, 0, shift=(0, 200), serves=frozenset({0})),)
    )
    assert any("may not serve request 1" in e for e in check(restricted, good))


def test_route_longer_than_allowed_is_caught(problem: RoutingProblem, good: Plan) -> None:
    short = dataclasses.replace(
        problem, vehicles=(Vehicle(4, 0, 0, shift=(0, 200), max_duration=50),)
    )
    assert any("limit 50" in e for e in check(short, good))


def test_parts_that_do_not_add_up_to_the_request_are_caught(
    problem: RoutingProblem, good: Plan
) -> None:
    parts = list(problem.parts)
    parts[0] = dataclasses.replace(parts[0], seats=1)
    errors = check(problem, dataclasses.replace(good, parts=tuple(parts)))
    assert "request 0: its parts have 1 seats, not 2" in errors


def test_parts_numbered_wrong_are_caught(problem: RoutingProblem, good: Plan) -> None:
    parts = list(problem.parts)
    parts[1] = dataclasses.replace(parts[1], part=1)
    errors = check(problem, dataclasses.replace(good, parts=tuple(parts)))
    assert "request 1: parts are not numbered 0..0 of 1" in errors


def test_a_split_crew_is_checked_part_by_part() -> None:
    problem = RoutingProblem(
        LINE,
        (Request(1, 3, seats=6, units=(4, 2), pickup_window=(10, 12), delivery_window=(0, 40)),),
        (Vehicle(4, 0, 0), Vehicle(4, 0, 0)),
        split=frozenset({0}),
    )
    plan = solve_and_check(problem)
    assert plan.split_requests() == {0: [0, 1]}
    # claiming the whole crew rode in the first vehicle breaks its capacity
    merged = dataclasses.replace(
        plan, parts=(dataclasses.replace(problem.parts[0], seats=5), problem.parts[1])
    )
    assert any("seats" in e for e in check(problem, merged))


def test_a_crew_served_in_part_is_caught_unless_it_allowed_parts() -> None:
    def crew(partial: bool) -> RoutingProblem:
        return RoutingProblem(
            LINE,
            (Request(1, 3, seats=6, pickup_window=(10, 12), partial=partial),),
            (Vehicle(4, 0, 0), Vehicle(4, 0, 0)),
        )

    plan = solve_and_check(crew(partial=True))  # loads of 4 and 2, both served
    assert len(plan.vehicle_of()) == 2
    # leave the second load out: the first vehicle alone carries part of the crew
    first = plan.routes[0] if plan.routes[0].is_used else plan.routes[1]
    part = next(v.part for v in first.visits if v.kind is VisitKind.PICKUP)
    other = 1 - part
    legs = sum(int(LINE[a.location, b.location]) for a, b in itertools.pairwise(first.visits))
    half = dataclasses.replace(
        plan,
        routes=tuple(r if r is first else dataclasses.replace(r, visits=()) for r in plan.routes),
        unassigned=(Unassigned(other, UnassignedReason.FLEET_FULL),),
        served_seats=plan.parts[part].seats,
        unserved_seats=plan.parts[other].seats,
        vehicles_used=1,
        travel_time=legs,
        distance=legs,
    )
    assert check(crew(partial=True), half) == []
    errors = check(crew(partial=False), half)
    (error,) = errors
    assert error.startswith(f"request 0: party 0 is served in part (parts [{part}] ride")
