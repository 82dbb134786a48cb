"""Database models and the session factory (plain SQLAlchemy 2).

The same models serve the web application and the ``mobility`` command. SQLite is
the embedded default; PostgreSQL is used in production through a URL. The schema is
created and upgraded by the Alembic migrations in ``mobility/migrations``
(:func:`upgrade_database`), never by ``create_all`` outside tests of the models.
"""

from __future__ import annotations

import datetime as dt
import enum
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, sessionmaker

from mobility.clock import utcnow
from mobility.paths import PROJECT_ROOT

__all__ = [
    "ACTIVE_RUN_STATUSES",
    "DEFAULT_DATABASE_URL",
    "AuditLog",
    "Base",
    "Booking",
    "BookingStatus",
    "Direction",
    "DriverAssignment",
    "Incident",
    "IncidentKind",
    "PlanKind",
    "PlanMove",
    "PlanRoute",
    "PlanRun",
    "PlanStatus",
    "PlanStop",
    "Profile",
    "Role",
    "StaffUser",
    "Stop",
    "StopKind",
    "Vehicle",
    "Worker",
    "database_url",
    "make_engine",
    "make_session_factory",
    "upgrade_database",
]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: The embedded default: a SQLite file in the project's ``instance/`` folder, shared
#: by the web app and the ``mobility`` command.
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'instance' / 'mobility.db'}"


class Base(DeclarativeBase):
    """Declarative base of every model."""


class StopKind(enum.StrEnum):
    """What a stop is."""

    SETTLEMENT = "settlement"
    TOWN = "town"
    FARM = "farm"
    SERVICE = "service"
    DEPOT = "depot"


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


def _enum(kind: type[enum.Enum], name: str) -> Enum:
    return Enum(
        kind,
        name=name,
        native_enum=False,
        values_callable=lambda e: [m.value for m in e],
        length=20,
    )


class Stop(Base):
    """A place where a shuttle stops."""

    __tablename__ = "stop"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[StopKind] = mapped_column(_enum(StopKind, "stop_kind"))
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(String(300), default="")

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

    bookings: Mapped[list[Booking]] = relationship(back_populates="worker")


class Booking(Base):
    """One ride for one day, for one worker (or a crew booked by its leader)."""

    __tablename__ = "booking"
    __table_args__ = (UniqueConstraint("worker_id", "idempotency_key", name="uq_booking_idem"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True, index=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("worker.id"), index=True)
    service_date: Mapped[dt.date] = mapped_column(Date, index=True)
    direction: Mapped[Direction] = mapped_column(_enum(Direction, "direction"))
    from_stop_id: Mapped[int] = mapped_column(ForeignKey("stop.id"))
    to_stop_id: Mapped[int] = mapped_column(ForeignKey("stop.id"))
    time_min: Mapped[int] = mapped_column(Integer)  # arrive-by or depart-after, minutes
    seats: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[BookingStatus] = mapped_column(
        _enum(BookingStatus, "booking_status"), index=True
    )
    pickup_time_min: Mapped[int | None] = mapped_column(Integer, nullable=True)
    pickup_stop_id: Mapped[int | None] = mapped_column(ForeignKey("stop.id"), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    made_by: Mapped[str] = mapped_column(String(20), default="worker")
    series_id: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(80), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    worker: Mapped[Worker] = relationship(back_populates="bookings")
    from_stop: Mapped[Stop] = relationship(foreign_keys=[from_stop_id])
    to_stop: Mapped[Stop] = relationship(foreign_keys=[to_stop_id])
    pickup_stop: Mapped[Stop | None] = relationship(foreign_keys=[pickup_stop_id])


class Incident(Base):
    """A confidential incident report to the hub's staff (demand for money, unsafe van...).

    The table keeps its first name, ``report``.
    """

    __tablename__ = "report"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[IncidentKind] = mapped_column(_enum(IncidentKind, "report_kind"))
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
    profile: Mapped[Profile] = mapped_column(_enum(Profile, "vehicle_profile"))
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
    role: Mapped[Role] = mapped_column(_enum(Role, "staff_role"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


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


class PlanStatus(enum.StrEnum):
    """Life of a planning run: queued, then running (with a heartbeat), then done or
    failed (with the reason)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


#: Statuses of a run that is not over: at most one per day (a unique index says so).
ACTIVE_RUN_STATUSES = (PlanStatus.QUEUED, PlanStatus.RUNNING)


class PlanKind(enum.StrEnum):
    """A run that makes the day's plan, or one that only previews a manual edit."""

    PLAN = "plan"
    PREVIEW = "preview"


class PlanRun(Base):
    """One planning of a day; the newest successful run of kind ``plan`` is the day's
    plan. A day has at most one run queued or running at a time."""

    __tablename__ = "plan_run"
    __table_args__ = (
        Index(
            "uq_plan_run_active_day",
            "service_date",
            unique=True,
            sqlite_where=text("status IN ('queued', 'running')"),
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_date: Mapped[dt.date] = mapped_column(Date, index=True)
    status: Mapped[PlanStatus] = mapped_column(_enum(PlanStatus, "plan_status"))
    kind: Mapped[PlanKind] = mapped_column(
        _enum(PlanKind, "plan_kind"), default=PlanKind.PLAN, server_default="plan"
    )
    # a manual edit as JSON: {"moves": {booking code: vehicle name or null}, "locked": [...]}
    edits: Mapped[str] = mapped_column(Text, default="", server_default="")
    progress: Mapped[str] = mapped_column(String(200), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    time_limit_s: Mapped[float] = mapped_column(Float, default=60.0)
    queued_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True, default=utcnow
    )
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    job_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    published_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    figures: Mapped[str] = mapped_column(Text, default="{}")

    routes: Mapped[list[PlanRoute]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanRoute.id"
    )


class PlanRoute(Base):
    """The route of one vehicle in a plan."""

    __tablename__ = "plan_route"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan_run.id"), index=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicle.id"))
    distance_m: Mapped[float] = mapped_column(Float, default=0.0)
    # driving time (the column kept its first name)
    driving_s: Mapped[int] = mapped_column("duration_s", Integer, default=0)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)

    plan: Mapped[PlanRun] = relationship(back_populates="routes")
    vehicle: Mapped[Vehicle] = relationship()
    stops: Mapped[list[PlanStop]] = relationship(
        back_populates="route", cascade="all, delete-orphan", order_by="PlanStop.seq"
    )


class PlanStop(Base):
    """A stop of a route: when, where, who boards and who leaves (by booking code)."""

    __tablename__ = "plan_stop"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    route_id: Mapped[int] = mapped_column(ForeignKey("plan_route.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    stop_id: Mapped[int] = mapped_column(ForeignKey("stop.id"))
    arrival_s: Mapped[int] = mapped_column(Integer)
    departure_s: Mapped[int] = mapped_column(Integer)
    load_after: Mapped[int] = mapped_column(Integer, default=0)
    actual_arrival_min: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actual_departure_min: Mapped[int | None] = mapped_column(Integer, nullable=True)

    route: Mapped[PlanRoute] = relationship(back_populates="stops")
    stop: Mapped[Stop] = relationship()
    moves: Mapped[list[PlanMove]] = relationship(
        back_populates="plan_stop", cascade="all, delete-orphan", order_by="PlanMove.id"
    )


class PlanMove(Base):
    """Seats of a booking boarding or leaving at a plan stop."""

    __tablename__ = "plan_move"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_stop_id: Mapped[int] = mapped_column(ForeignKey("plan_stop.id"), index=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id"), index=True)
    boarding: Mapped[bool] = mapped_column(Boolean)
    seats: Mapped[int] = mapped_column(Integer)

    plan_stop: Mapped[PlanStop] = relationship(back_populates="moves")
    booking: Mapped[Booking] = relationship()


class AuditLog(Base):
    """Who read or exported personal data, and when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), nullable=True)
    action: Mapped[str] = mapped_column(String(60))
    detail: Mapped[str] = mapped_column(String(300), default="")


# --------------------------------------------------------------------------- engine


def database_url(environ: Mapping[str, str] | None = None) -> str:
    """``MOBILITY_DATABASE_URL``, or :data:`DEFAULT_DATABASE_URL`."""
    env = os.environ if environ is None else environ
    return env.get("MOBILITY_DATABASE_URL") or DEFAULT_DATABASE_URL


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets foreign keys on and a busy timeout."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 15})
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Any]:
    """A session factory bound to ``engine`` (objects stay usable after commit)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def upgrade_database(engine: Engine) -> None:
    """Apply the Alembic migrations up to the newest revision."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
