"""Jobs: planning runs (and later every background task) on RQ when Redis is
configured, in a separate local process otherwise; their heartbeat; the RQ worker;
the nightly planning schedule.

Jobs take ids and plain values, and read their configuration (database, road
extract) from the environment of the process that runs them.
"""

from mobility.jobs.queues import (
    QUEUE_NAME,
    JobQueue,
    LocalQueue,
    QueueError,
    RedisQueue,
    make_queue,
)
from mobility.jobs.schedule import (
    next_planning_time,
    nightly_job,
    schedule_daily,
    schedule_nightly,
)
from mobility.jobs.service import plan_here, start_planning, wait_for_run
from mobility.jobs.tasks import (
    graph_loader,
    plan_job,
    planning_settings,
    remind_job,
    send_job,
    send_messages,
)
from mobility.jobs.worker import run_worker

__all__ = [
    "QUEUE_NAME",
    "JobQueue",
    "LocalQueue",
    "QueueError",
    "RedisQueue",
    "graph_loader",
    "make_queue",
    "next_planning_time",
    "nightly_job",
    "plan_here",
    "plan_job",
    "planning_settings",
    "remind_job",
    "run_worker",
    "schedule_daily",
    "schedule_nightly",
    "send_job",
    "send_messages",
    "start_planning",
    "wait_for_run",
]
