"""Engines, sessions and the schema's migrations."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from mobility.paths import PROJECT_ROOT

__all__ = [
    "DEFAULT_DATABASE_URL",
    "MIGRATIONS",
    "database_url",
    "make_engine",
    "make_session_factory",
    "upgrade_database",
]

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
#: The embedded default: a SQLite file in the project's ``instance/`` folder, shared
#: by the web app and the ``mobility`` command.
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'instance' / 'mobility.db'}"


def database_url(environ: Mapping[str, str] | None = None) -> str:
    """``MOBILITY_DATABASE_URL``, or :data:`DEFAULT_DATABASE_URL`."""
    env = os.environ if environ is None else environ
    return env.get("MOBILITY_DATABASE_URL") or DEFAULT_DATABASE_URL


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets foreign keys on and a busy timeout. Statement
    parameters (phone numbers, codes) never appear in the errors an engine raises and
    logs (``hide_parameters``)."""
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 15})
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Any]:
    """A session factory bound to ``engine`` (objects stay usable after commit)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def upgrade_database(engine: Engine) -> None:
    """Apply the Alembic migrations up to the newest revision."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
