"""A peak harvest day on the real province graph: generate (from a seed) and plan.

3,000 workers in 8 settlements going to 150 synthetic farms (most in crews), a fleet
of 60 vehicles of 8, 28 and 50 seats at a depot in Foggia. Prints the figures; the
last line is one JSON object. Measures and prints; not a test.

Usage: python bench/peak_day.py [--seed N] [--time-limit S] [--workers N]
"""

from __future__ import annotations

import argparse
import json
import time

from mobility.demo import synthetic_crews, synthetic_farms
from mobility.planning import (
    BookingRow,
    FleetVehicle,
    PlanningSettings,
    StopPoint,
    plan_bookings,
    profile_matrix,
)
from mobility.roads import load_road_graph
from mobility.stops import load_places


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=3000, help="farm workers")
    parser.add_argument("--farms", type=int, default=150)
    parser.add_argument("--time-limit", type=float, default=90.0)
    args = parser.parse_args()
    started = time.perf_counter()

    places = {p.name: p for p in load_places() if p.is_placed}
    crews = synthetic_crews(args.workers, args.farms, seed=args.seed)
    farms = synthetic_farms(args.farms, seed=args.seed)
    stops: dict[str, StopPoint] = {}

    def place_stop(name: str) -> StopPoint:
        place = next(p for n, p in places.items() if n.startswith(name))
        if name not in stops:
            assert place.lat is not None and place.lon is not None
            stops[name] = StopPoint(len(stops) + 1, place.name, place.lat, place.lon)
        return stops[name]

    depot = place_stop("Foggia (centre)")
    farm_stops = [StopPoint(1000 + i, f.name, f.lat, f.lon) for i, f in enumerate(farms)]
    bookings = [
        BookingRow(
            i + 1,
            f"B{i + 1:05d}",
            "to_work",
            place_stop(c.settlement).id,
            farm_stops[c.farm].id,
            c.arrive_by_min,
            c.seats,
        )
        for i, c in enumerate(crews)
    ]
    fleet = [
        FleetVehicle(
            k + 1,
            f"{kind}-{k + 1:02d}",
            seats,
            profile,
            depot.id,
            3 * 3600,
            12 * 3600,
            fixed_cost=cost,
        )
        for k, (kind, seats, profile, cost) in enumerate(
            [("minibus", 8, "minibus", 1)] * 20
            + [("bus28", 28, "bus", 2)] * 25
            + [("coach50", 50, "bus", 3)] * 15
        )
    ]
    used_stops = {b.from_stop for b in bookings} | {b.to_stop for b in bookings} | {depot.id}
    all_stops = [s for s in [*stops.values(), *farm_stops] if s.id in used_stops]
    generated = time.perf_counter()

    matrices = {}
    for profile in ("minibus", "bus"):
        graph = load_road_graph(profile)
        matrices[profile] = profile_matrix(graph, all_stops)
    matrices_done = time.perf_counter()

    day = plan_bookings(
        bookings, fleet, matrices, settings=PlanningSettings(time_limit_s=args.time_limit)
    )
    finished = time.perf_counter()
    f = day.figures
    print(
        f"seed {args.seed}: {args.workers} workers, {len(bookings)} bookings, "
        f"{f.requests} grouped requests, {len(all_stops)} stops, {len(fleet)} vehicles"
    )
    print(
        f"generate {generated - started:.1f} s, matrices {matrices_done - generated:.1f} s, "
        f"plan {finished - matrices_done:.1f} s, total {finished - started:.1f} s"
    )
    for key, value in f.to_dict().items():
        print(f"  {key}: {value}")
    print(
        json.dumps(
            {
                "workers": args.workers,
                "bookings": len(bookings),
                "served_seats": f.served_seats,
                "unserved_seats": f.unserved_seats,
                "vehicles_used": f.vehicles_used,
                "vehicle_km": f.vehicle_km,
                "seconds": round(finished - started, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
