"""Short-lived signed tokens for the API: one PIN check opens a session, and the
token then stands for the worker until it expires (no PIN hash per request)."""

from __future__ import annotations

from typing import Final

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from mobility.errors import ServiceError
from mobility.store import Worker

__all__ = ["TOKEN_MINUTES", "issue_token", "revoke_tokens", "worker_from_token"]

TOKEN_MINUTES: Final = 30
_SALT: Final = "passaggio-api-session"


def issue_token(worker: Worker, secret_key: str) -> str:
    """A token for an authenticated worker, signed with the app's secret key."""
    payload = {"w": worker.id, "v": worker.token_version}
    return str(URLSafeTimedSerializer(secret_key, salt=_SALT).dumps(payload))


def revoke_tokens(session: Session, worker: Worker) -> None:
    """End every token issued to the worker so far (a lost phone, a signed-out app)."""
    worker.token_version += 1
    session.commit()


def worker_from_token(
    session: Session, token: str, secret_key: str, *, minutes: int = TOKEN_MINUTES
) -> Worker:
    """The worker a token stands for.

    Raises
    ------
    ServiceError
        ``token_invalid`` on ``Authorization`` when the token is forged, expired,
        revoked, or its worker is gone (one answer for all).
    """
    try:
        data = URLSafeTimedSerializer(secret_key, salt=_SALT).loads(token, max_age=minutes * 60)
    except BadSignature:  # also an expired signature
        data = None
    worker = session.get(Worker, data.get("w")) if isinstance(data, dict) else None
    if worker is None or data.get("v", 0) != worker.token_version:
        raise ServiceError(
            "Authorization", "token_invalid", "Authorization: the session token is not valid"
        )
    return worker
