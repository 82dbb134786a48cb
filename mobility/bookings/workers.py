"""Workers: anonymous registration with a personal code and PIN, and signing in."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from mobility.bookings._codes import WORKER_CODE_LENGTH, random_code
from mobility.bookings.rules import BookingRules
from mobility.clock import utcnow
from mobility.errors import ServiceError
from mobility.i18n import LANGUAGES
from mobility.store import Worker

__all__ = ["PIN_DIGITS", "authenticate_worker", "find_worker", "get_worker", "register_worker"]

PIN_DIGITS: Final = 6
_DUMMY_HASH: Final = generate_password_hash("not-a-pin")


def register_worker(
    session: Session, *, language: str = "it", phone: str | None = None
) -> tuple[Worker, str]:
    """Create a worker with a new personal code and PIN.

    Parameters
    ----------
    session
        Database session (committed here).
    language
        Preferred language, one of :data:`mobility.i18n.LANGUAGES`.
    phone
        A phone number, only if the worker wants SMS.

    Returns
    -------
    tuple
        The worker and the PIN in clear, to show once; only its hash is stored.

    Raises
    ------
    ServiceError
        For an unknown language or a malformed phone number.
    """
    if language not in LANGUAGES:
        raise ServiceError("language", "bad_language", f"language: unknown {language!r}")
    if phone:
        digits = phone.replace(" ", "").replace("-", "")
        if not re.fullmatch(r"\+?[0-9]{6,15}", digits):
            raise ServiceError("phone", "bad_phone", "phone: not a phone number")
        phone = digits
    pin = "".join(secrets.choice("0123456789") for _ in range(PIN_DIGITS))
    for _ in range(10):
        code = random_code(WORKER_CODE_LENGTH)
        if session.scalar(select(Worker.id).where(Worker.code == code)) is None:
            break
    worker = Worker(
        code=code,
        pin_hash=generate_password_hash(pin),
        language=language,
        phone=phone or None,
    )
    session.add(worker)
    session.commit()
    return worker, pin


def authenticate_worker(
    session: Session,
    code: str,
    pin: str,
    *,
    rules: BookingRules | None = None,
    now: dt.datetime | None = None,
) -> Worker:
    """Return the worker with this code and PIN.

    A wrong code, a wrong PIN and a locked code all get the same error, so that
    nobody can find out which codes exist. After ``rules.pin_attempts`` wrong PINs
    in a row the code is locked for ``rules.lockout_minutes``.

    Raises
    ------
    ServiceError
        ``auth_failed`` on the field ``pin``.
    """
    rules = rules or BookingRules()
    now = now or utcnow()
    failure = ServiceError("pin", "auth_failed", "code or PIN is wrong, or the code is locked")
    worker = find_worker(session, code)
    if worker is None:
        # spend the same time as a real check, so timing does not reveal codes
        check_password_hash(_DUMMY_HASH, pin)
        raise failure
    locked = worker.locked_until
    if locked is not None and _aware(locked) > now:
        raise failure
    if not check_password_hash(worker.pin_hash, pin.strip()):
        worker.failed_pins += 1
        if worker.failed_pins >= rules.pin_attempts:
            worker.locked_until = now + dt.timedelta(minutes=rules.lockout_minutes)
            worker.failed_pins = 0
        session.commit()
        raise failure
    if worker.failed_pins or worker.locked_until is not None:
        worker.failed_pins = 0
        worker.locked_until = None
        session.commit()
    return worker


def find_worker(session: Session, code: str) -> Worker | None:
    """The worker with this personal code (as typed: spaces and case do not matter)."""
    return session.scalar(select(Worker).where(Worker.code == code.strip().upper()))


def get_worker(session: Session, worker_id: int) -> Worker | None:
    """The worker with this id (the id a signed-in session remembers)."""
    return session.get(Worker, worker_id)


def _aware(value: dt.datetime) -> dt.datetime:
    """SQLite gives back naive datetimes: they were stored in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
