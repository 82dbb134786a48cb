"""What production (``MOBILITY_ENV=production``) refuses at start-up, and what it
turns on: each refusal names the variable to set.

Behind the TLS proxy of ``make serve`` every client would be 127.0.0.1 and one person
could lock sign-in for the whole province: the client's address is read from
``X-Forwarded-For`` through exactly ``MOBILITY_TRUSTED_PROXIES`` proxies (werkzeug's
``ProxyFix``; 0 when clients reach the app directly), and the rate limits are
counted in Redis, shared by every gunicorn process.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Final

from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix

from mobility.errors import ConfigError

__all__ = ["HSTS", "MIN_SECRET_KEY_CHARS", "check_production", "init_app", "trusted_proxies"]

#: A production secret key is at least this long (``secrets.token_hex(32)`` is 64).
MIN_SECRET_KEY_CHARS: Final = 32
HSTS: Final = "max-age=31536000; includeSubDomains"


def is_production(config: Mapping[str, Any]) -> bool:
    """Whether the app runs in production."""
    return str(config.get("ENV") or "") == "production"


def trusted_proxies(config: Mapping[str, Any]) -> int:
    """``MOBILITY_TRUSTED_PROXIES``: proxies in front of the app (0 when unset).

    Raises
    ------
    ConfigError
        When it is not a whole number between 0 and 5.
    """
    value = config.get("TRUSTED_PROXIES", 0)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"MOBILITY_TRUSTED_PROXIES: {value!r} is not a number") from None
    if not 0 <= number <= 5:
        raise ConfigError(f"MOBILITY_TRUSTED_PROXIES: {number} is not between 0 and 5")
    return number


def _processes(config: Mapping[str, Any]) -> int:
    """Web processes serving the app (gunicorn's ``WEB_CONCURRENCY``, as the Procfile)."""
    value = config.get("WEB_CONCURRENCY") or os.environ.get("WEB_CONCURRENCY") or 1
    try:
        return int(value)
    except (TypeError, ValueError):
        return 2  # unknown: take it as more than one


def check_production(config: Mapping[str, Any]) -> None:
    """Refuse what is unsafe in production (nothing is checked elsewhere).

    Raises
    ------
    ConfigError
        Naming ``MOBILITY_SECRET_KEY`` (missing or weak), ``MOBILITY_TRUSTED_PROXIES``
        (not set: behind a proxy, every client would be the proxy) or
        ``MOBILITY_RATELIMIT_STORAGE_URI`` (``memory://`` with more than one process:
        each counts its own share of the attempts).
    """
    trusted_proxies(config)  # a bad value is refused in any environment
    if not is_production(config):
        return
    key = str(config.get("SECRET_KEY") or "")
    if len(key) < MIN_SECRET_KEY_CHARS or len(set(key)) < 8:
        raise ConfigError(
            "MOBILITY_SECRET_KEY: production needs a random key of at least "
            f"{MIN_SECRET_KEY_CHARS} characters (make one with "
            "`python -c 'import secrets; print(secrets.token_hex(32))'`)"
        )
    if str(config.get("TRUSTED_PROXIES", "")).strip() == "":
        raise ConfigError(
            "MOBILITY_TRUSTED_PROXIES: production needs it set: the number of proxies in "
            "front of the app (1 behind the TLS proxy of make serve, 0 with none)"
        )
    storage = str(config.get("RATELIMIT_STORAGE_URI") or "memory://")
    if storage.startswith("memory://") and _processes(config) > 1:
        raise ConfigError(
            "MOBILITY_RATELIMIT_STORAGE_URI: memory:// counts in each of the "
            f"{_processes(config)} web processes apart; use Redis (redis://127.0.0.1:6379/1)"
        )


def init_app(app: Flask) -> None:
    """Read client addresses through the trusted proxies; in production, cookies only
    over HTTPS and Strict-Transport-Security on every response."""
    proxies = trusted_proxies(app.config)
    if proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    if not is_production(app.config):
        return
    app.config.update(
        SESSION_COOKIE_SECURE=True,
        REMEMBER_COOKIE_SECURE=True,
        PREFERRED_URL_SCHEME="https",
    )

    @app.after_request
    def _hsts(response: Response) -> Response:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response
