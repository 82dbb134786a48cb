"""Every change of a planning run's state, in one place.

A run is ``queued`` (:func:`queue_run`: a job will take it) or started here and now
(:func:`start_run`), ``running`` once claimed (:func:`claim_run`, with a heartbeat:
:func:`beat`), then ``done`` with what it stored (:func:`finish_run`) or ``failed``
with the reason (:func:`fail_run`, :func:`fail_on_error`). A run failed while it
was still planning is *abandoned*: :func:`finish_run` refuses it
(:class:`RunAbandonedError`) and nothing it planned is stored. Every transition is
one conditional ``UPDATE`` (or ``INSERT``), so two processes never both win.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mobility.clock import utcnow
from mobility.errors import ServiceError
from mobility.store import ACTIVE_RUN_STATUSES, PlanKind, PlanRun, PlanStatus

__all__ = [
    "RunAbandonedError",
    "beat",
    "claim_run",
    "edits_json",
    "fail_on_error",
    "fail_run",
    "finish_run",
    "queue_run",
    "run_edits",
    "set_progress",
    "start_run",
]


class RunAbandonedError(ServiceError):
    """A run was declared dead (or failed) while it was still planning: its plan is
    not stored, so nothing overwrites what happened since."""


def edits_json(moves: dict[str, str | None] | None, locked: set[str] | None) -> str:
    """A manual edit as stored on its run (empty for none)."""
    if not moves and not locked:
        return ""
    return json.dumps({"moves": moves or {}, "locked": sorted(locked or ())}, sort_keys=True)


def run_edits(run: PlanRun) -> tuple[dict[str, str | None], set[str], dict[str, str]]:
    """The moves and locked routes of a run's manual edit, and (a preview's result)
    for each moved booking the vehicles it rides or why it does not ride."""
    data: dict[str, Any] = json.loads(run.edits or "{}")
    return data.get("moves", {}), set(data.get("locked", [])), data.get("moved", {})


def queue_run(
    session: Session, service_date: dt.date, *, kind: PlanKind, edits: str, time_limit_s: float
) -> PlanRun | None:
    """A new ``queued`` run; ``None`` when another run of the day is queued or
    running (the unique index refused it: the caller joins or refuses)."""
    run = PlanRun(
        service_date=service_date,
        status=PlanStatus.QUEUED,
        kind=kind,
        edits=edits,
        time_limit_s=time_limit_s,
        progress="queued",
        queued_at=utcnow(),
    )
    session.add(run)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return None
    return run


def start_run(
    session: Session,
    service_date: dt.date,
    *,
    kind: PlanKind,
    time_limit_s: float,
    edits: str = "",
) -> PlanRun:
    """A run started here and now (``running``, not through a queue).

    Raises
    ------
    ServiceError
        ``run_active`` when a run of the day is queued or running already.
    """
    now = utcnow()
    run = PlanRun(
        service_date=service_date,
        status=PlanStatus.RUNNING,
        kind=kind,
        edits=edits,
        time_limit_s=time_limit_s,
        queued_at=now,
        started_at=now,
        heartbeat_at=now,
        progress="started",
    )
    session.add(run)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise ServiceError(
            "date", "run_active", f"date: a planning run of {service_date} is going already"
        ) from None
    return run


def claim_run(session: Session, run_id: int) -> PlanRun | None:
    """Start a queued run (``running``, first heartbeat); ``None`` if it is not queued."""
    now = utcnow()
    result = session.execute(
        update(PlanRun)
        .where(PlanRun.id == run_id, PlanRun.status == PlanStatus.QUEUED)
        .values(status=PlanStatus.RUNNING, started_at=now, heartbeat_at=now, progress="started")
    )
    session.commit()
    return session.get(PlanRun, run_id) if result.rowcount == 1 else None  # type: ignore[attr-defined]


def beat(session: Session, run_id: int) -> bool:
    """Write a running run's heartbeat; ``False`` when it is no longer running."""
    result = session.execute(
        update(PlanRun)
        .where(PlanRun.id == run_id, PlanRun.status == PlanStatus.RUNNING)
        .values(heartbeat_at=utcnow())
    )
    session.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def set_progress(session: Session, run_id: int, message: str) -> None:
    """A running run's progress, as its pages show it."""
    session.execute(
        update(PlanRun)
        .where(PlanRun.id == run_id, PlanRun.status == PlanStatus.RUNNING)
        .values(progress=message[:200])
    )
    session.commit()


def finish_run(session: Session, run_id: int, figures: str, edits: str | None = None) -> None:
    """Mark the run done with what it wrote, in the same transaction, but only if it
    is still running.

    Raises
    ------
    RunAbandonedError
        When the run was failed meanwhile: what it wrote is rolled back.
    """
    values: dict[str, Any] = {
        "status": PlanStatus.DONE,
        "figures": figures,
        "progress": "done",
        "finished_at": utcnow(),
    }
    if edits is not None:
        values["edits"] = edits
    session.flush()
    result = session.execute(
        update(PlanRun)
        .where(PlanRun.id == run_id, PlanRun.status == PlanStatus.RUNNING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise RunAbandonedError(
            "run", "run_abandoned", f"run: #{run_id} is no longer running; its plan is dropped"
        )
    session.commit()
    session.expire_all()


def fail_run(
    session: Session, run_id: int, reason: str, *, only_if: PlanStatus | None = None
) -> bool:
    """Mark a run failed with the reason (if it is ``only_if``, when given; else if
    it is queued or running)."""
    query = update(PlanRun).where(PlanRun.id == run_id)
    if only_if is not None:
        query = query.where(PlanRun.status == only_if)
    else:
        query = query.where(PlanRun.status.in_(ACTIVE_RUN_STATUSES))
    result = session.execute(
        query.values(status=PlanStatus.FAILED, message=reason[:2000], finished_at=utcnow())
    )
    session.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def fail_on_error(session: Session, run_id: int, exc: BaseException) -> None:
    """After an error while planning: nothing it planned is kept, and the run says
    why it failed (an abandoned run is failed already)."""
    session.rollback()
    if not isinstance(exc, RunAbandonedError):
        fail_run(session, run_id, f"{type(exc).__name__}: {exc}")
