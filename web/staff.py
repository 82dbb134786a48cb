"""Staff sign-in (Flask-Login) and roles."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, abort, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import LoginManager, UserMixin, current_user

from mobility.dispatch import get_staff_user, log_access
from mobility.store import Role, StaffUser
from web.db import get_session

__all__ = ["StaffPrincipal", "audit", "init_app", "login_manager", "roles_required"]

login_manager = LoginManager()
F = TypeVar("F", bound=Callable[..., ResponseReturnValue])


@dataclass
class StaffPrincipal(UserMixin):
    """The signed-in staff member, as Flask-Login sees them."""

    id: int
    username: str
    role: Role

    def get_id(self) -> str:
        return str(self.id)

    @classmethod
    def of(cls, user: StaffUser) -> StaffPrincipal:
        """The principal of a staff account."""
        return cls(user.id, user.username, user.role)


@login_manager.user_loader
def _load(user_id: str) -> StaffPrincipal | None:
    user = get_staff_user(get_session(), int(user_id))
    return StaffPrincipal.of(user) if user else None


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


def init_app(app: Flask) -> None:
    """Attach Flask-Login."""
    login_manager.init_app(app)
    login_manager.login_view = "dispatch.login"
