"""What runs every evening, scheduled on RQ: right after the booking cut-off
(``MOBILITY_PLAN_AT``, default 20:05 in the service's time zone) the next day's
bookings are planned, so the dispatcher finds a proposal to review and publish; at
``MOBILITY_REMIND_AT`` (default 21:00) the workers of tomorrow's series rides who got
no other message that day are reminded; at ``MOBILITY_PURGE_AT`` (default 03:30)
personal data past their retention period are purged.

Each evening job schedules the next one; ``mobility worker`` makes sure they are
scheduled when it starts (at most one per date: its id carries the date).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Final

from mobility.clock import utcnow, zone
from mobility.config import Config, config_from_env

__all__ = [
    "next_planning_time",
    "next_time",
    "nightly_job",
    "schedule_daily",
    "schedule_nightly",
]

log = logging.getLogger(__name__)

#: What runs every evening: the setting naming its time, the job, a description.
_DAILY: Final = {
    "plan": ("plan_at", "mobility.jobs.schedule.nightly_job", "plan the next day"),
    "remind": ("remind_at", "mobility.jobs.tasks.remind_job", "remind tomorrow's series rides"),
    "purge": ("purge_at", "mobility.jobs.tasks.purge_job", "purge personal data past retention"),
}


def next_time(config: Config, at: dt.time, now: dt.datetime | None = None) -> dt.datetime:
    """The next ``at`` (a local time of day in the service's time zone), in UTC."""
    local_now = (now or utcnow()).astimezone(zone(config.timezone))
    when = dt.datetime.combine(local_now.date(), at, zone(config.timezone))
    if when <= local_now:
        when = dt.datetime.combine(
            local_now.date() + dt.timedelta(days=1), at, zone(config.timezone)
        )
    return when.astimezone(dt.UTC)


def next_planning_time(config: Config, now: dt.datetime | None = None) -> dt.datetime:
    """The next ``plan_at`` in the service's time zone, as a UTC time."""
    assert config.plan_at is not None
    return next_time(config, config.plan_at, now)


def schedule_daily(
    queue: Any, config: Config, what: str, now: dt.datetime | None = None
) -> str | None:
    """Schedule the next evening's ``what`` (``plan`` or ``remind``) unless it is
    scheduled already.

    Parameters
    ----------
    queue
        The RQ queue.
    config
        The service's configuration (``plan_at``, ``remind_at``, time zone).
    what
        ``plan`` (the next day's planning), ``remind`` (series rides' reminders) or
        ``purge`` (personal data past their retention, :mod:`mobility.retention`).
    now
        The current time (for tests).

    Returns
    -------
    str or None
        The scheduled job's id (``<queue>-nightly-<what>-YYYY-MM-DD``, the date it
        runs); ``None`` when it is turned off (``off`` as its time).
    """
    setting, function, description = _DAILY[what]
    at = getattr(config, setting)
    if at is None:
        return None
    when = next_time(config, at, now)
    local_date = when.astimezone(zone(config.timezone)).date().isoformat()
    job_id = f"{config.queue}-nightly-{what}-{local_date}"
    if job_id not in queue.scheduled_job_registry.get_job_ids():
        queue.enqueue_at(
            when, function, job_id=job_id, result_ttl=7 * 86_400, description=description
        )
        log.info("%s scheduled at %s (%s)", description, when.isoformat(), job_id)
    return job_id


def schedule_nightly(queue: Any, config: Config, now: dt.datetime | None = None) -> str | None:
    """Schedule the next evening's planning (see :func:`schedule_daily`)."""
    return schedule_daily(queue, config, "plan", now)


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
