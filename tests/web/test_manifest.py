"""The driver's manifest: links, the page, taps recorded once, outcomes."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from mobility.clock import zone
from mobility.config import UnitCosts
from mobility.dispatch import (
    day_outcomes,
    latest_plan,
    link_of,
    publish_plan,
    revoke_link,
    ride_outcomes,
)
from mobility.outputs import month_period, region_figures
from mobility.store import Booking, RoadEvent, Vehicle
from tests.clock import DAY
from tests.web.conftest import quick_planning
from tests.web.test_staff import planned_by_dispatcher, seed_day
from web.db import get_session

ROME = zone("Europe/Rome")


def _published_day(app: Flask) -> tuple[str, str]:
    """The seeded day planned and published; (a booking code, MB-1's manifest path)."""
    code, _ = seed_day(app)
    quick_planning(app)
    planned_by_dispatcher(app)
    with app.app_context():
        db = get_session()
        publish_plan(db, DAY)
        vehicle = db.scalar(select(Vehicle).where(Vehicle.name == "MB-1"))
        assert vehicle is not None
        token = link_of(db, DAY, vehicle, str(app.config["SECRET_KEY"]))
    return code, f"/driver/m/{token}"


def _at(minutes: int) -> str:
    return dt.datetime.combine(DAY, dt.time(minutes // 60, minutes % 60), ROME).isoformat()


def _data(page: str) -> tuple[int, list[tuple[int, int]]]:
    """(plan version, [(stop seq, time s)]) read off the manifest page."""
    version = int(re.search(r'data-version="(\d+)"', page).group(1))  # type: ignore[union-attr]
    stops = [(int(a), int(b)) for a, b in re.findall(r'data-seq="(\d+)" data-time="(\d+)"', page)]
    return version, stops


def _boarding_stop(page: str, code: str) -> tuple[int, int]:
    """(stop seq, time told in s) of the stop where ``code`` boards."""
    for seq, time, body in re.findall(
        r'<li class="stop" data-seq="(\d+)" data-time="(\d+)">(.*?)</li>', page, re.S
    ):
        if f'data-kind="boarded" data-stop="{seq}" data-booking="{code}"' in body:
            return int(seq), int(time)
    raise AssertionError(f"{code} boards nowhere on this manifest")


def test_the_link_opens_the_vehicle_s_manifest_with_codes_and_no_names(staff_app: Flask) -> None:
    _, path = _published_day(staff_app)
    client = staff_app.test_client()
    page = client.get(path).get_data(as_text=True)
    assert "MB-1" in page and "Inizio turno" in page and "Arrivato" in page  # Italian first
    with staff_app.app_context():
        rides = {
            b.code
            for b in get_session().scalars(select(Booking).where(Booking.service_date == DAY))
        }
    shown = set(re.findall(r'data-booking="([A-Z0-9]+)"', page))
    assert shown and shown <= rides
    assert "3331234567" not in page and "geo:" in page and "openstreetmap.org" in page
    client.get(f"/lang/en?next={path}")
    english = client.get(path).get_data(as_text=True)
    names = set(re.findall(r"<button[^>]*>([^<]+)</button>", english))
    assert {"Start shift", "Arrived", "Boarded", "No-show", "Departed", "Alighted"} <= names
    assert "End shift" in names
    script = client.get("/driver/static/manifest.js").get_data()
    assert len(page.encode()) + len(script) < 60_000


def test_a_forged_revoked_or_past_link_gets_a_clear_page(staff_app: Flask) -> None:
    _, path = _published_day(staff_app)
    client = staff_app.test_client()
    forged = client.get(path[:-3] + "abc")
    said = forged.get_data(as_text=True)
    assert forged.status_code == 403 and "Questo link non apre un foglio di marcia" in said
    later = dt.datetime.combine(DAY + dt.timedelta(days=1), dt.time(9), ROME)
    with time_machine.travel(later):
        assert client.get(path).status_code == 403  # the shift of that day is over
    with staff_app.app_context():
        db = get_session()
        new = revoke_link(db, DAY, "MB-1", str(staff_app.config["SECRET_KEY"]))
    assert client.get(path).status_code == 403
    assert client.get(f"/driver/m/{new}").status_code == 200


def _send(client: FlaskClient, path: str, events: list[dict[str, object]]) -> dict:
    response = client.post(f"{path}/events", json={"events": events})
    assert response.status_code == 200, response.get_data(as_text=True)
    return dict(response.get_json())


def test_taps_are_kept_once_however_often_and_by_however_many_phones(staff_app: Flask) -> None:
    _, path = _published_day(staff_app)
    phone, other = staff_app.test_client(), staff_app.test_client()
    _, stops = _data(phone.get(path).get_data(as_text=True))
    seq, told = stops[0]
    taps = [
        {"key": "start-000001", "kind": "shift_start", "at": _at(170), "odometer_km": 12034.5},
        {"key": "arrive-00001", "kind": "arrived", "at": _at(told // 60), "stop": seq},
    ]
    first = _send(phone, path, taps)
    assert first["accepted"] == ["start-000001", "arrive-00001"]
    again = _send(phone, path, taps)  # the phone had no answer and sends its queue again
    assert again["accepted"] == [] and again["duplicates"] == ["start-000001", "arrive-00001"]
    assert _send(other, path, taps[1:])["duplicates"] == ["arrive-00001"]  # a second phone
    with staff_app.app_context():
        count = get_session().scalar(select(func.count()).select_from(RoadEvent))
    assert count == 2


def test_the_rules_of_the_road_no_show_after_the_wait_far_arrivals_undo(staff_app: Flask) -> None:
    code, path = _published_day(staff_app)
    client = staff_app.test_client()
    page = client.get(path).get_data(as_text=True)
    seq, told = _boarding_stop(page, code)
    no_show = {"kind": "no_show", "stop": seq, "booking": code}
    early = _send(client, path, [{**no_show, "key": "noshow-early", "at": _at(told // 60 + 2)}])
    assert [r["code"] for r in early["refused"]] == ["no_show_too_early"]
    late = _send(client, path, [{**no_show, "key": "noshow-late1", "at": _at(told // 60 + 6)}])
    assert late["accepted"] == ["noshow-late1"]
    far = {
        "key": "far-arrived1",
        "kind": "arrived",
        "stop": seq,
        "at": _at(told // 60),
        "lat": 41.0,
        "lon": 15.0,
    }
    assert [r["code"] for r in _send(client, path, [far])["refused"]] == ["far_from_stop"]
    assert _send(client, path, [{**far, "confirm_far": True}])["accepted"] == ["far-arrived1"]
    undo = {"kind": "undo", "undoes": "noshow-late1"}
    too_late = _send(client, path, [{**undo, "key": "undo-late-01", "at": _at(told // 60 + 9)}])
    assert [r["code"] for r in too_late["refused"]] == ["undo_too_late"]
    in_time = _send(client, path, [{**undo, "key": "undo-early-1", "at": _at(told // 60 + 7)}])
    assert in_time["accepted"] == ["undo-early-1"]
    with staff_app.app_context():
        flagged = get_session().scalar(select(RoadEvent).where(RoadEvent.key == "far-arrived1"))
        assert flagged is not None and flagged.far_m and flagged.far_m > 500
        rows = {r["booking"]: r for r in day_outcomes(get_session(), DAY, timezone="Europe/Rome")}
    assert rows[code]["outcome"] is None  # the no-show was undone: nothing known yet


def test_outcomes_come_from_the_taps(
    staff_app: Flask, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, path = _published_day(staff_app)
    client = staff_app.test_client()
    page = client.get(path).get_data(as_text=True)
    seq, told = _boarding_stop(page, code)
    boarded = {
        "kind": "boarded",
        "stop": seq,
        "booking": code,
        "seats": 5,
        "at": _at(told // 60 + 1),
    }
    _send(client, path, [{**boarded, "key": "boarded-0001"}])
    _send(client, path, [{"key": "end-00000001", "kind": "shift_end", "at": _at(13 * 60)}])
    from mobility.cli import main

    monkeypatch.setenv("MOBILITY_DATABASE_URL", staff_app.config["DATABASE_URL"])
    assert main(["outcomes", "--date", DAY.isoformat(), "--json"]) == 0
    rows = {r["booking"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows[code]["outcome"] == "completed" and rows[code]["seats_boarded"] == 5
    assert rows[code]["vehicle"] == "MB-1" and rows[code]["told_s"] == told
    assert rows[code]["boarded_s"] == (told // 60 + 1) * 60
    others = [r for c, r in rows.items() if c != code and r["vehicle"] == "MB-1"]
    assert others and all(r["outcome"] == "missed_by_service" for r in others)  # shift ended
    with staff_app.app_context():  # what the workers' pages show of them
        db = get_session()
        theirs = list(db.scalars(select(Booking).where(Booking.service_date == DAY)))
        shown = ride_outcomes(db, theirs, timezone="Europe/Rome")
    assert {shown[r["booking"]][0] for r in others} == {"missed_by_service"}
    # the Region's report counts what was driven: 5 seats boarded, the missed apart
    with staff_app.app_context():
        report = region_figures(
            get_session(),
            month_period(f"{DAY.year}-{DAY.month:02d}"),
            costs=UnitCosts(),
            timezone="Europe/Rome",
        )
    assert report["rides"]["completed_seats"] == 5
    assert report["outcomes"]["missed_by_service_bookings"] == len(others)
    assert report["outcomes"]["no_show_bookings"] == 0


def test_drivers_links_command_prints_absolute_links(
    staff_app: Flask, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, path = _published_day(staff_app)
    from mobility.cli import main

    monkeypatch.setenv("MOBILITY_DATABASE_URL", staff_app.config["DATABASE_URL"])
    monkeypatch.setenv("MOBILITY_SECRET_KEY", str(staff_app.config["SECRET_KEY"]))
    monkeypatch.setenv("MOBILITY_BASE_URL", "https://hub.example.org")
    assert main(["drivers", "links", "--date", DAY.isoformat(), "--json"]) == 0
    links = {link["vehicle"]: link["url"] for link in json.loads(capsys.readouterr().out)}
    assert links["MB-1"] == f"https://hub.example.org{path}"


def test_the_day_page_shows_the_road_and_a_driver_s_no_show_waits_for_a_dispatcher(
    staff_app: Flask,
) -> None:
    from tests.web.conftest import csrf_token
    from tests.web.test_staff import login

    code, path = _published_day(staff_app)
    phone = staff_app.test_client()
    seq, told = _boarding_stop(phone.get(path).get_data(as_text=True), code)
    tap = {"key": "noshow-00001", "kind": "no_show", "stop": seq, "booking": code}
    _send(phone, path, [{**tap, "at": _at(told // 60 + 6)}])
    desk = staff_app.test_client()
    login(desk, "dispatcher")
    road = desk.get(f"/dispatch/road/{DAY.isoformat()}?partial=1").get_data(as_text=True)
    assert "MB-1" in road and code in road and path in road  # the link, the waiting no-show
    arrived = {"key": "arrived-0001", "kind": "arrived", "stop": seq, "at": _at(told // 60 + 3)}
    _send(phone, path, [arrived])
    home = desk.get(f"/dispatch/?date={DAY.isoformat()}").get_data(as_text=True)
    assert 'id="road"' in home
    # the timeline shows the stop's lateness against the plan, from the driver's tap
    with staff_app.app_context():
        planned = next(
            s.arrival_s // 60
            for r in latest_plan(get_session(), DAY).routes  # type: ignore[union-attr]
            for s in r.stops
            if r.vehicle.name == "MB-1" and s.seq == seq
        )
    assert f"{told // 60 + 3 - planned:+d}′" in home
    form = {"csrf_token": csrf_token(road), "date": DAY.isoformat(), "booking": code}
    desk.post("/dispatch/road/no-show", data={**form, "decision": "confirm"})
    with staff_app.app_context():
        booking = get_session().scalar(select(Booking).where(Booking.code == code))
        assert booking is not None and booking.status.value == "no_show"
        rows = {r["booking"]: r for r in day_outcomes(get_session(), DAY, timezone="Europe/Rome")}
    assert (rows[code]["outcome"], rows[code]["source"]) == ("no_show", "driver")
    # a lost phone: a new link, and the old one opens nothing
    desk.post("/dispatch/road/revoke", data={**form, "vehicle": "MB-1"})
    assert phone.get(path).status_code == 403


def test_with_the_setting_on_the_next_stop_s_workers_hear_their_vehicle_is_on_its_way(
    staff_app: Flask,
) -> None:
    import dataclasses

    from mobility.store import Message, MessageKind

    code, path = _published_day(staff_app)
    settings = staff_app.extensions["mobility.settings"]
    assert settings.sms_on_its_way is False  # off unless the hub turns it on
    staff_app.extensions["mobility.settings"] = dataclasses.replace(settings, sms_on_its_way=True)
    phone = staff_app.test_client()
    seq, told = _boarding_stop(phone.get(path).get_data(as_text=True), code)
    before = seq - 1  # the stop the vehicle leaves just before (the depot at worst)
    left = {"key": "departed-001", "kind": "departed", "stop": before, "at": _at(told // 60 - 5)}
    answer = _send(phone, path, [left])
    assert answer["accepted"] == ["departed-001"] and answer["messages"] >= 1
    again = _send(phone, path, [{**left, "key": "departed-002"}])  # a second phone: nothing
    assert again["messages"] == 0
    with staff_app.app_context():
        sent = [
            m.booking_code
            for m in get_session().scalars(
                select(Message).where(Message.kind == MessageKind.ON_ITS_WAY)
            )
        ]
    assert sent == [code]  # the worker who gave a phone number


def test_a_tap_taken_back_may_be_tapped_again(staff_app: Flask) -> None:
    _, path = _published_day(staff_app)
    phone = staff_app.test_client()
    _, stops = _data(phone.get(path).get_data(as_text=True))
    seq, told = stops[1]
    arrived = {"kind": "arrived", "stop": seq}
    answer = _send(
        phone,
        path,
        [
            {**arrived, "key": "arrived-0001", "at": _at(told // 60)},
            {
                "key": "undo-0000001",
                "kind": "undo",
                "undoes": "arrived-0001",
                "at": _at(told // 60 + 1),
            },
            {**arrived, "key": "arrived-0002", "at": _at(told // 60 + 2)},
        ],
    )
    assert answer["accepted"] == ["arrived-0001", "undo-0000001", "arrived-0002"]
