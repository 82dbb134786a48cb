"""The dispatcher's view of the day as it happens: planned against tapped, the last
tap of each vehicle, vehicles silent too long, no-shows waiting for a decision."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from mobility.clock import as_utc, seconds_into, utcnow
from mobility.dispatch.plans import latest_plan
from mobility.errors import ServiceError
from mobility.store import Booking, BookingStatus, EventKind, RoadEvent

__all__ = ["SILENT_AFTER_MIN", "VehicleOnRoad", "decide_no_show", "road_status"]

#: A vehicle with no tap this long after a planned stop is flagged.
SILENT_AFTER_MIN: Final = 20


@dataclass(frozen=True)
class VehicleOnRoad:
    """One vehicle's day so far."""

    vehicle: str
    last_tap: str  # kind of the last tap, "" when none
    last_stop: str
    last_at_min: int | None
    late_min: int | None  # the last tapped arrival against the plan (+ late, - early)
    silent: bool
    pending_no_shows: list[str] = field(default_factory=list)  # booking codes


def road_status(
    session: Session, day: dt.date, *, timezone: str, now: dt.datetime | None = None
) -> list[VehicleOnRoad]:
    """Each vehicle of the day's plan: its last tap, lateness, whether it is silent
    (no tap for ``SILENT_AFTER_MIN`` minutes past a planned stop), its no-shows
    waiting for a dispatcher."""
    run = latest_plan(session, day)
    if run is None:
        return []
    now_min = seconds_into(day, now or utcnow(), timezone) // 60
    events = list(session.scalars(select(RoadEvent).where(RoadEvent.service_date == day)))
    undone = {e.undoes for e in events if e.undoes}
    live = sorted(
        (e for e in events if e.key not in undone and e.kind != EventKind.UNDO),
        key=lambda e: as_utc(e.phone_at),
    )
    decided = {
        b.id
        for b in session.scalars(select(Booking).where(Booking.service_date == day))
        if b.status in (BookingStatus.NO_SHOW, BookingStatus.COMPLETED)
    }
    out = []
    for route in sorted(run.routes, key=lambda r: r.vehicle.name):
        mine = [e for e in live if e.vehicle_id == route.vehicle_id]
        stops = {s.seq: s for s in route.stops}
        last = mine[-1] if mine else None
        arrivals = [e for e in mine if e.kind == EventKind.ARRIVED and e.stop_seq in stops]
        late = None
        if arrivals:
            stop = stops[arrivals[-1].stop_seq or 0]
            late = seconds_into(day, arrivals[-1].phone_at, timezone) // 60 - stop.arrival_s // 60
        last_min = seconds_into(day, last.phone_at, timezone) // 60 if last else None
        ended = any(e.kind == EventKind.SHIFT_END for e in mine)
        due = [
            s.arrival_s // 60 for s in route.stops if s.arrival_s // 60 + SILENT_AFTER_MIN < now_min
        ]
        silent = (
            bool(due) and not ended and (last_min is None or now_min - last_min > SILENT_AFTER_MIN)
        )
        out.append(
            VehicleOnRoad(
                vehicle=route.vehicle.name,
                last_tap=last.kind if last else "",
                last_stop=stops[last.stop_seq].stop.name if last and last.stop_seq in stops else "",
                last_at_min=last_min,
                late_min=late,
                silent=silent,
                pending_no_shows=[
                    e.booking.code
                    for e in mine
                    if e.kind == EventKind.NO_SHOW and e.booking and e.booking_id not in decided
                ],
            )
        )
    return out


def decide_no_show(session: Session, day: dt.date, code: str, *, confirmed: bool) -> None:
    """A dispatcher's (or mediator's) decision on a driver's no-show: confirmed, the
    booking is a no-show; not confirmed, the driver's tap is taken back (the crew
    came, or the vehicle missed it: the outcome follows from the other taps).

    Raises
    ------
    ServiceError
        ``not_found`` when the booking has no no-show tap that day.
    """
    booking = session.scalar(
        select(Booking).where(Booking.service_date == day, Booking.code == code)
    )
    tap = (
        session.scalar(
            select(RoadEvent).where(
                RoadEvent.booking_id == booking.id, RoadEvent.kind == EventKind.NO_SHOW
            )
        )
        if booking
        else None
    )
    if booking is None or tap is None:
        raise ServiceError("booking", "not_found", f"booking: no no-show of {code} on {day}")
    if confirmed:
        booking.status = BookingStatus.NO_SHOW
    else:
        session.add(
            RoadEvent(
                key=f"staff-undo-{tap.key}"[:80],
                service_date=day,
                vehicle_id=tap.vehicle_id,
                kind=EventKind.UNDO.value,
                phone_at=utcnow(),
                undoes=tap.key,
            )
        )
    session.commit()
