"""What the commands share: the database session a command opens, and date parsing."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from mobility.roads import RoadGraph, load_road_graph
from mobility.store import make_engine, make_session_factory, upgrade_database

__all__ = ["Resources", "graph_loader", "parse_date"]


class Resources:
    """The database session a command opened (migrated on first use), closed when the
    command ends, even on an error."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self._engine: Engine | None = None
        self._session: Session | None = None

    def sessions(self) -> sessionmaker[Session]:
        """A session factory on the configured database, the schema upgraded on
        first use."""
        if self._engine is None:
            self._engine = make_engine(self.database_url)
            upgrade_database(self._engine)
        return make_session_factory(self._engine)

    def session(self) -> Session:
        """The command's own session."""
        if self._session is None:
            self._session = self.sessions()()
        return self._session

    def close(self) -> None:
        """Close the session, then dispose of its engine."""
        if self._session is not None:
            self._session.close()
        if self._engine is not None:
            self._engine.dispose()
        self._session = self._engine = None


def db(args: argparse.Namespace) -> Session:
    """The session of the running command."""
    resources: Resources = args.resources
    return resources.session()


def graph_loader() -> Any:
    """``profile -> RoadGraph``, each graph loaded once (building its cache if missing)."""
    cache: dict[str, RoadGraph] = {}

    def load(profile: str) -> RoadGraph:
        if profile not in cache:
            cache[profile] = load_road_graph(profile)
        return cache[profile]

    return load


def parse_date(text: str) -> dt.date:
    """An ISO date for argparse (``YYYY-MM-DD``)."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None
