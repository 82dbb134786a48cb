"""A small day booked through the API, planned with several time limits.

The issue's case: about 40 bookings (155 seats: crews of 1 to 12 from the
settlements near Foggia to synthetic farms, to work and back), 5 minibuses and 3
buses at the Foggia depot. Every booking is made through ``POST /api/v1/bookings``
of an app on a fresh SQLite database; the day is planned by the same code as the
day page's button (:func:`mobility.dispatch.plan_day`, the production planning
settings), once per time limit. Prints, per limit, one JSON object:
``{"time_limit", "seconds", "bookings", "seats", "served_seats", "share",
"served_in_part", "split_bookings", "vehicles_used", "vehicle_km"}``.
``served_in_part`` counts bookings with some but not all seats served (never
allowed unless the crew leader allowed parts). Measures and prints; not a test.

Usage: python bench/small_day.py [--seed N] [--workers W] [--limits 30,120]
Needs the province graph caches (``mobility graph build``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from mobility.demo import peak_day, synthetic_crews, synthetic_farms
from mobility.dispatch import latest_plan, plan_day, plan_seats
from mobility.planning import PlanningSettings
from mobility.roads import load_road_graph
from mobility.stops import worker_name
from mobility.store import Booking, Profile, Stop, StopKind, Vehicle
from web import create_app
from web.db import get_session

FLEET = [("MB", 8, Profile.MINIBUS, 5), ("BUS", 28, Profile.BUS, 3)]


def _crews(seed: int, workers: int, near: bool) -> tuple[list, list]:
    """(farms as (name, lat, lon), crews as (settlement, farm index, start, end, seats)).

    ``near``: the peak day's generator (crews work within 45 minutes of home); else
    farms anywhere on the plain (``mobility.demo.synthetic_farms``) and crews of 1-2
    or 5-28 from the summer settlements, as a hub books before it knows its
    catchments: the harder day."""
    if near:
        graphs = {p: load_road_graph(p) for p in ("minibus", "bus")}
        peak = peak_day(
            seed, graphs["minibus"], workers=workers, vehicles=8, bus_graph=graphs["bus"]
        )
        farms = [(f.name, f.lat, f.lon) for f in peak.farms]
        crews = [
            (
                worker_name(peak.places[c.settlement].name),
                c.farm,
                peak.farms[c.farm].starts_min,
                peak.farms[c.farm].ends_min,
                c.seats,
            )
            for c in peak.crews
        ]
        return farms, crews
    count = 10
    farms = [
        (f"Farm {n:02d} (synthetic)", f.lat, f.lon)
        for n, f in enumerate(synthetic_farms(count, seed=seed), start=1)
    ]
    crews = [
        (c.settlement, c.farm, c.arrive_by_min, 17 * 60 + 30 * (c.farm % 3), c.seats)
        for c in synthetic_crews(workers, count, seed=seed, crew_share=0.5)
    ]
    return farms, crews


def book_through_the_api(
    seed: int, workers: int, day: dt.date, database: str, *, near: bool
) -> object:
    """An app on a fresh database with the day's farms, the fleet and the bookings."""
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database,
            "SECRET_KEY": "bench",
            "RATELIMIT_ENABLED": False,
        }
    )
    assert app.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    farms, crews = _crews(seed, workers, near)
    with app.app_context():
        db = get_session()
        stops = {s.name: s for s in db.scalars(select(Stop))}
        for name, lat, lon in farms:
            stops[name] = Stop(name=name, kind=StopKind.FARM, lat=lat, lon=lon, synthetic=True)
            db.add(stops[name])
        depot = stops["Foggia (centre)"]
        db.flush()
        for prefix, seats, profile, count in FLEET:
            for n in range(1, count + 1):
                db.add(
                    Vehicle(
                        name=f"{prefix}-{n}",
                        seats=seats,
                        profile=profile,
                        depot_stop_id=depot.id,
                        shift_start_min=165,
                        shift_end_min=21 * 60,
                        fixed_cost=1 if seats <= 9 else 2,
                    )
                )
        db.commit()
        ids = {name: stop.id for name, stop in stops.items()}
    client = app.test_client()
    for settlement, farm, start, end, seats in crews:
        worker = client.post("/api/v1/workers", json={"language": "fr"}).get_json()
        body = {
            "worker_code": worker["code"],
            "pin": worker["pin"],
            "date": day.isoformat(),
            "from_stop": ids[settlement],
            "to_stop": ids[farms[farm][0]],
            "time": f"{start // 60:02d}:{start % 60:02d}",
            "seats": seats,
            "return_time": f"{end // 60:02d}:{end % 60:02d}",
        }
        response = client.post("/api/v1/bookings", json=body)
        assert response.status_code == 201, response.get_json()
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=78)
    parser.add_argument("--limits", default="30,120")
    parser.add_argument("--near", action="store_true", help="the peak day's crews near home")
    args = parser.parse_args()
    day = dt.date.today() + dt.timedelta(days=2)
    with tempfile.TemporaryDirectory() as folder:
        app = book_through_the_api(
            args.seed, args.workers, day, f"sqlite:///{Path(folder) / 'small.db'}", near=args.near
        )
        graphs = {p: load_road_graph(p) for p in ("minibus", "bus")}
        for limit in (float(x) for x in args.limits.split(",")):
            with app.app_context():  # type: ignore[attr-defined]
                db = get_session()
                started = time.perf_counter()
                outcome = plan_day(
                    db, day, graphs.__getitem__, settings=PlanningSettings(time_limit_s=limit)
                )
                seconds = time.perf_counter() - started
                run = latest_plan(db, day)
                assert run is not None
                riding = plan_seats(run)
                bookings = list(db.scalars(select(Booking).where(Booking.service_date == day)))
                partial = [
                    b.code for b in bookings if 0 < sum(riding.get(b.id, {}).values()) < b.seats
                ]
                f = outcome.figures
                print(
                    json.dumps(
                        {
                            "time_limit": limit,
                            "seconds": round(seconds, 1),
                            "bookings": f.bookings,
                            "seats": f.seats,
                            "served_seats": f.served_seats,
                            "share": round(f.served_seats / f.seats, 4) if f.seats else 0,
                            "served_in_part": len(partial),
                            "split_bookings": sum(len(v) > 1 for v in riding.values()),
                            "vehicles_used": f.vehicles_used,
                            "vehicle_km": f.vehicle_km,
                            "violations": len(f.violations),
                        }
                    ),
                    flush=True,
                )


if __name__ == "__main__":
    main()
