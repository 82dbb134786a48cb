"""Who the signed-in worker is, and the narrow capability of a mediator booking for
a worker.

A worker's own session holds only the worker's id, for a limited time; the pages a
worker needs are guarded by :func:`worker_required`. A mediator who "books for" a
worker gets no worker session: the staff session carries an *acting* grant (the
worker, the mediator, an end 30 minutes on) that lets the booking pages book and
cancel that worker's rides, and nothing else (:func:`own_worker_required` guards
"My data", its download, deleting the account and the SMS number). The grant ends
with the staff sign-out, the 30 minutes, or another staff member in the browser;
every booking and cancellation made under it is in the audit log.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any, Final, TypeVar, cast

from flask import abort, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from mobility.bookings import get_worker
from mobility.dispatch import log_access
from mobility.store import Worker
from web.db import get_session
from web.settings import get_settings

__all__ = [
    "ACTING_MINUTES",
    "act_for_worker",
    "acting_staff_id",
    "audit_acting",
    "current_worker",
    "current_worker_or_abort",
    "end_acting",
    "forget_worker",
    "made_by",
    "own_worker_required",
    "remember_worker",
    "worker_required",
]

F = TypeVar("F", bound=Callable[..., ResponseReturnValue])

#: How long a mediator's grant to book for a worker lasts.
ACTING_MINUTES: Final = 30


def act_for_worker(worker_id: int, staff_id: int, staff_role: str) -> None:
    """Let the signed-in staff member book and cancel this worker's rides for
    :data:`ACTING_MINUTES` (the worker's own session, if any, is left as it was)."""
    session["acting"] = {
        "worker": worker_id,
        "staff": staff_id,
        "role": staff_role,
        "until": time.time() + 60 * ACTING_MINUTES,
    }


def end_acting() -> None:
    """End a mediator's grant (at the staff sign-out)."""
    session.pop("acting", None)


def _acting() -> dict[str, Any] | None:
    """The grant in force: not expired, and its staff member still signed in."""
    grant = session.get("acting")
    if not grant:
        return None
    staff_id = getattr(current_user, "id", None) if current_user.is_authenticated else None
    if time.time() > float(grant.get("until", 0)) or staff_id != grant.get("staff"):
        session.pop("acting", None)
        return None
    return cast(dict[str, Any], grant)


def acting_staff_id() -> int | None:
    """The staff member booking for the worker under a grant, if one is in force."""
    grant = _acting()
    return int(grant["staff"]) if grant else None


def current_worker() -> Worker | None:
    """The worker the booking pages act for: a mediator's grant first, else the
    worker's own session if recent enough."""
    grant = _acting()
    if grant is not None:
        return get_worker(get_session(), int(grant["worker"]))
    worker_id = session.get("worker_id")
    seen = session.get("worker_seen", 0)
    ttl = 60 * get_settings().worker_session_minutes
    if worker_id is None or time.time() - seen > ttl:
        session.pop("worker_id", None)
        return None
    session["worker_seen"] = time.time()
    return get_worker(get_session(), worker_id)


def remember_worker(worker_id: int) -> None:
    """The worker signed in (until the session times out)."""
    session["worker_id"] = worker_id
    session["worker_seen"] = time.time()


def forget_worker() -> None:
    """Sign the worker out (and forget everything the session held)."""
    session.clear()


def made_by() -> str:
    """Who is booking: ``"worker"``, or the role of the staff member acting for them."""
    grant = _acting()
    return str(grant["role"]) if grant else "worker"


def audit_acting(action: str, detail: str) -> None:
    """Log what a staff member did for a worker under a grant (nothing otherwise)."""
    staff_id = acting_staff_id()
    if staff_id is not None:
        log_access(get_session(), staff_id, action, detail)


def current_worker_or_abort() -> Worker:
    """The signed-in worker (views behind :func:`worker_required`)."""
    worker = current_worker()
    if worker is None:
        abort(401)
    return worker


def worker_required(view: F) -> F:
    """Send to the sign-in page when no worker is signed in (a mediator's grant
    counts)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        if current_worker() is None:
            return redirect(url_for("booking.login", next=request.path))
        return view(*args, **kwargs)

    return cast(F, wrapped)


def own_worker_required(view: F) -> F:
    """Only the worker, signed in with code and PIN: a mediator's grant gets 403
    (the worker's data, number and account are the worker's alone)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        if _acting() is not None:
            abort(403)
        if current_worker() is None:
            return redirect(url_for("booking.login", next=request.path))
        return view(*args, **kwargs)

    return cast(F, wrapped)
