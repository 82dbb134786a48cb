"""The Region's figures: what the service bought, counted from what was driven.

Each figure has one written definition (the README's table says the same):

- **booked**: bookings of the period (and their seats), but those cancelled before
  they were published; **served**: those with a ride in the day's plan;
  **completed**: those the driver tapped as boarded, or entered as boarded from the
  route sheet (seats: as tapped, else as booked); **unique workers**: worker accounts
  with a completed ride (a count, never a list; a crew leader's account books for the
  crew).
- **no-show rate** and **missed-by-service rate**: bookings with that outcome over the
  served bookings; a no-show is the worker not coming, a missed trip is the vehicle
  passing or ending its shift without the crew (:func:`mobility.dispatch.outcome_of`).
- **cancellations after the cut-off**: cancelled once the pickup was published.
- **unserved**: bookings the plan could not serve, by reason code.
- **on-time performance**: of the completed boardings with a tapped time, the share
  boarded 0 to 10 minutes after the time told; **mean wait**: minutes from the time
  told to the boarding tap (0 when earlier); **mean ride**: minutes from the boarding
  tap to the alighting tap where both exist, else as planned; **ride over direct**:
  the plans' planned ride time over the direct time, weighted by bookings.
- **vehicle-km** and **vehicle-hours**: per vehicle and day, from the odometer and
  the start and end of shift taps where both were tapped, else from the plan, less
  the breaks of two hours or more between two stops (the vehicle parked between the
  waves); **deadhead**: the share of the planned legs with nobody on board (breaks
  left out) of the km and of the driving hours; **seat occupancy**: planned
  seat-seconds occupied over seat-seconds offered (breaks left out); **passengers
  per vehicle-hour**: completed seats over vehicle-hours.
- **cost**: vehicle-km x cost per km + vehicle-hours x cost per driver hour +
  vehicle-days x cost per vehicle day (``MOBILITY_COST_*``); **per ride**: over the
  completed seats (one person, one way); **per worker**: over the unique workers.
- **heat-ban day**: a day whose rides back from the fields leave by 12:30 (the
  regional ordinance stops field work 12:30-16:00 on heat-risk days).
- **rides to services**: completed rides to or from a service stop, by category.

Every output that leaves the hub shows counts of people under 5 as ``"< 5"``
(:func:`suppressed`): small counts by settlement and category can identify someone.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from mobility.clock import seconds_into
from mobility.config import UnitCosts
from mobility.errors import ServiceError
from mobility.store import (
    Booking,
    BookingStatus,
    EventKind,
    PlanKind,
    PlanMove,
    PlanRoute,
    PlanRun,
    PlanStatus,
    PlanStop,
    RoadEvent,
    Stop,
    StopKind,
    Vehicle,
)

__all__ = [
    "PERIOD_KINDS",
    "SUPPRESS_BELOW",
    "Period",
    "figures_csv",
    "month_period",
    "period_of",
    "region_figures",
    "region_report",
    "suppressed",
]

#: Counts of people under this are shown as "< 5" in every output leaving the hub.
SUPPRESS_BELOW: Final = 5
SMALL: Final = "< 5"


@dataclass(frozen=True)
class Period:
    """Service days ``first`` to ``last``, both included."""

    first: dt.date
    last: dt.date

    def days(self) -> list[dt.date]:
        n = (self.last - self.first).days + 1
        return [self.first + dt.timedelta(days=i) for i in range(n)]


def month_period(text: str) -> Period:
    """The days of ``YYYY-MM``.

    Raises
    ------
    ServiceError
        ``bad_month`` on ``month`` when it is not a month.
    """
    try:
        year, month = (int(x) for x in text.split("-"))
        first = dt.date(year, month, 1)
    except ValueError:
        raise ServiceError("month", "bad_month", f"month: {text!r} is not YYYY-MM") from None
    after = dt.date(year + (month == 12), month % 12 + 1, 1)
    return Period(first, after - dt.timedelta(days=1))


@dataclass
class Ride:
    """One booking as the figures see it."""

    id: int
    day: dt.date
    seats: int
    status: BookingStatus
    worker: int | None
    purpose: str  # "work" or "service"
    category: str
    settlement: str
    destination_kind: str
    back_min: int | None  # a ride back: when it leaves
    reason: str | None
    told_s: int | None = None
    vehicle: int | None = None
    stop_seq: int = -1
    ride_s: int | None = None  # planned: from boarding to the alighting stop
    outcome: str | None = None
    boarded_seats: int = 0
    boarded_s: int | None = None
    alighted_s: int | None = None


@dataclass
class PeriodData:
    """The period's rows, read once."""

    rides: list[Ride] = field(default_factory=list)
    vehicles: dict[int, tuple[str, int, str]] = field(default_factory=dict)  # name, seats, depot
    #: day, vehicle, distance m, driving s, stops (arrival s, departure s, load after)
    routes: list[tuple[dt.date, int, float, int, list[tuple[int, int, int]]]] = field(
        default_factory=list
    )
    shifts: dict[tuple[dt.date, int], dict[str, Any]] = field(default_factory=dict)
    ride_over_direct: list[tuple[float, int]] = field(default_factory=list)


def _plans(session: Session, period: Period) -> dict[dt.date, PlanRun]:
    runs = session.scalars(
        select(PlanRun).where(
            PlanRun.service_date >= period.first,
            PlanRun.service_date <= period.last,
            PlanRun.status == PlanStatus.DONE,
            PlanRun.kind == PlanKind.PLAN,
        )
    )
    latest: dict[dt.date, PlanRun] = {}
    for run in runs:
        if run.service_date not in latest or run.id > latest[run.service_date].id:
            latest[run.service_date] = run
    return latest


def _read(session: Session, period: Period, timezone: str) -> PeriodData:
    data = PeriodData()
    stops = {
        s.id: (s.name, s.kind, s.category.value if s.category else "")
        for s in session.scalars(select(Stop))
    }
    for v in session.scalars(select(Vehicle)):
        data.vehicles[v.id] = (v.name, v.seats, stops[v.depot_stop_id][0])
    in_period = (Booking.service_date >= period.first, Booking.service_date <= period.last)
    rides: dict[int, Ride] = {}
    for b in session.execute(
        select(
            Booking.id,
            Booking.service_date,
            Booking.seats,
            Booking.status,
            Booking.worker_id,
            Booking.direction,
            Booking.from_stop_id,
            Booking.to_stop_id,
            Booking.time_min,
            Booking.reason,
            Booking.pickup_time_min,
        ).where(*in_period)
    ):
        back = b.direction.value == "back"
        home, other = (b.to_stop_id, b.from_stop_id) if back else (b.from_stop_id, b.to_stop_id)
        _, kind, category = stops[other]
        if b.status is BookingStatus.CANCELLED and b.pickup_time_min is None:
            continue  # cancelled before it was published: no ride to account for
        rides[b.id] = Ride(
            b.id,
            b.service_date,
            b.seats,
            b.status,
            b.worker_id,
            "service" if kind is StopKind.SERVICE else "work",
            category,
            stops[home][0],
            kind.value,
            b.time_min if back else None,
            b.reason.value if b.reason else None,
            told_s=b.pickup_time_min * 60 if b.pickup_time_min is not None else None,
        )
    plans = _plans(session, period)
    plan_ids = {run.id: day for day, run in plans.items()}
    route_of = _routes(session, plans, data)
    _moves(session, plan_ids, route_of, rides)
    _taps(session, period, timezone, rides, data)
    data.rides = list(rides.values())
    return data


def _routes(
    session: Session, plans: dict[dt.date, PlanRun], data: PeriodData
) -> dict[int, tuple[dt.date, int]]:
    """The plans' routes and timed stops into ``data``; route id -> (day, vehicle)."""
    plan_ids = {run.id: day for day, run in plans.items()}
    for run in plans.values():
        figures = json.loads(run.figures or "{}")
        if figures.get("served_bookings"):
            data.ride_over_direct.append(
                (float(figures.get("mean_ride_over_direct") or 0.0), figures["served_bookings"])
            )
    route_rows = session.execute(
        select(
            PlanRoute.id,
            PlanRoute.plan_id,
            PlanRoute.vehicle_id,
            PlanRoute.distance_m,
            PlanRoute.driving_s,
        ).where(PlanRoute.plan_id.in_(plan_ids))
    ).all()
    route_of = {r.id: (plan_ids[r.plan_id], r.vehicle_id) for r in route_rows}
    legs: dict[int, list[tuple[int, int, int, int]]] = defaultdict(list)
    for s in session.execute(
        select(
            PlanStop.id,
            PlanStop.route_id,
            PlanStop.seq,
            PlanStop.arrival_s,
            PlanStop.departure_s,
            PlanStop.load_after,
        )
        .join(PlanRoute, PlanStop.route_id == PlanRoute.id)
        .where(PlanRoute.plan_id.in_(plan_ids))
    ):
        legs[s.route_id].append((s.seq, s.arrival_s, s.departure_s, s.load_after))
    for r in route_rows:
        stops_of = [(a, d, load) for _, a, d, load in sorted(legs[r.id])]
        data.routes.append(
            (plan_ids[r.plan_id], r.vehicle_id, float(r.distance_m), int(r.driving_s), stops_of)
        )
    return route_of


def _moves(
    session: Session,
    plan_ids: dict[int, dt.date],
    route_of: dict[int, tuple[dt.date, int]],
    rides: dict[int, Ride],
) -> None:
    """Who boards which vehicle where, when told, and the planned ride."""
    boards: dict[int, tuple[int, int, int]] = {}
    for m in session.execute(
        select(
            PlanMove.booking_id,
            PlanMove.boarding,
            PlanMove.start_s,
            PlanStop.route_id,
            PlanStop.seq,
            PlanStop.arrival_s,
        )
        .join(PlanStop, PlanMove.plan_stop_id == PlanStop.id)
        .join(PlanRoute, PlanStop.route_id == PlanRoute.id)
        .where(PlanRoute.plan_id.in_(plan_ids))
        .order_by(PlanStop.seq)
    ):
        ride = rides.get(m.booking_id)
        if ride is None:
            continue
        start = m.arrival_s if m.start_s is None else m.start_s
        if m.boarding and (ride.vehicle is None or start < boards[m.booking_id][0]):
            boards[m.booking_id] = (start, m.route_id, m.seq)
            ride.vehicle = route_of[m.route_id][1]
            ride.stop_seq = m.seq
        elif not m.boarding and m.booking_id in boards and ride.ride_s is None:
            ride.ride_s = m.arrival_s - boards[m.booking_id][0]
    for booking_id, (start, _, _) in boards.items():
        ride = rides[booking_id]
        ride.told_s = ride.told_s if ride.told_s is not None else start


def _taps(
    session: Session, period: Period, timezone: str, rides: dict[int, Ride], data: PeriodData
) -> None:
    """The drivers' taps: outcomes, boarding and alighting times, shifts."""
    events = list(
        session.scalars(
            select(RoadEvent).where(
                RoadEvent.service_date >= period.first, RoadEvent.service_date <= period.last
            )
        )
    )
    undone = {e.undoes for e in events if e.undoes}
    live = [e for e in events if e.key not in undone and e.kind != EventKind.UNDO]
    furthest: dict[tuple[dt.date, int], int] = {}  # last stop seq tapped, per vehicle-day
    ended: set[tuple[dt.date, int]] = set()
    no_show: set[int] = set()
    for e in live:
        key = (e.service_date, e.vehicle_id)
        at = seconds_into(e.service_date, e.phone_at, timezone)
        if e.stop_seq is not None:
            furthest[key] = max(furthest.get(key, -1), e.stop_seq)
        if e.kind in (EventKind.SHIFT_START, EventKind.SHIFT_END):
            shift = data.shifts.setdefault(key, {})
            shift[e.kind] = (at, e.odometer_km)
            if e.kind == EventKind.SHIFT_END:
                ended.add(key)
        ride = rides.get(e.booking_id or 0)
        if ride is None:
            continue
        if e.kind == EventKind.BOARDED:
            ride.boarded_seats += e.seats or 0
            ride.boarded_s = at if ride.boarded_s is None else min(ride.boarded_s, at)
        elif e.kind == EventKind.ALIGHTED:
            ride.alighted_s = at if ride.alighted_s is None else max(ride.alighted_s, at)
        elif e.kind == EventKind.NO_SHOW:
            no_show.add(ride.id)
    from mobility.dispatch.outcomes import outcome_of

    for ride in rides.values():
        key = (ride.day, ride.vehicle or 0)
        said = outcome_of(
            ride.status,
            published=ride.told_s is not None,
            boarded=ride.boarded_seats > 0,
            no_show_tapped=ride.id in no_show,
            passed=key in ended or furthest.get(key, -1) > ride.stop_seq >= 0,
        )
        ride.outcome = said[0] if said else None


def region_figures(
    session: Session,
    period: Period,
    *,
    costs: UnitCosts,
    timezone: str,
    depot: str | None = None,
) -> dict[str, Any]:
    """The figures of a period (of one depot's vehicles and the bookings they carried,
    when ``depot`` is given), one object per family, exact: :func:`suppressed` makes
    them fit to leave the hub."""
    data = _read(session, period, timezone)
    if depot is not None:
        mine = {k for k, (_, _, d) in data.vehicles.items() if d == depot}
        data.rides = [r for r in data.rides if r.vehicle in mine]
        data.routes = [r for r in data.routes if r[1] in mine]
    from mobility.outputs.figures_sums import families

    return families(period, data, costs, depot=depot)


def suppressed(figures: Any, *, below: int = SUPPRESS_BELOW) -> Any:
    """The figures with every count of people under ``below`` (and every rate over
    fewer than ``below``) shown as ``"< 5"``: the fields named ``*bookings``,
    ``*seats``, ``*workers``, ``*rides``, ``no_show*``, ``missed*``, ``reasons`` and
    rates whose base (``*_base``) is small."""
    if isinstance(figures, list):
        return [suppressed(x, below=below) for x in figures]
    if not isinstance(figures, dict):
        return figures
    out: dict[str, Any] = {}
    for key, value in figures.items():
        if key == "reasons" and isinstance(value, dict):
            out[key] = {k: _small(v, below) for k, v in value.items()}
        elif isinstance(value, dict | list):
            out[key] = suppressed(value, below=below)
        elif _counts_people(key):
            out[key] = _small(value, below)
        else:
            out[key] = value
    for key in list(out):
        base = figures.get(f"{key}_base") if key.endswith("_rate") else None
        if isinstance(base, int) and 0 < base < below:
            out[key] = SMALL
    return out


def _counts_people(key: str) -> bool:
    if key.endswith(("_base", "_rate", "_eur", "_min", "_km", "_hours")):
        return False
    return key.endswith(("bookings", "seats", "workers", "rides")) or key.startswith(
        ("no_show", "missed", "cancelled")
    )


def _small(value: Any, below: int) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < below:
        return SMALL
    return value


def figures_csv(figures: dict[str, Any]) -> str:
    """The (suppressed) figures as CSV: ``family, group, name, value``, one figure a
    row; a breakdown's rows name their group (a day, week, depot, settlement...)."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["family", "group", "name", "value"])
    for family, content in figures.items():
        if isinstance(content, dict):
            for name, value in content.items():
                if isinstance(value, dict):
                    for sub, v in value.items():
                        writer.writerow([family, name, sub, v])
                elif isinstance(value, list):
                    writer.writerow([family, "", name, " ".join(map(str, value))])
                else:
                    writer.writerow([family, "", name, "" if value is None else value])
        else:
            for row in content:
                group = str(next(iter(row.values())))
                for name, value in list(row.items())[1:]:
                    writer.writerow([family, group, name, "" if value is None else value])
    return out.getvalue()


#: The harvest season the Figures page reads as "season": June to October.
SEASON_MONTHS: Final = (6, 10)
PERIOD_KINDS: Final = ("day", "week", "month", "season")


def period_of(kind: str, anchor: dt.date) -> Period:
    """The day, ISO week, month or harvest season (June-October) holding ``anchor``.

    Raises
    ------
    ServiceError
        ``bad_period`` on ``period`` for another kind.
    """
    if kind == "day":
        return Period(anchor, anchor)
    if kind == "week":
        monday = anchor - dt.timedelta(days=anchor.weekday())
        return Period(monday, monday + dt.timedelta(days=6))
    if kind == "month":
        return month_period(f"{anchor.year}-{anchor.month:02d}")
    if kind == "season":
        first, last = SEASON_MONTHS
        end = month_period(f"{anchor.year}-{last:02d}").last
        return Period(dt.date(anchor.year, first, 1), end)
    raise ServiceError("period", "bad_period", f"period: one of {', '.join(PERIOD_KINDS)}")


def region_report(
    session: Session,
    period: Period,
    *,
    costs: UnitCosts,
    timezone: str,
    depot: str | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """What leaves the hub: the period's figures, suppressed, and the depots there
    are (for a filter)."""
    depots = sorted(
        {
            name
            for name in session.scalars(
                select(Stop.name).join(Vehicle, Vehicle.depot_stop_id == Stop.id)
            )
        }
    )
    if depot is not None and depot not in depots:
        raise ServiceError("depot", "not_found", f"depot: no vehicle is based at {depot!r}")
    figures = region_figures(session, period, costs=costs, timezone=timezone, depot=depot)
    return suppressed(figures), depots
