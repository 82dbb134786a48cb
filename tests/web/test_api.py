"""JSON API: bookings, auth headers, JSON errors naming the field, idempotency, OpenAPI."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.clock import DAY
from tests.web.conftest import api_worker


def stop_ids(client: FlaskClient) -> dict[str, int]:
    return {s["name"]: s["id"] for s in client.get("/api/v1/stops").get_json()}


def booking_body(client: FlaskClient, worker: dict[str, str], **extra: object) -> dict:
    ids = stop_ids(client)
    body = {
        "worker_code": worker["code"],
        "pin": worker["pin"],
        "date": DAY.isoformat(),
        "direction": "to_work",
        "from_stop": ids["Borgo Mezzanone"],
        "to_stop": ids["Foggia (centre)"],
        "time": "05:30",
        "seats": 1,
    }
    body.update(extra)
    return body


def headers(worker: dict[str, str]) -> dict[str, str]:
    return {"X-Worker-Code": worker["code"], "X-Worker-Pin": worker["pin"]}


def test_stops_lists_only_placed_active_stops(client: FlaskClient) -> None:
    stops = client.get("/api/v1/stops").get_json()
    names = {s["name"] for s in stops}
    assert "Borgo Mezzanone" in names and "Palmori" not in names
    assert all(s["lat"] is not None for s in stops)
    assert all("category" in s and s["kind"] for s in stops)  # null for non-service stops


def test_book_then_read_then_cancel(client: FlaskClient) -> None:
    worker = api_worker(client)
    created = client.post("/api/v1/bookings", json=booking_body(client, worker))
    assert created.status_code == 201
    (booking,) = created.get_json()
    assert booking["status"] == "requested" and booking["time"] == "05:30"
    read = client.get(f"/api/v1/bookings/{booking['code']}", headers=headers(worker))
    assert read.status_code == 200 and read.get_json()["code"] == booking["code"]
    mine = client.get("/api/v1/workers/me/bookings", headers=headers(worker)).get_json()
    assert [b["code"] for b in mine] == [booking["code"]]
    gone = client.delete(f"/api/v1/bookings/{booking['code']}", headers=headers(worker))
    assert gone.status_code == 200 and gone.get_json()[0]["status"] == "cancelled"


def test_bad_input_is_json_with_the_field(client: FlaskClient) -> None:
    worker = api_worker(client)
    cases = {
        "seats": booking_body(client, worker, seats=0),
        "date": booking_body(client, worker, date="not-a-date"),
        "time": booking_body(client, worker, time="25:99"),
        "to_stop": booking_body(client, worker, to_stop=999_999),
        "direction": booking_body(client, worker, direction="sideways"),
    }
    for field, body in cases.items():
        response = client.post("/api/v1/bookings", json=body)
        assert 400 <= response.status_code < 500, field
        payload = response.get_json()
        assert payload["field"] == field and payload["error"], field
        assert set(payload) == {"error", "field", "code"} and payload["code"], field
    assert client.get("/api/v1/workers/me/bookings", headers=headers(worker)).get_json() == []


def test_wrong_pin_is_401_and_says_nothing_more(client: FlaskClient) -> None:
    worker = api_worker(client)
    other_pin = f"{(int(worker['pin']) + 1) % 10**6:06d}"
    wrong = client.post("/api/v1/bookings", json=booking_body(client, worker, pin=other_pin))
    unknown = client.post(
        "/api/v1/bookings", json=booking_body(client, worker, worker_code="ZZZZZZZZ")
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json()


def test_someone_elses_booking_is_not_found(client: FlaskClient) -> None:
    owner, other = api_worker(client), api_worker(client)
    (booking,) = client.post("/api/v1/bookings", json=booking_body(client, owner)).get_json()
    assert (
        client.get(f"/api/v1/bookings/{booking['code']}", headers=headers(other)).status_code == 404
    )
    assert (
        client.delete(f"/api/v1/bookings/{booking['code']}", headers=headers(other)).status_code
        == 404
    )


def test_idempotency_key_makes_a_retry_book_once(client: FlaskClient) -> None:
    worker = api_worker(client)
    body = booking_body(client, worker)
    first = client.post("/api/v1/bookings", json=body, headers={"Idempotency-Key": "k-1"})
    retry = client.post("/api/v1/bookings", json=body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == retry.status_code == 201
    assert first.get_json() == retry.get_json()
    assert len(client.get("/api/v1/workers/me/bookings", headers=headers(worker)).get_json()) == 1


def test_duplicate_direction_is_409(client: FlaskClient) -> None:
    worker = api_worker(client)
    client.post("/api/v1/bookings", json=booking_body(client, worker))
    again = client.post("/api/v1/bookings", json=booking_body(client, worker, time="06:00"))
    assert again.status_code == 409 and again.get_json()["field"] == "date"


def test_missing_auth_headers_is_401(client: FlaskClient) -> None:
    response = client.get("/api/v1/workers/me/bookings")
    assert response.status_code == 401 and response.get_json()["field"] == "X-Worker-Code"


def test_openapi_document_is_generated(client: FlaskClient) -> None:
    doc = client.get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert {"/api/v1/stops", "/api/v1/bookings", "/api/v1/workers/me/bookings"} <= set(doc["paths"])


def test_registration_returns_a_code_and_a_pin_and_checks_the_language(
    client: FlaskClient,
) -> None:
    worker = api_worker(client)
    assert len(worker["code"]) >= 8 and worker["pin"].isdigit()
    bad = client.post("/api/v1/workers", json={"language": "klingon"})
    assert bad.status_code == 400 and bad.get_json()["field"] == "language"


def test_a_session_token_stands_for_the_worker_without_the_pin(client: FlaskClient) -> None:
    worker = api_worker(client)
    opened = client.post("/api/v1/sessions", json={"code": worker["code"], "pin": worker["pin"]})
    assert opened.status_code == 201
    session = opened.get_json()
    assert session["token_type"] == "Bearer" and session["expires_in"] == 1800
    bearer = {"Authorization": f"Bearer {session['token']}"}
    body = booking_body(client, worker)
    del body["worker_code"], body["pin"]
    created = client.post("/api/v1/bookings", json=body, headers=bearer)
    assert created.status_code == 201
    (booking,) = created.get_json()
    mine = client.get("/api/v1/workers/me/bookings", headers=bearer).get_json()
    assert [b["code"] for b in mine] == [booking["code"]]
    other = api_worker(client)
    other_token = client.post(
        "/api/v1/sessions", json={"code": other["code"], "pin": other["pin"]}
    ).get_json()["token"]
    hidden = client.get(
        f"/api/v1/bookings/{booking['code']}", headers={"Authorization": f"Bearer {other_token}"}
    )
    assert hidden.status_code == 404  # a token reads only its own worker's bookings


def test_a_forged_or_expired_token_is_401_naming_authorization(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import itsdangerous

    worker = api_worker(client)
    token = client.post(
        "/api/v1/sessions", json={"code": worker["code"], "pin": worker["pin"]}
    ).get_json()["token"]
    forged = client.get(
        "/api/v1/workers/me/bookings", headers={"Authorization": f"Bearer {token[:-2]}xx"}
    )
    assert forged.status_code == 401 and forged.get_json()["field"] == "Authorization"
    # 31 minutes later the same token no longer opens anything
    real_time = itsdangerous.timed.time.time
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real_time() + 31 * 60)
    expired = client.get(
        "/api/v1/workers/me/bookings", headers={"Authorization": f"Bearer {token}"}
    )
    assert expired.status_code == 401 and expired.get_json() == forged.get_json()


def test_a_session_needs_the_right_pin_and_counts_towards_the_lockout(client: FlaskClient) -> None:
    worker = api_worker(client)
    other_pin = f"{(int(worker['pin']) + 1) % 10**6:06d}"
    for _ in range(5):
        wrong = client.post("/api/v1/sessions", json={"code": worker["code"], "pin": other_pin})
        assert wrong.status_code == 401 and "token" not in wrong.get_json()
    locked = client.post("/api/v1/sessions", json={"code": worker["code"], "pin": worker["pin"]})
    assert locked.status_code == 401  # five wrong PINs lock the code, right PIN or not


def error_of(response: object) -> tuple[int, str | None, str]:
    payload = response.get_json()  # type: ignore[attr-defined]
    assert set(payload) == {"error", "field", "code"} and payload["error"]
    return response.status_code, payload["field"], payload["code"]  # type: ignore[attr-defined]


def test_every_kind_of_error_is_the_one_json_document(app: Flask, client: FlaskClient) -> None:
    post = client.post
    assert error_of(
        post("/api/v1/bookings", data="{not json", content_type="application/json")
    ) == (
        400,
        None,
        "invalid_body",
    )
    assert error_of(post("/api/v1/bookings", json=[1, 2])) == (400, None, "invalid_body")
    assert error_of(post("/api/v1/workers", data="language=it")) == (
        415,
        None,
        "unsupported_media_type",
    )
    missing = post("/api/v1/bookings", json={"time": "05:30"})
    assert error_of(missing)[2] == "missing"
    assert error_of(client.get("/api/v1/nowhere")) == (404, None, "not_found")
    wrong_method = client.put("/api/v1/stops")
    assert error_of(wrong_method) == (405, None, "method_not_allowed")
    assert "GET" in wrong_method.headers["Allow"]
    huge = post("/api/v1/workers", json={"language": "it", "pad": "x" * 70_000})
    assert error_of(huge) == (413, None, "too_large")
    empty_time = booking_body(client, api_worker(client), time="")
    assert error_of(post("/api/v1/bookings", json=empty_time))[1:] == ("time", "invalid")
    # a page keeps its own error page
    page = client.get("/no-such-page")
    assert page.status_code == 404 and "text/html" in page.content_type


def test_an_unexpected_fault_is_a_json_500_and_not_a_trace(app: Flask) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def broken() -> list[object]:
        raise RuntimeError("the database went away")

    app.view_functions["api.stops"] = broken
    response = app.test_client().get("/api/v1/stops")
    assert error_of(response) == (500, None, "internal_error")
    assert "database" not in response.get_data(as_text=True)


def test_the_document_declares_the_error_shape_and_the_formats(client: FlaskClient) -> None:
    doc = client.get("/api/openapi.json").get_json()
    error = doc["components"]["schemas"]["Error"]
    assert set(error["properties"]) == {"error", "field", "code"}
    booking = doc["components"]["schemas"]["NewBooking"]["properties"]
    assert booking["time"]["pattern"] and booking["date"]["format"] == "date"
    assert booking["seats"]["minimum"] == 1 and booking["seats"]["maximum"] == 28
    worker = doc["components"]["schemas"]["NewWorker"]["properties"]
    assert worker["phone"]["pattern"]
