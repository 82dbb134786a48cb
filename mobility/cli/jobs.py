"""Job commands: ``mobility runs`` (a day's planning runs) and ``mobility worker``."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from typing import Any

from mobility.cli._common import db, parse_date

__all__ = ["register"]


def _iso(value: dt.datetime | None) -> str | None:
    """An ISO time in UTC (SQLite gives back naive datetimes: they were stored in UTC)."""
    if value is None:
        return None
    aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return aware.isoformat(timespec="seconds")


def _cmd_runs(args: argparse.Namespace) -> int:
    from mobility.dispatch import list_runs
    from mobility.jobs import make_queue

    config = args.config
    queue = make_queue(config)
    runs = list_runs(db(args), args.date, queued_alive=queue.queued_alive)
    rows = [
        {
            "run": r.id,
            "status": r.status.value,
            "reason": r.message or None,
            "started": _iso(r.started_at),
            "finished": _iso(r.finished_at),
        }
        for r in runs
    ]
    if args.json:
        print(json.dumps(rows))
    else:
        for row, run in zip(rows, runs, strict=True):
            print(
                f"#{row['run']} {row['status']:<8} {run.kind.value:<7} "
                f"{row['started'] or '-'} -> {row['finished'] or '-'} {row['reason'] or ''}"
            )
    return 0


def _cmd_worker(args: argparse.Namespace) -> int:
    import logging

    from mobility.jobs import run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    run_worker(args.config, burst=args.burst, nice=args.nice)
    return 0


def register(sub: Any) -> None:
    """Add the job commands: runs, worker."""
    runs = sub.add_parser("runs", help="a day's planning runs, newest first")
    runs.add_argument("--date", required=True, type=parse_date, metavar="YYYY-MM-DD")
    runs.add_argument("--json", action="store_true")
    runs.set_defaults(func=_cmd_runs)

    worker = sub.add_parser("worker", help="run the queue's jobs (needs MOBILITY_REDIS_URL)")
    worker.add_argument("--burst", action="store_true", help="drain the queue, then exit")
    worker.add_argument(
        "--nice", type=int, default=19, help="lower the CPU priority by this much (default 19)"
    )
    worker.set_defaults(func=_cmd_worker)
