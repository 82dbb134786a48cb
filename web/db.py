"""The database session of a request (one per request, closed at teardown)."""

from __future__ import annotations

from typing import cast

from flask import Flask, current_app, g
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from mobility.store import make_engine, make_session_factory

__all__ = ["engine", "get_session", "init_app", "session_factory"]


def init_app(app: Flask) -> None:
    """Create the engine and session factory; close sessions after each request."""
    engine_ = make_engine(app.extensions["mobility.settings"].database_url, pool_pre_ping=True)
    app.extensions["mobility.engine"] = engine_
    app.extensions["mobility.sessions"] = make_session_factory(engine_)
    app.teardown_appcontext(_close_session)


def engine() -> Engine:
    """The application's engine."""
    return cast(Engine, current_app.extensions["mobility.engine"])


def session_factory() -> sessionmaker[Session]:
    """The application's session factory (for work outside the request's session)."""
    return cast(sessionmaker[Session], current_app.extensions["mobility.sessions"])


def get_session() -> Session:
    """The session of the current request."""
    if "db_session" not in g:
        g.db_session = session_factory()()
    return cast(Session, g.db_session)


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.rollback()  # anything uncommitted is dropped, never half-written
        session.close()
