"""The booking rules of a deployment: cut-off, how far ahead, seats, PIN lock-out."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from mobility.clock import DEFAULT_TIMEZONE, local_now, zone

__all__ = ["BookingRules"]


@dataclass(frozen=True)
class BookingRules:
    """Booking rules of the service (configurable per deployment).

    Parameters
    ----------
    cutoff
        Local time the evening before after which a booking is ``late``.
    timezone
        Time zone of the service.
    max_days_ahead
        Furthest bookable day, counted from today.
    max_seats
        Most seats one booking may take (a crew leader booking a squad).
    pin_attempts
        Wrong PINs in a row before the code is locked.
    lockout_minutes
        How long a locked code stays locked.
    """

    cutoff: dt.time = dt.time(20, 0)
    timezone: str = DEFAULT_TIMEZONE
    max_days_ahead: int = 14
    max_seats: int = 28
    pin_attempts: int = 5
    lockout_minutes: int = 30

    @property
    def zone(self) -> ZoneInfo:
        """The service's time zone."""
        return zone(self.timezone)

    def local_now(self, now: dt.datetime | None = None) -> dt.datetime:
        """``now`` (default: the current time) in the service's time zone."""
        return local_now(self.timezone, now)

    def today(self, now: dt.datetime | None = None) -> dt.date:
        """The service's date today."""
        return self.local_now(now).date()

    def is_late(self, service_date: dt.date, now: dt.datetime | None = None) -> bool:
        """Whether a booking for ``service_date`` made ``now`` is past the cut-off."""
        deadline = dt.datetime.combine(service_date - dt.timedelta(days=1), self.cutoff, self.zone)
        return self.local_now(now) >= deadline
