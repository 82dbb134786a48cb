"""Stop commands: ``mobility stops import-services``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from mobility.cli._common import db

__all__ = ["register"]


def _cmd_import_services(args: argparse.Namespace) -> int:
    from mobility.service_stops import DEFAULT_SERVICES_CSV, import_services, load_services

    places = load_services(
        Path(args.file) if args.file else DEFAULT_SERVICES_CSV, worship=args.worship
    )
    added = import_services(db(args), places)
    print(f"service stops: {added} added, {len(places) - added} there already")
    return 0


def register(sub: Any) -> None:
    """Add ``stops import-services``."""
    stops = sub.add_parser("stops", help="stops (database: $MOBILITY_DATABASE_URL)")
    stops_sub = stops.add_subparsers(dest="stops_command", required=True)
    services = stops_sub.add_parser(
        "import-services",
        help="load hospitals, offices, post offices... as service stops (idempotent)",
    )
    services.add_argument("--file", default=None, help="default ../shared/data/services_foggia.csv")
    services.add_argument(
        "--with-worship", dest="worship", action="store_true", help="places of worship too"
    )
    services.set_defaults(func=_cmd_import_services)
