"""The model of :mod:`optimizer.model` solved by OR-Tools' routing library.

The build follows the OR-Tools routing samples' order: index manager, routing model,
transit matrices, arc costs, dimensions (time, seats), pickup-and-delivery pairs with
ride-time limits, vehicle eligibility, disjunctions, search parameters. Transits are
given as matrices and vectors, never Python callbacks: callbacks are the biggest cost
in the search (see ``../shared/notes/optimizer-findings.md``).
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np

from optimizer.lns import BIG
from optimizer.model import Model, Raw
from optimizer.params import SearchConfig, SolverParams

__all__ = ["search_ortools"]

_ROUTING_STATUS: Final = {
    0: "ROUTING_NOT_SOLVED",
    1: "ROUTING_SUCCESS",
    2: "ROUTING_PARTIAL_SUCCESS_LOCAL_OPTIMUM_NOT_REACHED",
    3: "ROUTING_FAIL",
    4: "ROUTING_FAIL_TIMEOUT",
    5: "ROUTING_INVALID",
    6: "ROUTING_INFEASIBLE",
    7: "ROUTING_OPTIMAL",
}


def _routing_model(model: Model) -> tuple[Any, Any, Any]:
    """(index manager, routing model, time dimension) of the model."""
    from ortools.constraint_solver import pywrapcp

    data, nd = model.data, model.n_depots
    n_nodes, n_veh = len(model.node_loc), len(data.v_cap)
    manager = pywrapcp.RoutingIndexManager(
        n_nodes, n_veh, data.v_start.tolist(), data.v_end.tolist()
    )
    routing = pywrapcp.RoutingModel(manager)
    solver = routing.solver()
    # one transit and one cost matrix per vehicle profile
    time_indices, cost_indices = [], []
    for profile in range(data.travel.shape[0]):
        transit = data.travel[profile] + data.service[:, None]
        np.fill_diagonal(transit, 0)
        time_indices.append(routing.RegisterTransitMatrix(transit.tolist()))
        cost_indices.append(routing.RegisterTransitMatrix(data.cost[profile].tolist()))
    for k in range(n_veh):
        routing.SetArcCostEvaluatorOfVehicle(cost_indices[data.v_prof[k]], k)
        if data.v_fixed[k]:
            routing.SetFixedCostOfVehicle(int(data.v_fixed[k]), k)
    # time
    routing.AddDimensionWithVehicleTransits(
        [time_indices[p] for p in data.v_prof], model.horizon, model.horizon, False, "time"
    )
    time_dim = routing.GetDimensionOrDie("time")
    for k in range(n_veh):
        time_dim.CumulVar(routing.Start(k)).SetRange(int(data.v_early[k]), int(data.v_late[k]))
        time_dim.CumulVar(routing.End(k)).SetRange(int(data.v_early[k]), int(data.v_late[k]))
        if data.v_dur[k] < BIG:
            time_dim.SetSpanUpperBoundForVehicle(int(data.v_dur[k]), k)
    # seats
    seat_index = routing.RegisterUnaryTransitVector(data.demand.tolist())
    routing.AddDimensionWithVehicleCapacity(seat_index, 0, data.v_cap.tolist(), True, "seats")
    # pickup and delivery pairs
    for m in range(len(data.ride)):
        p, d = nd + 2 * m, nd + 2 * m + 1
        p_idx, d_idx = manager.NodeToIndex(p), manager.NodeToIndex(d)
        routing.AddPickupAndDelivery(p_idx, d_idx)
        solver.Add(routing.VehicleVar(p_idx) == routing.VehicleVar(d_idx))
        p_time, d_time = time_dim.CumulVar(p_idx), time_dim.CumulVar(d_idx)
        p_time.SetRange(int(data.early[p]), int(data.late[p]))
        d_time.SetRange(int(data.early[d]), int(data.late[d]))
        solver.Add(p_time + int(data.service[p]) <= d_time)
        if data.ride[m] < BIG:
            solver.Add(d_time - p_time - int(data.service[p]) <= int(data.ride[m]))
        allowed = np.flatnonzero(data.allowed[m]).tolist()
        if len(allowed) < n_veh:
            # -1 keeps the request optional (unperformed)
            routing.VehicleVar(p_idx).SetValues([-1, *allowed])
            routing.VehicleVar(d_idx).SetValues([-1, *allowed])
        routing.AddDisjunction([p_idx], int(data.penalty[m]))
        routing.AddDisjunction([d_idx], 0)
        solver.Add(routing.ActiveVar(p_idx) == routing.ActiveVar(d_idx))
    # a schedule without needless waiting: leave the depot as late as possible,
    # then serve every stop as early as possible
    for k in range(n_veh):
        routing.AddVariableMaximizedByFinalizer(time_dim.CumulVar(routing.Start(k)))
    for node in range(nd, n_nodes):
        routing.AddVariableMinimizedByFinalizer(time_dim.CumulVar(manager.NodeToIndex(node)))
    for k in range(n_veh):
        routing.AddVariableMinimizedByFinalizer(time_dim.CumulVar(routing.End(k)))
    return manager, routing, time_dim


def _search_parameters(params: SolverParams, config: SearchConfig) -> Any:
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    search = pywrapcp.DefaultRoutingSearchParameters()
    search.first_solution_strategy = getattr(
        routing_enums_pb2.FirstSolutionStrategy, config.first_solution
    )
    search.local_search_metaheuristic = getattr(
        routing_enums_pb2.LocalSearchMetaheuristic, config.metaheuristic
    )
    if config.metaheuristic == "GUIDED_LOCAL_SEARCH":
        search.guided_local_search_lambda_coefficient = config.gls_lambda
    for name, value in config.settings:
        _set_field(search, name, value)
    search.time_limit.FromMilliseconds(int(params.time_limit_s * 1000))
    if params.solution_limit is not None:
        search.solution_limit = params.solution_limit
    search.log_search = params.log_search
    return search


def search_ortools(model: Model, params: SolverParams, config: SearchConfig) -> Raw:
    """Solve the model with one OR-Tools strategy within ``params.time_limit_s``."""
    manager, routing, time_dim = _routing_model(model)
    assignment = routing.SolveWithParameters(_search_parameters(params, config))
    status = _ROUTING_STATUS.get(routing.status(), str(routing.status()))
    n_veh = len(model.data.v_cap)
    if assignment is None:
        return Raw([[] for _ in range(n_veh)], None, model.all_seats(), status, config)
    routes: list[list[tuple[int, int]]] = []
    for k in range(n_veh):
        index = routing.Start(k)
        visits = []
        while True:
            node = manager.IndexToNode(index)
            visits.append((node, int(assignment.Value(time_dim.CumulVar(index)))))
            if routing.IsEnd(index):
                break
            index = assignment.Value(routing.NextVar(index))
        routes.append(visits)
    unserved = model.unserved_seats(routes)
    return Raw(routes, int(assignment.ObjectiveValue()), unserved, status, config)


def _set_field(message: object, dotted: str, value: object) -> None:
    """Set a (nested) protobuf field; booleans fill OR-Tools' OptionalBoolean."""
    *path, last = dotted.split(".")
    try:
        for name in path:
            message = getattr(message, name)
        field = message.DESCRIPTOR.fields_by_name[last]  # type: ignore[attr-defined]
    except (AttributeError, KeyError):
        raise ValueError(f"settings: unknown search parameter {dotted!r}") from None
    if field.enum_type is not None and field.enum_type.name == "OptionalBoolean":
        value = 3 if value else 2  # BOOL_TRUE, BOOL_FALSE
    setattr(message, last, value)
