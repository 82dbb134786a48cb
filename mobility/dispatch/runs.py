"""Planning runs as jobs: requested (``queued``), claimed by a worker (``running``,
with a heartbeat on the row), then ``done`` or ``failed`` with the reason.

A day has at most one run queued or running (a unique index on the table says so):
a second request for the same kind of run joins the first, another kind is refused.
A run whose heartbeat stops (its worker was killed, its machine lost) is marked
failed by :func:`reap_stale_runs`, which every reader of runs calls; it never wrote
anything, so the previous plan and the bookings stay as they were, and even if its
worker comes back it cannot store its plan (see ``plans._store``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mobility.dispatch._liveness import HEARTBEAT_S, STALE_AFTER_S, reap_stale_runs
from mobility.dispatch.planner import GraphLoader, PlanOutcome, fill_run
from mobility.dispatch.run_state import (
    claim_run,
    edits_json,
    queue_run,
    set_progress,
)
from mobility.dispatch.sizing import run_sizing
from mobility.errors import ServiceError
from mobility.planning import PlanningSettings
from mobility.store import ACTIVE_RUN_STATUSES, PlanKind, PlanRun

__all__ = [
    "HEARTBEAT_S",
    "STALE_AFTER_S",
    "Edits",
    "active_run",
    "execute_run",
    "get_run",
    "list_runs",
    "reap_stale_runs",
    "request_run",
]

log = logging.getLogger(__name__)

#: A manual edit: booking code -> vehicle name (``None``: leave unassigned), locked routes.
Edits = tuple[dict[str, str | None], list[str]]


def active_run(session: Session, service_date: dt.date) -> PlanRun | None:
    """The day's run that is queued or running, if any."""
    return session.scalar(
        select(PlanRun).where(
            PlanRun.service_date == service_date, PlanRun.status.in_(ACTIVE_RUN_STATUSES)
        )
    )


def request_run(
    session: Session,
    service_date: dt.date,
    *,
    time_limit_s: float,
    kind: PlanKind = PlanKind.PLAN,
    moves: dict[str, str | None] | None = None,
    locked: set[str] | None = None,
    edits: str | None = None,
    queued_alive: Callable[[PlanRun], bool] | None = None,
) -> tuple[PlanRun, bool]:
    """A queued run of the day, new or the one already going (``edits``: what the
    run does, as stored; by default the manual edit ``moves`` and ``locked``).

    Runs whose worker is gone are marked failed first (``queued_alive``: the
    queue's view of a queued run's job), so they never block a new one.

    Returns
    -------
    tuple
        The run and whether it was made now (``False``: an identical request was
        queued or running already, and this one joins it).

    Raises
    ------
    ServiceError
        ``run_active`` on ``date`` when another kind of run (or another edit) of the
        day is queued or running.
    """
    edits = edits if edits is not None else edits_json(moves, locked)
    reap_stale_runs(session, queued_alive=queued_alive)
    for _ in range(2):
        active = active_run(session, service_date)
        if active is not None:
            if active.kind is kind and active.edits == edits:
                return active, False
            raise ServiceError(
                "date",
                "run_active",
                f"date: a planning run of {service_date} is {active.status.value} (#{active.id})",
                run=active.id,
            )
        run = queue_run(session, service_date, kind=kind, edits=edits, time_limit_s=time_limit_s)
        if run is None:  # another request won the race: join it
            continue
        return run, True
    raise ServiceError("date", "run_active", f"date: a planning run of {service_date} is going")


def get_run(
    session: Session, run_id: int, *, queued_alive: Callable[[PlanRun], bool] | None = None
) -> PlanRun | None:
    """The planning run with this id (marked failed first if its worker is gone)."""
    reap_stale_runs(session, queued_alive=queued_alive)
    return session.get(PlanRun, run_id)


def list_runs(
    session: Session,
    service_date: dt.date,
    *,
    queued_alive: Callable[[PlanRun], bool] | None = None,
) -> list[PlanRun]:
    """The day's runs, newest first (stale ones marked failed first)."""
    reap_stale_runs(session, queued_alive=queued_alive)
    return list(
        session.scalars(
            select(PlanRun).where(PlanRun.service_date == service_date).order_by(PlanRun.id.desc())
        )
    )


def execute_run(
    sessions: sessionmaker[Any],
    run_id: int,
    graphs: GraphLoader,
    settings: PlanningSettings,
    *,
    progress: Callable[[str], None] | None = None,
) -> PlanOutcome | None:
    """Claim a queued run and do it: plan the day (or preview the edit it carries).

    Progress and the result go to the run row, so any process can show them. A
    failure is recorded on the run with the reason and logged; the previous plan
    and the bookings stay as they were.

    Returns
    -------
    PlanOutcome or None
        ``None`` when the run was not queued (already taken, or failed) or failed.
    """

    def say(message: str) -> None:
        with sessions() as progress_session:
            set_progress(progress_session, run_id, message)
        if progress is not None:
            progress(message)

    with sessions() as session:
        run = claim_run(session, run_id)
        if run is None:
            log.warning("planning run %s is not queued: nothing to do", run_id)
            return None
        try:
            if run.kind is PlanKind.SIZING:
                return run_sizing(
                    session, run, graphs, settings.with_time_limit(run.time_limit_s), say
                )
            if run.kind is PlanKind.REPLAN:
                from mobility.dispatch.replan import fill_replan

                return fill_replan(
                    session,
                    run,
                    graphs,
                    settings=settings.with_time_limit(run.time_limit_s),
                    progress=say,
                )
            return fill_run(
                session,
                run,
                graphs,
                settings=settings.with_time_limit(run.time_limit_s),
                progress=say,
            )
        except Exception:  # recorded on the run by fill_run; the page shows it
            log.exception("planning run %s failed", run_id)
            return None
