"""Flask commands: ``flask --app web init-db`` and ``flask --app web create-user``."""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask import Flask

from mobility.dispatch import create_staff_user, set_staff_role
from mobility.errors import ServiceError
from mobility.stops import load_places, load_places_as_stops
from mobility.store import Role, make_session_factory, upgrade_database
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
        """Apply the migrations and load the places and the service destinations
        (hospitals, offices...) as stops (idempotent)."""
        from mobility.service_stops import import_services, load_services

        eng = engine()
        upgrade_database(eng)
        session = make_session_factory(eng)()
        try:
            added = load_places_as_stops(session, load_places(Path(places) if places else None))
            added += import_services(session, load_services())
        finally:
            session.close()
        click.echo(
            f"database ready ({eng.url.render_as_string(hide_password=True)}); {added} stops added"
        )

    @app.cli.command("create-user")
    @click.argument("name")
    @click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
    def create_user(name: str, role: str) -> None:
        """Create a staff account (password from MOBILITY_NEW_USER_PASSWORD or a prompt)."""
        password = os.environ.get("MOBILITY_NEW_USER_PASSWORD") or click.prompt(
            "Password", hide_input=True, confirmation_prompt=True
        )
        session = make_session_factory(engine())()
        try:
            user = create_staff_user(session, name, role, password)
        except ServiceError as err:
            raise click.ClickException(str(err)) from None
        finally:
            session.close()
        click.echo(f"staff user {user.username!r} created with role {role}")

    @app.cli.command("set-role")
    @click.argument("name")
    @click.argument("role", type=click.Choice([r.value for r in Role]))
    def set_role(name: str, role: str) -> None:
        """Give a staff account another role (its open sessions end)."""
        session = make_session_factory(engine())()
        try:
            set_staff_role(session, name, role)
        except ServiceError as err:
            raise click.ClickException(str(err)) from None
        finally:
            session.close()
        click.echo(f"staff user {name!r} now has the role {role}; their sessions ended")
