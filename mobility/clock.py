"""Times of day as the service writes them: ``HH:MM``."""

from __future__ import annotations

__all__ = ["hhmm", "parse_hhmm", "seconds_hhmm"]


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
