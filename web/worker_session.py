"""Who the signed-in worker is: the session holds only the worker's id, for a limited
time, and the pages a worker needs are guarded by :func:`worker_required`."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import abort, redirect, request, session, url_for
from flask.typing import ResponseReturnValue

from mobility.bookings import get_worker
from mobility.store import Worker
from web.db import get_session
from web.settings import get_settings

__all__ = [
    "current_worker",
    "current_worker_or_abort",
    "forget_worker",
    "made_by",
    "remember_worker",
    "worker_required",
]

F = TypeVar("F", bound=Callable[..., ResponseReturnValue])


def current_worker() -> Worker | None:
    """The signed-in worker, if the session is recent enough."""
    worker_id = session.get("worker_id")
    seen = session.get("worker_seen", 0)
    ttl = 60 * get_settings().worker_session_minutes
    if worker_id is None or time.time() - seen > ttl:
        session.pop("worker_id", None)
        return None
    session["worker_seen"] = time.time()
    return get_worker(get_session(), worker_id)


def remember_worker(worker_id: int, *, acting_for: str | None = None) -> None:
    """Act as this worker in the booking pages (until the session times out).

    ``acting_for`` is the staff role of a mediator booking on the worker's behalf;
    the bookings made then say so.
    """
    session["worker_id"] = worker_id
    session["worker_seen"] = time.time()
    if acting_for:
        session["acting_for"] = acting_for


def forget_worker() -> None:
    """Sign the worker out (and forget everything the session held)."""
    session.clear()


def made_by() -> str:
    """Who is booking: ``"worker"``, or the role of the mediator acting for them."""
    return str(session.get("acting_for", "worker"))


def current_worker_or_abort() -> Worker:
    """The signed-in worker (views behind :func:`worker_required`)."""
    worker = current_worker()
    if worker is None:
        abort(401)
    return worker


def worker_required(view: F) -> F:
    """Send to the sign-in page when no worker is signed in."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        if current_worker() is None:
            return redirect(url_for("booking.login", next=request.path))
        return view(*args, **kwargs)

    return cast(F, wrapped)
