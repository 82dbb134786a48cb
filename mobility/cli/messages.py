"""Message commands: ``mobility messages send``, ``list``, ``remind``."""

from __future__ import annotations

import argparse
import json
from typing import Any

from mobility.cli._common import db, parse_date

__all__ = ["register"]


def _cmd_send(args: argparse.Namespace) -> int:
    from mobility.jobs import send_messages

    report = send_messages(args.config)
    if args.json:
        print(json.dumps(report.as_dict()))
    else:
        print(f"sent {report.sent}, failed {report.failed}, waiting {report.retry_later}")
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from mobility.messages import list_messages

    rows = [
        {"booking": m.booking, "kind": m.kind, "state": m.state, "tries": m.tries}
        for m in list_messages(db(args), args.date)
    ]
    if args.json:
        print(json.dumps(rows))
    else:
        for row in rows:
            print(f"{row['booking']} {row['kind']:<9} {row['state']:<7} tries {row['tries']}")
    return 0


def _cmd_remind(args: argparse.Namespace) -> int:
    from mobility.jobs import send_messages
    from mobility.messages import queue_reminders

    config = args.config
    session = db(args)
    day = args.date or config.tomorrow()
    queued = queue_reminders(session, day)
    session.commit()
    report = send_messages(config)
    print(json.dumps({"date": day.isoformat(), "reminders": queued, **report.as_dict()}))
    return 0


def register(sub: Any) -> None:
    """Add the message commands."""
    messages = sub.add_parser("messages", help="SMS to workers: send what is due, list a day's")
    messages_sub = messages.add_subparsers(dest="messages_command", required=True)
    send = messages_sub.add_parser("send", help="send every message due now, then exit")
    send.add_argument("--json", action="store_true")
    send.set_defaults(func=_cmd_send)
    listing = messages_sub.add_parser("list", help="the messages about a day's rides")
    listing.add_argument("--date", required=True, type=parse_date, metavar="YYYY-MM-DD")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=_cmd_list)
    remind = messages_sub.add_parser(
        "remind", help="remind tomorrow's series rides (those told nothing today), send"
    )
    remind.add_argument("--date", type=parse_date, default=None, help="default: tomorrow")
    remind.set_defaults(func=_cmd_remind)
