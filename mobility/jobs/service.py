"""Starting a planning run: on the queue (the web app, ``mobility plan --enqueue``,
the nightly job) or here and now (``mobility plan``, the demo)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from mobility.dispatch import (
    Disruption,
    GraphLoader,
    PlanOutcome,
    check_replan,
    execute_run,
    fail_run,
    request_run,
)
from mobility.errors import ServiceError
from mobility.jobs.queues import JOB_OVERHEAD_S, JobQueue, QueueError
from mobility.planning import PlanningSettings
from mobility.store import PlanKind, PlanRun, PlanStatus

__all__ = ["plan_here", "start_planning", "wait_for_run"]


def start_planning(
    session: Session,
    queue: JobQueue,
    service_date: dt.date,
    *,
    time_limit_s: float,
    kind: PlanKind = PlanKind.PLAN,
    moves: dict[str, str | None] | None = None,
    locked: set[str] | None = None,
    edits: str | None = None,
    settings: dict[str, Any] | None = None,
) -> tuple[PlanRun, bool]:
    """Queue a planning run of a day, or join the one already going.

    Parameters
    ----------
    session
        Database session (committed here).
    queue
        Where the job goes.
    service_date
        The day.
    time_limit_s
        The optimizer's time limit.
    kind
        ``plan`` (the day's plan) or ``preview`` (check a manual edit).
    moves, locked
        A manual edit.
    edits
        What a ``replan`` run re-plans after (:meth:`Disruption.to_json`).
    settings
        Planning settings the job uses instead of its deployment's.

    Returns
    -------
    tuple
        The run, and whether it was queued now (``False``: joined).

    Raises
    ------
    ServiceError
        ``run_active`` when another kind of run of the day is going.
    QueueError
        When the queue does not take the job (the run is then marked failed).
    """
    if kind is PlanKind.REPLAN:  # refused at once when it cannot run
        check_replan(session, service_date, Disruption.from_json(edits or "{}"))
    run, created = request_run(
        session,
        service_date,
        time_limit_s=time_limit_s,
        kind=kind,
        moves=moves,
        locked=locked,
        edits=edits,
        queued_alive=queue.queued_alive,
    )
    if not created:
        return run, False
    try:
        job_id = queue.enqueue_plan(run.id, settings or {}, time_limit_s)
    except QueueError as exc:
        fail_run(session, run.id, str(exc))
        raise
    session.execute(update(PlanRun).where(PlanRun.id == run.id).values(job_id=job_id))
    session.commit()
    session.refresh(run)
    return run, True


def plan_here(
    sessions: sessionmaker[Any],
    database_url: str,
    service_date: dt.date,
    graphs: GraphLoader,
    settings: PlanningSettings,
    *,
    kind: PlanKind = PlanKind.PLAN,
    edits: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> PlanOutcome:
    """Plan a day (or size its fleet, or re-plan it: ``kind`` and ``edits``) in this
    process (the command line, the demo), as a run with a heartbeat like any job, so
    that the one-run-a-day rule and the dead-worker check hold for it too.

    Raises
    ------
    ServiceError
        ``run_active`` when a run of the day is queued or running already, or
        ``run_failed`` with the run's reason when planning failed.
    """
    from mobility.jobs.heartbeat import heartbeat

    with sessions() as session:
        run, created = request_run(
            session, service_date, time_limit_s=settings.time_limit_s, kind=kind, edits=edits
        )
        run_id = run.id
        if not created:
            raise ServiceError(
                "date",
                "run_active",
                f"date: planning run #{run_id} of {service_date} is {run.status.value}; "
                f"see `mobility runs --date {service_date}`",
            )
    with heartbeat(database_url, run_id):
        outcome = execute_run(sessions, run_id, graphs, settings, progress=progress)
    if outcome is None:
        with sessions() as session:
            failed = session.get(PlanRun, run_id)
            reason = failed.message if failed else "the run disappeared"
        raise ServiceError("date", "run_failed", f"planning run #{run_id} failed: {reason}")
    return outcome


def wait_for_run(
    sessions: sessionmaker[Any],
    run_id: int,
    queue: JobQueue,
    time_limit_s: float,
    *,
    poll_s: float = 1.0,
) -> PlanOutcome:
    """Wait for a queued run to end (a worker does it); its outcome.

    Raises
    ------
    ServiceError
        ``run_failed`` with the run's reason when it failed, or when no worker took
        it within its time limit and ten minutes.
    """
    import time

    from mobility.dispatch import get_run, run_figures
    from mobility.planning import DayFigures

    deadline = time.monotonic() + time_limit_s + JOB_OVERHEAD_S
    while True:
        with sessions() as session:
            run = get_run(session, run_id, queued_alive=queue.queued_alive)
            if run is None:
                raise ServiceError("run", "run_failed", f"planning run #{run_id} disappeared")
            if run.status is PlanStatus.DONE:
                # a sizing run's answer is on the run (latest_sizing), not figures
                return PlanOutcome(run_id, run_figures(run) or DayFigures())
            if run.status is PlanStatus.FAILED:
                raise ServiceError(
                    "run", "run_failed", f"planning run #{run_id} failed: {run.message}"
                )
            if time.monotonic() > deadline:
                reason = "no worker took it (is `mobility worker` running?)"
                fail_run(session, run_id, reason)
                raise ServiceError("run", "run_failed", f"planning run #{run_id}: {reason}")
        time.sleep(poll_s)
