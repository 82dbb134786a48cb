"""Data commands: ``mobility purge``, ``backup``, ``restore``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from mobility.cli._common import db, parse_date

__all__ = ["register"]


def _cmd_purge(args: argparse.Namespace) -> int:
    from mobility.retention import purge

    config = args.config
    as_of = args.as_of or config.booking.today()
    counts = purge(db(args), config.retention, as_of, dry_run=args.dry_run).to_dict()
    if args.json:
        print(json.dumps(counts))
    else:
        what = "would be removed (dry run)" if args.dry_run else "removed"
        print(f"purge as of {as_of}, {what}:")
        for key, value in counts.items():
            print(f"  {key}: {value}")
    return 0


def _cmd_backup(args: argparse.Namespace) -> int:
    from mobility.store.backup import backup_database

    out = backup_database(args.config.database_url, Path(args.out))
    print(f"wrote {out} ({out.stat().st_size} bytes)")
    return 0


def _cmd_restore(args: argparse.Namespace) -> int:
    from mobility.store.backup import restore_database

    restore_database(args.config.database_url, Path(args.file))
    print(f"restored {args.file}")
    return 0


def register(sub: Any) -> None:
    """Add ``purge``, ``backup``, ``restore``."""
    backup = sub.add_parser("backup", help="back the database up (pg_dump, or SQLite's API)")
    backup.add_argument("--out", required=True, metavar="FILE")
    backup.set_defaults(func=_cmd_backup)
    restore = sub.add_parser(
        "restore", help="replace the database's content with a backup (stop the app first)"
    )
    restore.add_argument("file", metavar="FILE")
    restore.set_defaults(func=_cmd_restore)
    purge = sub.add_parser(
        "purge",
        help="apply the retention policy (MOBILITY_KEEP_*_DAYS) to personal data",
    )
    purge.add_argument(
        "--as-of", type=parse_date, default=None, metavar="YYYY-MM-DD", help="default: today"
    )
    purge.add_argument("--dry-run", action="store_true", help="count, change nothing")
    purge.add_argument("--json", action="store_true")
    purge.set_defaults(func=_cmd_purge)
