"""The road: the link a vehicle's driver opens the day's manifest with, and what the
driver taps (arrived, boarded, no-show, departed...), each event once."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Date, DateTime, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mobility.clock import utcnow
from mobility.store.base import Base
from mobility.store.models import Booking, Vehicle

__all__ = ["DriverLink", "EventKind", "RoadEvent"]


class EventKind(enum.StrEnum):
    """What a driver taps."""

    SHIFT_START = "shift_start"
    ARRIVED = "arrived"
    BOARDED = "boarded"
    NO_SHOW = "no_show"
    DEPARTED = "departed"
    ALIGHTED = "alighted"
    SHIFT_END = "shift_end"
    UNDO = "undo"


class DriverLink(Base):
    """A vehicle's manifest link of a day; a new version revokes the links before."""

    __tablename__ = "driver_link"
    __table_args__ = (UniqueConstraint("service_date", "vehicle_id", name="uq_driver_link"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_date: Mapped[dt.date] = mapped_column(Date, index=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicle.id"))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    vehicle: Mapped[Vehicle] = relationship()


class RoadEvent(Base):
    """One tap on the road, kept once under the phone's idempotency key."""

    __tablename__ = "road_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    service_date: Mapped[dt.date] = mapped_column(Date, index=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicle.id"))
    kind: Mapped[str] = mapped_column(String(20))
    stop_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id"), nullable=True)
    seats: Mapped[int | None] = mapped_column(Integer, nullable=True)
    odometer_km: Mapped[float | None] = mapped_column(Float, nullable=True)
    checks: Mapped[str] = mapped_column(String(200), default="", server_default="")
    phone_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    far_m: Mapped[float | None] = mapped_column(Float, nullable=True)  # "arrived" far away
    undoes: Mapped[str | None] = mapped_column(String(80), nullable=True)

    booking: Mapped[Booking | None] = relationship()
