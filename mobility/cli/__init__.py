"""The ``mobility`` command.

Every error the user can cause (missing or corrupt file, bad CSV, a point off the
map) prints one line on standard error and exits with status 2, without a traceback.
Each module of this package adds one group of commands. The road commands
(:data:`mobility.cli.roads.COMMANDS`) need no settings and no database: they start
without importing either, so that a matrix of a thousand points takes a second.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from mobility.cli import roads
from mobility.cli.roads import read_points_csv
from mobility.errors import MobilityError

if TYPE_CHECKING:
    from mobility.cli._common import Resources

__all__ = ["EXIT_USAGE", "build_parser", "main", "read_points_csv"]

EXIT_USAGE = 2


def build_parser(*, roads_only: bool = False) -> argparse.ArgumentParser:
    """The argument parser of ``mobility`` (with ``roads_only``: of its road
    commands alone)."""
    parser = argparse.ArgumentParser(
        prog="mobility",
        description="Passaggio: legal shuttles for farm workers in the province of Foggia.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    roads.register(sub)
    if roads_only:
        return parser
    from mobility.cli import day, jobs, messages, privacy, replan, road, stops

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
    words = list(sys.argv[1:] if argv is None else argv)
    command = next((w for w in words if not w.startswith("-")), None)
    road_command = command in roads.COMMANDS
    parser = build_parser(roads_only=road_command)
    args = parser.parse_args(words)
    if hasattr(args, "validate"):  # options that go together, checked as usage errors
        args.validate(parser, args)
    resources: Resources | None = None
    try:
        if not road_command:
            from mobility.cli._common import Resources
            from mobility.config import config_from_env

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
