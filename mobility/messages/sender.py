"""Sending what is due: each message is claimed (so that two senders, on any number
of machines, never send it twice), composed in its worker's language, handed to the
transport, then marked sent, failed for good, or queued again with a back-off.

Retries: the first within 30 s, then doubling, never more than 10 minutes apart;
after ``max_tries`` a message is ``failed`` and staff see it. A sender that dies
with a message claimed leaves it ``sending``: it is taken back after five minutes.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from mobility.clock import utcnow
from mobility.messages.texts import MessageFacts, compose
from mobility.messages.transports import Outcome, Transport
from mobility.store import Booking, Message, MessageState, Worker

__all__ = ["FIRST_RETRY_S", "MAX_RETRY_S", "SendReport", "backoff_s", "next_due", "send_due"]

log = logging.getLogger(__name__)

FIRST_RETRY_S: Final = 20
MAX_RETRY_S: Final = 600
CLAIM_TIMEOUT_S: Final = 300


def backoff_s(tries: int) -> int:
    """Seconds before the next try after ``tries`` failed ones (20, 40, 80... 600)."""
    return int(min(FIRST_RETRY_S * 2 ** max(tries - 1, 0), MAX_RETRY_S))


@dataclass
class SendReport:
    """What a pass did: sent, failed for good, and still waiting for a later try."""

    sent: int = 0
    failed: int = 0
    retry_later: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counts of ``mobility messages send --json``."""
        return {"sent": self.sent, "failed": self.failed, "retry_later": self.retry_later}


def _claim(session: Session, message_id: int, now: dt.datetime) -> bool:
    stale = now - dt.timedelta(seconds=CLAIM_TIMEOUT_S)
    result = session.execute(
        update(Message)
        .where(
            Message.id == message_id,
            or_(
                Message.state == MessageState.QUEUED,
                and_(Message.state == MessageState.SENDING, Message.claimed_at < stale),
            ),
        )
        .values(state=MessageState.SENDING, claimed_at=now)
    )
    session.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _due(session: Session, now: dt.datetime, limit: int) -> list[int]:
    stale = now - dt.timedelta(seconds=CLAIM_TIMEOUT_S)
    return list(
        session.scalars(
            select(Message.id)
            .where(
                or_(
                    and_(Message.state == MessageState.QUEUED, Message.next_attempt_at <= now),
                    and_(Message.state == MessageState.SENDING, Message.claimed_at < stale),
                )
            )
            .order_by(Message.next_attempt_at, Message.id)
            .limit(limit)
        )
    )


def _send_one(
    session: Session,
    message: Message,
    transport: Transport,
    hub_phone: str,
    max_tries: int,
    now: dt.datetime,
) -> MessageState:
    worker = session.get(Worker, message.worker_id)
    message.claimed_at = None
    if worker is None or not worker.phone:  # opted out or purged since it was queued
        message.state = MessageState.FAILED
        message.last_error = "no phone number any more (the worker opted out)"
        return message.state
    booking = session.scalar(select(Booking).where(Booking.code == message.booking_code))
    part = (
        (booking.seats_served, booking.seats)
        if booking is not None and booking.seats_served is not None
        else None
    )
    facts = MessageFacts(
        message.booking_code,
        message.service_date,
        message.pickup_min,
        message.stop_name,
        hub_phone,
        part,
    )
    text = compose(message.kind, facts, worker.language)
    delivery = transport.send(message.idempotency_key, worker.phone, text)
    message.tries += 1
    message.text, message.language = text, worker.language
    if delivery.outcome is Outcome.ACCEPTED:
        message.state, message.sent_at = MessageState.SENT, now
        message.gateway_id, message.last_error = delivery.gateway_id, ""
    elif delivery.outcome is Outcome.PERMANENT or message.tries >= max_tries:
        message.state, message.last_error = MessageState.FAILED, delivery.detail[:300]
    else:
        message.state, message.last_error = MessageState.QUEUED, delivery.detail[:300]
        message.next_attempt_at = now + dt.timedelta(seconds=backoff_s(message.tries))
    return message.state


def send_due(
    sessions: sessionmaker[Any],
    transport: Transport,
    *,
    hub_phone: str,
    max_tries: int = 8,
    now: dt.datetime | None = None,
    limit: int = 500,
) -> SendReport:
    """Send every message that is due now (one pass).

    Parameters
    ----------
    sessions
        Session factory (each message in its own transaction).
    transport
        Where messages go.
    hub_phone
        The hub's phone number, in every message.
    max_tries
        Tries before a message is failed for good.
    now
        The current time (for tests).
    limit
        Most messages handled in one pass.

    Returns
    -------
    SendReport
        ``retry_later`` counts every message still waiting after the pass.
    """
    now = now or utcnow()
    report = SendReport()
    with sessions() as session:
        due = _due(session, now, limit)
    for message_id in due:
        with sessions() as session:
            if not _claim(session, message_id, now):
                continue  # another sender has it
            message = session.get(Message, message_id)
            assert message is not None
            state = _send_one(session, message, transport, hub_phone, max_tries, now)
            session.commit()
        if state is MessageState.SENT:
            report.sent += 1
        elif state is MessageState.FAILED:
            report.failed += 1
            log.warning("message %s failed: %s", message_id, message.last_error)
    with sessions() as session:
        report.retry_later = int(
            session.scalar(
                select(func.count())
                .select_from(Message)
                .where(Message.state.in_([MessageState.QUEUED, MessageState.SENDING]))
            )
            or 0
        )
    return report


def next_due(sessions: sessionmaker[Any]) -> dt.datetime | None:
    """When the next waiting message is due (``None``: nothing waits)."""
    with sessions() as session:
        when = session.scalar(
            select(func.min(Message.next_attempt_at)).where(
                Message.state.in_([MessageState.QUEUED, MessageState.SENDING])
            )
        )
    if when is None:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
