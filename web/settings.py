"""The application's settings, built once at start-up from its configuration and
checked there: a bad value stops the app with a sentence naming the variable,
instead of failing in the middle of a request."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast
from zoneinfo import ZoneInfoNotFoundError

from flask import Flask, current_app

from mobility.bookings import BookingRules
from mobility.clock import parse_hhmm, zone
from mobility.planning import PlanningSettings

__all__ = ["Settings", "SettingsError", "get_settings", "init_app"]


class SettingsError(ValueError):
    """A configuration value is not usable; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """What the views and services need of the configuration.

    Parameters
    ----------
    booking
        Booking rules: cut-off, time zone, days ahead, seats, PIN lock-out.
    planning
        Planning settings for the dispatcher's "Plan the day" (its time limit).
    edit_time_limit_s
        Time limit of the re-plan that checks a dispatcher's manual edit.
    hub_phone
        The hub's phone number, printed on pages and sheets.
    worker_session_minutes
        A signed-in worker is forgotten after this long without a page.
    osm_path
        The OSM extract whose caches the app loads (``None``: the default search).
    """

    booking: BookingRules
    planning: PlanningSettings
    edit_time_limit_s: float
    hub_phone: str
    worker_session_minutes: int
    osm_path: str | None

    @property
    def timezone(self) -> str:
        """The service's time zone."""
        return self.booking.timezone

    def tomorrow(self) -> dt.date:
        """The service's date tomorrow (the day a dispatcher plans by default)."""
        return self.booking.today() + dt.timedelta(days=1)


def _number(config: Any, key: str, low: float, high: float) -> float:
    try:
        value = float(config[key])
    except (TypeError, ValueError):
        raise SettingsError(f"MOBILITY_{key}: {config[key]!r} is not a number") from None
    if not low <= value <= high:
        raise SettingsError(f"MOBILITY_{key}: {value} is not between {low} and {high}")
    return value


def build_settings(config: Any) -> Settings:
    """Check the configuration and build :class:`Settings`.

    Raises
    ------
    SettingsError
        Naming the first variable with an unusable value.
    """
    cutoff = parse_hhmm(str(config["BOOKING_CUTOFF"]))
    if cutoff is None:
        raise SettingsError(f"MOBILITY_BOOKING_CUTOFF: {config['BOOKING_CUTOFF']!r} is not HH:MM")
    timezone = str(config["TIMEZONE"])
    try:
        zone(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"MOBILITY_TIMEZONE: unknown time zone {timezone!r}") from None
    booking = BookingRules(
        cutoff=dt.time(cutoff // 60, cutoff % 60),
        timezone=timezone,
        max_days_ahead=int(_number(config, "MAX_DAYS_AHEAD", 0, 366)),
        max_seats=int(_number(config, "CREW_MAX_SEATS", 1, 90)),
    )
    planning = PlanningSettings(time_limit_s=_number(config, "PLAN_TIME_LIMIT", 1, 3600))
    return Settings(
        booking=booking,
        planning=planning,
        edit_time_limit_s=_number(config, "EDIT_TIME_LIMIT", 1, 600),
        hub_phone=str(config["HUB_PHONE"]),
        worker_session_minutes=int(_number(config, "WORKER_SESSION_MINUTES", 1, 24 * 60)),
        osm_path=config.get("OSM_PATH") or None,
    )


def init_app(app: Flask) -> None:
    """Build the settings once; ``BABEL_DEFAULT_TIMEZONE`` follows the service's."""
    settings = build_settings(app.config)
    app.config["BABEL_DEFAULT_TIMEZONE"] = settings.timezone
    app.extensions["mobility.settings"] = settings


def get_settings() -> Settings:
    """The settings of the running application."""
    return cast(Settings, current_app.extensions["mobility.settings"])
