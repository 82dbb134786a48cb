"""What the compiled search reads and writes, as named tuples numba understands.

:class:`Arrays` is the model (read only): node ``nd + 2 r`` is the pickup of request
``r`` and ``nd + 2 r + 1`` its drop-off; nodes below ``nd`` are depots. Times and
costs are integers. :class:`State` is a solution: per vehicle the nodes in order and
their number, the vehicle of each request, and per route position (0 = the start
depot) the earliest and latest service starts and the load on board. ``lat`` and
``lon`` elsewhere in the project are coordinates; times here are named for what they
are.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from numba import njit

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

#: Stands for "no limit" (ride, route duration) and "no insertion" (its cost).
BIG = 1 << 60
#: In arrays, where ``None`` cannot go: "no vehicle" (a request left out) or "no
#: position".
NOWHERE = -1

# Destroy operators: which served requests an iteration takes out.
RANDOM_REMOVAL = 0  # any, at random
WORST_REMOVAL = 1  # the costliest to keep
RELATED_REMOVAL = 2  # close in space and time to a random one
ROUTE_REMOVAL = 3  # all of a random route: a vehicle fewer, if the others take them
STRING_REMOVAL = 4  # runs of consecutive stops from the routes around a random request
N_DESTROY = 5
# Repair operators: cheapest insertion first, or largest regret-2 or regret-3 first;
# then the same three with noise on the insertion costs; then one pass in a random
# order, each request where it costs least then, by noisy costs (the recreate step
# of Christiaens and Vanden Berghe's string removals, Transportation Science, 2020).
GREEDY, REGRET_2, REGRET_3 = 0, 1, 2
GREEDY_NOISY, REGRET_2_NOISY, REGRET_3_NOISY = 3, 4, 5
SEQUENTIAL = 6
N_REPAIR = 7


@njit(cache=True)
def regret_depth(op):  # type: ignore[no-untyped-def]
    """1 (greedy), 2 or 3: how many routes a repair operator compares; 0 for
    ``SEQUENTIAL``, which compares none (see :func:`optimizer.lns.repair.repair`)."""
    if op == SEQUENTIAL:
        return 0
    return op % 3 + 1


class Arrays(NamedTuple):
    """The model the compiled search reads (built by :func:`optimizer.model.build_model`).

    Node ``nd + 2 r`` is the pickup of request ``r`` and ``nd + 2 r + 1`` its
    drop-off; nodes below ``nd`` are depots. Times and costs are integers; ``BIG`` in
    ``ride`` and ``v_dur`` stands for no limit; ``together`` is
    :func:`optimizer.lns.improve.alone` when every request is served on its own.
    """

    nd: int  # depots
    travel: I64  # profiles x nodes x nodes
    cost: I64  # profiles x nodes x nodes
    early: I64  # per node
    late: I64
    service: I64
    demand: I64
    ride: I64  # per request
    penalty: I64  # per request: the cost of leaving it out
    together: I64  # per request: the first request of the set served all or none
    v_cap: I64  # per vehicle
    v_start: I64
    v_end: I64
    v_early: I64
    v_late: I64
    v_dur: I64
    v_prof: I64
    v_fixed: I64
    allowed: npt.NDArray[np.bool_]  # requests x vehicles
    #: Whether some request has a ride limit; without one (and on a vehicle with
    #: no duration limit) the time windows alone decide, and an insertion that
    #: passes the window tests needs no full schedule.
    ride_limits: bool = True


class State(NamedTuple):
    """A solution; ``where[r]`` is ``NOWHERE`` for a request left out."""

    routes: I64  # vehicles x positions: nodes, depots left out
    lens: I64  # per vehicle
    where: I64  # per request
    earliest: I64  # vehicles x (positions + 2): earliest service starts
    latest: I64  # latest starts that keep the later windows (ride times aside)
    loads: I64  # seats on board after each position
    rcost: I64  # per vehicle: the route's cost


class Scratch(NamedTuple):
    """Work space of the route functions."""

    lb: I64  # lower bounds of service starts, per position
    pos: I64  # position of each node in the route being scheduled
    cand: I64  # a candidate route
    sched: I64  # its schedule
    out: I64  # an insertion: (cost increase, pickup position, drop-off position)


class Adapt(NamedTuple):
    """Adaptive weights of the destroy operators, then of the repair operators."""

    weights: F64
    scores: F64
    uses: I64


def new_state(n_veh: int, n_req: int) -> State:
    """An empty solution: every request left out."""
    max_len = 2 * n_req
    return State(
        np.zeros((n_veh, max_len), dtype=np.int64),
        np.zeros(n_veh, dtype=np.int64),
        np.full(n_req, NOWHERE, dtype=np.int64),
        np.zeros((n_veh, max_len + 2), dtype=np.int64),
        np.zeros((n_veh, max_len + 2), dtype=np.int64),
        np.zeros((n_veh, max_len + 2), dtype=np.int64),
        np.zeros(n_veh, dtype=np.int64),
    )


def new_scratch(n_nodes: int, n_req: int) -> Scratch:
    max_len = 2 * n_req
    return Scratch(
        np.zeros(max_len + 2, dtype=np.int64),
        np.zeros(n_nodes, dtype=np.int64),
        np.zeros(max_len + 2, dtype=np.int64),
        np.zeros(max_len + 2, dtype=np.int64),
        np.zeros(3, dtype=np.int64),
    )


def new_adapt() -> Adapt:
    n = N_DESTROY + N_REPAIR
    return Adapt(np.ones(n), np.zeros(n), np.zeros(n, dtype=np.int64))
