"""Route minimisation by guided ejection search: fewer vehicles, nobody dropped."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.check import check
from optimizer.lilim import read_lilim
from optimizer.lns import BIG, Arrays, LnsResult, alone, improve, warm_up
from optimizer.lns.anneal import seed_random
from optimizer.lns.arrays import NOWHERE, State, new_scratch, new_state
from optimizer.lns.ejection import _lightest_ejection, _shake, neighbours
from optimizer.lns.routes import best_insertion, insert, refresh
from optimizer.problem import Request, RoutingProblem, Vehicle
from optimizer.solve import SolverParams, solve
from tests.conftest import SHARED
from tests.optimizer.helpers import line_matrix


@pytest.fixture(autouse=True, scope="module")
def _compiled() -> None:
    warm_up()  # the phase's time limits must not pay for compiling


def _line_day(n_req: int, n_veh: int, seats: int) -> Arrays:
    """One depot at 0 and stops 10 apart on a line; request r rides from stop
    2r + 1 to 2r + 2, any time in a long day; every vehicle has a fixed cost."""
    n_nodes = 1 + 2 * n_req
    travel = line_matrix([10 * i for i in range(n_nodes)])[None].astype(np.int64)
    demand = np.zeros(n_nodes, dtype=np.int64)
    demand[1::2], demand[2::2] = 1, -1

    def per_vehicle(value: int) -> np.ndarray:
        return np.full(n_veh, value, dtype=np.int64)

    return Arrays(
        nd=1,
        travel=travel,
        cost=travel,
        early=np.zeros(n_nodes, dtype=np.int64),
        late=np.full(n_nodes, 10_000, dtype=np.int64),
        service=np.zeros(n_nodes, dtype=np.int64),
        demand=demand,
        ride=np.full(n_req, BIG, dtype=np.int64),
        penalty=np.full(n_req, 10**9, dtype=np.int64),
        v_cap=per_vehicle(seats),
        v_start=per_vehicle(0),
        v_end=per_vehicle(0),
        v_early=per_vehicle(0),
        v_late=per_vehicle(10_000),
        v_dur=per_vehicle(BIG),
        v_prof=per_vehicle(0),
        v_fixed=per_vehicle(10**6),
        allowed=np.ones((n_req, n_veh), dtype=np.bool_),
        together=alone(n_req),
    )


def _routes_only(data: Arrays, start: list[list[int]]) -> LnsResult:
    """The route minimisation alone (no annealing iterations after it)."""
    return improve(data, start, time_limit_s=10.0, iterations=0, route_time_s=5.0)


def _served(routes: list[list[tuple[int, int]]]) -> list[int]:
    return sorted(node for visits in routes for node, _ in visits[1:-1])


def test_routes_are_taken_out_while_the_others_can_take_their_requests() -> None:
    data = _line_day(n_req=6, n_veh=6, seats=2)
    one_each = [[1 + 2 * r, 2 + 2 * r] for r in range(6)]
    result = _routes_only(data, one_each)
    used = [visits for visits in result.routes if len(visits) > 2]
    # one vehicle drives the line out and back: everyone rides, one at a time
    assert len(used) == 1 and result.routes_removed == 5
    assert _served(result.routes) == list(range(1, 13))


def test_without_route_time_every_vehicle_stays() -> None:
    data = _line_day(n_req=4, n_veh=4, seats=2)
    one_each = [[1 + 2 * r, 2 + 2 * r] for r in range(4)]
    result = improve(data, one_each, time_limit_s=10.0, iterations=0)
    assert result.routes_removed == 0
    assert sum(len(visits) > 2 for visits in result.routes) == 4


def test_when_no_one_or_two_will_do_the_lightest_three_are_ejected() -> None:
    # everyone is picked up by 100 and dropped off from 150: all on board at
    # once. Four riders fill a four-seat vehicle; a group of three needs three of
    # them out, and the three lightest by failure counts go
    data = _line_day(n_req=5, n_veh=1, seats=4)
    demand, early, late = data.demand.copy(), data.early.copy(), data.late.copy()
    demand[9], demand[10] = 3, -3  # request 4: three seats
    late[1::2] = 100
    early[2::2] = 150
    data = data._replace(demand=demand, early=early, late=late)
    state = new_state(1, 5)
    seq = [1, 3, 5, 7, 2, 4, 6, 8]  # every pickup, then every drop-off
    state.routes[0, : len(seq)] = seq
    state.lens[0] = len(seq)
    state.where[:4] = 0
    ws = new_scratch(len(data.early), 5)
    assert refresh(0, state, data, ws)
    weight = np.array([1, 5, 1, 1, 1], dtype=np.int64)  # request 1 has failed most
    reqs, chosen = np.empty(5, dtype=np.int64), np.empty(3, dtype=np.int64)
    probe = State(*(a.copy() for a in state))
    k, n = _lightest_ejection(4, weight, state, probe, data, ws, reqs, chosen)
    assert (k, n) == (0, 3) and sorted(chosen.tolist()) == [0, 2, 3]


def test_when_no_near_set_will_do_two_far_apart_in_a_long_route_are_ejected() -> None:
    # eleven riders all on board at once in a fifteen-seat vehicle: the first and
    # the last (ten apart in the route's order) have three seats, the rest one. A
    # group of six needs six seats freed: no one, no two near each other and no
    # three near each other free that many; the first and the last together do
    n_req = 12
    data = _line_day(n_req=n_req, n_veh=1, seats=15)
    demand, early, late = data.demand.copy(), data.early.copy(), data.late.copy()
    for r, seats in ((0, 3), (10, 3), (11, 6)):
        demand[1 + 2 * r], demand[2 + 2 * r] = seats, -seats
    late[1::2] = 300
    early[2::2] = 400
    data = data._replace(demand=demand, early=early, late=late)
    state = new_state(1, n_req)
    seq = [1 + 2 * r for r in range(11)] + [2 + 2 * r for r in range(11)]
    state.routes[0, : len(seq)] = seq
    state.lens[0] = len(seq)
    state.where[:11] = 0
    ws = new_scratch(len(data.early), n_req)
    assert refresh(0, state, data, ws)
    weight = np.ones(n_req, dtype=np.int64)
    reqs, chosen = np.empty(n_req, dtype=np.int64), np.empty(3, dtype=np.int64)
    probe = State(*(a.copy() for a in state))
    k, n = _lightest_ejection(11, weight, state, probe, data, ws, reqs, chosen)
    assert (k, n) == (0, 2) and sorted(chosen[:2].tolist()) == [0, 10]


def _tight_day(n_req: int, n_veh: int) -> tuple[Arrays, State]:
    """``n_req`` riders along the line with 40-minute pickup windows at random times,
    one-seat vehicles (not alike: each priced with its own noise); and a plan that
    gives each rider to the least loaded vehicle that takes them."""
    data = _line_day(n_req=n_req, n_veh=n_veh, seats=1)
    early, late = data.early.copy(), data.late.copy()
    for r, t in enumerate(np.random.default_rng(0).integers(0, 200, n_req)):
        early[1 + 2 * r] = 10 * (2 * r + 1) + t
        late[1 + 2 * r], late[2 + 2 * r] = early[1 + 2 * r] + 40, early[1 + 2 * r] + 200
    data = data._replace(early=early, late=late, v_late=data.v_late - np.arange(n_veh))
    ws = new_scratch(len(data.early), n_req)
    state = new_state(n_veh, n_req)
    for k in range(n_veh):
        refresh(k, state, data, ws)
    for r in range(n_req):
        for k in sorted(range(n_veh), key=lambda k: state.lens[k]):
            best_insertion(r, k, state, data, ws, ws.out)
            if ws.out[0] < BIG:
                insert(r, k, ws.out[1], ws.out[2], state, data, ws)
                break
    assert (state.where != NOWHERE).all()
    return data, state


def test_shakes_keep_a_whole_consistent_plan_when_moves_are_undone() -> None:
    # with one seat and tight windows many moves leave a rider out and are undone,
    # some after another rider went into a route none of them came from; whatever
    # the moves, every rider stays served and every route's schedule, loads and
    # cost are those of its stops
    n_req, n_veh = 12, 6
    data, start = _tight_day(n_req, n_veh)
    ws = new_scratch(len(data.early), n_req)
    near = neighbours(data, 3)
    moved = 0
    for seed in range(40):
        state, backup, fresh = (State(*(a.copy() for a in start)) for _ in range(3))
        scratch = [np.empty(n_req, dtype=np.int64) for _ in range(3)]
        narrow = data._replace(allowed=data.allowed.copy())
        seed_random(seed)
        _shake(state, backup, data, narrow, near, ws, *scratch, 20, 100.0)
        moved += int((state.where != start.where).any())
        assert (narrow.allowed == data.allowed).all()
        assert (state.where != NOWHERE).all() and int(state.lens.sum()) == 2 * n_req
        for k in range(n_veh):
            m = state.lens[k]
            assert sorted(state.routes[k, :m].tolist()) == sorted(
                node for r in np.flatnonzero(state.where == k) for node in (1 + 2 * r, 2 + 2 * r)
            )
            fresh.routes[k, :m], fresh.lens[k] = state.routes[k, :m], m
            assert refresh(k, fresh, data, ws)
            for field in ("earliest", "latest", "loads"):
                assert (
                    getattr(state, field)[k, : m + 2] == getattr(fresh, field)[k, : m + 2]
                ).all()
            assert state.rcost[k] == fresh.rcost[k]
    assert moved > 0  # the moves do change plans


def test_the_nearest_requests_are_those_along_the_road_on_either_side() -> None:
    data = _line_day(n_req=6, n_veh=1, seats=2)
    near = neighbours(data, 2)
    assert [sorted(row) for row in near.tolist()] == [
        [1, 2],  # the first rider's nearest are the next two
        [0, 2],
        [1, 3],
        [2, 4],
        [3, 5],
        [3, 4],
    ]
    # asked for more than there are: every other request, never itself
    everyone = neighbours(data, 10)
    assert everyone.shape == (6, 5)
    assert all(
        sorted(row) == [s for s in range(6) if s != r] for r, row in enumerate(everyone.tolist())
    )


def test_windows_far_apart_make_requests_far_apart() -> None:
    data = _line_day(n_req=3, n_veh=1, seats=2)
    early = data.early.copy()
    early[3:5] = 5000  # the middle rider travels in the evening
    near = neighbours(data._replace(early=early), 1)
    # the first and last riders are each other's nearest, though the middle one
    # is nearer along the road
    assert near[0, 0] == 2 and near[2, 0] == 0


def test_a_request_no_vehicle_may_take_stays_out_and_the_rest_stay_served() -> None:
    data = _line_day(n_req=5, n_veh=5, seats=2)
    allowed = data.allowed.copy()
    allowed[4] = False  # nobody may take the last request
    start = [[1 + 2 * r, 2 + 2 * r] for r in range(4)] + [[]]
    result = _routes_only(data._replace(allowed=allowed), start)
    assert result.routes_removed == 3
    assert _served(result.routes) == list(range(1, 9))


def test_sets_served_all_or_none_skip_the_route_minimisation() -> None:
    data = _line_day(n_req=4, n_veh=4, seats=2)
    together = np.array([0, 0, 2, 3], dtype=np.int64)  # requests 0 and 1: all or none
    start = [[1, 2], [3, 4], [5, 6], [7, 8]]
    result = _routes_only(data._replace(together=together), start)
    assert result.routes_removed == 0


def test_solve_takes_out_vehicles_a_first_plan_does_not_need() -> None:
    # ten riders along one road, each alone in the morning; four vehicles with a
    # fixed cost: one vehicle serves them all in turn, and the plan checks
    problem = RoutingProblem(
        durations=line_matrix([0, *range(10, 210, 10)]),
        requests=tuple(
            Request(1 + 2 * r, 2 + 2 * r, pickup_window=(0, 5000), delivery_window=(0, 6000))
            for r in range(10)
        ),
        vehicles=(Vehicle(seats=1, start=0, end=0, shift=(0, 8000), fixed_cost=5),) * 4,
    )
    plan = solve(problem, SolverParams(time_limit_s=4.0, workers=1))
    assert check(problem, plan) == []
    assert plan.served_seats == 10 and plan.vehicles_used == 1


def test_li_lim_lr101_reaches_few_vehicles_in_seconds() -> None:
    # the best known: 19 vehicles (1650.80); OR-Tools' first plans use more
    instance = read_lilim(SHARED / "bench" / "lilim" / "lr101.txt")
    plan = solve(instance.problem, SolverParams(time_limit_s=10.0, workers=1, arc_cost="distance"))
    assert check(instance.problem, plan) == [] and not plan.unassigned
    assert plan.vehicles_used <= 20
