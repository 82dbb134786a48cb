"""The day on the road: a driver's manifest link, the manifest, the taps, outcomes.

A vehicle's driver opens the day's manifest with a signed link (printed as a QR code
on the sheet, listed on the day page and by ``mobility drivers links``), valid for
that vehicle and day until the end of its shift; a dispatcher revokes it by issuing
a new one. What the driver taps is recorded as events, each under the idempotency
key the phone gave it: a tap queued offline and sent twice, or by two phones, is
kept once. Outcomes are derived from the events (and the staff's entries from the
paper sheet), in the transit agencies' codes: ``completed``, ``no_show``,
``missed_by_service``, ``cancelled_late``, ``turned_down``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mobility.clock import as_utc, day_start, seconds_into, utcnow
from mobility.dispatch.plans import latest_plan, plan_pickups
from mobility.errors import ServiceError
from mobility.messages import queue_on_its_way
from mobility.roads.geo import haversine_m
from mobility.store import (
    SENSITIVE_CATEGORIES,
    Booking,
    BookingStatus,
    DriverLink,
    EventKind,
    PlanRoute,
    RoadEvent,
    Vehicle,
)

__all__ = [
    "FAR_FROM_STOP_M",
    "NO_SHOW_WAIT_MIN",
    "UNDO_S",
    "Manifest",
    "driver_links",
    "link_of",
    "live_events",
    "manifest",
    "record_events",
    "revoke_link",
    "vehicle_of_link",
]

_SALT: Final = "passaggio-driver-link"
#: "Arrived" further than this from the stop asks the driver to confirm, and is flagged.
FAR_FROM_STOP_M: Final = 500.0
#: A no-show may be tapped only this long after the time the worker was told.
NO_SHOW_WAIT_MIN: Final = 5
#: A tap may be undone within this long.
UNDO_S: Final = 120


# --------------------------------------------------------------------------- links


def _link_row(session: Session, day: dt.date, vehicle_id: int) -> DriverLink:
    row = session.scalar(
        select(DriverLink).where(
            DriverLink.service_date == day, DriverLink.vehicle_id == vehicle_id
        )
    )
    if row is None:
        row = DriverLink(service_date=day, vehicle_id=vehicle_id, version=1)
        session.add(row)
        try:
            session.commit()
        except IntegrityError:  # made meanwhile by another request
            session.rollback()
            return _link_row(session, day, vehicle_id)
    return row


def link_of(session: Session, day: dt.date, vehicle: Vehicle, secret: str) -> str:
    """The token of a vehicle's manifest link for a day (made on first use)."""
    row = _link_row(session, day, vehicle.id)
    payload = {"d": day.isoformat(), "v": vehicle.id, "n": row.version}
    return str(URLSafeSerializer(secret, salt=_SALT).dumps(payload))


def revoke_link(session: Session, day: dt.date, vehicle_name: str, secret: str) -> str:
    """End the vehicle's link of the day and return the new one's token.

    Raises
    ------
    ServiceError
        ``not_found`` on ``vehicle`` for an unknown vehicle.
    """
    vehicle = session.scalar(select(Vehicle).where(Vehicle.name == vehicle_name))
    if vehicle is None:
        raise ServiceError("vehicle", "not_found", f"vehicle: no vehicle {vehicle_name!r}")
    row = _link_row(session, day, vehicle.id)
    row.version += 1
    session.commit()
    return link_of(session, day, vehicle, secret)


def driver_links(
    session: Session, day: dt.date, secret: str, base_url: str
) -> list[dict[str, str]]:
    """``[{"vehicle": name, "url": absolute link}]`` for the vehicles of the day's plan."""
    run = latest_plan(session, day)
    routes = sorted(run.routes if run else [], key=lambda r: r.vehicle.name)
    return [
        {
            "vehicle": r.vehicle.name,
            "url": f"{base_url}/driver/m/{link_of(session, day, r.vehicle, secret)}",
        }
        for r in routes
    ]


def vehicle_of_link(
    session: Session, token: str, secret: str, *, timezone: str, now: dt.datetime | None = None
) -> tuple[dt.date, Vehicle]:
    """The day and vehicle a link opens.

    Raises
    ------
    ServiceError
        On ``link``: ``link_invalid`` (forged, or its vehicle gone), ``link_revoked``
        (a newer link was issued), ``link_expired`` (its day's shift is over).
    """
    try:
        data = URLSafeSerializer(secret, salt=_SALT).loads(token)
        day = dt.date.fromisoformat(data["d"])
        vehicle = session.get(Vehicle, int(data["v"]))
        version = int(data["n"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise ServiceError("link", "link_invalid", "link: not a link of this service") from None
    if vehicle is None:
        raise ServiceError("link", "link_invalid", "link: its vehicle is gone")
    if _link_row(session, day, vehicle.id).version != version:
        raise ServiceError("link", "link_revoked", "link: replaced by a newer one")
    end = day_start(day, timezone) + dt.timedelta(minutes=vehicle.shift_end_min)
    if (now or utcnow()) > end:
        raise ServiceError("link", "link_expired", f"link: the shift of {day} is over")
    return day, vehicle


# --------------------------------------------------------------------------- manifest


@dataclass(frozen=True)
class ManifestStop:
    """A stop of the manifest: codes and seats, never names (counts only at a
    sensitive service)."""

    seq: int
    time_s: int  # the time to be there: what the workers were told
    name: str
    landmark: str
    lat: float
    lon: float
    board: list[tuple[str, int]]  # (booking code, seats); ("", seats) at a sensitive stop
    alight: list[tuple[str, int]]
    on_board: int


@dataclass(frozen=True)
class Manifest:
    """A vehicle's day as its driver sees it, with the plan version it comes from."""

    day: dt.date
    vehicle: str
    seats: int
    plan_version: int
    stops: list[ManifestStop] = field(default_factory=list)
    #: taps already recorded (by any phone): "kind|stop seq|booking code" -> event key
    done: dict[str, str] = field(default_factory=dict)


def _route(session: Session, day: dt.date, vehicle_id: int) -> tuple[int, PlanRoute | None]:
    run = latest_plan(session, day)
    if run is None:
        return 0, None
    return run.id, next((r for r in run.routes if r.vehicle_id == vehicle_id), None)


def manifest(session: Session, day: dt.date, vehicle: Vehicle) -> Manifest:
    """The vehicle's manifest of the day (empty when the plan gives it no route)."""
    version, route = _route(session, day, vehicle.id)
    told = plan_pickups(route.plan) if route else {}
    stops: list[ManifestStop] = []
    for stop in route.stops if route else []:
        board = [(m.booking.code, m.seats) for m in stop.moves if m.boarding]
        alight = [(m.booking.code, m.seats) for m in stop.moves if not m.boarding]
        if stop.stop.category in SENSITIVE_CATEGORIES:
            board = [("", sum(n for _, n in board))] if board else []
            alight = [("", sum(n for _, n in alight))] if alight else []
        firsts = [told[m.booking_id][0] for m in stop.moves if m.boarding and m.booking_id in told]
        stops.append(
            ManifestStop(
                seq=stop.seq,
                time_s=min(firsts, default=stop.arrival_s),
                name=stop.stop.name,
                landmark=stop.stop.note or "",
                lat=float(stop.stop.lat or 0.0),
                lon=float(stop.stop.lon or 0.0),
                board=board,
                alight=alight,
                on_board=stop.load_after,
            )
        )
    done = {_what(e): e.key for e in live_events(session, day, vehicle.id)}
    return Manifest(day, vehicle.name, vehicle.seats, version, stops, done)


def live_events(session: Session, day: dt.date, vehicle_id: int | None = None) -> list[RoadEvent]:
    """The taps of the day (of one vehicle, or all) that were not undone, in order."""
    query = select(RoadEvent).where(RoadEvent.service_date == day)
    if vehicle_id is not None:
        query = query.where(RoadEvent.vehicle_id == vehicle_id)
    events = list(session.scalars(query.order_by(RoadEvent.phone_at, RoadEvent.id)))
    undone = {e.undoes for e in events if e.undoes}
    return [e for e in events if e.key not in undone and e.kind != EventKind.UNDO]


def _what(event: RoadEvent) -> str:
    """What a tap says, whatever phone sent it: "kind|stop seq|booking code"."""
    code = event.booking.code if event.booking is not None else ""
    seq = "" if event.stop_seq is None else str(event.stop_seq)
    return f"{event.kind}|{seq}|{code}"


# --------------------------------------------------------------------------- events

_NEEDS_STOP: Final = {
    EventKind.ARRIVED,
    EventKind.BOARDED,
    EventKind.NO_SHOW,
    EventKind.DEPARTED,
    EventKind.ALIGHTED,
}


def _refuse(key: str, code: str, message: str) -> ServiceError:
    return ServiceError("event", code, f"event {key}: {message}", key=key)


def _at(value: object, key: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        raise _refuse(key, "invalid", "at: not an ISO date and time") from None
    if moment.tzinfo is None:
        raise _refuse(key, "invalid", "at: needs a time zone")
    return moment


def _event(
    raw: Mapping[str, Any],
    day: dt.date,
    vehicle: Vehicle,
    route: PlanRoute | None,
    *,
    timezone: str,
    earlier: Mapping[str, RoadEvent],
) -> RoadEvent:
    """One event as sent by the phone, checked against the vehicle's route."""
    key = str(raw.get("key") or "")
    if not 8 <= len(key) <= 80 or not key.replace("-", "").replace("_", "").isalnum():
        raise _refuse(key, "invalid", "key: 8-80 letters, digits, - or _")
    try:
        kind = EventKind(str(raw.get("kind")))
    except ValueError:
        raise _refuse(key, "invalid", "kind: not a kind of tap") from None
    at = _at(raw.get("at"), key).astimezone(dt.UTC)  # stored in UTC on every database
    event = RoadEvent(
        key=key, service_date=day, vehicle_id=vehicle.id, kind=kind.value, phone_at=at
    )
    event.lat, event.lon = _number(raw.get("lat")), _number(raw.get("lon"))
    if kind in (EventKind.SHIFT_START, EventKind.SHIFT_END):
        event.odometer_km = _number(raw.get("odometer_km"))
        event.checks = ",".join(str(c) for c in raw.get("checks") or [])[:200]
        return event
    if kind is EventKind.UNDO:
        undone = earlier.get(str(raw.get("undoes") or ""))
        if undone is None or undone.vehicle_id != vehicle.id:
            raise _refuse(key, "invalid", "undoes: no such tap of this vehicle")
        if (at - as_utc(undone.phone_at)).total_seconds() > UNDO_S:
            raise _refuse(key, "undo_too_late", f"undo: only within {UNDO_S // 60} minutes")
        event.undoes = undone.key
        return event
    stop = next((s for s in (route.stops if route else []) if s.seq == raw.get("stop")), None)
    if stop is None:
        raise _refuse(key, "invalid", "stop: not a stop of this vehicle's route")
    event.stop_seq = stop.seq
    moves = [m for m in stop.moves if m.booking.code == raw.get("booking")]
    if kind in (EventKind.BOARDED, EventKind.NO_SHOW, EventKind.ALIGHTED) and raw.get("booking"):
        boarding = kind is not EventKind.ALIGHTED
        move = next((m for m in moves if m.boarding is boarding), None)
        if move is None:
            raise _refuse(key, "invalid", "booking: not boarding or leaving here")
        event.booking_id = move.booking_id
        seats = raw.get("seats", move.seats)
        if not isinstance(seats, int) or not 0 < seats <= move.seats:
            raise _refuse(key, "invalid", f"seats: 1 to {move.seats}")
        event.seats = seats
    elif kind in (EventKind.BOARDED, EventKind.NO_SHOW):
        raise _refuse(key, "invalid", "booking: which booking")
    if kind is EventKind.NO_SHOW:
        told = plan_pickups(stop.route.plan).get(event.booking_id or 0, (stop.arrival_s, 0))[0]
        if seconds_into(day, at, timezone) < told + 60 * NO_SHOW_WAIT_MIN:
            raise _refuse(key, "no_show_too_early", f"no-show: wait {NO_SHOW_WAIT_MIN} minutes")
    if kind is EventKind.ARRIVED and event.lat is not None and event.lon is not None:
        here = np.array([[event.lat, event.lon], [stop.stop.lat or 0.0, stop.stop.lon or 0.0]])
        far = float(haversine_m(here[:1, 0], here[:1, 1], here[1:, 0], here[1:, 1])[0])
        if far > FAR_FROM_STOP_M:
            if not raw.get("confirm_far"):
                raise _refuse(key, "far_from_stop", f"arrived {far:.0f} m from the stop")
            event.far_m = round(far, 1)
    return event


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def record_events(
    session: Session,
    day: dt.date,
    vehicle: Vehicle,
    events: Iterable[Mapping[str, Any]],
    *,
    timezone: str,
    on_its_way: bool,
) -> dict[str, Any]:
    """Record the taps a phone sends (queued offline or not), each once.

    Returns
    -------
    dict
        ``accepted`` (keys stored now), ``duplicates`` (stored before: a retry or a
        second phone), ``refused`` (``{"key", "code", "error"}``: a tap the rules do
        not allow, such as a no-show before the wait) and ``plan_version`` (the plan
        the manifest should show: a phone on an older one shows the change), and
        ``messages`` (the "on its way" SMS queued for the next stop's workers when
        ``on_its_way`` and a departure was tapped).
    """
    version, route = _route(session, day, vehicle.id)
    raws = list(events)
    keys = [str(r.get("key") or "") for r in raws]
    undone = [str(r.get("undoes") or "") for r in raws]
    stored = {
        e.key: e for e in session.scalars(select(RoadEvent).where(RoadEvent.key.in_(keys + undone)))
    }
    answer: dict[str, Any] = {
        "accepted": [],
        "duplicates": [],
        "refused": [],
        "plan_version": version,
        "messages": 0,
    }
    # the same tap from a second phone on the same link says nothing new
    said = {_what(e) for e in live_events(session, day, vehicle.id)}
    for raw, key in zip(raws, keys, strict=True):
        if key in stored:
            answer["duplicates"].append(key)
            continue
        try:
            event = _event(raw, day, vehicle, route, timezone=timezone, earlier=stored)
        except ServiceError as err:
            answer["refused"].append({"key": key, "code": err.code, "error": str(err)})
            continue
        if event.kind != EventKind.UNDO:
            code = str(raw.get("booking") or "") if event.booking_id else ""
            seq = "" if event.stop_seq is None else str(event.stop_seq)
            what = f"{event.kind}|{seq}|{code}"
            if what in said:
                answer["duplicates"].append(key)
                continue
            said.add(what)
        session.add(event)
        _booking_follows(session, event, stored)
        _stop_follows(event, route, day, timezone)
        if on_its_way and event.kind == EventKind.DEPARTED:
            answer["messages"] += _tell_the_next_stop(session, event, route, day, timezone)
        try:
            session.commit()
        except IntegrityError:  # the same tap from another phone, just now
            session.rollback()
            answer["duplicates"].append(key)
            continue
        stored[key] = event
        answer["accepted"].append(key)
        if event.kind == EventKind.UNDO:  # taken back: the same tap may come again
            said.discard(_what(stored[event.undoes or ""]))
    return answer


def _tell_the_next_stop(
    session: Session, event: RoadEvent, route: PlanRoute | None, day: dt.date, timezone: str
) -> int:
    """Queue "on its way" for the workers boarding at the next stop with boardings,
    there about its planned arrival plus the delay at departure; once per booking
    and plan."""
    later = [s for s in (route.stops if route else []) if s.seq > (event.stop_seq or 0)]
    nxt = next((s for s in later if any(m.boarding for m in s.moves)), None)
    left = next((s for s in (route.stops if route else []) if s.seq == event.stop_seq), None)
    if nxt is None or left is None or route is None:
        return 0
    delay = seconds_into(day, event.phone_at, timezone) // 60 - left.departure_s // 60
    eta = nxt.arrival_s // 60 + max(0, delay)
    return sum(
        queue_on_its_way(session, m.booking, eta, f"onway:{m.booking_id}:{route.plan_id}")
        for m in nxt.moves
        if m.boarding
    )


def _stop_follows(event: RoadEvent, route: PlanRoute | None, day: dt.date, timezone: str) -> None:
    """The plan stop keeps its real times (the first arrival and departure tapped),
    as the staff's entries from the paper sheet do: the day page shows them."""
    stop = next((s for s in (route.stops if route else []) if s.seq == event.stop_seq), None)
    if stop is None or event.kind not in (EventKind.ARRIVED, EventKind.DEPARTED):
        return
    minute = seconds_into(day, event.phone_at, timezone) // 60
    if event.kind == EventKind.ARRIVED and stop.actual_arrival_min is None:
        stop.actual_arrival_min = minute
    elif event.kind == EventKind.DEPARTED and stop.actual_departure_min is None:
        stop.actual_departure_min = minute


def _booking_follows(session: Session, event: RoadEvent, stored: Mapping[str, RoadEvent]) -> None:
    """A crew tapped as boarded has ridden: the worker's page says so at once (an
    undo within the two minutes takes it back)."""
    boarded = event
    if event.kind == EventKind.UNDO:
        boarded = stored[event.undoes or ""]
    if boarded.kind != EventKind.BOARDED or boarded.booking_id is None:
        return
    booking = session.get(Booking, boarded.booking_id)
    if booking is None:
        return
    if event.kind == EventKind.UNDO and booking.status is BookingStatus.COMPLETED:
        booking.status = BookingStatus.SCHEDULED
    elif event.kind == EventKind.BOARDED and booking.status is BookingStatus.SCHEDULED:
        booking.status = BookingStatus.COMPLETED
