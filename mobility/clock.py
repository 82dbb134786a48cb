"""Time as the service counts it: one time zone, times of day written ``HH:MM``."""

from __future__ import annotations

import datetime as dt
from typing import Final
from zoneinfo import ZoneInfo

__all__ = [
    "DEFAULT_TIMEZONE",
    "as_utc",
    "day_start",
    "hhmm",
    "local_now",
    "parse_hhmm",
    "seconds_hhmm",
    "seconds_into",
    "utcnow",
    "zone",
]

#: The service's time zone (a deployment may configure another one).
DEFAULT_TIMEZONE: Final = "Europe/Rome"


def utcnow() -> dt.datetime:
    """The current time in UTC (timezone-aware)."""
    return dt.datetime.now(dt.UTC)


def zone(name: str = DEFAULT_TIMEZONE) -> ZoneInfo:
    """The time zone called ``name`` (an IANA name such as ``Europe/Rome``)."""
    return ZoneInfo(name)


def local_now(timezone: str = DEFAULT_TIMEZONE, now: dt.datetime | None = None) -> dt.datetime:
    """``now`` (default: the current time) in the service's time zone."""
    return (now or utcnow()).astimezone(zone(timezone))


def as_utc(moment: dt.datetime) -> dt.datetime:
    """A stored moment as an aware one (SQLite gives back naive datetimes: they were
    stored in UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def day_start(day: dt.date, timezone: str) -> dt.datetime:
    """Midnight starting ``day`` in the service's time zone."""
    return dt.datetime.combine(day, dt.time(0), zone(timezone))


def seconds_into(day: dt.date, moment: dt.datetime, timezone: str) -> int:
    """Seconds from the start of the service day ``day`` to ``moment`` (the unit of
    plans: a stop's planned times compare with it)."""
    return int((as_utc(moment) - day_start(day, timezone)).total_seconds())


def hhmm(minutes: int | None) -> str:
    """Minutes after midnight as ``HH:MM`` (empty for ``None``)."""
    if minutes is None:
        return ""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def seconds_hhmm(seconds: int) -> str:
    """Seconds after midnight as ``HH:MM`` (rounded down to the minute)."""
    return hhmm(seconds // 60)


def parse_hhmm(text: str | None) -> int | None:
    """``HH:MM`` as minutes after midnight, or ``None`` if it is not a time of day."""
    try:
        hours, minutes = (int(x) for x in (text or "").strip().split(":"))
    except ValueError:
        return None
    if 0 <= hours < 24 and 0 <= minutes < 60:
        return hours * 60 + minutes
    return None
