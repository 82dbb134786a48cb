"""The service's configuration, read and checked in one place.

The web app reads it from its Flask configuration (``MOBILITY_*`` variables and the
test's mapping); the ``mobility`` command and the job workers from the environment.
Either way :func:`load_config` checks every value once and names the variable of the
first bad one.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit
from zoneinfo import ZoneInfoNotFoundError

from mobility.bookings import BookingRules
from mobility.clock import DEFAULT_TIMEZONE, parse_hhmm, zone
from mobility.errors import ConfigError
from mobility.paths import PROJECT_ROOT
from mobility.planning import PlanningSettings
from mobility.retention import RetentionPolicy
from mobility.store import DEFAULT_DATABASE_URL

__all__ = ["DEFAULTS", "Config", "UnitCosts", "config_from_env", "load_config"]

#: Defaults of every setting, by name without the ``MOBILITY_`` prefix.
DEFAULTS: Final[Mapping[str, Any]] = {
    "DATABASE_URL": DEFAULT_DATABASE_URL,
    "REDIS_URL": "",
    "QUEUE": "mobility",
    "OSM_PATH": "",
    "TIMEZONE": DEFAULT_TIMEZONE,
    "BOOKING_CUTOFF": "20:00",
    "MAX_DAYS_AHEAD": 14,
    "CREW_MAX_SEATS": 28,
    "PLAN_TIME_LIMIT": 60,
    "APPOINTMENT_MARGIN": 10,
    "EDIT_TIME_LIMIT": 20,
    "PLAN_AT": "20:05",
    "HUB_PHONE": "+39 0881 000000",
    "BASE_URL": "http://127.0.0.1:5000",
    "SMS_BACKEND": "log",
    "SMS_URL": "",
    "SMS_TOKEN": "",
    "SMS_USERNAME": "",
    "SMS_PASSWORD": "",
    "SMS_FROM": "",
    "SMS_MAX_TRIES": 8,
    "SMS_INBOUND_SECRET": "",
    "REMIND_AT": "21:00",
    "KEEP_BOOKINGS_DAYS": 90,
    "KEEP_PHONE_DAYS": 30,
    "KEEP_REPORTS_DAYS": 365,
    "KEEP_AUDIT_DAYS": 365,
    "PURGE_AT": "03:30",
    "ENV": "development",
    "SECRET_KEY": "",
    "SMS_ON_ITS_WAY": "off",
    "COST_PER_KM": 0.35,
    "COST_PER_DRIVER_HOUR": 18.0,
    "COST_PER_VEHICLE_DAY": 45.0,
}


@dataclass(frozen=True)
class UnitCosts:
    """What the Region's figures price a day of service at, in euro: per vehicle-km
    (fuel, tyres, upkeep), per driver hour (wage and charges), per vehicle-day
    (insurance, lease); set for the hub's own contracts (``MOBILITY_COST_*``)."""

    per_km: float = 0.35
    per_driver_hour: float = 18.0
    per_vehicle_day: float = 45.0


@dataclass(frozen=True)
class Config:
    """The settings the use cases and jobs need.

    Parameters
    ----------
    database_url
        SQLAlchemy URL (SQLite by default, PostgreSQL in production).
    redis_url
        Redis for the job queue; empty: jobs run in a separate local process.
    queue
        Name of the RQ queue (several deployments may share one Redis).
    osm_path
        The OSM extract whose caches are loaded (``None``: the default search).
    booking
        Booking rules: cut-off, time zone, days ahead, seats, PIN lock-out.
    planning
        Planning settings for a day's run (its time limit included).
    edit_time_limit_s
        Time limit of the re-plan that checks a dispatcher's manual edit.
    plan_at
        Local time of the scheduled planning of the next day (after the cut-off);
        ``None`` (``MOBILITY_PLAN_AT=off``): no scheduled planning.
    hub_phone
        The hub's phone number, printed on pages and sheets and sent in messages.
    base_url
        Where the web app is reached from outside (links printed on sheets and
        sent to drivers), without a trailing slash.
    sms
        The ``SMS_*`` settings (backend, gateway URL and credentials), checked.
    sms_max_tries
        Tries before a message is failed for good.
    sms_inbound_secret
        The secret an SMS gateway sends with an incoming SMS (empty: none taken).
    remind_at
        Local time of the evening reminders of tomorrow's series rides (``None``:
        none).
    retention
        How long personal data are kept (``KEEP_*_DAYS``; see :mod:`mobility.retention`).
    purge_at
        Local time of the daily purge (``None``: none scheduled; cron calls
        ``mobility purge`` instead).
    """

    database_url: str
    redis_url: str
    queue: str
    osm_path: str | None
    booking: BookingRules
    planning: PlanningSettings
    edit_time_limit_s: float
    plan_at: dt.time | None
    hub_phone: str
    base_url: str
    sms: Mapping[str, str]
    sms_max_tries: int
    sms_inbound_secret: str
    remind_at: dt.time | None
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    purge_at: dt.time | None = None
    secret_key: str = field(default="", repr=False)
    #: text the workers of the next stop when their vehicle leaves the stop before
    sms_on_its_way: bool = False
    costs: UnitCosts = field(default_factory=UnitCosts)

    def signing_key(self) -> str:
        """The key that signs drivers' links: the web app's secret key (the one set,
        else the one kept in the instance folder, made here if the app has not made it
        yet, as the app would: both then sign alike)."""
        if self.secret_key:
            return self.secret_key
        return instance_secret_key(PROJECT_ROOT / "instance")

    @property
    def timezone(self) -> str:
        """The service's time zone."""
        return self.booking.timezone

    def tomorrow(self) -> dt.date:
        """The service's date tomorrow (the day a dispatcher plans by default)."""
        return self.booking.today() + dt.timedelta(days=1)


def _number(values: Mapping[str, Any], key: str, low: float, high: float) -> float:
    try:
        value = float(values[key])
    except (TypeError, ValueError):
        raise ConfigError(f"MOBILITY_{key}: {values[key]!r} is not a number") from None
    if not low <= value <= high:
        raise ConfigError(f"MOBILITY_{key}: {value} is not between {low} and {high}")
    return value


def _time_of_day(values: Mapping[str, Any], key: str) -> dt.time:
    minutes = parse_hhmm(str(values[key]))
    if minutes is None:
        raise ConfigError(f"MOBILITY_{key}: {values[key]!r} is not HH:MM")
    return dt.time(minutes // 60, minutes % 60)


def load_config(values: Mapping[str, Any]) -> Config:
    """Check the settings (names without the ``MOBILITY_`` prefix) and build a Config.

    Missing settings take :data:`DEFAULTS`.

    Raises
    ------
    ConfigError
        Naming the first variable with an unusable value.
    """
    merged = {**DEFAULTS, **{k: v for k, v in values.items() if k in DEFAULTS}}
    if str(merged["ENV"]) == "production":
        _check_production(values)
    timezone = str(merged["TIMEZONE"])
    try:
        zone(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"MOBILITY_TIMEZONE: unknown time zone {timezone!r}") from None
    booking = BookingRules(
        cutoff=_time_of_day(merged, "BOOKING_CUTOFF"),
        timezone=timezone,
        max_days_ahead=int(_number(merged, "MAX_DAYS_AHEAD", 0, 366)),
        max_seats=int(_number(merged, "CREW_MAX_SEATS", 1, 90)),
    )
    redis_url = str(merged["REDIS_URL"] or "")
    if redis_url and not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(f"MOBILITY_REDIS_URL: {redis_url!r} is not a redis:// URL")
    return Config(
        database_url=str(merged["DATABASE_URL"] or DEFAULT_DATABASE_URL),
        redis_url=redis_url,
        queue=str(merged["QUEUE"] or "mobility"),
        osm_path=str(merged["OSM_PATH"]) or None,
        booking=booking,
        planning=PlanningSettings(
            time_limit_s=_number(merged, "PLAN_TIME_LIMIT", 1, 3600),
            appointment_margin_min=int(_number(merged, "APPOINTMENT_MARGIN", 0, 120)),
            max_group_seats=booking.max_seats,  # a request is at most one crew's booking
        ),
        edit_time_limit_s=_number(merged, "EDIT_TIME_LIMIT", 1, 600),
        plan_at=_optional_time(merged, "PLAN_AT"),
        hub_phone=str(merged["HUB_PHONE"]),
        base_url=_base_url(merged),
        sms=_sms_settings(merged),
        sms_max_tries=int(_number(merged, "SMS_MAX_TRIES", 1, 50)),
        sms_inbound_secret=str(merged["SMS_INBOUND_SECRET"] or ""),
        remind_at=_optional_time(merged, "REMIND_AT"),
        retention=RetentionPolicy(
            bookings_days=int(_number(merged, "KEEP_BOOKINGS_DAYS", 1, 3650)),
            phone_days=int(_number(merged, "KEEP_PHONE_DAYS", 1, 3650)),
            reports_days=int(_number(merged, "KEEP_REPORTS_DAYS", 1, 3650)),
            audit_days=int(_number(merged, "KEEP_AUDIT_DAYS", 1, 3650)),
        ),
        purge_at=_optional_time(merged, "PURGE_AT"),
        secret_key=str(merged["SECRET_KEY"] or ""),
        sms_on_its_way=_switch(merged, "SMS_ON_ITS_WAY"),
        costs=UnitCosts(
            per_km=_number(merged, "COST_PER_KM", 0, 100),
            per_driver_hour=_number(merged, "COST_PER_DRIVER_HOUR", 0, 1000),
            per_vehicle_day=_number(merged, "COST_PER_VEHICLE_DAY", 0, 10000),
        ),
    )


def instance_secret_key(instance: Path) -> str:
    """The secret key kept in an instance folder (made once, readable by its owner
    only), for an app started without ``MOBILITY_SECRET_KEY``."""
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32), encoding="utf-8")
    return path.read_text(encoding="utf-8").strip()


def _check_production(values: Mapping[str, Any]) -> None:
    """What production must set on purpose (the web app checks its own too).

    Raises
    ------
    ConfigError
        ``MOBILITY_SMS_BACKEND`` left to its default: ``log`` sends nothing, so the
        workers would never be told; a hub without a gateway says ``log`` itself.
    """
    if not str(values.get("SMS_BACKEND") or "").strip():
        raise ConfigError(
            "MOBILITY_SMS_BACKEND: production needs it set: http or jasmin with the "
            "gateway's MOBILITY_SMS_URL, or log on purpose (nothing is sent)"
        )


def _switch(values: Mapping[str, Any], key: str) -> bool:
    """``on``/``off`` (or true/false, 1/0)."""
    text = str(values[key]).strip().lower()
    if text in ("on", "true", "1", "yes"):
        return True
    if text in ("off", "false", "0", "no", ""):
        return False
    raise ConfigError(f"MOBILITY_{key}: {values[key]!r} is not on or off")


def _base_url(values: Mapping[str, Any]) -> str:
    """``MOBILITY_BASE_URL``: an http(s) address with a host, no query."""
    value = str(values["BASE_URL"] or "").strip().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(f"MOBILITY_BASE_URL: {value!r} is not an http(s) address")
    return value


def _optional_time(values: Mapping[str, Any], key: str) -> dt.time | None:
    """``HH:MM``, or ``None`` for ``off`` (or empty)."""
    if str(values[key]).strip().lower() in ("", "off"):
        return None
    return _time_of_day(values, key)


def _sms_settings(values: Mapping[str, Any]) -> Mapping[str, str]:
    """The ``SMS_*`` settings, checked by building their transport once."""
    from mobility.messages import make_transport

    sms = {k: str(v or "") for k, v in values.items() if k.startswith("SMS_")}
    make_transport(sms)
    return sms


def config_from_env(environ: Mapping[str, str] | None = None) -> Config:
    """The configuration from ``MOBILITY_*`` environment variables."""
    env = os.environ if environ is None else environ
    prefix = "MOBILITY_"
    return load_config({k[len(prefix) :]: v for k, v in env.items() if k.startswith(prefix)})
