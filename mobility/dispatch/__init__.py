"""The staff side: staff accounts, the fleet, planning and publishing a day, and
recording what happened.

Every function takes a session and primitives, checks before writing and commits
explicitly. This package and :mod:`mobility.bookings` (the worker side) do not
import each other; the optimizer is reached only through :mod:`mobility.planning`.
"""

from mobility.dispatch.console import (
    DayConsole,
    FreeVehicles,
    PlanChanges,
    VehicleTimeline,
    day_console,
    free_vehicles,
    plan_changes,
    published_plan,
    timelines,
)
from mobility.dispatch.disruption import Disruption, DisruptionKind
from mobility.dispatch.fleet import (
    add_vehicle,
    assign_driver,
    assigned_vehicle_ids,
    driver_names,
    fixed_cost_for_seats,
    import_fleet,
    list_vehicles,
)
from mobility.dispatch.on_the_road import VehicleOnRoad, decide_no_show, road_status
from mobility.dispatch.outcomes import day_outcomes, record_outcome, ride_outcomes
from mobility.dispatch.planner import GraphLoader, PlanOutcome, fill_run, plan_day
from mobility.dispatch.plans import (
    DayOverview,
    day_overview,
    latest_plan,
    latest_sizing,
    plan_pickups,
    plan_seats,
    publish_plan,
    run_figures,
    sizing_of,
    visible_routes,
)
from mobility.dispatch.replan import (
    Proposal,
    publish_replan,
    replan_proposal,
    request_replan,
)
from mobility.dispatch.road import (
    Manifest,
    driver_links,
    link_of,
    manifest,
    record_events,
    revoke_link,
    vehicle_of_link,
)
from mobility.dispatch.run_state import (
    RunAbandonedError,
    beat,
    claim_run,
    fail_run,
    run_edits,
)
from mobility.dispatch.runs import (
    HEARTBEAT_S,
    STALE_AFTER_S,
    active_run,
    execute_run,
    get_run,
    list_runs,
    reap_stale_runs,
    request_run,
)
from mobility.dispatch.sizing import size_day, sizing_answer, vehicle_types
from mobility.dispatch.staff import (
    authenticate_staff,
    create_staff_user,
    get_staff_user,
    list_drivers,
    log_access,
    set_staff_password,
    set_staff_role,
)

__all__ = [
    "HEARTBEAT_S",
    "STALE_AFTER_S",
    "DayConsole",
    "DayOverview",
    "Disruption",
    "DisruptionKind",
    "FreeVehicles",
    "GraphLoader",
    "Manifest",
    "PlanChanges",
    "PlanOutcome",
    "Proposal",
    "RunAbandonedError",
    "VehicleOnRoad",
    "VehicleTimeline",
    "active_run",
    "add_vehicle",
    "assign_driver",
    "assigned_vehicle_ids",
    "authenticate_staff",
    "beat",
    "claim_run",
    "create_staff_user",
    "day_console",
    "day_outcomes",
    "day_overview",
    "decide_no_show",
    "driver_links",
    "driver_names",
    "execute_run",
    "fail_run",
    "fill_run",
    "fixed_cost_for_seats",
    "free_vehicles",
    "get_run",
    "get_staff_user",
    "import_fleet",
    "latest_plan",
    "latest_sizing",
    "link_of",
    "list_drivers",
    "list_runs",
    "list_vehicles",
    "log_access",
    "manifest",
    "plan_changes",
    "plan_day",
    "plan_pickups",
    "plan_seats",
    "publish_plan",
    "publish_replan",
    "published_plan",
    "reap_stale_runs",
    "record_events",
    "record_outcome",
    "replan_proposal",
    "request_replan",
    "request_run",
    "revoke_link",
    "ride_outcomes",
    "road_status",
    "run_edits",
    "run_figures",
    "set_staff_password",
    "set_staff_role",
    "size_day",
    "sizing_answer",
    "sizing_of",
    "timelines",
    "vehicle_of_link",
    "vehicle_types",
    "visible_routes",
]
