"""Planning runs started from a page or a command: create the run row, then plan in
the background with its progress written on the row (any process can show it)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from mobility.dispatch.plans import GraphLoader, PlanOutcome, plan_day
from mobility.planning import PlanningSettings
from mobility.store import PlanRun, PlanStatus

__all__ = ["create_run", "execute_run"]

log = logging.getLogger(__name__)


def create_run(session: Session, service_date: dt.date, time_limit_s: float) -> PlanRun:
    """A new planning run of a day, waiting to start (committed)."""
    run = PlanRun(
        service_date=service_date,
        status=PlanStatus.RUNNING,
        time_limit_s=time_limit_s,
        progress="queued",
    )
    session.add(run)
    session.commit()
    return run


def execute_run(
    sessions: sessionmaker[Any],
    run_id: int,
    graphs: GraphLoader,
    settings: PlanningSettings,
) -> PlanOutcome | None:
    """Plan the run's day; progress and result go to the run row.

    A failure is recorded on the run (status ``failed`` and the reason) and logged;
    the previous plan and the bookings stay as they were.

    Returns
    -------
    PlanOutcome or None
        ``None`` when the run is unknown or failed.
    """

    def progress(message: str) -> None:
        with sessions() as progress_session:
            row = progress_session.get(PlanRun, run_id)
            if row is not None:
                row.progress = message
                progress_session.commit()

    with sessions() as session:
        run = session.get(PlanRun, run_id)
        if run is None:
            log.error("planning run %s does not exist", run_id)
            return None
        try:
            return plan_day(
                session,
                run.service_date,
                graphs,
                settings=settings.with_time_limit(run.time_limit_s),
                run=run,
                progress=progress,
            )
        except Exception:  # recorded on the run by plan_day; the page shows it
            log.exception("planning run %s failed", run_id)
            return None
