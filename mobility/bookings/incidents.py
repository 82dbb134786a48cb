"""Confidential incident reports: a demand for money, an unsafe van, anything else.

They go to the hub's staff (the referral system for victims of exploitation); a
worker need not sign in to send one. "Report" in this project means the Region's
ridership figures; what a worker sends is an *incident*.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from mobility.errors import ServiceError
from mobility.i18n import LANGUAGES
from mobility.store import Incident, IncidentKind

__all__ = ["MAX_INCIDENT_CHARS", "list_incidents", "submit_incident"]

MAX_INCIDENT_CHARS: Final = 4000


def submit_incident(
    session: Session,
    *,
    kind: str,
    text: str = "",
    booking_code: str | None = None,
    language: str = "it",
) -> Incident:
    """Store a confidential incident report for the hub's staff.

    Raises
    ------
    ServiceError
        For an unknown kind, a text over :data:`MAX_INCIDENT_CHARS`, or "other"
        without a text.
    """
    try:
        incident_kind = IncidentKind(kind)
    except ValueError:
        raise ServiceError("kind", "bad_kind", "kind: unknown report kind") from None
    if len(text) > MAX_INCIDENT_CHARS:
        raise ServiceError("text", "text_too_long", "text: too long", high=MAX_INCIDENT_CHARS)
    if incident_kind is IncidentKind.OTHER and not text.strip():
        raise ServiceError("text", "required", "text: please say what happened")
    incident = Incident(
        kind=incident_kind,
        text=text.strip(),
        booking_code=(booking_code or "").strip().upper()[:16] or None,
        language=language if language in LANGUAGES else "it",
    )
    session.add(incident)
    session.commit()
    return incident


def list_incidents(session: Session, *, limit: int = 200) -> list[Incident]:
    """The newest incident reports first (for the hub's staff; reading them is logged)."""
    return list(session.scalars(select(Incident).order_by(Incident.created_at.desc()).limit(limit)))
