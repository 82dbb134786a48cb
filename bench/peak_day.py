"""A peak harvest day on the real province graph: generate it (from a seed) and plan it.

The day comes from :func:`mobility.demo.peak_day` (its module says what it assumes):
crews working near where they live, both waves (to work and back), a fleet at four
depots. Prints the steps and the figures; the last line is one JSON object:
``{"workers", "bookings", "seats", "reachable_seats", "served_seats",
"unserved_seats", "vehicles_used", "vehicle_km", "seconds"}``. Measures and prints;
not a test.

Usage: python bench/peak_day.py [--seed N] [--workers W] [--vehicles V]
                                [--time-limit S] [--heat-ban | --no-heat-ban]
                                [--fleet-size] [--zones [--queue REDIS_URL]]

``--zones`` plans the day by zones (one per depot, in parallel processes, then a
repair across borders: :mod:`mobility.planning.zones`) with the same time limit;
with ``--queue`` the zones are jobs on that Redis queue (``--queue-name``, default
``mobility``) for the ``mobility worker`` processes listening there.
"""

from __future__ import annotations

import argparse
import json
import time

from mobility.demo import PeakDay, peak_day
from mobility.dispatch import fixed_cost_for_seats
from mobility.jobs.zones import on_queue, queue_workers
from mobility.planning import (
    BookingRow,
    FleetVehicle,
    PlanningSettings,
    ProfileMatrix,
    StopPoint,
    VehicleType,
    plan_bookings,
    plan_by_zones,
    profile_matrix,
    size_fleet,
)
from mobility.roads import load_road_graph


def rows(day: PeakDay) -> tuple[list[StopPoint], list[BookingRow], list[FleetVehicle]]:
    """The day as the planning adapter takes it."""
    ids: dict[str, int] = {}
    stops: list[StopPoint] = []

    def stop(name: str, lat: float, lon: float) -> int:
        if name not in ids:
            ids[name] = len(stops) + 1
            stops.append(StopPoint(ids[name], name, lat, lon))
        return ids[name]

    for name, place in day.places.items():
        assert place.lat is not None and place.lon is not None
        stop(name, place.lat, place.lon)
    farm_ids = [stop(f.name, f.lat, f.lon) for f in day.farms]
    bookings = []
    for n, crew in enumerate(day.crews):
        farm = day.farms[crew.farm]
        home = ids[crew.settlement]
        for direction, src, dst, minute in (
            ("to_work", home, farm_ids[crew.farm], farm.starts_min),
            ("back", farm_ids[crew.farm], home, farm.ends_min),
        ):
            code = f"{'W' if direction == 'to_work' else 'B'}{n:05d}"
            bookings.append(
                BookingRow(len(bookings) + 1, code, direction, src, dst, minute, crew.seats)
            )
    fleet = [
        FleetVehicle(
            k + 1,
            v.name,
            v.seats,
            v.profile,
            ids[next(n for n, p in day.places.items() if p.name == v.depot)],
            v.shift_start_min * 60,
            v.shift_end_min * 60,
            fixed_cost_for_seats(v.seats),
        )
        for k, v in enumerate(day.fleet)
    ]
    return stops, bookings, fleet


def size_day(
    bookings: list[BookingRow],
    fleet: list[FleetVehicle],
    matrices: dict[str, ProfileMatrix],
    time_limit_s: float,
) -> None:
    """The cheapest fleet of the day's vehicle types at its depots; prints it."""
    started = time.perf_counter()
    types = {
        v.seats: VehicleType(
            f"{v.profile} {v.seats}",
            v.seats,
            v.profile,
            v.shift_start_s,
            v.shift_end_s,
            v.fixed_cost,
        )
        for v in fleet
    }
    depots = sorted({v.depot_stop for v in fleet})
    sizing = size_fleet(
        bookings,
        list(types.values()),
        depots,
        matrices,
        settings=PlanningSettings(time_limit_s=time_limit_s),
    )
    answer = {**sizing.to_dict(), "seconds": round(time.perf_counter() - started, 1)}
    print(f"fleet sizing: {json.dumps(answer)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=3000, help="farm workers")
    parser.add_argument("--vehicles", type=int, default=60)
    parser.add_argument("--time-limit", type=float, default=120.0, metavar="S")
    parser.add_argument("--heat-ban", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument(
        "--fleet-size",
        action="store_true",
        help="also size the fleet (the fleet's types at the four depots) for the day",
    )
    parser.add_argument(
        "--zones", action="store_true", help="plan by zones (a depot each), then repair"
    )
    parser.add_argument("--queue", metavar="REDIS_URL", help="with --zones: zones as jobs")
    parser.add_argument("--queue-name", default="mobility")
    args = parser.parse_args()
    started = time.perf_counter()
    graphs = {profile: load_road_graph(profile) for profile in ("minibus", "bus")}
    day = peak_day(
        args.seed,
        graphs["minibus"],
        workers=args.workers,
        vehicles=args.vehicles,
        heat_ban=args.heat_ban,
        bus_graph=graphs["bus"],
    )
    stops, bookings, fleet = rows(day)
    generated = time.perf_counter()
    used = {b.from_stop for b in bookings} | {b.to_stop for b in bookings}
    used |= {v.depot_stop for v in fleet}
    points = [s for s in stops if s.id in used]
    matrices = {profile: profile_matrix(graph, points) for profile, graph in graphs.items()}
    matrices_done = time.perf_counter()
    settings = PlanningSettings(time_limit_s=args.time_limit)
    if args.zones and args.queue:
        workers = queue_workers(args.queue, args.queue_name)
        if not workers:
            raise SystemExit(f"no `mobility worker` listens on {args.queue_name}: start one")
        plan, zoning = plan_by_zones(
            bookings,
            fleet,
            matrices,
            settings=settings,
            processes=workers,
            runner=on_queue(args.queue, args.queue_name),
        )
        print(f"zones on the queue ({workers} workers): {json.dumps(zoning)}")
    elif args.zones:
        plan, zoning = plan_by_zones(bookings, fleet, matrices, settings=settings)
        print(f"zones: {json.dumps(zoning)}")
    else:
        plan = plan_bookings(bookings, fleet, matrices, settings=settings)
    finished = time.perf_counter()
    f = plan.figures
    print(
        f"seed {args.seed}: {day.workers} workers ({'heat ban, ' if day.heat_ban else ''}"
        f"{len(day.farms)} farms), {len(bookings)} bookings in {f.requests} requests, "
        f"{len(points)} stops, {len(fleet)} vehicles"
    )
    print(
        f"load + generate {generated - started:.1f} s, matrices "
        f"{matrices_done - generated:.1f} s, plan {finished - matrices_done:.1f} s, "
        f"total {finished - started:.1f} s"
    )
    for key, value in f.to_dict().items():
        print(f"  {key}: {value}")
    print(f"  split crews: {len(plan.split_bookings)} bookings ride in more than one vehicle")
    if f.reachable_seats and f.servable_seats is not None:
        print(
            f"served {f.served_seats / f.reachable_seats:.2%} of the reachable seats; no plan "
            f"of this fleet serves more than {f.servable_seats} "
            f"({f.servable_seats / f.reachable_seats:.2%}, optimizer.bounds)"
        )
    if args.fleet_size:
        size_day(bookings, fleet, matrices, args.time_limit)
    print(
        json.dumps(
            {
                "workers": day.workers,
                "bookings": len(bookings),
                "seats": f.seats,
                "reachable_seats": f.reachable_seats,
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
