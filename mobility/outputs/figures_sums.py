"""The Region's figures summed from the period's rows (see :mod:`.figures` for the
definitions): one object per family, and the tables the charts draw."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final

from mobility.config import UnitCosts

if TYPE_CHECKING:
    from mobility.outputs.figures import Period, PeriodData, Ride

__all__ = ["families"]

#: Boarded 0 to this many seconds after the time told is on time.
ON_TIME_S: Final = 600
#: A day whose rides back from the fields leave by this minute is a heat-ban day.
HEAT_BAN_BACK_BY_MIN: Final = 12 * 60 + 30
#: A gap of two hours or more between two stops with nobody on board is a break (no
#: drive in the province takes that long): the vehicle
#: is parked (between the morning and the afternoon waves), not in service.
BREAK_S: Final = 2 * 3600


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return round(sum(items) / len(items), 1) if items else None


def _completed_seats(r: Ride) -> int:
    return min(r.boarded_seats, r.seats) if r.boarded_seats else r.seats


def _rides(rides: list[Ride]) -> dict[str, Any]:
    served = [r for r in rides if r.vehicle is not None]
    done = [r for r in rides if r.outcome == "completed"]
    return {
        "booked_bookings": len(rides),
        "booked_seats": sum(r.seats for r in rides),
        "served_bookings": len(served),
        "served_seats": sum(r.seats for r in served),
        "completed_bookings": len(done),
        "completed_seats": sum(_completed_seats(r) for r in done),
        "unique_workers": len({r.worker for r in done if r.worker is not None}),
        "cancelled_late_bookings": sum(r.outcome == "cancelled_late" for r in rides),
    }


def _outcomes(rides: list[Ride]) -> dict[str, Any]:
    base = sum(r.vehicle is not None for r in rides)
    no_show = sum(r.outcome == "no_show" for r in rides)
    missed = sum(r.outcome == "missed_by_service" for r in rides)
    return {
        "no_show_bookings": no_show,
        "no_show_rate": _rate(no_show, base),
        "no_show_rate_base": base,
        "missed_by_service_bookings": missed,
        "missed_by_service_rate": _rate(missed, base),
        "missed_by_service_rate_base": base,
    }


def _punctuality(rides: list[Ride], data: PeriodData) -> dict[str, Any]:
    timed = [
        r
        for r in rides
        if r.outcome == "completed" and r.boarded_s is not None and r.told_s is not None
    ]
    on_time = sum(0 <= (r.boarded_s or 0) - (r.told_s or 0) <= ON_TIME_S for r in timed)
    rides_s = [
        (r.alighted_s - r.boarded_s)
        if r.alighted_s is not None and r.boarded_s is not None
        else r.ride_s
        for r in rides
        if r.outcome == "completed"
    ]
    weight = sum(n for _, n in data.ride_over_direct)
    return {
        "on_time_rate": _rate(on_time, len(timed)),
        "on_time_rate_base": len(timed),
        "mean_wait_min": _mean(max(0, (r.boarded_s or 0) - (r.told_s or 0)) / 60 for r in timed),
        "mean_ride_min": _mean(s / 60 for s in rides_s if s is not None),
        "mean_ride_over_direct": round(sum(x * n for x, n in data.ride_over_direct) / weight, 2)
        if weight
        else None,
    }


def _vehicle_days(data: PeriodData) -> dict[tuple[dt.date, int], dict[str, float]]:
    """Per vehicle-day: km, hours, deadhead km and hours, seat-seconds used and offered
    (taps where both ends were tapped, the plan otherwise; breaks left out)."""
    days: dict[tuple[dt.date, int], dict[str, float]] = {}
    for day, vehicle, distance_m, driving_s, stops in data.routes:
        if len(stops) < 2:
            continue
        seats = data.vehicles[vehicle][1]
        moving = empty = used = parked = 0
        for (_, prev_dep, load), (arr, _, _) in itertools.pairwise(stops):
            leg = max(0, arr - prev_dep)
            if leg >= BREAK_S and load == 0:  # parked between the waves
                parked += leg
                continue
            moving += leg
            used += load * leg
            empty += leg if load == 0 else 0
        span = stops[-1][0] - stops[0][1]
        km, hours = distance_m / 1000, max(0, span - parked) / 3600
        shift = data.shifts.get((day, vehicle), {})
        start, end = shift.get("shift_start"), shift.get("shift_end")
        tapped = False
        if start and end:
            hours = max(0.0, (end[0] - start[0] - parked) / 3600)
            if start[1] is not None and end[1] is not None and 0 <= end[1] - start[1] < 1000:
                km, tapped = end[1] - start[1], True
        share = empty / moving if moving else 0.0
        days[(day, vehicle)] = {
            "km": km,
            "hours": hours,
            "deadhead_km": km * share,
            "deadhead_hours": driving_s * share / 3600,
            "used": used,
            "offered": seats * moving,
            "odometer": float(tapped),
        }
    return days


def _vehicles(days: dict[tuple[dt.date, int], dict[str, float]], done_seats: int) -> dict[str, Any]:
    km = sum(d["km"] for d in days.values())
    hours = sum(d["hours"] for d in days.values())
    offered = sum(d["offered"] for d in days.values())
    return {
        "vehicle_days": len(days),
        "vehicle_km": round(km, 1),
        "deadhead_km": round(sum(d["deadhead_km"] for d in days.values()), 1),
        "vehicle_hours": round(hours, 1),
        "deadhead_hours": round(sum(d["deadhead_hours"] for d in days.values()), 1),
        "odometer_share": _rate(int(sum(d["odometer"] for d in days.values())), len(days)),
        "seat_occupancy": round(sum(d["used"] for d in days.values()) / offered, 3)
        if offered
        else None,
        "passengers_per_vehicle_hour": round(done_seats / hours, 2) if hours else None,
    }


def _cost(vehicles: dict[str, Any], rides: dict[str, Any], costs: UnitCosts) -> dict[str, Any]:
    total = (
        vehicles["vehicle_km"] * costs.per_km
        + vehicles["vehicle_hours"] * costs.per_driver_hour
        + vehicles["vehicle_days"] * costs.per_vehicle_day
    )
    seats, workers = rides["completed_seats"], rides["unique_workers"]
    return {
        "total_eur": round(total, 2),
        "per_ride_eur": round(total / seats, 2) if seats else None,
        "per_worker_eur": round(total / workers, 2) if workers else None,
        "per_km_eur": costs.per_km,
        "per_driver_hour_eur": costs.per_driver_hour,
        "per_vehicle_day_eur": costs.per_vehicle_day,
    }


def _heat_ban_days(rides: list[Ride]) -> list[str]:
    backs: dict[dt.date, list[int]] = defaultdict(list)
    for r in rides:
        if r.back_min is not None and r.purpose == "work":
            backs[r.day].append(r.back_min)
    return sorted(d.isoformat() for d, times in backs.items() if max(times) <= HEAT_BAN_BACK_BY_MIN)


def _by(rides: list[Ride], key: str) -> list[dict[str, Any]]:
    """Counts of one dimension (settlement, destination kind, service category)."""
    groups: dict[str, list[Ride]] = defaultdict(list)
    for r in rides:
        groups[getattr(r, key) or "-"].append(r)
    rows = []
    for name, members in sorted(groups.items()):
        counted = _rides(members)
        del counted["unique_workers"]  # a count of people per place: the totals only
        rows.append({key: name, **counted, **_outcomes(members)})
    return rows


def families(
    period: Period, data: PeriodData, costs: UnitCosts, *, depot: str | None
) -> dict[str, Any]:
    """Every family of figures, and the tables of the charts."""
    rides = data.rides
    summed = _rides(rides)
    days = _vehicle_days(data)
    vehicles = _vehicles(days, summed["completed_seats"])
    operated = sorted({d for d, _ in days})
    per_day: dict[dt.date, Counter[str]] = defaultdict(Counter)
    for r in rides:
        if r.outcome == "completed":
            per_day[r.day][r.purpose] += _completed_seats(r)
    weeks: dict[str, list[Ride]] = defaultdict(list)
    for r in rides:
        year, week, _ = r.day.isocalendar()
        weeks[f"{year}-W{week:02d}"].append(r)
    depots: dict[str, list[Ride]] = defaultdict(list)
    for r in rides:
        if r.vehicle is not None:
            depots[data.vehicles[r.vehicle][2]].append(r)
    depot_days: dict[str, dict[tuple[dt.date, int], dict[str, float]]] = defaultdict(dict)
    for key, d in days.items():
        depot_days[data.vehicles[key[1]][2]][key] = d
    unserved = [r for r in rides if r.outcome == "turned_down"]
    return {
        "period": {
            "from": period.first.isoformat(),
            "to": period.last.isoformat(),
            "depot": depot or "",
            "days_operated": len(operated),
            "heat_ban_days": _heat_ban_days(rides),
        },
        "rides": summed,
        "outcomes": _outcomes(rides),
        "unserved": {
            "bookings": len(unserved),
            "seats": sum(r.seats for r in unserved),
            "reasons": dict(sorted(Counter(r.reason or "-" for r in unserved).items())),
        },
        "punctuality": _punctuality(rides, data),
        "vehicles": vehicles,
        "cost": _cost(vehicles, summed, costs),
        "by_day": [
            {"date": d.isoformat(), "work_seats": c["work"], "service_seats": c["service"]}
            for d, c in sorted(per_day.items())
        ],
        "by_week": [
            {"week": w, **_outcomes(members), **_punctuality(members, data)}
            for w, members in sorted(weeks.items())
        ],
        "by_depot": [
            {
                "depot": name,
                **_vehicles(depot_days[name], _rides(members)["completed_seats"]),
                **{"completed_seats": _rides(members)["completed_seats"]},
                "cost_per_ride_eur": _cost(_vehicles(depot_days[name], 0), _rides(members), costs)[
                    "per_ride_eur"
                ],
            }
            for name, members in sorted(depots.items())
        ],
        "by_settlement": _by(rides, "settlement"),
        "by_destination_kind": _by(rides, "destination_kind"),
        "services": [row for row in _by([r for r in rides if r.purpose == "service"], "category")],
    }
