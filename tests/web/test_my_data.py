"""My data: a worker sees what is kept, takes it away as JSON, deletes the account."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from mobility.store import Booking, BookingStatus, Worker
from tests.clock import DAY
from tests.web.conftest import csrf_token, register
from web.db import get_session


def _book(client: FlaskClient, code: str, pin: str) -> str:
    stops = {s["name"]: s["id"] for s in client.get("/api/v1/stops").get_json()}
    body = {
        "worker_code": code,
        "pin": pin,
        "date": DAY.isoformat(),
        "from_stop": stops["Borgo Mezzanone"],
        "to_stop": stops["Foggia (centre)"],
        "time": "05:30",
        "seats": 2,
    }
    response = client.post("/api/v1/bookings", json=body)
    assert response.status_code == 201
    return str(response.get_json()[0]["code"])


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_my_data_page_is_in_the_workers_language(client: FlaskClient, language: str) -> None:
    register(client)
    client.set_cookie("lang", language)
    page = client.get("/my-data").get_data(as_text=True)
    title = {"fr": "Mes données", "ar": "بياناتي"}[language]
    assert title in page and ('dir="rtl"' in page) == (language == "ar")
    assert "90" in page and "30" in page  # the policy's own periods


def test_the_download_holds_the_workers_code_rides_and_number(client: FlaskClient) -> None:
    code, pin = register(client)
    booking = _book(client, code, pin)
    page = client.get("/rides").get_data(as_text=True)
    client.post(
        "/rides/sms",
        data={"csrf_token": csrf_token(page), "action": "on", "phone": "+39 333 7654321"},
    )
    download = client.get("/my-data.json")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    data = download.get_json()
    assert data["worker"]["code"] == code and data["worker"]["phone"] == "+393337654321"
    assert [b["code"] for b in data["bookings"]] == [booking]
    assert pin not in download.get_data(as_text=True)  # the PIN is only a hash
    assert set(data) == {"worker", "bookings", "messages"}


def test_deleting_the_account_cancels_erases_and_signs_out(app: Flask, client: FlaskClient) -> None:
    code, pin = register(client)
    booking = _book(client, code, pin)
    page = client.get("/my-data").get_data(as_text=True)
    refused = client.post("/my-data", data={"csrf_token": csrf_token(page)})
    assert refused.status_code == 200 and 'class="error"' in refused.get_data(as_text=True)
    done = client.post("/my-data", data={"csrf_token": csrf_token(page), "confirm": "y"})
    assert done.status_code == 200
    with app.app_context():
        db = get_session()
        assert db.scalar(select(Worker).where(Worker.code == code)) is None
        ride = db.scalar(select(Booking).where(Booking.code == booking))
        assert ride is not None and ride.status is BookingStatus.CANCELLED
        assert ride.worker_id is None  # kept as a count, linked to nobody
    assert client.get("/rides").status_code == 302  # signed out
    login = client.get("/login").get_data(as_text=True)
    again = client.post("/login", data={"csrf_token": csrf_token(login), "code": code, "pin": pin})
    assert again.status_code == 200  # the login page again: the code no longer works
    assert client.get("/my-data.json").status_code == 302
