"""The application as a whole: settings checked at start-up, the web app never
building a road graph."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from flask import Flask

from mobility.paths import DATA_DIR
from tests.conftest import write_osm
from tests.web.conftest import PASSWORD, csrf_token
from tests.web.test_staff import login
from web import create_app
from web.settings import SettingsError, get_settings


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("BOOKING_CUTOFF", "25:00", "MOBILITY_BOOKING_CUTOFF: '25:00' is not HH:MM"),
        ("TIMEZONE", "Mars/Olympus", "MOBILITY_TIMEZONE: unknown time zone"),
        ("PLAN_TIME_LIMIT", "soon", "MOBILITY_PLAN_TIME_LIMIT: 'soon' is not a number"),
        ("CREW_MAX_SEATS", 0, "MOBILITY_CREW_MAX_SEATS: 0.0 is not between 1 and 90"),
        ("BASE_URL", "hub.example/x", "MOBILITY_BASE_URL: 'hub.example/x' is not an http"),
    ],
)
def test_a_bad_setting_stops_the_app_at_start_naming_the_variable(
    database_url: str, key: str, value: object, message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        create_app({"DATABASE_URL": database_url, "SECRET_KEY": "x", key: value})


def test_settings_are_built_once_from_the_configuration(database_url: str) -> None:
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "x",
            "BOOKING_CUTOFF": "19:30",
            "PLAN_TIME_LIMIT": 45,
            "APPOINTMENT_MARGIN": 15,
            "KEEP_BOOKINGS_DAYS": 60,
            "TIMEZONE": "Europe/Rome",
            "CREW_MAX_SEATS": 20,
            "HUB_PHONE": "+39 0881 123456",
            "BASE_URL": "https://passaggio.example.org/",
        }
    )
    with app.app_context():
        settings = get_settings()
        assert settings.booking.cutoff == dt.time(19, 30)
        # the crew maximum groups the planner's requests too; one phone, one address
        assert settings.booking.max_seats == settings.planning.max_group_seats == 20
        assert settings.hub_phone == "+39 0881 123456"
        assert settings.base_url == "https://passaggio.example.org"
        assert settings.planning.time_limit_s == 45
        assert settings.planning.appointment_margin_min == 15
        assert settings.retention.bookings_days == 60
    assert app.config["BABEL_DEFAULT_TIMEZONE"] == "Europe/Rome"


def test_without_a_road_graph_cache_the_page_names_the_build_command(
    database_url: str, tmp_path: Path
) -> None:
    # an extract nobody has built caches for: the app must not build them itself
    fresh = write_osm(tmp_path / "never_built.osm", {"A": (41.0, 15.0), "B": (41.01, 15.0)}, [])
    fresh.write_text(fresh.read_text() + f"<!-- {tmp_path.name} -->", encoding="utf-8")
    app: Flask = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "x",
            "RATELIMIT_ENABLED": False,
            "OSM_PATH": str(fresh),
        }
    )
    runner = app.test_cli_runner()
    runner.invoke(
        args=["create-user", "disp", "--role", "dispatcher"],
        env={"MOBILITY_NEW_USER_PASSWORD": PASSWORD},
    )
    client = app.test_client()
    login(client, "disp")
    page = client.get("/dispatch/stops").get_data(as_text=True)
    response = client.post(
        "/dispatch/stops",
        data={
            "csrf_token": csrf_token(page),
            "name": "Placed by hand",
            "kind": "settlement",
            "lat": "41.005",
            "lon": "15.0",
            "active": "y",
        },
    )
    assert response.status_code == 503
    assert "mobility graph build" in response.get_data(as_text=True)
    assert not list((DATA_DIR / "cache").glob("never_built-*"))


@pytest.mark.parametrize("key", [None, "secret", "a" * 64])
def test_production_refuses_to_start_without_a_real_secret_key(
    database_url: str, key: str | None
) -> None:
    config = {"DATABASE_URL": database_url, "ENV": "production"}
    if key is not None:
        config["SECRET_KEY"] = key
    with pytest.raises(SettingsError, match="MOBILITY_SECRET_KEY"):
        create_app(config)


def _production(database_url: str, **extra: object) -> dict[str, object]:
    """A production configuration that starts (each test then spoils one setting)."""
    import secrets

    return {
        "DATABASE_URL": database_url,
        "ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "TRUSTED_PROXIES": 1,
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/1",
        "SMS_BACKEND": "log",
        **extra,
    }


def test_production_starts_with_a_random_secret_key(database_url: str) -> None:
    config = _production(database_url)
    app = create_app(config)
    assert app.secret_key == config["SECRET_KEY"]


@pytest.mark.parametrize(
    ("spoil", "variable"),
    [
        ({"TRUSTED_PROXIES": None}, "MOBILITY_TRUSTED_PROXIES"),
        ({"TRUSTED_PROXIES": "two"}, "MOBILITY_TRUSTED_PROXIES"),
        ({"RATELIMIT_STORAGE_URI": "memory://", "WEB_CONCURRENCY": 3}, "MOBILITY_RATELIMIT"),
        ({"SMS_BACKEND": None}, "MOBILITY_SMS_BACKEND"),
    ],
)
def test_production_refuses_unsafe_settings_naming_the_variable(
    database_url: str, spoil: dict[str, object], variable: str
) -> None:
    config = {k: v for k, v in {**_production(database_url), **spoil}.items() if v is not None}
    with pytest.raises(SettingsError, match=variable):
        create_app(config)


def test_production_cookies_go_only_over_https_with_hsts(database_url: str) -> None:
    app = create_app(_production(database_url, RATELIMIT_ENABLED=False))
    response = app.test_client().get("/", headers={"X-Forwarded-Proto": "https"})
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
