"""Fresh databases for tests: SQLite always; PostgreSQL too when
MOBILITY_TEST_POSTGRES_URL is set (each test in its own schema)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from mobility.stops import load_places, load_places_as_stops
from mobility.store import make_engine, make_session_factory, upgrade_database

POSTGRES_URL = os.environ.get("MOBILITY_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"]


def _postgres_url(schema: str) -> str:
    assert POSTGRES_URL is not None
    sep = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"


@contextmanager
def fresh_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """URL of a new, migrated database of ``backend`` with the shared places as stops."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
        cleanup = None
    else:
        assert POSTGRES_URL is not None
        schema = f"t_{uuid.uuid4().hex[:12]}"
        admin = make_engine(POSTGRES_URL)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = _postgres_url(schema)

        def cleanup() -> None:
            # a connection left open by the test would block the drop: fail, not hang
            with admin.begin() as conn:
                conn.execute(text("SET LOCAL lock_timeout = '20s'"))
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()

    engine = make_engine(url)
    upgrade_database(engine)
    session = make_session_factory(engine)()
    load_places_as_stops(session, load_places())
    session.close()
    engine.dispose()
    try:
        yield url
    finally:
        if cleanup:
            cleanup()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database of each backend in turn (SQLite; PostgreSQL when configured)."""
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def production_database_url(tmp_path: Path) -> Iterator[str]:
    """A fresh database of the production kind: PostgreSQL when configured."""
    with fresh_database(BACKENDS[-1], tmp_path) as url:
        yield url


@pytest.fixture
def embedded_database_url(tmp_path: Path) -> Iterator[str]:
    """A fresh database of the embedded default: SQLite."""
    with fresh_database("sqlite", tmp_path) as url:
        yield url


@pytest.fixture
def production_db(production_database_url: str) -> Iterator[Session]:
    """A session on a fresh database of the production kind."""
    engine = make_engine(production_database_url)
    session = make_session_factory(engine)()
    yield session
    session.close()
    engine.dispose()


@pytest.fixture
def embedded_db(embedded_database_url: str) -> Iterator[Session]:
    """A session on a fresh SQLite database."""
    engine = make_engine(embedded_database_url)
    session = make_session_factory(engine)()
    yield session
    session.close()
    engine.dispose()


@pytest.fixture
def db(database_url: str) -> Iterator[Session]:
    """A session on a fresh database."""
    engine = make_engine(database_url)
    session = make_session_factory(engine)()
    yield session
    session.close()
    engine.dispose()
