"""The lower bound on vehicles: exact on small cases where the answer is known."""

from __future__ import annotations

from optimizer.bounds import vehicle_lower_bound
from optimizer.problem import Request, RoutingProblem, Vehicle
from tests.optimizer.helpers import line_matrix

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
