"""A day's plan as one JSON document (``mobility plan --export``, the staff export).

Booking codes and counts, stop names and times: never a name or a phone number.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mobility.clock import hhmm, seconds_hhmm
from mobility.dispatch import latest_plan, plan_pickups, plan_seats
from mobility.store import Booking

__all__ = ["export_plan"]


def export_plan(session: Session, service_date: dt.date) -> dict[str, Any]:
    """The stored plan as the JSON document of ``mobility plan --export``."""
    run = latest_plan(session, service_date)
    vehicles_json = []
    pickups = plan_pickups(run) if run else {}
    seats_in = plan_seats(run) if run else {}
    if run is not None:
        for route in run.routes:
            stops_json = []
            for stop in route.stops:
                board = [
                    {"booking": m.booking.code, "seats": m.seats} for m in stop.moves if m.boarding
                ]
                alight = [
                    {"booking": m.booking.code, "seats": m.seats}
                    for m in stop.moves
                    if not m.boarding
                ]
                stops_json.append(
                    {
                        "stop": stop.stop.name,
                        "lat": stop.stop.lat,
                        "lon": stop.stop.lon,
                        "arrival": seconds_hhmm(stop.arrival_s),
                        "departure": seconds_hhmm(stop.departure_s),
                        "board": board,
                        "alight": alight,
                    }
                )
            vehicles_json.append(
                {
                    "name": route.vehicle.name,
                    "seats": route.vehicle.seats,
                    "profile": route.vehicle.profile.value,
                    "stops": stops_json,
                }
            )
    bookings_json = []
    for b in session.scalars(
        select(Booking).where(Booking.service_date == service_date).order_by(Booking.id)
    ):
        pickup = pickups.get(b.id)
        bookings_json.append(
            {
                "code": b.code,
                "status": b.status.value,
                "direction": b.direction.value,
                "from": b.from_stop.name,
                "to": b.to_stop.name,
                "time": hhmm(b.time_min),
                "seats": b.seats,
                "vehicles": list(seats_in.get(b.id, {})),
                # seats per vehicle: more than one vehicle for a crew split over them
                "seats_in": seats_in.get(b.id, {}),
                "pickup": seconds_hhmm(pickup[0]) if pickup else None,
                "reason": b.reason,
            }
        )
    return {"date": service_date.isoformat(), "vehicles": vehicles_json, "bookings": bookings_json}
