"""PostgreSQL dropping the app's connections while workers book: requests in flight
get a clear 503, nothing is half-written, the next requests succeed without a
restart."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from mobility.store import Booking, make_engine
from tests.clock import DAY
from tests.db_fixtures import POSTGRES_URL, fresh_database
from tests.web.conftest import csrf_token
from web import create_app
from web.db import get_session


@pytest.fixture
def pg_app(tmp_path: Path) -> Iterator[tuple[Flask, str]]:
    if POSTGRES_URL is None:
        pytest.fail("MOBILITY_TEST_POSTGRES_URL is not set: `.ci/run` sets it")
    with fresh_database("postgresql", tmp_path) as url:
        name = f"faults_{uuid.uuid4().hex[:8]}"  # to find this app's connections
        app = create_app(
            {
                "TESTING": True,
                "DATABASE_URL": f"{url}&application_name={name}",
                "SECRET_KEY": "test",
                "RATELIMIT_ENABLED": False,
                "PROPAGATE_EXCEPTIONS": False,
            }
        )
        yield app, name
        app.extensions["mobility.engine"].dispose()


def _terminate(name: str) -> int:
    assert POSTGRES_URL is not None
    admin = make_engine(POSTGRES_URL)
    try:
        with admin.begin() as conn:
            return len(
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE application_name = :name"
                    ),
                    {"name": name},
                ).all()
            )
    finally:
        admin.dispose()


def _body(app: Flask) -> dict[str, object]:
    client = app.test_client()
    worker = client.post("/api/v1/workers", json={"language": "en"}).get_json()
    stops = {s["name"]: s["id"] for s in client.get("/api/v1/stops").get_json()}
    return {
        "worker_code": worker["code"],
        "pin": worker["pin"],
        "date": DAY.isoformat(),
        "from_stop": stops["Borgo Mezzanone"],
        "to_stop": stops["Foggia (centre)"],
        "time": "05:30",
        "return_time": "17:00",  # two legs: both or neither
        "seats": 1,
    }


def test_connections_dropped_while_booking_lose_nothing_and_need_no_restart(
    pg_app: tuple[Flask, str],
) -> None:
    app, name = pg_app
    bodies = [_body(app) for _ in range(4)]
    answers: list[tuple[int, dict[str, object] | None]] = []
    stop = threading.Event()

    failures: list[BaseException] = []

    def book(body: dict[str, object]) -> None:
        try:
            keep_booking(body)
        except BaseException as exc:  # the test fails on it, not a thread warning
            failures.append(exc)
            raise

    def keep_booking(body: dict[str, object]) -> None:
        client = app.test_client()
        headers = {"X-Worker-Code": str(body["worker_code"]), "X-Worker-Pin": str(body["pin"])}
        while not stop.is_set():
            response = client.post("/api/v1/bookings", json=body)
            answers.append((response.status_code, response.get_json()))
            if response.status_code == 201:  # cancel, so that the next one books again
                for booking in response.get_json():
                    client.delete(f"/api/v1/bookings/{booking['code']}", headers=headers)

    threads = [threading.Thread(target=book, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    killed = 0
    deadline = time.monotonic() + 4
    while time.monotonic() < deadline:
        killed += _terminate(name)
        time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join(30)
    assert killed > 0 and failures == []
    statuses = {status for status, _ in answers}
    assert statuses <= {201, 409, 503}, statuses  # booked, booked already, or unavailable
    assert 503 in statuses  # some requests were in flight when their connection went
    for status, payload in answers:
        if status == 503:
            assert payload == {
                "error": "the service's database does not answer: nothing was saved; try again",
                "field": None,
                "code": "unavailable",
            }
    with app.app_context():
        counts = (
            get_session()
            .execute(
                select(Booking.worker_id, Booking.direction, func.count()).group_by(
                    Booking.worker_id, Booking.direction
                )
            )
            .all()
        )
    per_worker: dict[object, dict[str, int]] = {}
    for worker_id, direction, n in counts:
        per_worker.setdefault(worker_id, {})[direction.value] = n
    for legs_of in per_worker.values():
        assert legs_of.get("to_work", 0) == legs_of.get("back", 0)  # never one leg alone
    # the storm is over: the same app books again at once
    fresh = app.test_client().post("/api/v1/bookings", json={**_body(app)})
    assert fresh.status_code == 201


def test_a_page_in_the_workers_language_when_the_database_is_down() -> None:
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2",
            "SECRET_KEY": "test",
            "RATELIMIT_ENABLED": False,
            "PROPAGATE_EXCEPTIONS": False,
        }
    )
    client = app.test_client()
    client.set_cookie("lang", "fr")
    page = client.get("/register").get_data(as_text=True)
    token = csrf_token(page)
    answer = client.post("/register", data={"csrf_token": token, "language": "fr"})
    assert answer.status_code == 503 and answer.headers["Retry-After"]
    text_ = answer.get_data(as_text=True)
    assert "Rien n'a été enregistré" in text_ and 'lang="fr"' in text_
    api = client.get("/api/v1/stops")
    assert api.status_code == 503 and api.get_json()["code"] == "unavailable"
