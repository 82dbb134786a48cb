"""``mobility replan``: the rest of a day re-planned after a breakdown, an absent
driver or a late vehicle."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from mobility.cli._common import db, graph_loader, parse_date

#: The optimizer's share of a re-plan that ends within a minute (the day under way is
#: read and the travel times computed in the rest).
REPLAN_TIME_LIMIT_S = 45.0


def _hhmm(text: str) -> int:
    """``HH:MM`` -> minutes into the day, for argparse."""
    from mobility.clock import parse_hhmm

    minutes = parse_hhmm(text)
    if minutes is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time HH:MM")
    return minutes


def _point(text: str) -> tuple[float, float]:
    """``LAT,LON`` for argparse."""
    try:
        lat, lon = (float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a point LAT,LON") from None
    return lat, lon


def _disruption(args: argparse.Namespace) -> Any:
    """What the dispatcher says happened; without ``--from``, it happens now."""
    from mobility.clock import seconds_into, utcnow
    from mobility.dispatch import Disruption, DisruptionKind

    if args.from_min is not None:
        at_min = args.from_min
    else:
        at_min = min(max(0, seconds_into(args.date, utcnow(), args.config.timezone) // 60), 1439)
    lat, lon = args.at if args.at else (None, None)
    if args.out_of_service:
        return Disruption(
            DisruptionKind.OUT_OF_SERVICE, args.out_of_service, at_min, lat=lat, lon=lon
        )
    if args.absent:
        return Disruption(DisruptionKind.ABSENT, args.absent, at_min)
    if args.standby:
        return Disruption(DisruptionKind.STANDBY, "", at_min)
    return Disruption(DisruptionKind.LATE, args.late, at_min, minutes=args.minutes)


def _cmd_replan(args: argparse.Namespace) -> int:
    from mobility.dispatch import (
        check_replan,
        publish_replan,
        replan_answer,
        replan_proposal,
    )
    from mobility.jobs import make_queue, plan_here, start_planning, wait_for_run
    from mobility.store import PlanKind

    session = db(args)
    config = args.config
    disruption = _disruption(args)
    check_replan(session, args.date, disruption)
    edits = disruption.to_json()
    if config.redis_url:  # a job like every planning run: a worker does it
        queue = make_queue(config)
        run, _ = start_planning(
            session,
            queue,
            args.date,
            time_limit_s=args.time_limit,
            kind=PlanKind.REPLAN,
            edits=edits,
        )
        outcome = wait_for_run(args.resources.sessions(), run.id, queue, args.time_limit)
    else:
        outcome = plan_here(
            args.resources.sessions(),
            config.database_url,
            args.date,
            graph_loader(),
            config.planning.with_time_limit(args.time_limit),
            kind=PlanKind.REPLAN,
            edits=edits,
            progress=None if args.json else (lambda msg: print(f"... {msg}", file=sys.stderr)),
        )
    session.expire_all()
    proposal = replan_proposal(session, args.date)
    assert proposal is not None and proposal.run.id == outcome.plan_id
    summary = proposal.summary
    if args.publish:
        summary = publish_replan(session, args.date, outcome.plan_id)
        make_queue(config).enqueue_send()  # the workers' messages, on their way
    answer = replan_answer(outcome.plan_id, summary)
    if args.json:
        print(json.dumps(answer))
    else:
        for key, value in answer.items():
            print(f"{key}: {value}")
        if not args.publish:
            print("a proposal: the day page shows it beside the published plan")
    return 0


def register(sub: Any) -> None:
    """Add ``mobility replan`` to the ``mobility`` parser."""
    replan = sub.add_parser(
        "replan",
        help="re-plan the rest of a day after a breakdown, an absent driver or a late vehicle",
    )
    replan.add_argument("--date", required=True, type=parse_date, metavar="YYYY-MM-DD")
    what = replan.add_mutually_exclusive_group(required=True)
    what.add_argument("--out-of-service", metavar="NAME", help="the vehicle broke down")
    what.add_argument("--absent", metavar="NAME", help="the vehicle's driver did not come")
    what.add_argument("--late", metavar="NAME", help="the vehicle runs late")
    what.add_argument(
        "--standby",
        action="store_true",
        help="no vehicle at fault: serve same-day requests where room allows",
    )
    replan.add_argument(
        "--from",
        dest="from_min",
        type=_hhmm,
        metavar="HH:MM",
        help="when it happened (default: now); required with --out-of-service",
    )
    replan.add_argument(
        "--at", type=_point, metavar="LAT,LON", help="where the broken vehicle stands"
    )
    replan.add_argument("--minutes", type=int, metavar="N", help="how late (with --late)")
    replan.add_argument(
        "--time-limit",
        type=float,
        default=REPLAN_TIME_LIMIT_S,
        metavar="S",
        help=f"the optimizer's time (default {REPLAN_TIME_LIMIT_S:.0f} s: done within a minute)",
    )
    replan.add_argument("--publish", action="store_true", help="publish it and tell the workers")
    replan.add_argument("--json", action="store_true")
    replan.set_defaults(func=_cmd_replan, validate=_validate)


def _validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Options that go together."""
    if args.out_of_service and args.from_min is None:
        parser.error("--out-of-service needs --from HH:MM")
    if args.late and args.minutes is None:
        parser.error("--late needs --minutes N")
    if args.at and not args.out_of_service:
        parser.error("--at goes with --out-of-service")
