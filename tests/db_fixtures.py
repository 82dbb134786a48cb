"""Fresh databases for tests: SQLite always; PostgreSQL too when
MOBILITY_TEST_POSTGRES_URL is set (each test in its own schema)."""

from __future__ import annotations

import os
import shutil
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


def _prepare(url: str) -> None:
    engine = make_engine(url)
    upgrade_database(engine)
    session = make_session_factory(engine)()
    load_places_as_stops(session, load_places())
    session.close()
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database with the places, made once: each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    _prepare(f"sqlite:///{path}")
    return path


@contextmanager
def fresh_database(backend: str, tmp_path: Path, template: Path | None = None) -> Iterator[str]:
    """URL of a new, migrated database of ``backend`` with the shared places as stops
    (a SQLite one copied from ``template`` when given)."""
    if backend == "sqlite":
        path = tmp_path / "test.db"
        url = f"sqlite:///{path}"
        cleanup = None
        if template is not None:
            shutil.copyfile(template, path)
            yield url
            return
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

    _prepare(url)
    try:
        yield url
    finally:
        if cleanup:
            cleanup()


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[str]:
    """A fresh database of each backend in turn (SQLite; PostgreSQL when configured)."""
    with fresh_database(request.param, tmp_path, sqlite_template) as url:
        yield url


@pytest.fixture
def production_database_url(tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """A fresh database of the production kind: PostgreSQL when configured."""
    with fresh_database(BACKENDS[-1], tmp_path, sqlite_template) as url:
        yield url


@pytest.fixture
def embedded_database_url(tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """A fresh database of the embedded default: SQLite."""
    with fresh_database("sqlite", tmp_path, sqlite_template) as url:
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
