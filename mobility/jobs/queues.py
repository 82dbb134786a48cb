"""Where jobs go: RQ on Redis when ``MOBILITY_REDIS_URL`` is set (any number of
``mobility worker`` processes, on any machine, take them), otherwise a separate
local process per job (the embedded default). Never a thread of the web server.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Final, Protocol

from mobility.clock import utcnow
from mobility.config import Config
from mobility.errors import MobilityError
from mobility.paths import PROJECT_ROOT
from mobility.store import PlanRun

__all__ = [
    "QUEUE_NAME",
    "JobQueue",
    "LocalQueue",
    "QueueError",
    "RedisQueue",
    "make_queue",
]

#: The RQ queue every job of the service goes to (``MOBILITY_QUEUE`` may name another).
QUEUE_NAME: Final = "mobility"
#: A local job process claims its run within seconds; one queued this long never will.
LOCAL_START_S: Final = 120
#: Besides the planning time, what a job may take (loading, matrices, storing).
JOB_OVERHEAD_S: Final = 600

# Starts the job detached: the intermediate process exits at once (no zombie is left
# to the web server) and the job runs in a session of its own.
_LAUNCHER: Final = (
    "import os, sys\n"
    "if os.fork():\n"
    "    os._exit(0)\n"
    "os.setsid()\n"
    "os.execv(sys.executable, [sys.executable, '-m', 'mobility.jobs', *sys.argv[1:]])\n"
)


class QueueError(MobilityError, ConnectionError):
    """The job could not be handed to the queue."""


class JobQueue(Protocol):
    """What the use cases need of a queue."""

    kind: str

    def enqueue_plan(self, run_id: int, settings: dict[str, Any], time_limit_s: float) -> str:
        """Hand planning run ``run_id`` to a worker; returns the job's id."""
        ...

    def queued_alive(self, run: PlanRun) -> bool:
        """Whether a queued run's job can still start."""
        ...

    def enqueue_send(self, delay_s: float = 0) -> None:
        """Have the messages that are due sent (in ``delay_s`` seconds)."""
        ...


class RedisQueue:
    """Jobs on RQ (Redis Queue)."""

    kind = "rq"

    def __init__(self, redis_url: str, name: str = QUEUE_NAME) -> None:
        from redis import Redis
        from rq import Queue

        self.redis_url = redis_url
        self.connection = Redis.from_url(redis_url)
        self.queue = Queue(name, connection=self.connection)

    def enqueue_plan(self, run_id: int, settings: dict[str, Any], time_limit_s: float) -> str:
        from redis.exceptions import RedisError

        try:
            job = self.queue.enqueue_call(
                "mobility.jobs.tasks.plan_job",
                kwargs={"run_id": run_id, "settings": settings},
                job_id=f"{self.queue.name}-plan-{run_id}",
                timeout=int(time_limit_s) + JOB_OVERHEAD_S,
                result_ttl=7 * 86_400,
                failure_ttl=30 * 86_400,
                description=f"planning run {run_id}",
            )
        except RedisError as exc:
            raise QueueError(f"the job queue (Redis) did not answer: {exc}") from exc
        return str(job.id)

    def enqueue_send(self, delay_s: float = 0) -> None:
        from redis.exceptions import RedisError

        when = utcnow() + dt.timedelta(seconds=max(0.0, delay_s))
        # one job a second at most: requests for the same moment make one pass
        job_id = f"{self.queue.name}-send-{int(when.timestamp())}"
        try:
            if delay_s <= 0:
                self.queue.enqueue_call(
                    "mobility.jobs.tasks.send_job", job_id=job_id, result_ttl=3600
                )
            else:
                self.queue.enqueue_at(
                    when, "mobility.jobs.tasks.send_job", job_id=job_id, result_ttl=3600
                )
        except RedisError as exc:
            raise QueueError(f"the job queue (Redis) did not answer: {exc}") from exc

    def queued_alive(self, run: PlanRun) -> bool:
        from redis.exceptions import RedisError
        from rq.exceptions import NoSuchJobError
        from rq.job import Job, JobStatus

        if not run.job_id:  # being enqueued right now
            return _recent(run.queued_at, LOCAL_START_S)
        try:
            status = Job.fetch(run.job_id, connection=self.connection).get_status()
        except NoSuchJobError:
            return False
        except RedisError:
            return True  # cannot tell: do not fail a run over a network hiccup
        return status in (
            JobStatus.QUEUED,
            JobStatus.SCHEDULED,
            JobStatus.DEFERRED,
            JobStatus.STARTED,
        )


class LocalQueue:
    """Each job in a separate local process (the embedded default, ``make demo``)."""

    kind = "local"

    def __init__(self, database_url: str, osm_path: str | None, log_path: Path | None = None):
        self.database_url = database_url
        self.osm_path = osm_path
        self.log_path = log_path or PROJECT_ROOT / "instance" / "jobs.log"

    def enqueue_plan(self, run_id: int, settings: dict[str, Any], time_limit_s: float) -> str:
        self._launch(["plan", str(run_id), json.dumps(settings)])
        return f"local-{run_id}"

    def enqueue_send(self, delay_s: float = 0) -> None:
        # a sending process that keeps going while messages wait (retries included)
        self._launch(["send"])

    def _launch(self, args: list[str]) -> None:
        env = {
            **os.environ,
            "MOBILITY_DATABASE_URL": self.database_url,
            "MOBILITY_OSM_PATH": self.osm_path or "",
        }
        env.pop("MOBILITY_REDIS_URL", None)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            try:
                subprocess.run(
                    [sys.executable, "-c", _LAUNCHER, *args],
                    env=env,
                    cwd=PROJECT_ROOT,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    check=True,
                    timeout=30,
                )
            except (OSError, subprocess.SubprocessError) as exc:
                raise QueueError(f"could not start the job's process: {exc}") from exc

    def queued_alive(self, run: PlanRun) -> bool:
        return _recent(run.queued_at, LOCAL_START_S)


def _recent(when: dt.datetime | None, seconds: float) -> bool:
    if when is None:
        return False
    aware = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    return utcnow() - aware < dt.timedelta(seconds=seconds)


def make_queue(config: Config, log_path: Path | None = None) -> JobQueue:
    """RQ when a Redis URL is configured, else a local process per job."""
    if config.redis_url:
        return RedisQueue(config.redis_url, config.queue)
    return LocalQueue(config.database_url, config.osm_path, log_path)
