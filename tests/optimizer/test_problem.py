"""Problem validation names the bad field; crews too large for a vehicle are split."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.problem import Request, RoutingProblem, Vehicle, boarding_time

D = np.array([[0, 10, 20], [10, 0, 15], [20, 15, 0]])


def make(requests: list[Request], vehicles: list[Vehicle] | None = None) -> RoutingProblem:
    return RoutingProblem(D, tuple(requests), tuple(vehicles or [Vehicle(8, 0, 0)]))


def test_matrix_must_be_square() -> None:
    with pytest.raises(ValueError, match="durations: matrix must be square"):
        RoutingProblem(np.zeros((2, 3)), (), (Vehicle(8, 0, 0),))


def test_negative_travel_times_are_rejected() -> None:
    with pytest.raises(ValueError, match="durations: negative"):
        RoutingProblem(-D, (), (Vehicle(8, 0, 0),))


def test_fractional_travel_times_are_rejected() -> None:
    with pytest.raises(ValueError, match="whole numbers"):
        RoutingProblem(D + 0.5, (), (Vehicle(8, 0, 0),))


def test_window_opening_after_closing_is_rejected() -> None:
    with pytest.raises(ValueError, match="pickup_window: opens at 50 after it closes at 40"):
        Request(1, 2, pickup_window=(50, 40))


def test_pickup_equal_to_delivery_is_rejected() -> None:
    with pytest.raises(ValueError, match="pickup equals delivery"):
        Request(1, 1)


def test_unknown_location_index_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"requests\[0\]\.delivery: unknown location index 7"):
        make([Request(1, 7)])


def test_unknown_depot_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"vehicles\[0\]\.start"):
        make([], [Vehicle(8, 5, 0)])


def test_no_vehicles_is_rejected() -> None:
    with pytest.raises(ValueError, match="vehicles: at least one"):
        RoutingProblem(D, (Request(1, 2),), ())


def test_zero_seats_is_rejected() -> None:
    with pytest.raises(ValueError, match="seats must be at least 1"):
        Request(1, 2, seats=0)


def test_crew_larger_than_every_vehicle_comes_in_full_loads_and_the_rest() -> None:
    problem = make([Request(1, 2, seats=40)], [Vehicle(28, 0, 0), Vehicle(8, 0, 0)])
    assert [(p.request, p.part, p.parts, p.seats) for p in problem.parts] == [
        (0, 0, 2, 28),
        (0, 1, 2, 12),
    ]
    exact = make([Request(1, 2, seats=16)], [Vehicle(8, 0, 0)])
    assert [p.seats for p in exact.parts] == [8, 8]


def test_request_that_fits_a_vehicle_is_never_split() -> None:
    problem = make([Request(1, 2, seats=28), Request(2, 1, seats=3)], [Vehicle(28, 0, 0)])
    assert [p.parts for p in problem.parts] == [1, 1]


def test_boarding_time_grows_with_the_group() -> None:
    assert boarding_time(1) < boarding_time(12)
    assert boarding_time(12, base_s=30, per_seat_s=5) == 90


def test_units_of_a_group_must_add_up_to_its_seats() -> None:
    with pytest.raises(ValueError, match="units must be at least 1 and add up to seats"):
        Request(1, 2, seats=10, units=(8, 3))
    with pytest.raises(ValueError, match="units must be at least 1"):
        Request(1, 2, seats=10, units=(10, 0))


def test_a_request_allowed_to_split_comes_in_its_bookings_or_in_halves() -> None:
    problem = make(
        [Request(1, 2, seats=10, units=(8, 2)), Request(2, 1, seats=7), Request(1, 2, seats=3)],
        [Vehicle(28, 0, 0)],
    )
    assert [p.parts for p in problem.parts] == [1, 1, 1]
    split = problem.with_split([0, 1])
    assert [(p.request, p.part, p.parts, p.seats) for p in split.parts] == [
        (0, 0, 2, 8),
        (0, 1, 2, 2),
        (1, 0, 2, 4),
        (1, 1, 2, 3),
        (2, 0, 1, 3),
    ]
    assert split.requests == problem.requests and problem.split == frozenset()
    # a crew no vehicle takes whole is in loads already: halves would cut them smaller
    large = make([Request(1, 2, seats=26)], [Vehicle(8, 0, 0)])
    assert [p.seats for p in large.with_split([0]).parts] == [8, 8, 8, 2]


def test_splitting_an_unknown_request_is_rejected() -> None:
    with pytest.raises(ValueError, match="split: unknown request index 3"):
        make([Request(1, 2)]).with_split([3])


def test_part_limits_cut_a_request_into_parts_no_larger() -> None:
    problem = make([Request(1, 2, seats=20), Request(2, 1, seats=5)], [Vehicle(28, 0, 0)])
    limited = problem.with_part_limits({0: 8})
    assert [(p.request, p.seats) for p in limited.parts] == [(0, 8), (0, 8), (0, 4), (1, 5)]
    assert [p.seats for p in limited.with_split([1]).parts] == [8, 8, 4, 3, 2]
    with pytest.raises(ValueError, match="part_limits: unknown request index 2"):
        problem.with_part_limits({2: 8})
    with pytest.raises(ValueError, match=r"part_limits\[0\]: must be at least 1"):
        problem.with_part_limits({0: 0})
