"""Flask commands: ``flask --app web init-db``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask

from mobility.places import load_places
from mobility.services import load_places_as_stops
from mobility.store import make_session_factory, upgrade_database
from web.db import engine

__all__ = ["init_cli"]


def init_cli(app: Flask) -> None:
    """Register the commands."""

    @app.cli.command("init-db")
    @click.option(
        "--places",
        type=click.Path(dir_okay=False),
        default=None,
        help="places CSV (default ../shared/data/places_foggia.csv)",
    )
    def init_db(places: str | None) -> None:
        """Apply the migrations and load the places as stops (idempotent)."""
        eng = engine()
        upgrade_database(eng)
        session = make_session_factory(eng)()
        try:
            added = load_places_as_stops(session, load_places(Path(places) if places else None))
        finally:
            session.close()
        click.echo(
            f"database ready ({eng.url.render_as_string(hide_password=True)}); {added} stops added"
        )
