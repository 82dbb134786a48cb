"""Is a run's worker still there? Heartbeats, and failing the runs whose worker is
gone (private to ``dispatch``; :mod:`.runs` offers it)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from mobility.clock import utcnow
from mobility.dispatch.run_state import fail_run
from mobility.store import ACTIVE_RUN_STATUSES, PlanRun, PlanStatus

__all__ = ["HEARTBEAT_S", "STALE_AFTER_S", "reap_stale_runs"]

log = logging.getLogger(__name__)

#: A running job writes its heartbeat this often...
HEARTBEAT_S: Final = 5
#: ...and is taken for dead when none came for this long (detected well within 60 s).
STALE_AFTER_S: Final = 30


def reap_stale_runs(
    session: Session,
    *,
    now: dt.datetime | None = None,
    queued_alive: Callable[[PlanRun], bool] | None = None,
) -> list[int]:
    """Mark failed the runs whose worker is gone.

    A running run is gone when its heartbeat is older than :data:`STALE_AFTER_S`; a
    queued one when ``queued_alive`` (the queue's own view of its job) says so.

    Returns
    -------
    list of int
        The runs marked failed now.
    """
    now = now or utcnow()
    limit = now - dt.timedelta(seconds=STALE_AFTER_S)
    reaped = []
    for run in session.scalars(select(PlanRun).where(PlanRun.status.in_(ACTIVE_RUN_STATUSES))):
        seen = run.heartbeat_at
        if run.status is PlanStatus.RUNNING and seen is not None and _aware(seen) < limit:
            reason = f"the worker stopped: no heartbeat since {_aware(seen):%H:%M:%S} UTC"
            if fail_run(session, run.id, reason, only_if=PlanStatus.RUNNING):
                reaped.append(run.id)
        elif run.status is PlanStatus.QUEUED and queued_alive is not None and not queued_alive(run):
            reason = "the job left the queue without running (its worker was stopped)"
            if fail_run(session, run.id, reason, only_if=PlanStatus.QUEUED):
                reaped.append(run.id)
    for run_id in reaped:
        log.warning("planning run %s marked failed: its worker is gone", run_id)
    return reaped


def _aware(value: dt.datetime) -> dt.datetime:
    """SQLite gives back naive datetimes: they were stored in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
