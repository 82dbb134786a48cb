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


def run_worker(config: Config, *, burst: bool = False, nice: int = 10) -> bool:
    """Work the queue's jobs until stopped (or, with ``burst``, until it is empty).

    Parameters
    ----------
    config
        Needs ``redis_url`` and ``database_url``.
    burst
        Drain the queue, then return.
    nice
        Lower the CPU priority by this much (on one machine, the web server stays
        responsive while a planning job uses every core).

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

    from mobility.jobs.schedule import schedule_nightly
    from mobility.jobs.tasks import graph_loader

    if nice:
        os.nice(nice)
    connection = Redis.from_url(config.redis_url)
    queue = Queue(config.queue, connection=connection)
    # loaded once here, the graphs are shared by every job this worker forks
    loader = graph_loader(config.osm_path)
    for profile in ("minibus", "bus"):
        try:
            loader(profile)
        except RoadDataNotFoundError as exc:
            log.warning("%s (planning jobs will fail until it is built)", exc)
    schedule_nightly(queue, config)
    worker = Worker(
        [queue], connection=connection, name=f"{config.queue}-{socket.gethostname()}-{os.getpid()}"
    )
    return bool(worker.work(burst=burst, with_scheduler=True, logging_level="INFO"))
