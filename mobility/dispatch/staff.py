"""Staff accounts (hashed passwords, roles) and the audit log of personal-data reads."""

from __future__ import annotations

import datetime as dt
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from mobility.clock import utcnow
from mobility.errors import ServiceError
from mobility.hashing import check_secret, hash_secret, spend_a_check
from mobility.lockout import checked_with_lockout
from mobility.store import AuditLog, Role, StaffUser

__all__ = [
    "MIN_PASSWORD_CHARS",
    "authenticate_staff",
    "create_staff_user",
    "get_staff_user",
    "list_drivers",
    "log_access",
    "set_staff_password",
    "set_staff_role",
]

MIN_PASSWORD_CHARS: Final = 10
#: Wrong passwords in a row before a staff account is locked, and for how long.
STAFF_LOGIN_ATTEMPTS: Final = 5
STAFF_LOCKOUT: Final = dt.timedelta(minutes=15)


def log_access(session: Session, user_id: int | None, action: str, detail: str = "") -> None:
    """Record that staff read or exported personal data (committed here)."""
    session.add(AuditLog(user_id=user_id, action=action, detail=detail[:300]))
    session.commit()


def create_staff_user(session: Session, username: str, role: str, password: str) -> StaffUser:
    """Create a staff account with a hashed password.

    Raises
    ------
    ServiceError
        For an unknown role, a taken name or a password under 10 characters.
    """
    try:
        staff_role = Role(role)
    except ValueError:
        raise ServiceError(
            "role", "bad_role", f"role: must be one of {[r.value for r in Role]}"
        ) from None
    if not username.strip():
        raise ServiceError("username", "required", "username: required")
    if len(password) < MIN_PASSWORD_CHARS:
        raise ServiceError("password", "weak_password", "password: at least 10 characters")
    if session.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None:
        raise ServiceError("username", "taken", f"username: {username!r} exists already")
    user = StaffUser(
        username=username.strip(), password_hash=hash_secret(password), role=staff_role
    )
    session.add(user)
    session.commit()
    return user


def set_staff_password(session: Session, username: str, password: str) -> StaffUser:
    """Give a staff account a new password.

    Raises
    ------
    ServiceError
        For an unknown user or a password under 10 characters.
    """
    user = session.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is None:
        raise ServiceError("username", "not_found", f"username: no user {username!r}")
    if len(password) < MIN_PASSWORD_CHARS:
        raise ServiceError("password", "weak_password", "password: at least 10 characters")
    user.password_hash = hash_secret(password)
    user.session_version += 1  # every session of the account ends
    session.commit()
    return user


def set_staff_role(session: Session, username: str, role: str) -> StaffUser:
    """Give a staff account another role; its sessions end (they carry the old one).

    Raises
    ------
    ServiceError
        For an unknown user or role.
    """
    user = session.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is None:
        raise ServiceError("username", "not_found", f"username: no user {username!r}")
    try:
        user.role = Role(role)
    except ValueError:
        raise ServiceError(
            "role", "bad_role", f"role: must be one of {[r.value for r in Role]}"
        ) from None
    user.session_version += 1
    session.commit()
    return user


def authenticate_staff(
    session: Session, username: str, password: str, *, now: dt.datetime | None = None
) -> StaffUser | None:
    """The active staff member with this name and password, or ``None``.

    An unknown name costs the same time as a wrong password. After
    ``STAFF_LOGIN_ATTEMPTS`` wrong passwords in a row the account is locked for
    ``STAFF_LOCKOUT``, counted atomically (:mod:`mobility.lockout`): parallel
    attempts cannot check more passwords than that.
    """
    user = session.scalar(
        select(StaffUser).where(StaffUser.username == username, StaffUser.active.is_(True))
    )
    if user is None:
        spend_a_check(password)
        return None
    ok = checked_with_lockout(
        session,
        user,
        StaffUser.failed_logins,
        lambda: check_secret(user.password_hash, password),
        lambda: spend_a_check(password),
        attempts=STAFF_LOGIN_ATTEMPTS,
        lockout=STAFF_LOCKOUT,
        now=now or utcnow(),
    )
    session.refresh(user)
    return user if ok else None


def get_staff_user(session: Session, user_id: int) -> StaffUser | None:
    """The active staff member with this id (what a signed-in session remembers)."""
    return session.scalar(
        select(StaffUser).where(StaffUser.id == user_id, StaffUser.active.is_(True))
    )


def list_drivers(session: Session) -> list[StaffUser]:
    """Staff with the driver role, by name."""
    return list(
        session.scalars(
            select(StaffUser).where(StaffUser.role == Role.DRIVER).order_by(StaffUser.username)
        )
    )
