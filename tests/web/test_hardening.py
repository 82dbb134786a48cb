"""Production hardening, one test per finding of the review (issue 27): each failed
before its fix."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from mobility import hashing
from mobility.bookings import authenticate_worker, register_worker
from mobility.clock import utcnow
from mobility.dispatch import set_staff_password, set_staff_role
from mobility.errors import ServiceError
from mobility.store import AuditLog, StaffUser, Worker, make_engine, make_session_factory
from tests.conftest import RULES
from tests.web.conftest import PASSWORD, csrf_token
from tests.web.test_staff import login
from web.db import get_session


def _book_for(client: FlaskClient, code: str) -> None:
    page = client.get("/dispatch/worker").get_data(as_text=True)
    response = client.post(
        "/dispatch/worker", data={"csrf_token": csrf_token(page), "code": code, "book_for": "1"}
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/book")


def test_a_mediator_booking_for_a_worker_may_book_and_cancel_and_nothing_else(
    staff_app: Flask,
) -> None:
    client = staff_app.test_client()
    worker = client.post("/api/v1/workers", json={"language": "fr"}).get_json()
    login(client, "mediator")
    _book_for(client, worker["code"])
    assert client.get("/book").status_code == 200
    assert client.get("/rides").status_code == 200
    # the worker's data, number and account are not the mediator's
    assert client.get("/my-data.json").status_code == 403
    assert client.get("/my-data").status_code == 403
    token = csrf_token(client.get("/book").get_data(as_text=True))
    assert client.post("/rides/sms", data={"csrf_token": token}).status_code == 403
    assert client.post("/my-data", data={"csrf_token": token}).status_code == 403


def test_a_mediator_s_grant_ends_with_the_staff_sign_out_and_after_30_minutes(
    staff_app: Flask,
) -> None:
    client = staff_app.test_client()
    worker = client.post("/api/v1/workers", json={"language": "fr"}).get_json()
    login(client, "mediator")
    _book_for(client, worker["code"])
    with time_machine.travel(utcnow() + dt.timedelta(minutes=31)):
        assert client.get("/rides").status_code == 302  # to the worker's sign-in
    # (a cookie signed in the future is refused once back: sign in anew)
    client = staff_app.test_client()
    login(client, "mediator")
    _book_for(client, worker["code"])
    assert client.get("/rides").status_code == 200
    home = client.get("/dispatch/worker").get_data(as_text=True)
    client.post("/dispatch/logout", data={"csrf_token": csrf_token(home)})
    response = client.get("/rides")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("target", ["/\t/evil.com", "//evil.com", "/\\evil.com", "http://x.y/"])
def test_staff_sign_in_redirects_only_to_paths_of_the_site(staff_app: Flask, target: str) -> None:
    client = staff_app.test_client()
    page = client.get("/dispatch/login").get_data(as_text=True)
    response = client.post(
        "/dispatch/login",
        query_string={"next": target},
        data={"csrf_token": csrf_token(page), "username": "dispatcher", "password": PASSWORD},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/dispatch/"


def test_a_new_password_or_role_ends_the_account_s_sessions(staff_app: Flask) -> None:
    client = staff_app.test_client()
    login(client, "dispatcher")
    assert client.get("/dispatch/").status_code == 200
    with staff_app.app_context():
        set_staff_password(get_session(), "dispatcher", "another long password")
    assert client.get("/dispatch/").status_code == 302  # signed out
    other = staff_app.test_client()
    login(other, "mediator")
    with staff_app.app_context():
        set_staff_role(get_session(), "mediator", "dispatcher")
    assert other.get("/dispatch/reports").status_code == 302


def test_a_staff_session_ends_after_8_idle_hours(staff_app: Flask) -> None:
    client = staff_app.test_client()
    login(client, "dispatcher")
    now = utcnow()
    with time_machine.travel(now + dt.timedelta(hours=7)):
        assert client.get("/dispatch/").status_code == 200  # in use: the clock restarts
    with time_machine.travel(now + dt.timedelta(hours=7 + 8, minutes=1)):
        assert client.get("/dispatch/").status_code == 302


def test_five_wrong_staff_passwords_lock_the_account_for_a_while(staff_app: Flask) -> None:
    client = staff_app.test_client()
    for _ in range(5):
        page = client.get("/dispatch/login").get_data(as_text=True)
        client.post(
            "/dispatch/login",
            data={"csrf_token": csrf_token(page), "username": "driver", "password": "wrong one!"},
        )
    page = client.get("/dispatch/login").get_data(as_text=True)
    refused = client.post(
        "/dispatch/login",
        data={"csrf_token": csrf_token(page), "username": "driver", "password": PASSWORD},
    )
    assert refused.status_code == 200  # the form again: locked, even for the right password
    with time_machine.travel(utcnow() + dt.timedelta(minutes=16)):
        login(client, "driver")


def test_parallel_wrong_pins_check_at_most_five_pins(
    production_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(production_database_url)
    sessions = make_session_factory(engine)
    with sessions() as db:
        worker, _ = register_worker(db)
        code = worker.code
    checks: list[int] = []
    real = hashing.check_secret

    def counted(stored: str, given: str) -> bool:
        checks.append(1)
        return real(stored, given)

    monkeypatch.setattr("mobility.bookings.workers.check_secret", counted)
    start = threading.Barrier(12)

    def attempt() -> None:
        with sessions() as db:
            start.wait()
            with contextlib.suppress(ServiceError):
                authenticate_worker(db, code, "000000", rules=RULES)

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with sessions() as db:
        locked = db.scalar(select(Worker).where(Worker.code == code))
        assert locked is not None and locked.locked_until is not None
    engine.dispose()
    assert len(checks) <= 5


def test_delete_sessions_revokes_every_token_of_the_worker(client: FlaskClient) -> None:
    worker = client.post("/api/v1/workers", json={"language": "en"}).get_json()
    tokens = [
        client.post(
            "/api/v1/sessions", json={"code": worker["code"], "pin": worker["pin"]}
        ).get_json()["token"]
        for _ in range(2)
    ]
    mine = "/api/v1/workers/me/bookings"
    assert client.get(mine, headers={"Authorization": f"Bearer {tokens[1]}"}).status_code == 200
    gone = client.delete("/api/v1/sessions", headers={"Authorization": f"Bearer {tokens[0]}"})
    assert gone.status_code == 204
    for token in tokens:
        refused = client.get(mine, headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code == 401 and refused.get_json()["field"] == "Authorization"
    fresh = client.post("/api/v1/sessions", json={"code": worker["code"], "pin": worker["pin"]})
    token = fresh.get_json()["token"]
    assert client.get(mine, headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_the_day_page_its_map_layers_and_its_messages_are_in_the_audit_log(
    staff_app: Flask,
) -> None:
    from tests.clock import DAY
    from tests.web.test_staff import planned_by_dispatcher, seed_day

    seed_day(staff_app)
    client, _ = planned_by_dispatcher(staff_app)
    day = DAY.isoformat()
    for url in (f"/dispatch/?date={day}", f"/dispatch/map/{day}.json", f"/dispatch/messages/{day}"):
        assert client.get(url).status_code == 200
    with staff_app.app_context():
        logged = {(a.action, a.detail) for a in get_session().scalars(select(AuditLog))}
    assert {("view_day", day), ("view_plan_layers", day), ("view_messages", day)} <= logged


def test_a_database_error_never_carries_the_statement_s_parameters(database_url: str) -> None:
    from sqlalchemy.exc import DBAPIError

    engine = make_engine(database_url)
    with engine.connect() as conn, pytest.raises(DBAPIError) as caught:
        conn.execute(
            select(StaffUser)
            .where(StaffUser.username == "+39 333 1234567")
            .where(text("no_such_column = 1"))
        )
    engine.dispose()
    assert "1234567" not in str(caught.value)
