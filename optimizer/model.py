"""The one model both searches solve: nodes, arrays and objective weights.

Nodes are the depots first (each distinct start or end location once), then one
pickup/drop-off pair per modelled request part: node ``n_depots + 2 m`` is the pickup
of part ``m`` of :attr:`Prepared.parts` and the next node its drop-off. OR-Tools
(:mod:`optimizer.ortools_search`) and the large-neighbourhood search
(:mod:`optimizer.lns`) read the same arrays, so their objectives compare.

Objective, lexicographic by default: most seats served (a part left out costs more
than any route), then least fixed cost of the vehicles used (with equal fixed costs:
fewest vehicles), then least total travel cost (driving time by default).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from optimizer.lns import BIG, Arrays
from optimizer.params import SearchConfig, SolverParams
from optimizer.prepare import Prepared
from optimizer.problem import UNLIMITED

__all__ = ["Model", "Raw", "Visits", "build_model"]

#: Per vehicle, the (node, service start) visits of a plan, depots included.
Visits = list[list[tuple[int, int]]]


@dataclass(frozen=True)
class Raw:
    """A search's result in plain data (it crosses process boundaries);
    ``objective`` is None when the search found no plan."""

    routes: Visits
    objective: int | None
    unserved_seats: int
    status: str
    config: SearchConfig
    lns: bool = False


@dataclass(frozen=True)
class Model:
    """A prepared problem as nodes and arrays (see the module)."""

    prepared: Prepared
    node_loc: list[int]  # the problem's location of each node
    n_depots: int
    data: Arrays
    horizon: int  # the last shift end or drop-off window close

    def part_of(self, node: int) -> tuple[int, bool] | None:
        """(model part, whether a drop-off) of a node; None for a depot."""
        if node < self.n_depots:
            return None
        m, is_delivery = divmod(node - self.n_depots, 2)
        return m, bool(is_delivery)

    def served_parts(self, routes: Visits) -> set[int]:
        """Model indices of the parts a plan serves, counting none of a set served
        in part (``RequestPart.together``: all or none)."""
        nodes = {node for visits in routes for node, _ in visits}
        parts = self.prepared.problem.parts
        whole: dict[int, bool] = {}
        for m, j in enumerate(self.prepared.parts):
            on = self.n_depots + 2 * m in nodes
            whole[parts[j].together] = whole.get(parts[j].together, True) and on
        return {m for m, j in enumerate(self.prepared.parts) if whole[parts[j].together]}

    def unserved_seats(self, routes: Visits) -> int:
        """Seats of the modelled parts a plan does not serve (a set served in part
        counts as not served)."""
        served = self.served_parts(routes)
        parts = self.prepared.problem.parts
        return sum(parts[j].seats for m, j in enumerate(self.prepared.parts) if m not in served)

    def all_seats(self) -> int:
        return sum(self.prepared.problem.parts[j].seats for j in self.prepared.parts)

    def is_whole(self, routes: Visits) -> bool:
        """Whether a plan serves no set in part."""
        on = {
            found[0]
            for visits in routes
            for node, _ in visits
            if (found := self.part_of(node)) is not None
        }
        return on == self.served_parts(routes)

    def whole_routes(self, routes: Visits) -> Visits:
        """The routes without the parts of sets served in part (OR-Tools' plans may
        have them; the large-neighbourhood search never keeps one). Service starts
        stay: a route with fewer stops reaches the rest no later."""
        served = self.served_parts(routes)
        kept = [
            [
                (node, t)
                for node, t in visits
                if (found := self.part_of(node)) is None or found[0] in served
            ]
            for visits in routes
        ]
        return [visits if len(visits) > 2 else visits[:1] + visits[-1:] for visits in kept]


def _node_layout(prepared: Prepared) -> tuple[list[int], dict[int, int]]:
    """Locations of the model's nodes (depots first, then pickup/delivery pairs),
    and the node of each depot location."""
    problem = prepared.problem
    depot_locs = sorted({v.start for v in problem.vehicles} | {v.end for v in problem.vehicles})
    node_loc = list(depot_locs)
    for j in prepared.parts:
        req = problem.requests[problem.parts[j].request]
        node_loc += [req.pickup, req.delivery]
    return node_loc, {loc: i for i, loc in enumerate(depot_locs)}


def _cost_scales(
    prepared: Prepared, params: SolverParams, max_cost: int, n_nodes: int
) -> tuple[list[int], int]:
    """Weights of the objective: each vehicle's fixed cost (lexicographic: in units
    of a bound on any plan's arc costs) and the penalty per unserved seat (more than
    all else)."""
    vehicles = prepared.problem.vehicles
    route_cost_bound = max_cost * (n_nodes + 2 * len(vehicles)) + 1
    unit = route_cost_bound if params.lexicographic else 1
    fixed = [v.fixed_cost * unit for v in vehicles]
    return fixed, route_cost_bound + sum(fixed) + 1


def _penalties(prepared: Prepared, seat_penalty: int) -> npt.NDArray[np.int64]:
    """Cost of leaving out each modelled part: its seats at ``seat_penalty``, times a
    weight for a priority request (``Request.priority``) that makes one of its seats
    cost more than all the other seats together, as far as 64-bit costs allow."""
    problem = prepared.problem
    seats = np.array([problem.parts[j].seats for j in prepared.parts], dtype=np.int64)
    first = np.array(
        [problem.requests[problem.parts[j].request].priority for j in prepared.parts], dtype=bool
    )
    weight = 1
    if first.any():
        headroom = (1 << 61) // max(1, seat_penalty * int(seats.sum()))
        weight = max(1, min(int(seats[~first].sum()) + 1, headroom))
    return seat_penalty * seats * np.where(first, weight, 1)


def _sets(prepared: Prepared) -> npt.NDArray[np.int64]:
    """Per modelled part, the model index of the first part of its set (all or none)."""
    parts = prepared.problem.parts
    first: dict[int, int] = {}
    for m, j in enumerate(prepared.parts):
        first.setdefault(parts[j].together, m)
    return np.array([first[parts[j].together] for j in prepared.parts], dtype=np.int64)


def _parts_arrays(prepared: Prepared, n_depots: int, horizon: int) -> dict[str, np.ndarray]:
    """Windows, service times and seats per node; ride limits and vehicles allowed
    per part."""
    problem = prepared.problem
    n_nodes, n_req = n_depots + 2 * len(prepared.parts), len(prepared.parts)
    arrays = {
        "early": np.zeros(n_nodes, dtype=np.int64),
        "late": np.full(n_nodes, horizon, dtype=np.int64),
        "service": np.zeros(n_nodes, dtype=np.int64),
        "demand": np.zeros(n_nodes, dtype=np.int64),
        "ride": np.full(n_req, BIG, dtype=np.int64),
        "allowed": np.zeros((n_req, len(problem.vehicles)), dtype=np.bool_),
    }
    for m, j in enumerate(prepared.parts):
        part = problem.parts[j]
        req = problem.requests[part.request]
        p, d = n_depots + 2 * m, n_depots + 2 * m + 1
        arrays["early"][p], arrays["late"][p] = prepared.pickup_window[m]
        arrays["early"][d], arrays["late"][d] = prepared.delivery_window[m]
        arrays["service"][p], arrays["service"][d] = req.pickup_service, req.delivery_service
        arrays["demand"][p], arrays["demand"][d] = part.seats, -part.seats
        if req.max_ride != UNLIMITED:
            arrays["ride"][m] = req.max_ride
        for k in problem.eligible_vehicles(part.request):
            arrays["allowed"][m, k] = problem.vehicles[k].seats >= part.seats
    return arrays


def build_model(prepared: Prepared, params: SolverParams) -> Model:
    """The model of a prepared problem, with ``params``' arc cost and weights."""
    problem = prepared.problem
    node_loc, depot_node = _node_layout(prepared)
    locs = np.asarray(node_loc, dtype=np.int64)
    vehicles = problem.vehicles
    horizon = int(
        max(
            max(v.shift[1] for v in vehicles),
            max((w[1] for w in prepared.delivery_window), default=0),
        )
    )
    travel = np.stack([dur[np.ix_(locs, locs)] for dur in problem.profile_durations])
    if params.arc_cost == "duration":
        cost = travel
    else:
        cost = np.stack([dist[np.ix_(locs, locs)] for dist in problem.profile_distances])
    fixed_costs, seat_penalty = _cost_scales(
        prepared, params, int(cost.max(initial=0)), len(node_loc)
    )

    def per_vehicle(values: list[int]) -> npt.NDArray[np.int64]:
        return np.array(values, dtype=np.int64)

    parts = _parts_arrays(prepared, len(depot_node), horizon)
    data = Arrays(
        nd=len(depot_node),
        travel=np.ascontiguousarray(travel, dtype=np.int64),
        cost=np.ascontiguousarray(cost, dtype=np.int64),
        penalty=_penalties(prepared, seat_penalty),
        v_cap=per_vehicle([v.seats for v in vehicles]),
        v_start=per_vehicle([depot_node[v.start] for v in vehicles]),
        v_end=per_vehicle([depot_node[v.end] for v in vehicles]),
        v_early=per_vehicle([v.shift[0] for v in vehicles]),
        v_late=per_vehicle([v.shift[1] for v in vehicles]),
        v_dur=per_vehicle(
            [BIG if v.max_duration == UNLIMITED else v.max_duration for v in vehicles]
        ),
        v_prof=per_vehicle([v.profile for v in vehicles]),
        v_fixed=per_vehicle(fixed_costs),
        together=_sets(prepared),
        **parts,
        ride_limits=bool((parts["ride"] < BIG).any()),
    )
    return Model(prepared, node_loc, len(depot_node), data, horizon)
