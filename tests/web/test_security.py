"""CSRF, security headers, rate limits (Redis when configured), PIN lock-out."""

from __future__ import annotations

import os
import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.web.conftest import csrf_token, register
from web import create_app


@pytest.fixture
def csrf_client(database_url: str) -> FlaskClient:
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "x", "RATELIMIT_ENABLED": False})
    return app.test_client()


def test_form_without_csrf_token_is_rejected(csrf_client: FlaskClient) -> None:
    response = csrf_client.post("/register", data={"language": "fr"})
    assert response.status_code == 400
    assert '<p class="code">' not in response.get_data(as_text=True)


def test_security_headers_are_set(client: FlaskClient) -> None:
    headers = client.get("/").headers
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"


def _limited_app(database_url: str, **extra: Any) -> FlaskClient:
    storage = os.environ.get("MOBILITY_TEST_REDIS_URL", "memory://")
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "x",
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": storage,
            "RATELIMIT_KEY_PREFIX": f"test-{os.urandom(4).hex()}",
            **extra,
        }
    )
    return app.test_client()


def test_registration_is_rate_limited(database_url: str) -> None:
    client = _limited_app(database_url)
    statuses = [
        client.post("/api/v1/workers", json={"language": "fr"}).status_code for _ in range(12)
    ]
    assert statuses[:10] == [201] * 10
    assert statuses[10:] == [429, 429]
    assert client.post("/api/v1/workers", json={}).get_json()["error"]


def test_pin_checks_are_rate_limited_per_address(database_url: str) -> None:
    client = _limited_app(database_url)
    page = client.get("/login").get_data(as_text=True)
    token = csrf_token(page)
    statuses = [
        client.post(
            "/login", data={"csrf_token": token, "code": "AAAAAAAA", "pin": "1"}
        ).status_code
        for _ in range(11)
    ]
    assert statuses[-1] == 429


def test_lockout_after_five_wrong_pins_even_with_limits_off(client: FlaskClient) -> None:
    code, pin = register(client)
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/").get_data(as_text=True))})
    page = client.get("/login").get_data(as_text=True)
    for _ in range(5):
        client.post("/login", data={"csrf_token": csrf_token(page), "code": code, "pin": "0"})
    right = client.post("/login", data={"csrf_token": csrf_token(page), "code": code, "pin": pin})
    assert right.status_code == 200  # stays on the form: locked
    assert client.get("/rides").status_code == 302


def test_worker_codes_and_pins_never_appear_in_urls(client: FlaskClient) -> None:
    code, pin = register(client)
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/").get_data(as_text=True))})
    page = client.get("/login?next=/rides").get_data(as_text=True)
    signed_in = client.post(
        "/login?next=/rides", data={"csrf_token": csrf_token(page), "code": code, "pin": pin}
    )
    assert signed_in.status_code == 302 and signed_in.headers["Location"].endswith("/rides")
    urls = [signed_in.headers["Location"]]
    for path in ["/", "/book", "/rides"]:
        response = client.get(path)
        assert response.status_code == 200, path
        urls += re.findall(r'(?:href|action|src)="([^"]*)"', response.get_data(as_text=True))
    assert len(urls) > 10
    assert [u for u in urls if code in u or pin in u] == []
