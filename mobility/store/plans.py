"""Planning runs and the plans they store: routes, timed stops, who boards where."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mobility.clock import utcnow
from mobility.store.base import Base, enum_column

if TYPE_CHECKING:
    from mobility.store.models import Booking, Stop, Vehicle

__all__ = [
    "ACTIVE_RUN_STATUSES",
    "PlanKind",
    "PlanMove",
    "PlanRoute",
    "PlanRun",
    "PlanStatus",
    "PlanStop",
]


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
    """A run that makes the day's plan, one that only previews a manual edit, one
    that sizes the fleet for the day's bookings, or a re-plan after a disruption."""

    PLAN = "plan"
    PREVIEW = "preview"
    SIZING = "sizing"
    #: the rest of a day re-planned after a disruption: a proposal until published,
    #: then the day's plan (its kind becomes ``plan``)
    REPLAN = "replan"


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
    status: Mapped[PlanStatus] = mapped_column(enum_column(PlanStatus, "plan_status"))
    kind: Mapped[PlanKind] = mapped_column(
        enum_column(PlanKind, "plan_kind"), default=PlanKind.PLAN, server_default="plan"
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
    # when this booking's boarding (or leaving) starts, s; None in plans stored before
    start_s: Mapped[int | None] = mapped_column(Integer, nullable=True)

    plan_stop: Mapped[PlanStop] = relationship(back_populates="moves")
    booking: Mapped[Booking] = relationship()
