"""Staff sign-in (Flask-Login) and roles.

A staff session remembers the account and its session version: a new password or
role raises the version, which ends every session of the account. A session unused
for ``MOBILITY_STAFF_IDLE_HOURS`` (8) ends too."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, abort, current_app, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import LoginManager, UserMixin, current_user, logout_user

from mobility.dispatch import get_staff_user, log_access
from mobility.store import Role, StaffUser
from web.db import get_session

__all__ = [
    "StaffPrincipal",
    "audit",
    "init_app",
    "login_manager",
    "roles_required",
    "staff_signed_in",
]

login_manager = LoginManager()
F = TypeVar("F", bound=Callable[..., ResponseReturnValue])


@dataclass
class StaffPrincipal(UserMixin):
    """The signed-in staff member, as Flask-Login sees them."""

    id: int
    username: str
    role: Role
    version: int = 0

    def get_id(self) -> str:
        return f"{self.id}:{self.version}"

    @classmethod
    def of(cls, user: StaffUser) -> StaffPrincipal:
        """The principal of a staff account."""
        return cls(user.id, user.username, user.role, user.session_version)


@login_manager.user_loader
def _load(session_id: str) -> StaffPrincipal | None:
    """The staff member of a session, unless the account's sessions were ended (a
    new password or role) or it is gone."""
    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = get_staff_user(get_session(), int(user_id))
    if user is None or user.session_version != int(version):
        return None
    return StaffPrincipal.of(user)


def roles_required(*roles: Role) -> Callable[[F], F]:
    """Require a signed-in staff member with one of ``roles`` (admins pass always)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> ResponseReturnValue:
            if not current_user.is_authenticated:
                return redirect(url_for("dispatch.login", next=request.path))
            if current_user.role is not Role.ADMIN and current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return cast(F, wrapped)

    return decorate


def audit(action: str, detail: str = "") -> None:
    """Log that the signed-in staff member read or exported personal data."""
    log_access(get_session(), getattr(current_user, "id", None), action, detail)


def _end_idle_staff_sessions() -> None:
    """Sign out a staff session unused for longer than the idle limit."""
    if "_user_id" not in session:
        return
    idle_s = 3600 * float(current_app.config["STAFF_IDLE_HOURS"])
    seen = float(session.get("staff_seen", 0))
    now = time.time()
    if now - seen > idle_s:
        logout_user()
        session.pop("staff_seen", None)
        return
    session["staff_seen"] = now


def staff_signed_in() -> None:
    """Start counting a new staff session's idle time (call after ``login_user``)."""
    session["staff_seen"] = time.time()


def init_app(app: Flask) -> None:
    """Attach Flask-Login and the idle limit."""
    login_manager.init_app(app)
    login_manager.login_view = "dispatch.login"
    app.before_request(_end_idle_staff_sessions)
