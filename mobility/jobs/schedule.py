"""The evening's planning of the next day, scheduled on RQ: right after the booking
cut-off (``MOBILITY_PLAN_AT``, default 20:05 in the service's time zone) the next
day's bookings are planned, so the dispatcher finds a proposal to review and publish.

Each nightly job schedules the next one; ``mobility worker`` makes sure one is
scheduled when it starts (at most one per date: its id carries the date).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Final

from mobility.clock import utcnow, zone
from mobility.config import Config, config_from_env

__all__ = ["NIGHTLY_PREFIX", "next_planning_time", "nightly_job", "schedule_nightly"]

log = logging.getLogger(__name__)

NIGHTLY_PREFIX: Final = "nightly-plan-"


def next_planning_time(config: Config, now: dt.datetime | None = None) -> dt.datetime:
    """The next ``plan_at`` in the service's time zone, as a UTC time."""
    assert config.plan_at is not None
    local_now = (now or utcnow()).astimezone(zone(config.timezone))
    when = dt.datetime.combine(local_now.date(), config.plan_at, zone(config.timezone))
    if when <= local_now:
        when = dt.datetime.combine(
            local_now.date() + dt.timedelta(days=1), config.plan_at, zone(config.timezone)
        )
    return when.astimezone(dt.UTC)


def schedule_nightly(queue: Any, config: Config, now: dt.datetime | None = None) -> str | None:
    """Schedule the next nightly planning unless it is scheduled already.

    Parameters
    ----------
    queue
        The RQ queue.
    config
        The service's configuration (``plan_at``, time zone).
    now
        The current time (for tests).

    Returns
    -------
    str or None
        The scheduled job's id (``<queue>-nightly-plan-YYYY-MM-DD``, the date it
        runs); ``None`` when scheduled planning is off (``MOBILITY_PLAN_AT=off``).
    """
    if config.plan_at is None:
        return None
    when = next_planning_time(config, now)
    local_date = when.astimezone(zone(config.timezone)).date().isoformat()
    job_id = f"{config.queue}-{NIGHTLY_PREFIX}{local_date}"
    if job_id not in queue.scheduled_job_registry.get_job_ids():
        queue.enqueue_at(
            when,
            "mobility.jobs.schedule.nightly_job",
            job_id=job_id,
            result_ttl=7 * 86_400,
            description=f"plan the next day at {when:%H:%M} UTC",
        )
        log.info("nightly planning scheduled at %s (%s)", when.isoformat(), job_id)
    return job_id


def nightly_job() -> int | None:
    """Plan tomorrow's bookings on the queue, then schedule the next evening's run.

    Returns
    -------
    int or None
        The planning run of tomorrow (a new one, or the one already going).
    """
    from mobility.jobs.queues import RedisQueue
    from mobility.jobs.service import start_planning
    from mobility.store import make_engine, make_session_factory

    config = config_from_env()
    queue = RedisQueue(config.redis_url, config.queue)
    engine = make_engine(config.database_url)
    try:
        with make_session_factory(engine)() as session:
            run, created = start_planning(
                session,
                queue,
                config.tomorrow(),
                time_limit_s=config.planning.time_limit_s,
            )
            run_id = run.id
        log.info("nightly planning of %s: run %s (%s)", config.tomorrow(), run_id, created)
    finally:
        engine.dispose()
        schedule_nightly(queue.queue, config)
    return run_id
