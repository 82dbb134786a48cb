"""Flask extensions, created unbound and attached with ``init_app``."""

from __future__ import annotations

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf import CSRFProtect

__all__ = ["csrf", "init_app", "limiter"]


def rate_limit_key() -> str:
    """Client address, under the app's own prefix.

    Flask-Limiter keeps the key prefix of the first app it was attached to, so the
    prefix is put into the key here: two apps sharing one Redis never share counts.
    """
    return f"{current_app.config.get('RATELIMIT_KEY_PREFIX', '')}|{get_remote_address()}"


csrf = CSRFProtect()
limiter = Limiter(key_func=rate_limit_key)


def init_app(app: Flask) -> None:
    """Attach CSRF protection and rate limits."""
    csrf.init_app(app)
    limiter.init_app(app)
