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
from mobility.messages import SendReport
from mobility.planning import PlanningSettings
from mobility.roads import RoadGraph, load_road_graph
from mobility.store import make_engine, make_session_factory

__all__ = [
    "graph_loader",
    "plan_job",
    "planning_settings",
    "purge_job",
    "remind_job",
    "send_job",
    "send_messages",
]

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


def send_messages(config: Config, *, until_done: bool = False, max_s: float = 3600) -> SendReport:
    """Send the messages that are due; with ``until_done``, keep going (sleeping until
    the next retry is due) while messages wait, for at most ``max_s`` seconds."""
    import time

    from mobility.clock import utcnow
    from mobility.messages import make_transport, next_due, send_due

    engine = make_engine(config.database_url, pool_pre_ping=True)
    sessions = make_session_factory(engine)
    transport = make_transport(config.sms)
    started = time.monotonic()
    try:
        while True:
            report = send_due(
                sessions, transport, hub_phone=config.hub_phone, max_tries=config.sms_max_tries
            )
            due = next_due(sessions)
            if not until_done or due is None or time.monotonic() - started > max_s:
                return report
            time.sleep(min(30.0, max(1.0, (due - utcnow()).total_seconds())))
    finally:
        engine.dispose()


def send_job() -> dict[str, int]:
    """One sending pass on the queue; the next pass is scheduled when the next retry is
    due (within a minute), so that nothing waits longer than its back-off."""
    from mobility.clock import utcnow
    from mobility.jobs.queues import RedisQueue
    from mobility.messages import next_due

    config = config_from_env()
    report = send_messages(config)
    if report.retry_later:
        engine = make_engine(config.database_url)
        try:
            due = next_due(make_session_factory(engine))
        finally:
            engine.dispose()
        if due is not None:
            delay = min(60.0, max(1.0, (due - utcnow()).total_seconds()))
            RedisQueue(config.redis_url, config.queue).enqueue_send(delay)
    log.info("messages: %s", report.as_dict())
    return report.as_dict()


def remind_job() -> int:
    """Queue the reminders of tomorrow's series rides, send them, and schedule the next
    evening's reminders."""
    from mobility.jobs.queues import RedisQueue
    from mobility.jobs.schedule import schedule_daily
    from mobility.messages import queue_reminders

    config = config_from_env()
    engine = make_engine(config.database_url)
    try:
        with make_session_factory(engine)() as session:
            queued = queue_reminders(session, config.tomorrow())
            session.commit()
    finally:
        engine.dispose()
    queue = RedisQueue(config.redis_url, config.queue)
    queue.enqueue_send()
    schedule_daily(queue.queue, config, "remind")
    return queued


def purge_job() -> dict[str, int]:
    """Purge personal data past their retention period (today, in the service's time
    zone), then schedule the next night's purge."""
    from mobility.jobs.queues import RedisQueue
    from mobility.jobs.schedule import schedule_daily
    from mobility.retention import purge

    config = config_from_env()
    engine = make_engine(config.database_url)
    try:
        with make_session_factory(engine)() as session:
            counts = purge(session, config.retention, config.booking.today())
        log.info("purge: %s", counts.to_dict())
    finally:
        engine.dispose()
        # next night's purge, whatever happened tonight: one failure must not end purging
        schedule_daily(RedisQueue(config.redis_url, config.queue).queue, config, "purge")
    return counts.to_dict()
