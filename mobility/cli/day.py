"""Day commands: ``mobility fleet import``, ``plan``, ``demo``, ``sheets``, ``report``."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from mobility.cli._common import db, graph_loader, parse_date
from mobility.errors import InputDataError

__all__ = ["register"]


def _cmd_fleet_import(args: argparse.Namespace) -> int:
    from mobility.dispatch import import_fleet

    added, updated = import_fleet(db(args), Path(args.file))
    print(f"fleet: {added} vehicles added, {updated} updated")
    return 0


def _cmd_fleet_size(args: argparse.Namespace) -> int:
    from mobility.dispatch import latest_sizing
    from mobility.jobs import make_queue, plan_here, start_planning, wait_for_run
    from mobility.store import PlanKind

    session = db(args)
    config = args.config
    settings = config.planning.with_time_limit(args.time_limit)
    if config.redis_url:  # a job like any other: a worker does it
        queue = make_queue(config)
        run, _ = start_planning(
            session, queue, args.date, time_limit_s=args.time_limit, kind=PlanKind.SIZING
        )
        wait_for_run(args.resources.sessions(), run.id, queue, args.time_limit)
    else:
        plan_here(
            args.resources.sessions(),
            config.database_url,
            args.date,
            graph_loader(),
            settings,
            kind=PlanKind.SIZING,
            progress=None if args.json else (lambda msg: print(f"... {msg}", file=sys.stderr)),
        )
    session.expire_all()
    answer = latest_sizing(session, args.date)
    assert answer is not None
    if args.json:
        keys = ("fleet", "vehicles", "lower_bound", "reachable_seats", "served_seats", "cost")
        print(json.dumps({k: answer[k] for k in keys}))
        return 0
    print(f"fleet for {args.date}: {answer['vehicles']} vehicles (cost {answer['cost']})")
    for label, n in answer["fleet"].items():
        print(f"  {label}: {n}")
    for depot, counts in answer["by_depot"].items():
        print(f"  at {depot}: " + ", ".join(f"{n} {label}" for label, n in counts.items()))
    gap = answer["vehicles"] - answer["lower_bound"]
    print(f"lower bound: {answer['lower_bound']} vehicles (gap {gap})")
    print(
        f"seats: {answer['served_seats']} served of {answer['reachable_seats']} reachable "
        f"({answer['seats']} booked)"
    )
    if answer["add"]:
        print(
            "to add to the active fleet: " + ", ".join(f"{n} {t}" for t, n in answer["add"].items())
        )
    return 0


def _cmd_plan(args: argparse.Namespace) -> int:
    from mobility.dispatch import publish_plan
    from mobility.jobs import make_queue, plan_here, start_planning, wait_for_run
    from mobility.outputs import export_plan

    session = db(args)
    if args.export:
        document = export_plan(session, args.date)
        out = Path(args.export)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(document, indent=1, ensure_ascii=False), encoding="utf-8")
        vehicles, bookings = len(document["vehicles"]), len(document["bookings"])
        print(f"wrote {out}: {vehicles} vehicles, {bookings} bookings")
        return 0
    config = args.config
    settings = config.planning.with_time_limit(args.time_limit)
    if args.enqueue or config.redis_url:
        queue = make_queue(config)
        run, _ = start_planning(session, queue, args.date, time_limit_s=args.time_limit)
        if args.enqueue:
            print(json.dumps({"run": run.id, "status": run.status.value}))
            return 0
        # with Redis the run is a job like any other: wait for a worker to do it
        outcome = wait_for_run(args.resources.sessions(), run.id, queue, args.time_limit)
    else:
        outcome = plan_here(
            args.resources.sessions(),
            config.database_url,
            args.date,
            graph_loader(),
            settings,
            progress=None if args.json else (lambda msg: print(f"... {msg}", file=sys.stderr)),
        )
    figures: dict[str, Any] = outcome.figures.to_dict()
    figures["plan_id"] = outcome.plan_id
    if args.publish:
        figures["published_version"] = publish_plan(session, args.date)
        make_queue(config).enqueue_send()  # the workers' messages, on their way
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key}: {value}")
    return 0


def _cmd_season(args: argparse.Namespace) -> int:
    from mobility.demo.season import run_season
    from mobility.outputs import Period, region_report

    start = args.start or args.config.tomorrow()
    totals = run_season(
        args.resources.sessions(),
        args.config,
        graph_loader(),
        start=start,
        days=args.days,
        workers=args.workers,
        time_limit_s=args.time_limit,
        seed=args.seed,
    )
    print(json.dumps(totals))
    period = Period(start, start + dt.timedelta(days=args.days - 1))
    config = args.config
    figures, _ = region_report(db(args), period, costs=config.costs, timezone=config.timezone)
    print(json.dumps({k: figures[k] for k in ("rides", "outcomes", "punctuality", "vehicles")}))
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    if args.season:
        return _cmd_season(args)
    from mobility.demo import run_demo

    day = args.date or args.config.tomorrow()
    result = run_demo(
        args.resources.sessions(),
        args.config,
        graph_loader(),
        Path(args.out),
        day=day,
        seed=args.seed,
        workers=args.workers,
        time_limit_s=args.time_limit,
    )
    f = result.figures
    print(
        f"day {result.day}: {f['served_seats']} of {f['seats']} seats served by "
        f"{f['vehicles_used']} vehicles, {f['vehicle_km']} vehicle-km, "
        f"{f['unserved_seats']} seats unserved"
    )
    for path in result.outputs:
        print(f"wrote {path}")
    print("demo logins (staff pages at /dispatch/login):")
    for user, password in result.logins.items():
        print(f"  {user:<10} {password}")
    return 0


def _cmd_sheets(args: argparse.Namespace) -> int:
    from mobility.dispatch import latest_plan, link_of
    from mobility.outputs import render_sheets_pdf

    run = latest_plan(db(args), args.date)
    if run is None or not run.routes:
        raise InputDataError(f"--date {args.date}: no plan with routes for that day")
    base = args.config.base_url
    pdf = render_sheets_pdf(
        run,
        list(run.routes),
        graph_loader(),
        language=args.lang,
        hub_phone=args.config.hub_phone,
        route_url=lambda r: (
            f"{base}/driver/m/"
            + link_of(db(args), run.service_date, r.vehicle, args.config.signing_key())
        ),
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(pdf)
    print(f"wrote {out}: {len(run.routes)} vehicles, one per page")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from mobility.dispatch import log_access
    from mobility.outputs import (
        figures_csv,
        month_period,
        region_figures,
        render_region_pdf,
        suppressed,
    )

    session = db(args)
    config = args.config
    period = month_period(args.month)
    figures = suppressed(
        region_figures(session, period, costs=config.costs, timezone=config.timezone)
    )
    written = []
    if args.csv:
        out = Path(args.csv)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(figures_csv(figures), encoding="utf-8")
        written.append(str(out))
    if args.pdf:
        out = Path(args.pdf)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(render_region_pdf(figures, language=args.lang))
        written.append(str(out))
    log_access(session, None, "export_region_report", f"{args.month} {' '.join(written)}".strip())
    if args.json or not written:
        print(json.dumps(figures, ensure_ascii=False))
    else:
        print(f"wrote {', '.join(written)}")
    return 0


def register(sub: Any) -> None:
    """Add the day commands: fleet, plan, demo, sheets, report."""
    from mobility.i18n import LANGUAGES

    fleet = sub.add_parser("fleet", help="vehicles (database: $MOBILITY_DATABASE_URL)")
    fleet_sub = fleet.add_subparsers(dest="fleet_command", required=True)
    fleet_import = fleet_sub.add_parser("import", help="load or update vehicles from a CSV")
    fleet_import.add_argument(
        "file", metavar="FLEET.csv", help="header name,seats,profile,depot,shift_start,shift_end"
    )
    fleet_import.set_defaults(func=_cmd_fleet_import)
    fleet_size = fleet_sub.add_parser(
        "size",
        help="the cheapest fleet (types and depots of the active vehicles) for a day's bookings",
    )
    fleet_size.add_argument("--date", required=True, type=parse_date, metavar="YYYY-MM-DD")
    fleet_size.add_argument("--time-limit", type=float, default=60.0, metavar="S")
    fleet_size.add_argument("--json", action="store_true")
    fleet_size.set_defaults(func=_cmd_fleet_size)

    plan = sub.add_parser("plan", help="plan a day's bookings (database: $MOBILITY_DATABASE_URL)")
    plan.add_argument("--date", required=True, type=parse_date, metavar="YYYY-MM-DD")
    plan.add_argument("--time-limit", type=float, default=60.0, metavar="S")
    plan.add_argument("--publish", action="store_true", help="publish the plan to the workers")
    plan.add_argument(
        "--enqueue",
        action="store_true",
        help="put the run on the job queue and return at once (prints the run's id)",
    )
    plan.add_argument("--export", metavar="PLAN.json", help="write the stored plan as JSON instead")
    plan.add_argument("--json", action="store_true")
    plan.set_defaults(func=_cmd_plan)

    demo = sub.add_parser("demo", help="seed, plan and publish a demo day; write map and sheets")
    demo.add_argument("--date", type=parse_date, default=None, help="default: tomorrow")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--workers", type=int, default=1200)
    demo.add_argument("--time-limit", type=float, default=60.0, metavar="S")
    demo.add_argument("--out", default="out")
    demo.add_argument(
        "--season",
        action="store_true",
        help="simulate days of operations (planned, published, driven) for the figures",
    )
    demo.add_argument("--start", type=parse_date, default=None, help="with --season")
    demo.add_argument("--days", type=int, default=7, help="with --season (default 7)")
    demo.set_defaults(func=_cmd_demo)

    sheets = sub.add_parser("sheets", help="drivers' route sheets of a day as one PDF")
    sheets.add_argument("--date", required=True, type=parse_date, metavar="YYYY-MM-DD")
    sheets.add_argument("--out", required=True, metavar="FILE.pdf")
    sheets.add_argument("--lang", default="it", choices=list(LANGUAGES))
    sheets.set_defaults(func=_cmd_sheets)

    report = sub.add_parser(
        "report", help="the Region's figures of a month: JSON, CSV, PDF with charts"
    )
    report.add_argument("--month", required=True, metavar="YYYY-MM")
    report.add_argument("--json", action="store_true", help="print the figures as JSON")
    report.add_argument("--csv", metavar="FILE.csv")
    report.add_argument("--pdf", metavar="FILE.pdf")
    report.add_argument("--lang", default="it", choices=list(LANGUAGES))
    report.set_defaults(func=_cmd_report)
