"""The database session of a request (one per request, closed at teardown), and what
a request gets when the database does not answer: 503, nothing half-written (the
request's transaction is rolled back), and the next request on a new connection (the
pool checks each connection before use, so no restart is needed)."""

from __future__ import annotations

from typing import cast

from flask import Flask, current_app, g
from flask.typing import ResponseReturnValue
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from mobility.store import make_engine, make_session_factory

__all__ = ["engine", "get_session", "init_app", "session_factory"]


def init_app(app: Flask) -> None:
    """Create the engine and session factory; close sessions after each request."""
    engine_ = make_engine(app.extensions["mobility.settings"].database_url, pool_pre_ping=True)
    app.extensions["mobility.engine"] = engine_
    app.extensions["mobility.sessions"] = make_session_factory(engine_)
    app.teardown_appcontext(_close_session)
    app.register_error_handler(DBAPIError, _database_fault)


def _database_fault(err: DBAPIError) -> ResponseReturnValue:
    """A lost or refused database connection is a 503; any other database error is
    the bug it is (500)."""
    from web.errors import unavailable

    _discard(g.pop("db_session", None))
    lost = isinstance(err, OperationalError | InterfaceError) or err.connection_invalidated
    if not lost:
        raise err
    current_app.logger.warning("database fault: %s", str(err).splitlines()[0])
    return unavailable()


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
    _discard(g.pop("db_session", None))


def _discard(session: Session | None) -> None:
    """Roll back what the request left uncommitted (never half-written) and close; a
    connection that died with its transaction is dropped from the pool."""
    if session is None:
        return
    try:
        session.rollback()
        session.close()
    except DBAPIError:
        session.invalidate()
