"""The job functions: what a worker runs. They take ids and plain values (never ORM
objects or graphs), read their configuration from the environment and load the road
graphs once per process.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from mobility.config import Config, config_from_env
from mobility.dispatch import GraphLoader, execute_run
from mobility.planning import PlanningSettings
from mobility.roads import RoadGraph, load_road_graph
from mobility.store import make_engine, make_session_factory

__all__ = ["graph_loader", "plan_job", "planning_settings"]

log = logging.getLogger(__name__)

_GRAPHS: dict[tuple[str, str | None], RoadGraph] = {}


def graph_loader(osm_path: str | None, *, build_missing: bool = False) -> GraphLoader:
    """``profile -> RoadGraph`` from the caches, each loaded once per process.

    Workers do not build graphs (a minute of CPU): a missing cache fails the run with
    a message naming ``mobility graph build``.
    """

    def load(profile: str) -> RoadGraph:
        key = (profile, osm_path)
        if key not in _GRAPHS:
            _GRAPHS[key] = load_road_graph(profile, osm_path, build_missing=build_missing)
        return _GRAPHS[key]

    return load


def planning_settings(config: Config, overrides: dict[str, Any] | None) -> PlanningSettings:
    """The deployment's planning settings with a request's own values (e.g. a test's
    solver limits, or a dispatcher's time limit).

    Raises
    ------
    ValueError
        For a name that is not a planning setting.
    """
    known = {f.name for f in dataclasses.fields(PlanningSettings)}
    unknown = set(overrides or {}) - known
    if unknown:
        raise ValueError(f"settings: unknown planning settings {sorted(unknown)}")
    return dataclasses.replace(config.planning, **(overrides or {}))


def plan_job(run_id: int, settings: dict[str, Any] | None = None) -> str:
    """Do planning run ``run_id`` (a queued run), with a heartbeat on its row.

    Returns
    -------
    str
        The run's final status.
    """
    from mobility.jobs.heartbeat import heartbeat
    from mobility.store import PlanRun

    config = config_from_env()
    engine = make_engine(config.database_url, pool_pre_ping=True)
    sessions = make_session_factory(engine)
    try:
        with heartbeat(config.database_url, run_id):
            execute_run(
                sessions,
                run_id,
                graph_loader(config.osm_path),
                planning_settings(config, settings),
            )
        with sessions() as session:
            run = session.get(PlanRun, run_id)
            status = run.status.value if run else "missing"
    finally:
        engine.dispose()
    log.info("planning run %s: %s", run_id, status)
    return status
