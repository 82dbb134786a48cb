"""Workers: anonymous registration with a personal code and PIN, and signing in."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Final

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mobility.bookings._codes import WORKER_CODE_LENGTH, random_code
from mobility.bookings.rules import BookingRules
from mobility.clock import utcnow
from mobility.errors import ServiceError
from mobility.hashing import check_secret, hash_secret, spend_a_check
from mobility.i18n import LANGUAGES
from mobility.lockout import checked_with_lockout
from mobility.store import Message, MessageState, Worker

__all__ = [
    "PIN_DIGITS",
    "STOP_WORDS",
    "authenticate_worker",
    "find_worker",
    "get_worker",
    "opt_out_by_phone",
    "parse_phone",
    "register_worker",
    "set_phone",
]

PIN_DIGITS: Final = 6
#: Words that, sent by SMS, stop every message (in the service's languages).
STOP_WORDS: Final = frozenset(
    {"STOP", "ARRET", "ARRÊT", "ALT", "BASTA", "STOPP", "СТОП", "توقف", "قف", "UNSUBSCRIBE"}
)


def parse_phone(text: str, field: str = "phone") -> str:
    """A phone number as E.164 (``+39...``): Italian numbers may be written without
    the country code, foreign ones need it (``+221...``).

    Raises
    ------
    ServiceError
        ``bad_phone`` naming ``field`` when it is not a valid number.
    """
    import phonenumbers

    try:
        number = phonenumbers.parse(text, "IT")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ServiceError(field, "bad_phone", f"{field}: not a phone number")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


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
        phone = parse_phone(phone)
    pin = "".join(secrets.choice("0123456789") for _ in range(PIN_DIGITS))
    for _ in range(10):
        code = random_code(WORKER_CODE_LENGTH)
        if session.scalar(select(Worker.id).where(Worker.code == code)) is None:
            break
    worker = Worker(
        code=code,
        pin_hash=hash_secret(pin),
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
    rules: BookingRules,
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
    now = now or utcnow()
    failure = ServiceError("pin", "auth_failed", "code or PIN is wrong, or the code is locked")
    worker = find_worker(session, code)
    if worker is None:
        # spend the same time as a real check, so timing does not reveal codes
        spend_a_check(pin)
        raise failure
    ok = checked_with_lockout(
        session,
        worker,
        Worker.failed_pins,
        lambda: check_secret(worker.pin_hash, pin.strip()),
        lambda: spend_a_check(pin),
        attempts=rules.pin_attempts,
        lockout=dt.timedelta(minutes=rules.lockout_minutes),
        now=now,
    )
    session.refresh(worker)
    if not ok:
        raise failure
    return worker


def find_worker(session: Session, code: str) -> Worker | None:
    """The worker with this personal code (as typed: spaces and case do not matter)."""
    return session.scalar(select(Worker).where(Worker.code == code.strip().upper()))


def get_worker(session: Session, worker_id: int) -> Worker | None:
    """The worker with this id (the id a signed-in session remembers)."""
    return session.get(Worker, worker_id)


def set_phone(session: Session, worker: Worker, phone: str | None) -> Worker:
    """Turn SMS on with a number, or off (``None``): the number is deleted and every
    message still waiting is dropped; no message goes to this worker any more.

    Raises
    ------
    ServiceError
        ``bad_phone`` on ``phone``.
    """
    worker.phone = parse_phone(phone) if phone is not None else None
    if worker.phone is None:
        session.execute(
            delete(Message).where(
                Message.worker_id == worker.id,
                Message.state.in_([MessageState.QUEUED, MessageState.SENDING]),
            )
        )
    session.commit()
    return worker


def opt_out_by_phone(session: Session, phone: str, text: str) -> bool:
    """An SMS came in from ``phone``: if it says STOP (or another :data:`STOP_WORDS`),
    its worker's number is deleted and their waiting messages are dropped.

    Returns
    -------
    bool
        Whether a worker opted out.
    """
    if text.strip().strip(".!").upper() not in STOP_WORDS:
        return False
    try:
        number = parse_phone(phone)
    except ServiceError:
        return False
    found = False
    for worker in session.scalars(select(Worker).where(Worker.phone == number)):
        set_phone(session, worker, None)
        found = True
    return found
