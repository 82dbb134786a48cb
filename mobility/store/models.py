"""Stops, workers and their bookings, incident reports, the fleet, staff, the audit log."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Final

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mobility.clock import utcnow
from mobility.codes import UnservedReason
from mobility.store.base import Base, enum_column

__all__ = [
    "ACTIVE_STATUSES",
    "SENSITIVE_CATEGORIES",
    "AuditLog",
    "Booking",
    "BookingStatus",
    "Direction",
    "DriverAssignment",
    "Incident",
    "IncidentKind",
    "Profile",
    "Role",
    "StaffUser",
    "Stop",
    "StopKind",
    "Vehicle",
    "Worker",
]


class StopKind(enum.StrEnum):
    """What a stop is."""

    SETTLEMENT = "settlement"  # informal settlement, camp, reception centre: pickups
    VILLAGE = "village"  # village, borgo, hamlet: people live there and go there
    TOWN = "town"
    FARM = "farm"
    SERVICE = "service"
    DEPOT = "depot"
    ROADSIDE = "roadside"  # where a vehicle out of service stands (not bookable)


class ServiceCategory(enum.StrEnum):
    """What a service stop offers (the booking page groups destinations by it)."""

    HOSPITAL = "hospital"
    CLINIC = "clinic"  # clinic, doctor, dentist
    POLICE = "police"  # police, carabinieri, Questura
    TOWN_HALL = "town_hall"
    JOB_CENTRE = "job_centre"
    POST = "post"
    PHARMACY = "pharmacy"
    SOCIAL = "social"  # social services, associations, legal aid
    STATION = "station"
    WORSHIP = "worship"
    OTHER = "other"


#: Services whose visitors a driver (or anyone reading a sheet) must not learn: who
#: went to the police, a clinic, a hospital or legal aid. Their stops show counts only.
SENSITIVE_CATEGORIES: Final = frozenset(
    {
        ServiceCategory.POLICE,
        ServiceCategory.CLINIC,
        ServiceCategory.HOSPITAL,
        ServiceCategory.SOCIAL,
    }
)


class Direction(enum.StrEnum):
    """To work in the morning, or back."""

    TO_WORK = "to_work"
    BACK = "back"


class BookingStatus(enum.StrEnum):
    """Life of a booking."""

    REQUESTED = "requested"
    LATE = "late"
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"
    UNSERVED = "unserved"
    NO_SHOW = "no_show"
    COMPLETED = "completed"


#: Statuses of a booking that still counts (for the one-ride-per-direction rule).
ACTIVE_STATUSES = (BookingStatus.REQUESTED, BookingStatus.LATE, BookingStatus.SCHEDULED)


class IncidentKind(enum.StrEnum):
    """What a confidential incident report is about."""

    MONEY = "money"
    UNSAFE = "unsafe"
    OTHER = "other"


class Stop(Base):
    """A place where a shuttle stops."""

    __tablename__ = "stop"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[StopKind] = mapped_column(enum_column(StopKind, "stop_kind"))
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(String(300), default="")
    # service stops only: what is there (None for settlements, towns, farms, depots)
    category: Mapped[ServiceCategory | None] = mapped_column(
        enum_column(ServiceCategory, "service_category"), nullable=True
    )

    @property
    def is_placed(self) -> bool:
        """Whether the stop has coordinates."""
        return self.lat is not None and self.lon is not None


class Worker(Base):
    """A worker known only by a personal code; the PIN is stored as a slow hash."""

    __tablename__ = "worker"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True, index=True)
    pin_hash: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(5), default="it")
    phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    failed_pins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # API tokens carry it: raising it revokes every token issued before
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    bookings: Mapped[list[Booking]] = relationship(back_populates="worker")


class Booking(Base):
    """One ride for one day, for one worker (or a crew booked by its leader)."""

    __tablename__ = "booking"
    __table_args__ = (UniqueConstraint("worker_id", "idempotency_key", name="uq_booking_idem"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True, index=True)
    # None once the retention period has passed (mobility.retention): counts stay
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("worker.id"), index=True)
    service_date: Mapped[dt.date] = mapped_column(Date, index=True)
    direction: Mapped[Direction] = mapped_column(enum_column(Direction, "direction"))
    from_stop_id: Mapped[int] = mapped_column(ForeignKey("stop.id"))
    to_stop_id: Mapped[int] = mapped_column(ForeignKey("stop.id"))
    time_min: Mapped[int] = mapped_column(Integer)  # arrive-by or depart-after, minutes
    seats: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[BookingStatus] = mapped_column(
        enum_column(BookingStatus, "booking_status"), index=True
    )
    pickup_time_min: Mapped[int | None] = mapped_column(Integer, nullable=True)
    pickup_stop_id: Mapped[int | None] = mapped_column(ForeignKey("stop.id"), nullable=True)
    reason: Mapped[UnservedReason | None] = mapped_column(
        enum_column(UnservedReason, "unserved_reason", length=200), nullable=True
    )
    # the crew leader allowed parts: "we may ride in separate vehicles / some may go"
    allow_parts: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # seats with a ride in the published plan, when fewer than booked (allow_parts)
    seats_served: Mapped[int | None] = mapped_column(Integer, nullable=True)
    made_by: Mapped[str] = mapped_column(String(20), default="worker")
    series_id: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(80), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # what the worker was last told by SMS: the pickup time, or that there is no seat
    told_pickup_min: Mapped[int | None] = mapped_column(Integer, nullable=True)
    told_unserved: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    worker: Mapped[Worker | None] = relationship(back_populates="bookings")
    from_stop: Mapped[Stop] = relationship(foreign_keys=[from_stop_id])
    to_stop: Mapped[Stop] = relationship(foreign_keys=[to_stop_id])
    pickup_stop: Mapped[Stop | None] = relationship(foreign_keys=[pickup_stop_id])

    @property
    def seats_with_ride(self) -> int | None:
        """Seats with a ride in the published plan: all of them, fewer for a crew that
        allowed parts, 0 when unserved; ``None`` before anything is published."""
        if self.status is BookingStatus.UNSERVED:
            return 0
        if self.status in (BookingStatus.SCHEDULED, BookingStatus.COMPLETED):
            return self.seats_served if self.seats_served is not None else self.seats
        return None


class Incident(Base):
    """A confidential incident report to the hub's staff (demand for money, unsafe van...).

    The table keeps its first name, ``report``.
    """

    __tablename__ = "report"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[IncidentKind] = mapped_column(enum_column(IncidentKind, "report_kind"))
    booking_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    text: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(5), default="it")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    handled: Mapped[bool] = mapped_column(Boolean, default=False)


class Role(enum.StrEnum):
    """Staff roles."""

    ADMIN = "admin"
    DISPATCHER = "dispatcher"
    MEDIATOR = "mediator"
    DRIVER = "driver"


class Profile(enum.StrEnum):
    """Vehicle profiles (see :mod:`mobility.profiles`)."""

    MINIBUS = "minibus"
    BUS = "bus"


class Vehicle(Base):
    """A vehicle of the fleet."""

    __tablename__ = "vehicle"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    seats: Mapped[int] = mapped_column(Integer)
    profile: Mapped[Profile] = mapped_column(enum_column(Profile, "vehicle_profile"))
    depot_stop_id: Mapped[int] = mapped_column(ForeignKey("stop.id"))
    shift_start_min: Mapped[int] = mapped_column(Integer, default=3 * 60)
    shift_end_min: Mapped[int] = mapped_column(Integer, default=22 * 60)
    fixed_cost: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    depot: Mapped[Stop] = relationship()


class StaffUser(Base):
    """A member of the hub's staff (password stored as a slow hash)."""

    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_column(Role, "staff_role"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # sessions carry it: a new password or role raises it, which ends every session
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class DriverAssignment(Base):
    """Which driver drives which vehicle on a day."""

    __tablename__ = "driver_assignment"
    __table_args__ = (UniqueConstraint("service_date", "vehicle_id", name="uq_assignment"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_date: Mapped[dt.date] = mapped_column(Date, index=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicle.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))

    vehicle: Mapped[Vehicle] = relationship()
    user: Mapped[StaffUser] = relationship()


class AuditLog(Base):
    """Who read or exported personal data, and when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), nullable=True)
    action: Mapped[str] = mapped_column(String(60))
    detail: Mapped[str] = mapped_column(String(300), default="")
