"""App, client and helpers for the web tests (a fresh database per test)."""

from __future__ import annotations

import dataclasses
import functools
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mobility.hashing import hash_secret
from mobility.roads import RoadGraph
from mobility.store import Role, StaffUser
from tests.conftest import QUICK
from web import create_app
from web.db import get_session

PASSWORD = "correct horse battery"


@pytest.fixture
def app(database_url: str, tmp_path: Any) -> Iterator[Flask]:
    application = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test",
            "RATELIMIT_ENABLED": False,
        }
    )
    yield application
    application.extensions["mobility.engine"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def quick_planning(app: Flask) -> Flask:
    """Let the app's planning stop when the answer is known (see ``QUICK``)."""
    settings = app.extensions["mobility.settings"]
    app.extensions["mobility.settings"] = dataclasses.replace(settings, planning=QUICK)
    return app


def follow_run(client: FlaskClient, response: Any, *, timeout_s: float = 120) -> str:
    """Follow a POST that queued a planning run to the run's page and reload it, as
    the page itself does, until the run is done or failed; returns that page."""
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    url = response.headers["Location"]
    assert "/dispatch/runs/" in url, url
    deadline = time.monotonic() + timeout_s
    while True:
        page = client.get(url).get_data(as_text=True)
        found = re.search(r'<p class="status">(\w+)', page)
        assert found, page[:500]
        if found.group(1) in ("done", "failed"):
            return page
        assert time.monotonic() < deadline, f"run still {found.group(1)} after {timeout_s} s"
        time.sleep(0.25)


def csrf_token(html: str) -> str:
    """The CSRF token of the first form of a page."""
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert found, "no CSRF token in the page"
    return found.group(1)


def register(client: FlaskClient) -> tuple[str, str]:
    """Register through the page; returns (code, PIN) read off the card."""
    page = client.get("/register").get_data(as_text=True)
    card = client.post(
        "/register", data={"csrf_token": csrf_token(page), "language": "fr"}
    ).get_data(as_text=True)
    code, pin = re.findall(r'<p class="code">([^<]+)</p>', card)
    return code, pin


def api_worker(client: FlaskClient) -> dict[str, str]:
    """A worker registered through the API: its code and PIN."""
    response = client.post("/api/v1/workers", json={"language": "en"})
    assert response.status_code == 201
    return dict(response.get_json())


@pytest.fixture
def staff_app(database_url: str, tiny_osm: Path, tiny_graphs: dict[str, RoadGraph]) -> Flask:
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "staff",
            "RATELIMIT_ENABLED": False,
            "OSM_PATH": str(tiny_osm),
            "PLAN_TIME_LIMIT": 1,
        }
    )
    with app.app_context():
        db = get_session()
        for role in ("admin", "dispatcher", "mediator", "driver"):
            db.add(StaffUser(username=role, password_hash=password_hash(), role=Role(role)))
        db.commit()
    return quick_planning(app)


@functools.cache
def password_hash() -> str:
    """One hash of the test password for every staff account."""
    return hash_secret(PASSWORD)
