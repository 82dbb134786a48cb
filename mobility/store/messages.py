"""The outbox of messages to workers."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mobility.clock import utcnow
from mobility.store.base import Base, enum_column

if TYPE_CHECKING:
    from mobility.store.models import Booking

__all__ = ["Message", "MessageKind", "MessageState"]


class MessageKind(enum.StrEnum):
    """Why a worker gets a message."""

    PICKUP = "pickup"  # the pickup time and place, when the plan is published
    CHANGE = "change"  # the pickup moved, or the hub cancelled the ride
    REMINDER = "reminder"  # the evening before a ride of a series
    UNSERVED = "unserved"  # no seat found: call the hub
    ON_ITS_WAY = "on_its_way"  # the vehicle left the stop before (MOBILITY_SMS_ON_ITS_WAY)


class MessageState(enum.StrEnum):
    """Life of a message in the outbox."""

    QUEUED = "queued"
    SENDING = "sending"  # claimed by a sender (taken back if it died)
    SENT = "sent"
    FAILED = "failed"


class Message(Base):
    """An SMS to a worker, in the outbox: written in the same transaction as what
    causes it, sent by a job, never twice (``idempotency_key`` is unique).

    The phone number is not copied here: the sender reads the worker's at sending
    time, so opting out or a purge stops every message still waiting. The text is
    composed when it is sent (the worker's language, the hub's phone) from the facts
    kept here, and kept once sent.
    """

    __tablename__ = "message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("worker.id", ondelete="CASCADE"), index=True)
    booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("booking.id", ondelete="SET NULL"), nullable=True, index=True
    )
    service_date: Mapped[dt.date] = mapped_column(Date, index=True)
    kind: Mapped[MessageKind] = mapped_column(enum_column(MessageKind, "message_kind"))
    booking_code: Mapped[str] = mapped_column(String(16))
    pickup_min: Mapped[int | None] = mapped_column(Integer, nullable=True)
    stop_name: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str | None] = mapped_column(String(5), nullable=True)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    state: Mapped[MessageState] = mapped_column(
        enum_column(MessageState, "message_state"), index=True
    )
    tries: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str] = mapped_column(String(300), default="")
    gateway_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    booking: Mapped[Booking | None] = relationship()
