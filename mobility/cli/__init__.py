"""The ``mobility`` command.

Every error the user can cause (missing or corrupt file, bad CSV, a point off the
map) prints one line on standard error and exits with status 2, without a traceback.
Each module of this package adds one group of commands.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from mobility.cli import day, jobs, messages, privacy, replan, road, roads, stops
from mobility.cli._common import Resources
from mobility.cli.roads import read_points_csv
from mobility.config import config_from_env
from mobility.errors import MobilityError

__all__ = ["EXIT_USAGE", "build_parser", "main", "read_points_csv"]

EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``mobility``."""
    parser = argparse.ArgumentParser(
        prog="mobility",
        description="Passaggio: legal shuttles for farm workers in the province of Foggia.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    roads.register(sub)
    day.register(sub)
    jobs.register(sub)
    messages.register(sub)
    privacy.register(sub)
    replan.register(sub)
    road.register(sub)
    stops.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if hasattr(args, "validate"):  # options that go together, checked as usage errors
        args.validate(parser, args)
    resources: Resources | None = None
    try:
        # the command's settings, read and checked once, handed to what it calls
        args.config = config_from_env()
        resources = args.resources = Resources(args.config.database_url)
        status: int = args.func(args)
    except (MobilityError, ValueError) as exc:
        print(f"mobility: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("mobility: interrupted", file=sys.stderr)
        return 130
    finally:
        if resources is not None:
            resources.close()
    return status


if __name__ == "__main__":
    sys.exit(main())
