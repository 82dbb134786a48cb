"""The Flask application: ``create_app(config=None)``; ``flask --app web run`` serves it.

Configuration comes from environment variables prefixed ``MOBILITY_`` (for example
``MOBILITY_DATABASE_URL``, ``MOBILITY_SECRET_KEY``, ``MOBILITY_RATELIMIT_ENABLED``),
then from the ``config`` mapping given to the factory (tests). The service's settings
and their defaults are :mod:`mobility.config`'s; this module adds the web's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from mobility.config import instance_secret_key
from mobility.i18n import LANGUAGES
from web import production

__all__ = ["create_app"]

DEFAULTS: dict[str, Any] = {
    "BABEL_DEFAULT_LOCALE": "it",
    "LANGUAGES": list(LANGUAGES),
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_HEADERS_ENABLED": True,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "WORKER_SESSION_MINUTES": 30,
    "STAFF_IDLE_HOURS": 8,
    "API_TITLE": "Passaggio API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api",
    "OPENAPI_JSON_PATH": "openapi.json",
    # a form's token lasts as long as a staff session may stay idle
    "WTF_CSRF_TIME_LIMIT": 8 * 3600,
    # no page or API call sends more than a form (413 beyond)
    "MAX_CONTENT_LENGTH": 64 * 1024,
}


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application.

    Parameters
    ----------
    config
        Settings that override the defaults and the environment (for tests).

    Returns
    -------
    Flask
    """
    app = Flask(__name__, instance_relative_config=True)
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("MOBILITY")
    if config:
        app.config.from_mapping(config)
    production.check_production(app.config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret_key(instance)

    from web import (
        api,
        booking,
        db,
        dispatch,
        driver,
        errors,
        extensions,
        i18n,
        jobs,
        maps,
        security,
        sms,
        staff,
    )
    from web import settings as settings_module

    settings_module.init_app(app)
    production.init_app(app)
    db.init_app(app)
    jobs.init_app(app)
    errors.init_app(app)
    extensions.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    maps.init_app(app)
    staff.init_app(app)
    app.register_blueprint(booking.bp)
    app.register_blueprint(dispatch.bp)
    app.register_blueprint(driver.bp)
    app.register_blueprint(sms.bp)
    api.init_app(app)

    from web.cli import init_cli

    init_cli(app)
    return app
