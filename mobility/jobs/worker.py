"""``mobility worker``: an RQ worker for the service's jobs, with RQ's scheduler
(for the nightly planning). Several workers on several machines share one Redis and
one database."""

from __future__ import annotations

import logging
import os
import socket

from mobility.config import Config
from mobility.errors import ConfigError, RoadDataNotFoundError

__all__ = ["run_worker"]

log = logging.getLogger(__name__)


def _lower_priority(nice: int) -> None:
    """Nice the worker (and the solver processes it forks, which inherit it)."""
    if nice > 0:
        os.nice(nice)
    if nice >= 19 and hasattr(os, "SCHED_IDLE"):
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        except OSError as exc:  # not allowed here: nice alone will do
            log.warning("could not take the idle scheduling class: %s", exc)


def run_worker(config: Config, *, burst: bool = False, nice: int = 19) -> bool:
    """Work the queue's jobs until stopped (or, with ``burst``, until it is empty).

    Parameters
    ----------
    config
        Needs ``redis_url`` and ``database_url``.
    burst
        Drain the queue, then return.
    nice
        Lower the CPU priority by this much; at 19 (the default) the worker also
        takes Linux's ``SCHED_IDLE`` class, so that on one machine any web request
        preempts a planning job at once. 0 on a machine of its own.

    Raises
    ------
    ConfigError
        When ``MOBILITY_REDIS_URL`` is not set.
    """
    if not config.redis_url:
        raise ConfigError(
            "MOBILITY_REDIS_URL: not set; `mobility worker` runs the jobs of a Redis "
            "queue (without Redis, jobs run in a local process of their own)"
        )
    from redis import Redis
    from rq import Queue, Worker

    from mobility.jobs.queues import RedisQueue
    from mobility.jobs.schedule import schedule_daily
    from mobility.jobs.tasks import graph_loader

    _lower_priority(nice)
    connection = Redis.from_url(config.redis_url)
    queue = Queue(config.queue, connection=connection)
    # loaded once here, the graphs are shared by every job this worker forks
    loader = graph_loader(config.osm_path)
    for profile in ("minibus", "bus"):
        try:
            loader(profile)
        except RoadDataNotFoundError as exc:
            log.warning("%s (planning jobs will fail until it is built)", exc)
    schedule_daily(queue, config, "plan")
    schedule_daily(queue, config, "remind")
    schedule_daily(queue, config, "purge")
    RedisQueue(config.redis_url, config.queue).enqueue_send()  # whatever waits already
    worker = Worker(
        [queue], connection=connection, name=f"{config.queue}-{socket.gethostname()}-{os.getpid()}"
    )
    return bool(worker.work(burst=burst, with_scheduler=True, logging_level="INFO"))
