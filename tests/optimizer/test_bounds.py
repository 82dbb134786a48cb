"""The bounds: vehicles needed, seats a fleet can serve; exact on small cases where
the answer is known."""

from __future__ import annotations

from optimizer.bounds import served_seats_bound, vehicle_lower_bound
from optimizer.problem import Request, RoutingProblem, Vehicle
from tests.optimizer.helpers import FAST, line_matrix, solve_and_check

LINE = line_matrix([0, 10, 20, 30, 40])
AT_10, BY_40 = (10, 20), (0, 40)


def test_requests_on_board_at_the_same_time_need_their_seats_in_vehicles() -> None:
    requests = (
        Request(1, 3, seats=3, pickup_window=AT_10, delivery_window=BY_40),
        Request(1, 3, seats=3, pickup_window=AT_10, delivery_window=BY_40),
        Request(2, 4, seats=2, pickup_window=(20, 25), delivery_window=(0, 45)),
    )
    problem = RoutingProblem(LINE, requests, (Vehicle(4, 0, 0),) * 3)
    assert vehicle_lower_bound(problem) == 2  # 8 seats on board at 20-30, 4 a vehicle
    assert vehicle_lower_bound(RoutingProblem(LINE, requests, (Vehicle(8, 0, 0),))) == 1


def test_requests_one_vehicle_can_serve_in_turn_need_one() -> None:
    requests = (
        Request(1, 2, seats=4, pickup_window=(10, 10), delivery_window=(0, 100)),
        Request(1, 2, seats=4, pickup_window=(40, 40), delivery_window=(0, 100)),
    )
    assert vehicle_lower_bound(RoutingProblem(LINE, requests, (Vehicle(4, 0, 0),))) == 1


def test_requests_only_small_vehicles_may_serve_count_in_small_vehicles() -> None:
    requests = tuple(
        Request(1, 3, seats=4, pickup_window=AT_10, delivery_window=BY_40) for _ in range(3)
    )
    minibus = Vehicle(4, 0, 0)
    bus = Vehicle(28, 0, 0, serves=frozenset())  # the bus may serve none of them
    assert vehicle_lower_bound(RoutingProblem(LINE, requests, (minibus, bus))) == 3


def test_a_crew_that_could_ride_in_two_trips_is_not_counted_twice() -> None:
    # 8 seats, 4 a vehicle, and time for two trips of one vehicle
    crew = Request(1, 2, seats=8, pickup_window=(10, 60), delivery_window=(0, 100))
    problem = RoutingProblem(LINE, (crew,), (Vehicle(4, 0, 0),), split=frozenset({0}))
    assert vehicle_lower_bound(problem) == 1


def test_no_requests_need_no_vehicle() -> None:
    assert vehicle_lower_bound(RoutingProblem(LINE, (), (Vehicle(4, 0, 0),))) == 0


def _crews_at(open_s: int, n: int, seats: int) -> tuple[Request, ...]:
    """``n`` crews from 10 to 30 on the line picked up in ``open_s``-``open_s + 10``:
    none of them can ride after another on one vehicle (back at 10 too late)."""
    window = (open_s, open_s + 10)
    return tuple(
        Request(1, 3, seats=seats, pickup_window=window, delivery_window=(0, open_s + 30))
        for _ in range(n)
    )


def test_crews_on_board_at_one_time_get_at_most_the_fleet_seats() -> None:
    requests = _crews_at(10, 3, 3)
    one = RoutingProblem(LINE, requests, (Vehicle(4, 0, 0),))
    assert served_seats_bound(one) == 4
    assert 3 <= solve_and_check(one).served_seats <= 4  # a whole crew, or parts of two
    two = RoutingProblem(LINE, requests, (Vehicle(4, 0, 0),) * 3)
    assert served_seats_bound(two) == 9


def test_only_the_vehicles_that_may_serve_crews_count_for_them() -> None:
    requests = _crews_at(10, 3, 4)
    minibus = Vehicle(4, 0, 0)
    assert served_seats_bound(RoutingProblem(LINE, requests, (minibus, Vehicle(28, 0, 0)))) == 12
    bus = Vehicle(28, 0, 0, serves=frozenset())  # the bus may serve none of them
    problem = RoutingProblem(LINE, requests, (minibus, bus))
    assert served_seats_bound(problem) == 4
    assert served_seats_bound(problem, requests=[0, 1]) == 4
    assert served_seats_bound(problem, requests=[0]) == 4


def test_shortfalls_at_different_times_add_up() -> None:
    # two waves a vehicle can serve one after the other: 4 seats each time
    requests = _crews_at(10, 2, 3) + _crews_at(200, 2, 3)
    problem = RoutingProblem(LINE, requests, (Vehicle(4, 0, 0),))
    assert served_seats_bound(problem) == 8
    assert solve_and_check(problem, FAST).served_seats <= 8


def test_crews_one_vehicle_serves_in_turn_are_not_bounded() -> None:
    requests = (
        Request(1, 2, seats=4, pickup_window=(10, 10), delivery_window=(0, 100)),
        Request(1, 2, seats=4, pickup_window=(40, 40), delivery_window=(0, 100)),
    )
    problem = RoutingProblem(LINE, requests, (Vehicle(4, 0, 0),))
    assert served_seats_bound(problem) == 8
    # a crew of 8 in parts of 4, with time for two trips of one vehicle
    crew = Request(1, 2, seats=8, pickup_window=(10, 60), delivery_window=(0, 100))
    split = RoutingProblem(LINE, (crew,), (Vehicle(4, 0, 0),), split=frozenset({0}))
    assert served_seats_bound(split) == 8
    assert served_seats_bound(RoutingProblem(LINE, (), (Vehicle(4, 0, 0),))) == 0
