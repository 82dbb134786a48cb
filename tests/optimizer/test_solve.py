"""Small problems with known answers; every plan is checked by the independent checker."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pytest

import optimizer.solve
from optimizer.plan import UnassignedReason, VisitKind
from optimizer.problem import Request, RoutingProblem, Vehicle
from optimizer.solve import SearchConfig, SolverParams, solve
from tests.optimizer.helpers import FAST, line_matrix, solve_and_check

# locations on a line: 0 depot at 0, 1 at 10, 2 at 20, 3 at 30, 4 at 40
LINE = line_matrix([0, 10, 20, 30, 40])


def test_one_vehicle_carries_two_requests_in_one_sweep() -> None:
    problem = RoutingProblem(
        LINE, (Request(1, 3), Request(2, 4)), (Vehicle(seats=4, start=0, end=0),)
    )
    plan = solve_and_check(problem)
    assert plan.unassigned == ()
    assert plan.vehicles_used == 1
    kinds = [v.location for v in plan.routes[0].visits]
    assert kinds == [0, 1, 2, 3, 4, 0]
    assert plan.travel_time == 80


def test_capacity_forces_a_second_vehicle() -> None:
    requests = (Request(1, 3, seats=3), Request(2, 4, seats=3))
    problem = RoutingProblem(LINE, requests, (Vehicle(4, 0, 0, fixed_cost=1),) * 2)
    plan = solve_and_check(problem)
    assert plan.unassigned == ()
    # riding one after the other in one vehicle is possible: 1->3, 2->4 sequentially
    for route in plan.routes:
        assert max((v.load for v in route.visits), default=0) <= 4


def test_capacity_and_time_force_two_vehicles() -> None:
    # both must be picked up at time 10-20 and dropped by 40: they overlap in time
    window = (10, 20)
    requests = (
        Request(1, 3, seats=3, pickup_window=window, delivery_window=(0, 40)),
        Request(1, 3, seats=3, pickup_window=window, delivery_window=(0, 40)),
    )
    problem = RoutingProblem(LINE, requests, (Vehicle(4, 0, 0, fixed_cost=1),) * 3)
    plan = solve_and_check(problem)
    assert plan.unassigned == ()
    assert plan.vehicles_used == 2


def test_fewer_vehicles_come_before_shorter_driving() -> None:
    # two vehicles would drive less (each one way), one vehicle does both
    requests = (Request(1, 2), Request(3, 4))
    problem = RoutingProblem(LINE, requests, (Vehicle(8, 0, 0, fixed_cost=1),) * 2)
    plan = solve_and_check(problem)
    assert plan.vehicles_used == 1


def test_window_no_vehicle_can_reach_leaves_request_unassigned_with_reason() -> None:
    requests = (
        Request(1, 2),
        Request(4, 3, pickup_window=(0, 20)),  # location 4 is 40 away from the depot
    )
    problem = RoutingProblem(LINE, requests, (Vehicle(8, 0, 0),))
    plan = solve_and_check(problem)
    assert [(u.part, u.reason) for u in plan.unassigned] == [
        (1, UnassignedReason.UNREACHABLE_IN_WINDOW)
    ]
    assert plan.served_seats == 1 and plan.unserved_seats == 1


def test_crew_larger_than_any_vehicle_is_split_over_vehicles() -> None:
    problem = RoutingProblem(
        LINE,
        (Request(1, 4, seats=40, pickup_window=(10, 30), delivery_window=(0, 80)),),
        (Vehicle(28, 0, 0, fixed_cost=1), Vehicle(28, 0, 0, fixed_cost=1)),
    )
    plan = solve_and_check(problem)
    assert plan.unassigned == ()
    assert plan.served_seats == 40
    carried = plan.vehicle_of()
    assert sorted(carried) == [0, 1]
    assert carried[0] != carried[1]  # the two parts ride different vehicles
    assert sorted(problem.parts[j].seats for j in carried) == [12, 28]


def test_ride_time_limit_forbids_a_detour() -> None:
    # request A (1 -> 2) may ride at most 15; carrying B (3 -> 4) in between is a detour
    requests = (
        Request(1, 2, max_ride=15, pickup_window=(10, 10), delivery_window=(0, 100)),
        Request(3, 4, pickup_window=(30, 30), delivery_window=(0, 100)),
    )
    problem = RoutingProblem(LINE, requests, (Vehicle(8, 0, 0),))
    plan = solve_and_check(problem)
    assert plan.unassigned == ()
    order = [(v.kind, v.part) for v in plan.routes[0].visits if v.part >= 0]
    assert order.index((VisitKind.DELIVERY, 0)) < order.index((VisitKind.PICKUP, 1))


def test_vehicle_may_only_serve_its_requests() -> None:
    bus = Vehicle(28, 0, 0, serves=frozenset({0}), label="bus")
    minibus = Vehicle(8, 0, 0, label="minibus")
    problem = RoutingProblem(LINE, (Request(1, 2), Request(3, 4)), (bus, minibus))
    plan = solve_and_check(problem)
    assert plan.vehicle_of().get(1) == 1


def test_request_no_vehicle_may_serve_is_unassigned_with_reason() -> None:
    bus = Vehicle(28, 0, 0, serves=frozenset({0}))
    problem = RoutingProblem(LINE, (Request(1, 2), Request(3, 4)), (bus,))
    plan = solve_and_check(problem)
    assert [(u.part, u.reason) for u in plan.unassigned] == [
        (1, UnassignedReason.NO_ELIGIBLE_VEHICLE)
    ]


def test_more_demand_than_fleet_serves_most_seats_and_says_why() -> None:
    window = (10, 10)
    requests = tuple(
        Request(1, 2, seats=s, pickup_window=window, delivery_window=(0, 100)) for s in (3, 5, 2)
    )
    problem = RoutingProblem(LINE, requests, (Vehicle(6, 0, 0),))
    plan = solve_and_check(problem)
    assert plan.served_seats == 5  # 3 + 2 or 5: both fill 5 of 6 seats
    assert {u.reason for u in plan.unassigned} == {UnassignedReason.FLEET_FULL}


def test_route_duration_and_shift_are_respected() -> None:
    requests = (Request(1, 4, delivery_window=(0, 200)),)
    short = Vehicle(8, 0, 0, shift=(0, 60))  # 0 -> 10 -> 40 -> 0 needs 80
    problem = RoutingProblem(LINE, requests, (short,))
    plan = solve_and_check(problem)
    assert [u.reason for u in plan.unassigned] == [UnassignedReason.UNREACHABLE_IN_WINDOW]


def test_service_times_delay_departures() -> None:
    problem = RoutingProblem(
        LINE, (Request(1, 2, pickup_service=5, delivery_service=7),), (Vehicle(8, 0, 0),)
    )
    plan = solve_and_check(problem)
    pickup = plan.routes[0].visits[1]
    assert pickup.departure == pickup.start + 5


def test_two_workers_return_a_checked_plan() -> None:
    problem = RoutingProblem(LINE, (Request(1, 3), Request(2, 4)), (Vehicle(4, 0, 0),) * 2)
    plan = solve_and_check(problem, SolverParams(time_limit_s=1.0, workers=2))
    assert plan.served_seats == 2


def test_problem_with_nothing_to_plan_returns_empty_plan() -> None:
    problem = RoutingProblem(LINE, (), (Vehicle(8, 0, 0),))
    plan = solve(problem, FAST)
    assert plan.status == "EMPTY" and plan.vehicles_used == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [("time_limit_s", 0), ("workers", 0), ("arc_cost", "money"), ("solution_limit", 0)],
)
def test_bad_solver_params_are_rejected(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        SolverParams(**{field: value})  # type: ignore[arg-type]


def test_many_requests_within_a_short_time_limit_still_give_a_feasible_plan() -> None:
    rng = np.random.default_rng(3)
    pts = rng.uniform(0, 100, size=(61, 2))
    matrix = np.ceil(np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1)))
    requests = tuple(
        Request(
            1 + 2 * i,
            2 + 2 * i,
            seats=int(rng.integers(1, 4)),
            pickup_window=(0, 300),
            delivery_window=(0, 400),
            max_ride=150,
        )
        for i in range(30)
    )
    problem = RoutingProblem(matrix.astype(int), requests, (Vehicle(6, 0, 0, shift=(0, 500)),) * 3)
    plan = solve_and_check(problem, SolverParams(time_limit_s=1.0, workers=1))
    assert plan.served_seats + plan.unserved_seats == sum(r.seats for r in requests)


def test_extra_search_settings_are_applied_and_unknown_ones_rejected() -> None:
    problem = RoutingProblem(LINE, (Request(1, 3), Request(2, 4)), (Vehicle(4, 0, 0),))
    lean = SearchConfig(settings=(("local_search_operators.use_two_opt", False),))
    plan = solve_and_check(problem, SolverParams(time_limit_s=0.5, workers=1, portfolio=(lean,)))
    assert plan.served_seats == 2
    bad = SearchConfig(settings=(("no_such_field", 1),))
    with pytest.raises(ValueError, match="settings: unknown search parameter 'no_such_field'"):
        solve(problem, SolverParams(time_limit_s=0.5, workers=1, portfolio=(bad,)))


def test_with_the_plateau_rule_every_worker_starts_from_the_first_strategy() -> None:
    # the second strategy's settings are broken: a worker that built its start
    # with it would fail, so only the search without the plateau rule reaches it
    problem = RoutingProblem(LINE, (Request(1, 3), Request(2, 4)), (Vehicle(4, 0, 0),))
    good, bad = SearchConfig(), SearchConfig(settings=(("no_such_field", 1),))
    params = SolverParams(time_limit_s=0.5, workers=2, portfolio=(good, bad))
    assert solve_and_check(problem, params).served_seats == 2
    with pytest.raises(ValueError, match="unknown search parameter 'no_such_field'"):
        solve(problem, replace(params, plateau=None))


def test_each_vehicle_drives_by_its_own_profile_matrix() -> None:
    # profile 1 (a bus) is twice as slow: only the minibus can make the tight window
    slow = LINE * 2
    requests = (Request(1, 2, pickup_window=(0, 12), delivery_window=(0, 100)),)
    bus = Vehicle(28, 0, 0, profile=1, label="bus")
    minibus = Vehicle(8, 0, 0, profile=0, label="minibus")
    problem = RoutingProblem(np.stack([LINE, slow]), requests, (bus, minibus))
    plan = solve_and_check(problem)
    assert plan.vehicle_of() == {0: 1}
    only_bus = RoutingProblem(np.stack([LINE, slow]), requests, (bus,))
    plan = solve_and_check(only_bus)
    assert [u.reason for u in plan.unassigned] == [UnassignedReason.UNREACHABLE_IN_WINDOW]


def test_unknown_vehicle_profile_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"vehicles\[0\]\.profile"):
        RoutingProblem(LINE, (), (Vehicle(8, 0, 0, profile=1),))


def _crew_and_a_full_bus() -> RoutingProblem:
    # at 10-12 a crew of 28 fills the bus; a crew of 10 (a leader's 8 and a pair) rides
    # at the same time: no vehicle alone has room for it, two minibuses together do
    window, by = (10, 12), (0, 40)
    requests = (
        Request(1, 3, seats=28, pickup_window=window, delivery_window=by),
        Request(1, 3, seats=10, pickup_window=window, delivery_window=by, units=(8, 2)),
    )
    vehicles = (
        Vehicle(28, 0, 0, fixed_cost=3, label="bus"),
        Vehicle(8, 0, 0, fixed_cost=1, label="minibus 1"),
        Vehicle(8, 0, 0, fixed_cost=1, label="minibus 2"),
    )
    return RoutingProblem(LINE, requests, vehicles)


def test_a_crew_rides_whole_unless_splitting_serves_more_seats() -> None:
    problem = _crew_and_a_full_bus()
    whole = solve_and_check(problem, SolverParams(time_limit_s=1.0, workers=1))
    assert whole.served_seats == 28 and whole.split_requests() == {}
    plan = solve_and_check(problem, SolverParams(time_limit_s=1.0, workers=1, split_crews=True))
    assert plan.served_seats == 38 and plan.unassigned == ()
    assert plan.status.endswith("+split")
    assert plan.split_requests() == {1: [1, 2]}
    seats = sorted((plan.vehicle_of()[j], plan.parts[j].seats) for j in plan.vehicle_of())
    assert seats == [(0, 28), (1, 8), (2, 2)]  # the leader's eight together, the pair apart


def test_split_crews_never_split_what_rides_whole() -> None:
    # room for everyone in whole vehicles: nothing is split, nothing changes
    requests = (Request(1, 3, seats=6, units=(4, 2)), Request(2, 4, seats=5, units=(3, 2)))
    problem = RoutingProblem(LINE, requests, (Vehicle(8, 0, 0, fixed_cost=1),) * 2)
    plan = solve_and_check(problem, SolverParams(time_limit_s=1.0, workers=1, split_crews=True))
    assert plan.unassigned == () and plan.split_requests() == {}
    assert not plan.status.endswith("+split")
    assert [p.parts for p in plan.parts] == [1, 1]


def test_a_small_problem_stops_on_its_plateau_long_before_its_time_limit() -> None:
    requests = (Request(1, 3, seats=2), Request(2, 4, seats=3), Request(4, 1, seats=1))
    problem = RoutingProblem(LINE, requests, (Vehicle(4, 0, 0, fixed_cost=1),) * 2)
    plan = solve_and_check(problem, SolverParams(time_limit_s=60.0, workers=1))
    assert plan.unassigned == ()
    assert plan.wall_time_s < 20  # about 1-2 s: OR-Tools' short share, then a plateau
    # without the plateau rule the search uses its whole time
    whole = solve_and_check(problem, SolverParams(time_limit_s=3.0, workers=1, plateau=None))
    assert whole.wall_time_s >= 2.5
    assert (whole.vehicles_used, whole.travel_time) == (plan.vehicles_used, plan.travel_time)


def test_a_crew_only_smaller_vehicles_reach_in_time_rides_in_their_size() -> None:
    # the bus (depot at 40) cannot be at location 1 by 15; the minibuses (depot at 0) can
    problem = RoutingProblem(
        LINE,
        (Request(1, 2, seats=12, pickup_window=(0, 15)),),
        (Vehicle(28, 4, 4), Vehicle(8, 0, 0), Vehicle(8, 0, 0)),
    )
    assert [p.seats for p in problem.parts] == [12]  # a bus may take it whole
    plan = solve_and_check(problem)
    assert plan.unassigned == () and plan.served_seats == 12
    carried = plan.vehicle_of()
    assert sorted(carried.values()) == [1, 2]
    assert [plan.parts[j].seats for j in sorted(carried)] == [8, 4]
    # nothing smaller reaches it either: set aside, whole, with its reason
    late = RoutingProblem(
        LINE,
        (Request(1, 2, seats=12, pickup_window=(0, 5)),),
        (Vehicle(28, 4, 4), Vehicle(8, 0, 0)),
    )
    plan = solve_and_check(late)
    assert [(u.part, u.reason) for u in plan.unassigned] == [
        (0, UnassignedReason.UNREACHABLE_IN_WINDOW)
    ]
    assert [p.seats for p in plan.parts] == [12]


def _crew_one_minibus_cannot_carry(*, partial: bool) -> RoutingProblem:
    """A crew of 12 that only 8-seat minibuses reach in time, and one minibus: its
    second load would come too late."""
    return RoutingProblem(
        LINE,
        (Request(1, 2, seats=12, pickup_window=(0, 15), delivery_window=(0, 30), partial=partial),),
        (Vehicle(28, 4, 4), Vehicle(8, 0, 0)),
    )


def test_a_crew_rides_whole_or_not_at_all_unless_it_allowed_parts() -> None:
    whole = solve_and_check(_crew_one_minibus_cannot_carry(partial=False))
    assert whole.served_seats == 0 and whole.vehicles_used == 0
    assert {u.reason for u in whole.unassigned} == {UnassignedReason.FLEET_FULL}
    parts = solve_and_check(_crew_one_minibus_cannot_carry(partial=True))
    assert parts.served_seats == 8  # "8 of your 12 seats": the crew said some may go


def test_a_crew_split_for_room_never_rides_in_part() -> None:
    # a single 10-seat party split in halves for room: one 8-seat minibus could take
    # a half, but the party rides whole in two vehicles or not at all
    requests = (Request(1, 3, seats=10, pickup_window=(10, 12), delivery_window=(0, 40)),)
    one = RoutingProblem(LINE, requests, (Vehicle(8, 0, 0),), split=frozenset({0}))
    plan = solve_and_check(one, SolverParams(time_limit_s=1.0, workers=1, split_crews=True))
    assert plan.served_seats == 0
    two = RoutingProblem(LINE, requests, (Vehicle(8, 0, 0),) * 2, split=frozenset({0}))
    plan = solve_and_check(two, SolverParams(time_limit_s=1.0, workers=1, split_crews=True))
    assert plan.served_seats == 10 and len(set(plan.vehicle_of().values())) == 2


def test_a_first_compile_does_not_use_up_the_search_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # the first run after an install compiles the search (tens of seconds); here a
    # stand-in takes longer than the whole limit: the search still gets its time
    def slow_warm_up() -> float:
        time.sleep(1.5)
        return 1.5

    monkeypatch.setattr(optimizer.solve, "warm_up", slow_warm_up)
    requests = (Request(1, 3, seats=2), Request(2, 4, seats=3), Request(4, 1, seats=1))
    problem = RoutingProblem(LINE, requests, (Vehicle(4, 0, 0, fixed_cost=1),) * 2)
    params = SolverParams(time_limit_s=1.0, workers=1, plateau=None)  # the whole limit
    plan = solve_and_check(problem, params)
    assert plan.unassigned == ()
    # the compile, then the search's 0.95 s (its limit less the time kept to
    # collect the results); counted from the start, the search would have had none
    assert plan.wall_time_s >= 1.5 + 0.9
