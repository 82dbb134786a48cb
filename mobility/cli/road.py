"""``mobility drivers links`` and ``mobility outcomes``: the day on the road."""

from __future__ import annotations

import argparse
import json
from typing import Any

from mobility.cli._common import db, parse_date


def _cmd_links(args: argparse.Namespace) -> int:
    from mobility.dispatch import driver_links

    config = args.config
    links = driver_links(db(args), args.date, config.signing_key(), config.base_url)
    if args.json:
        print(json.dumps(links))
    else:
        for link in links:
            print(f"{link['vehicle']}: {link['url']}")
    return 0


def _cmd_outcomes(args: argparse.Namespace) -> int:
    from mobility.dispatch import day_outcomes

    rows: list[dict[str, Any]] = day_outcomes(db(args), args.date, timezone=args.config.timezone)
    if args.json:
        print(json.dumps(rows))
    else:
        for row in rows:
            print(f"{row['booking']}: {row['outcome'] or '-'} ({row['source'] or '-'})")
    return 0


def register(sub: Any) -> None:
    """Add the commands to the ``mobility`` parser."""
    drivers = sub.add_parser("drivers", help="drivers' manifest links")
    what = drivers.add_subparsers(dest="drivers_command", required=True)
    links = what.add_parser("links", help="each vehicle's manifest link of a day")
    links.add_argument("--date", type=parse_date, required=True)
    links.add_argument("--json", action="store_true")
    links.set_defaults(func=_cmd_links)
    outcomes = sub.add_parser("outcomes", help="what happened to each booking of a day")
    outcomes.add_argument("--date", type=parse_date, required=True)
    outcomes.add_argument("--json", action="store_true")
    outcomes.set_defaults(func=_cmd_outcomes)
