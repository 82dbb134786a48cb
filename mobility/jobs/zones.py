"""Zones of a regional day as jobs on the RQ queue: each zone's part (its bookings, its
vehicles, the travel matrices between its stops: a few hundred kilobytes) is one job
that any ``mobility worker`` takes, so more worker machines plan more zones at once
(see :func:`mobility.planning.plan_by_zones`)."""

from __future__ import annotations

import time
import uuid

from mobility.errors import MobilityError
from mobility.planning import DayPlan, PlanningSettings
from mobility.planning.zones import Part, PartRunner

__all__ = ["ZoneJobError", "on_queue", "queue_workers"]

#: Seconds a zone job may take beyond its search's time limit (loading, checking).
ZONE_JOB_OVERHEAD_S = 120


class ZoneJobError(MobilityError, RuntimeError):
    """A zone's job failed or was lost on the queue."""


def queue_workers(redis_url: str, queue_name: str) -> int:
    """How many workers listen on the queue now (each plans one zone at a time)."""
    from redis import Redis
    from rq import Queue, Worker

    connection = Redis.from_url(redis_url)
    return int(Worker.count(queue=Queue(queue_name, connection=connection)))


def on_queue(redis_url: str, queue_name: str, *, poll_s: float = 0.5) -> PartRunner:
    """A runner that enqueues every part as a job, then waits for all of them."""

    def run(parts: list[Part], settings: list[PlanningSettings]) -> list[DayPlan]:
        from redis import Redis
        from rq import Queue
        from rq.job import JobStatus

        queue = Queue(queue_name, connection=Redis.from_url(redis_url))
        batch = uuid.uuid4().hex[:8]
        jobs = [
            queue.enqueue_call(
                "mobility.planning.plan_bookings",
                args=part,
                kwargs={"settings": one},
                job_id=f"{queue_name}-zone-{batch}-{n}",
                timeout=int(one.time_limit_s) + ZONE_JOB_OVERHEAD_S,
                result_ttl=3600,
                failure_ttl=86_400,
                description=f"zone {n + 1} of {len(parts)} ({len(part[0])} bookings)",
            )
            for n, (part, one) in enumerate(zip(parts, settings, strict=True))
        ]
        results: list[DayPlan] = []
        for job in jobs:
            while True:
                status = job.get_status(refresh=True)
                if status == JobStatus.FINISHED:
                    plan = job.return_value()
                    if not isinstance(plan, DayPlan):
                        raise ZoneJobError(f"zone job {job.id} returned no plan")
                    results.append(plan)
                    break
                if status in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED, None):
                    raise ZoneJobError(f"zone job {job.id} {status}: {job.exc_info or ''}")
                time.sleep(poll_s)
        return results

    return run
