"""The application's settings, built once at start-up from its configuration and
checked there (by :func:`mobility.config.load_config`): a bad value stops the app
with a sentence naming the variable, instead of failing in the middle of a request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from flask import Flask, current_app

from mobility.config import Config, load_config
from mobility.errors import ConfigError

__all__ = ["OSM_TILES", "Settings", "SettingsError", "build_settings", "get_settings", "init_app"]

#: A bad setting (the name the web layer used first).
SettingsError = ConfigError


@dataclass(frozen=True)
class Settings(Config):
    """The service's :class:`~mobility.config.Config` and what only the web app needs.

    Parameters
    ----------
    worker_session_minutes
        A signed-in worker is forgotten after this long without a page.
    """

    worker_session_minutes: int = 30
    map_tiles: str = ""


#: OpenStreetMap's own tile server, the default background. Its tile usage policy
#: asks for the attribution (every map shows it) and a Referer: map tiles are asked
#: with the hub's origin only (never the page's path). Heavy use calls for a tile
#: server of the hub's own or a commercial one: set ``MOBILITY_MAP_TILES``.
OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


def _map_tiles(config: Any) -> str:
    """``MOBILITY_MAP_TILES``: a tile URL template with {z}, {x} and {y} on http(s),
    or empty for no background (the routes, stops and labels still draw)."""
    value = str(config.get("MAP_TILES", OSM_TILES) or "").strip()
    if value and (
        not value.startswith(("https://", "http://"))
        or not all(part in value for part in ("{z}", "{x}", "{y}"))
    ):
        raise ConfigError(
            f"MOBILITY_MAP_TILES: {value!r} is not a tile URL with {{z}}, {{x}} and {{y}}"
        )
    return value


def build_settings(config: Any) -> Settings:
    """Check the Flask configuration and build :class:`Settings`.

    Raises
    ------
    ConfigError
        Naming the first variable with an unusable value.
    """
    base = load_config(config)
    try:
        minutes = int(config.get("WORKER_SESSION_MINUTES", 30))
    except (TypeError, ValueError):
        raise ConfigError("MOBILITY_WORKER_SESSION_MINUTES: not a number") from None
    return Settings(**base.__dict__, worker_session_minutes=minutes, map_tiles=_map_tiles(config))


def init_app(app: Flask) -> None:
    """Build the settings once; ``BABEL_DEFAULT_TIMEZONE`` follows the service's."""
    settings = build_settings(app.config)
    app.config["BABEL_DEFAULT_TIMEZONE"] = settings.timezone
    app.extensions["mobility.settings"] = settings


def get_settings() -> Settings:
    """The settings of the running application."""
    return cast(Settings, current_app.extensions["mobility.settings"])
