"""Every error the mobility package raises on purpose, in one module.

Each error carries a one-line message meant for the person at the terminal or the
dispatcher's screen; the CLI prints it and exits with status 2. They subclass the
matching builtin so callers can catch them either way.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ConfigError",
    "CorruptRoadDataError",
    "InputDataError",
    "MobilityError",
    "RoadCacheMissingError",
    "RoadDataNotFoundError",
    "ServiceError",
    "SnapError",
]


class MobilityError(Exception):
    """Base class of the errors this package raises on purpose."""


class RoadDataNotFoundError(MobilityError, FileNotFoundError):
    """No OSM road extract was found where the project looks for one."""


class RoadCacheMissingError(RoadDataNotFoundError):
    """The road graph cache has not been built (``mobility graph build`` builds it)."""


class CorruptRoadDataError(MobilityError, ValueError):
    """An OSM extract or a cache file could not be read."""


class SnapError(MobilityError, ValueError):
    """A point lies off the road network of a profile (too far or outside the extract)."""


class ConfigError(MobilityError, ValueError):
    """A configuration value is not usable; the message names the variable."""


class InputDataError(MobilityError, ValueError):
    """A user-supplied file (points CSV, places CSV...) is malformed."""


class ServiceError(MobilityError, ValueError):
    """A rule of a use case was broken.

    ``field`` names the input, ``code`` the rule (a stable identifier the web layer
    turns into a sentence in the user's language), and ``params`` fill that
    sentence (e.g. the allowed range).
    """

    def __init__(self, field: str, code: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.field = field
        self.code = code
        self.params = params
