"""Errors of the mobility package.

Each error carries a one-line message meant for the person at the terminal or the
dispatcher's screen; the CLI prints it and exits with status 2. They subclass the
matching builtin so callers can catch them either way.
"""

from __future__ import annotations

__all__ = [
    "CorruptRoadDataError",
    "InputDataError",
    "MobilityError",
    "RoadDataNotFoundError",
    "SnapError",
]


class MobilityError(Exception):
    """Base class of the errors this package raises on purpose."""


class RoadDataNotFoundError(MobilityError, FileNotFoundError):
    """No OSM road extract was found where the project looks for one."""


class CorruptRoadDataError(MobilityError, ValueError):
    """An OSM extract or a cache file could not be read."""


class SnapError(MobilityError, ValueError):
    """A point lies off the road network of a profile (too far or outside the extract)."""


class InputDataError(MobilityError, ValueError):
    """A user-supplied file (points CSV, places CSV...) is malformed."""
