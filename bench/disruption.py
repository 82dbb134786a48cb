"""The busiest bus of a peak day breaks down at 05:00: the rest of the day re-planned.

The peak day of seed N (:func:`mobility.demo.peak_day`, 3,000 workers, 60 vehicles
at four depots) is booked into a fresh SQLite database, planned and published as
every day is; then the bus with the most seats on board its route is out of service
from 05:00 where it last stopped (no taps: the stops planned before 05:00 count as
driven, its riders on board at that time wait where it stopped), and the day is
re-planned as the day page and ``mobility replan`` do it (a run of kind
``replan``). Prints the answer of ``mobility replan --json`` with the seconds, and
what the issue asks of it: the affected seats served again (and those lost for want
of room: some vehicle could reach them in time), and the share of the other
published bookings whose time moved. Measures and prints; not a test.

Usage: python bench/disruption.py [--seed N] [--workers W] [--vehicles V]
                                  [--time-limit S] [--replan-limit S] [--at HH:MM]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from mobility.codes import UnservedReason
from mobility.config import load_config
from mobility.demo import seed_demo_day
from mobility.dispatch import (
    Disruption,
    DisruptionKind,
    latest_plan,
    publish_plan,
    replan_answer,
    replan_proposal,
)
from mobility.jobs import plan_here
from mobility.roads import load_road_graph
from mobility.store import Booking, PlanKind, Profile, make_engine, make_session_factory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=3000)
    parser.add_argument("--vehicles", type=int, default=60)
    parser.add_argument("--time-limit", type=float, default=120.0, metavar="S")
    parser.add_argument("--replan-limit", type=float, default=45.0, metavar="S")
    parser.add_argument("--at", default="05:00", metavar="HH:MM")
    args = parser.parse_args()
    hours, minutes = (int(x) for x in args.at.split(":"))
    graphs = {p: load_road_graph(p) for p in ("minibus", "bus")}
    day = dt.date(2027, 7, 14)  # a Wednesday of the harvest
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        config = load_config({"DATABASE_URL": url})
        engine = make_engine(url)
        from mobility.store import upgrade_database

        upgrade_database(engine)
        sessions = make_session_factory(engine)
        session = sessions()
        counts = seed_demo_day(
            session,
            day,
            graphs.__getitem__,
            rules=config.booking,
            seed=args.seed,
            workers=args.workers,
            vehicles=args.vehicles,
        )
        print(f"seed {args.seed}: {json.dumps(counts)}")
        started = time.perf_counter()
        planned = plan_here(
            sessions, url, day, graphs.__getitem__, config.planning.with_time_limit(args.time_limit)
        )
        publish_plan(session, day)
        f = planned.figures
        print(
            f"planned in {time.perf_counter() - started:.1f} s: {f.served_seats}/{f.seats} seats, "
            f"{f.vehicles_used} vehicles, violations {len(f.violations)}"
        )
        plan = latest_plan(session, day)
        assert plan is not None
        buses = [r for r in plan.routes if r.vehicle.profile is Profile.BUS] or list(plan.routes)
        at_s = (hours * 60 + minutes) * 60
        busiest = max(
            buses,
            key=lambda r: sum(m.seats for s in r.stops for m in s.moves if m.boarding),
        )
        told = {
            b.id: b.pickup_time_min
            for b in session.scalars(select(Booking).where(Booking.service_date == day))
        }
        disruption = Disruption(
            DisruptionKind.OUT_OF_SERVICE, busiest.vehicle.name, hours * 60 + minutes
        )
        started = time.perf_counter()
        outcome = plan_here(
            sessions,
            url,
            day,
            graphs.__getitem__,
            config.planning.with_time_limit(args.replan_limit),
            kind=PlanKind.REPLAN,
            edits=disruption.to_json(),
        )
        seconds = time.perf_counter() - started
        session.expire_all()
        proposal = replan_proposal(session, day)
        assert proposal is not None
        s = proposal.summary
        answer = replan_answer(outcome.plan_id, s) | {"seconds": round(seconds, 1)}
        seats = {b.code: b.seats for b in session.scalars(select(Booking))}
        affected = sum(seats[c] for c in s["affected_bookings"])
        reserved = sum(seats[c] for c in s["reserved_bookings"])
        for_room = [x for x in s["lost_bookings"] if UnservedReason(x["reason"]).for_want_of_room]
        others = sum(1 for i, t in told.items() if t is not None) - len(s["affected_bookings"])
        print(
            f"{busiest.vehicle.name} ({busiest.vehicle.seats} seats) out of service at {args.at}: "
            f"{len(s['affected_bookings'])} bookings ({affected} seats) affected, "
            f"{reserved} seats served again, {len(for_room)} bookings lost for want of room "
            f"(reachable in time), {len(s['lost_bookings']) - len(for_room)} out of reach; "
            f"{len(s['moved_pickups'])} of {others} other published bookings moved "
            f"({len(s['moved_pickups']) / max(1, others):.1%}); "
            f"checker: {len(s['violations'])} violations; re-plan {seconds:.1f} s "
            f"(at {at_s // 3600:02d}:{at_s % 3600 // 60:02d})"
        )
        print(json.dumps(answer))
        session.close()
        engine.dispose()


if __name__ == "__main__":
    main()
