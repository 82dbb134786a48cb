"""Staff pages: login and roles on every URL, planning through the page, drivers'
sheets (PDF content checked with pdftotext), audit log."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from mobility.bookings import RideRequest, register_worker, request_rides
from mobility.dispatch import plan_day
from mobility.store import (
    AuditLog,
    DriverAssignment,
    Profile,
    StaffUser,
    Stop,
    StopKind,
    Vehicle,
)
from tests.clock import DAY
from tests.conftest import NODES, QUICK, RULES
from tests.web.conftest import PASSWORD, csrf_token, follow_run
from web.db import get_session
from web.graphs import graph_loader

SCREENSHOTS = Path(__file__).resolve().parents[1] / "screenshots"

STAFF_URLS = [
    ("/dispatch/", {"admin", "dispatcher", "mediator"}),
    ("/dispatch/stops", {"admin", "dispatcher"}),
    ("/dispatch/stops/snap?lat=41.46&lon=15.5", {"admin", "dispatcher"}),
    ("/dispatch/vehicles", {"admin", "dispatcher"}),
    ("/dispatch/reports", {"admin", "dispatcher", "mediator"}),
    ("/dispatch/worker", {"admin", "dispatcher", "mediator"}),
    (f"/dispatch/disruption/{DAY.isoformat()}", {"admin", "dispatcher", "mediator"}),
    (f"/dispatch/export/{DAY.isoformat()}.json", {"admin", "dispatcher"}),
    ("/driver/", {"admin", "dispatcher", "driver"}),
]


def test_create_user_command_makes_an_account_that_signs_in(staff_app: Flask) -> None:
    result: Result = staff_app.test_cli_runner().invoke(
        args=["create-user", "newcomer", "--role", "mediator"],
        env={"MOBILITY_NEW_USER_PASSWORD": PASSWORD},
    )
    assert result.exit_code == 0 and "created with role mediator" in result.output
    client = staff_app.test_client()
    login(client, "newcomer")
    assert client.get("/dispatch/reports").status_code == 200


def login(client: FlaskClient, username: str) -> None:
    page = client.get("/dispatch/login").get_data(as_text=True)
    response = client.post(
        "/dispatch/login",
        data={"csrf_token": csrf_token(page), "username": username, "password": PASSWORD},
    )
    assert response.status_code == 302, username


def seed_day(app: Flask) -> tuple[str, str]:
    """Stops on the tiny network, two minibuses, two bookings; returns a booking code
    and the phone number of its worker."""
    with app.app_context():
        db = get_session()
        ids = {}
        for key, name, kind in [
            ("A", "Settlement A", StopKind.SETTLEMENT),
            ("C", "Farm C", StopKind.FARM),
            ("B", "Depot B", StopKind.DEPOT),
        ]:
            stop = Stop(name=name, kind=kind, lat=NODES[key][0], lon=NODES[key][1])
            db.add(stop)
            db.flush()
            ids[key] = stop.id
        for name in ("MB-1", "MB-2"):
            db.add(Vehicle(name=name, seats=8, profile=Profile.MINIBUS, depot_stop_id=ids["B"]))
        db.commit()
        worker, _ = register_worker(db, phone="+39 333 1234567")
        (booking,) = request_rides(
            db, worker, RideRequest(DAY, ids["A"], ids["C"], 360, seats=6), rules=RULES
        )
        other, _ = register_worker(db)
        request_rides(db, other, RideRequest(DAY, ids["A"], ids["C"], 420, seats=5), rules=RULES)
        driver = db.scalar(select(StaffUser).where(StaffUser.username == "driver"))
        vehicle = db.scalar(select(Vehicle).where(Vehicle.name == "MB-1"))
        assert driver is not None and vehicle is not None
        db.add(DriverAssignment(service_date=DAY, vehicle_id=vehicle.id, user_id=driver.id))
        db.commit()
        return booking.code, "3331234567"


@pytest.mark.parametrize(("url", "allowed"), STAFF_URLS)
def test_every_staff_url_needs_login_and_the_right_role(
    staff_app: Flask, url: str, allowed: set[str]
) -> None:
    anonymous = staff_app.test_client()
    response = anonymous.get(url)
    assert response.status_code == 302 and "/dispatch/login" in response.headers["Location"]
    for role in ("admin", "dispatcher", "mediator", "driver"):
        client = staff_app.test_client()
        login(client, role)
        status = client.get(url).status_code
        assert (status == 200) == (role in allowed), (url, role, status)
        if role not in allowed:
            assert status == 403


def test_wrong_password_is_refused(staff_app: Flask) -> None:
    client = staff_app.test_client()
    page = client.get("/dispatch/login").get_data(as_text=True)
    response = client.post(
        "/dispatch/login",
        data={"csrf_token": csrf_token(page), "username": "admin", "password": "nope"},
    )
    assert response.status_code == 200
    assert client.get("/dispatch/").status_code == 302


def test_create_user_rejects_a_short_password(staff_app: Flask) -> None:
    result = staff_app.test_cli_runner().invoke(
        args=["create-user", "x", "--role", "admin"], env={"MOBILITY_NEW_USER_PASSWORD": "short"}
    )
    assert result.exit_code != 0 and "password" in result.output


def test_plan_publish_and_sheets_through_the_pages(staff_app: Flask, tmp_path: Path) -> None:
    code, phone = seed_day(staff_app)
    client = staff_app.test_client()
    login(client, "dispatcher")
    home = client.get(f"/dispatch/?date={DAY.isoformat()}").get_data(as_text=True)
    run = follow_run(
        client,
        client.post(
            "/dispatch/plan",
            data={"csrf_token": csrf_token(home), "date": DAY.isoformat(), "time_limit": "2"},
        ),
    )
    assert "done" in run and "11 / 11" in run  # seats served / seats
    client.post("/dispatch/publish", data={"csrf_token": csrf_token(home), "date": DAY.isoformat()})
    export = client.get(f"/dispatch/export/{DAY.isoformat()}.json").get_json()
    assert {b["status"] for b in export["bookings"]} == {"scheduled"}
    map_page = client.get(f"/dispatch/map/{DAY.isoformat()}").get_data(as_text=True)
    assert "OpenStreetMap contributors" in map_page
    layers = client.get(f"/dispatch/map/{DAY.isoformat()}.json").get_json()
    assert code in {c for v in layers["vehicles"] for s in v["stops"] for c in s["codes"]}

    pdf = client.get(f"/driver/sheets/{DAY.isoformat()}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    path = tmp_path / "sheets.pdf"
    path.write_bytes(pdf.data)
    if not shutil.which("pdftotext"):
        pytest.fail("poppler-utils is missing: run `make system-deps`")
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    pages = text.split("\f")
    vehicles_on_pages = [re.search(r"Veicolo (MB-\d)", p).group(1) for p in pages if "Veicolo" in p]  # type: ignore[union-attr]
    assert len(vehicles_on_pages) == len(set(vehicles_on_pages)) >= 1  # one vehicle per page start
    assert code in text
    assert "Il viaggio è gratuito" in text and "OpenStreetMap contributors" in text
    assert phone not in text.replace(" ", "")
    first_page = [ln for ln in pages[0].splitlines() if re.match(r"\s*\d+\s+\d\d:\d\d", ln)]
    times = [re.search(r"\d\d:\d\d", ln).group(0) for ln in first_page]  # type: ignore[union-attr]
    assert times == sorted(times)  # stops in route order
    SCREENSHOTS.mkdir(exist_ok=True)
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "60",
            "-f",
            "1",
            "-l",
            "1",
            str(path),
            str(SCREENSHOTS / "route_sheet"),
        ],
        check=True,
    )
    with staff_app.app_context():
        actions = {a.action for a in get_session().scalars(select(AuditLog))}
    assert {"export_plan", "export_route_sheets", "view_plan_map"} <= actions


def planned_by_dispatcher(app: Flask) -> tuple[FlaskClient, dict]:
    """A dispatcher's client once DAY is planned (in this process: the page's own path,
    a job, is tested by ``test_plan_publish_and_sheets_through_the_pages``); the export."""
    with app.app_context():
        outcome = plan_day(get_session(), DAY, graph_loader(), settings=QUICK)
        assert outcome.figures.violations == ()
    client = app.test_client()
    login(client, "dispatcher")
    return client, client.get(f"/dispatch/export/{DAY.isoformat()}.json").get_json()


def test_driver_sees_only_their_own_vehicle(staff_app: Flask) -> None:
    seed_day(staff_app)
    _, export = planned_by_dispatcher(staff_app)
    used = [v["name"] for v in export["vehicles"]]
    driver = staff_app.test_client()
    login(driver, "driver")
    for name in used:
        status = driver.get(f"/driver/sheets/{DAY.isoformat()}/{name}").status_code
        assert status == (200 if name == "MB-1" else 404)


def test_sheet_html_has_codes_and_no_names_or_phones(staff_app: Flask) -> None:
    _, phone = seed_day(staff_app)
    client, export = planned_by_dispatcher(staff_app)
    name = next(v["name"] for v in export["vehicles"] if any(s["board"] for s in v["stops"]))
    html = client.get(f"/driver/sheets/{DAY.isoformat()}/{name}").get_data(as_text=True)
    assert "Il viaggio è gratuito" in html
    assert phone not in html.replace(" ", "")
    assert re.search(r"☐ [A-Z0-9]{7} ×\d", html)


def test_mediator_reads_reports_and_the_reading_is_logged(staff_app: Flask) -> None:
    client = staff_app.test_client()
    login(client, "mediator")
    assert client.get("/dispatch/reports").status_code == 200
    with staff_app.app_context():
        actions = [a.action for a in get_session().scalars(select(AuditLog))]
    assert actions == ["read_reports"]


def test_dispatcher_assigns_a_vehicle_to_a_driver(staff_app: Flask) -> None:
    seed_day(staff_app)
    client, export = planned_by_dispatcher(staff_app)
    with staff_app.app_context():
        db = get_session()
        mb2 = db.scalar(select(Vehicle).where(Vehicle.name == "MB-2"))
        driver = db.scalar(select(StaffUser).where(StaffUser.username == "driver"))
        assert mb2 is not None and driver is not None
        mb2_id, driver_id = mb2.id, driver.id
    page = client.get(f"/dispatch/vehicles?date={DAY.isoformat()}").get_data(as_text=True)
    response = client.post(
        "/dispatch/assign",
        data={
            "csrf_token": csrf_token(page),
            "date": DAY.isoformat(),
            "vehicle": mb2_id,
            "driver": driver_id,
        },
    )
    assert response.status_code == 302
    driver_client = staff_app.test_client()
    login(driver_client, "driver")
    for vehicle in export["vehicles"]:
        status = driver_client.get(
            f"/driver/sheets/{DAY.isoformat()}/{vehicle['name']}"
        ).status_code
        assert status == (200 if vehicle["name"] in ("MB-1", "MB-2") else 404)


def test_fleet_sizing_is_a_job_whose_answer_the_day_page_shows(staff_app: Flask) -> None:
    seed_day(staff_app)
    client = staff_app.test_client()
    login(client, "dispatcher")
    client.set_cookie("lang", "en")
    home = client.get(f"/dispatch/?date={DAY.isoformat()}").get_data(as_text=True)
    assert "Size the fleet for this day" in home
    form = {"csrf_token": csrf_token(home), "date": DAY.isoformat(), "time_limit": "2"}
    run = follow_run(client, client.post("/dispatch/size", data=form))
    assert '<p class="status">done' in run and "Fleet sizing" in run
    # 6 seats at 06:00 and 5 at 07:00: one minibus does both
    assert re.search(r"every reachable seat</th><td>1 vehicles<br>1 × minibus 8", run)
    assert "nothing: the active fleet is enough" in run
    home = client.get(f"/dispatch/?date={DAY.isoformat()}").get_data(as_text=True)
    assert "11 / 11 reachable" in home
    mediator = staff_app.test_client()
    login(mediator, "mediator")
    page = mediator.get(f"/dispatch/?date={DAY.isoformat()}").get_data(as_text=True)
    assert "Size the fleet for this day" not in page
    form["csrf_token"] = csrf_token(page)
    assert mediator.post("/dispatch/size", data=form).status_code == 403


def test_manual_edit_is_checked_before_it_is_saved(staff_app: Flask) -> None:
    code, _ = seed_day(staff_app)
    client, export = planned_by_dispatcher(staff_app)
    client.set_cookie("lang", "en")
    home = client.get(f"/dispatch/?date={DAY.isoformat()}").get_data(as_text=True)
    form = {
        "csrf_token": csrf_token(home),
        "date": DAY.isoformat(),
        "booking": code,
        "vehicle": "MB-2",
    }
    preview = follow_run(client, client.post("/dispatch/edit", data={**form, "action": "check"}))
    assert "The plan passes every check." in preview and f"{code}</span>: MB-2" in preview
    unchanged = client.get(f"/dispatch/export/{DAY.isoformat()}.json").get_json()
    assert unchanged == export  # checking saved nothing
    save = {**form, "csrf_token": csrf_token(preview), "action": "save"}
    saved = follow_run(client, client.post("/dispatch/edit", data=save))
    assert '<p class="status">done' in saved
    after = client.get(f"/dispatch/export/{DAY.isoformat()}.json").get_json()
    assert next(b for b in after["bookings"] if b["code"] == code)["vehicles"] == ["MB-2"]


def test_mediator_books_for_a_worker_by_personal_code(staff_app: Flask) -> None:
    from mobility.store import Booking

    client = staff_app.test_client()
    worker = client.post("/api/v1/workers", json={"language": "fr"}).get_json()
    login(client, "mediator")
    page = client.get("/dispatch/worker").get_data(as_text=True)
    response = client.post(
        "/dispatch/worker",
        data={"csrf_token": csrf_token(page), "code": worker["code"], "book_for": "1"},
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/book")
    book = client.get("/book").get_data(as_text=True)
    ids = {
        name: re.search(r'value="(\d+)"', attrs).group(1)  # type: ignore[union-attr]
        for attrs, name in re.findall(r"<option([^>]*)>([^<]+)</option>", book)
        if re.search(r'value="\d+"', attrs)
    }
    day = re.search(r'<option selected value="([0-9-]+)"', book).group(1)  # type: ignore[union-attr]
    form = {
        "csrf_token": csrf_token(book),
        "from_stop": ids["Borgo Mezzanone"],
        "to_stop": ids["Foggia (centre)"],
        "date": day,
        "time": "06:00",
        "seats": "1",
        "return_time": "17:00",
        "repeat_until": "",
    }
    confirm = client.post("/book", data=form).get_data(as_text=True)
    fields = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', confirm))
    fields["csrf_token"] = csrf_token(confirm)
    client.post("/book/confirm", data=fields)
    with staff_app.app_context():
        booking = get_session().scalar(select(Booking))
        assert booking is not None and booking.made_by == "mediator"
        actions = {a.action for a in get_session().scalars(select(AuditLog))}
    assert "book_for_worker" in actions


def test_staff_see_the_day_s_messages_and_send_a_failed_one_again(staff_app: Flask) -> None:
    from mobility.store import Message, MessageKind, MessageState, Worker

    code, _ = seed_day(staff_app)
    client, _ = planned_by_dispatcher(staff_app)
    home = client.get(f"/dispatch/?date={DAY.isoformat()}").get_data(as_text=True)
    client.post("/dispatch/publish", data={"csrf_token": csrf_token(home), "date": DAY.isoformat()})
    page = client.get(f"/dispatch/messages/{DAY.isoformat()}").get_data(as_text=True)
    assert code in page and "pickup" in page and "3331234567" not in page
    with staff_app.app_context():
        db = get_session()
        message = db.scalar(select(Message).where(Message.booking_code == code))
        assert message is not None and message.kind is MessageKind.PICKUP
        message.state, message.last_error = MessageState.FAILED, "400 no route"
        db.commit()
        message_id = message.id
        assert db.scalar(select(Worker.phone).where(Worker.id == message.worker_id))
    mediator = staff_app.test_client()
    login(mediator, "mediator")
    page = mediator.get(f"/dispatch/messages/{DAY.isoformat()}").get_data(as_text=True)
    assert "400 no route" in page
    mediator.post(
        f"/dispatch/messages/{message_id}/again",
        data={"csrf_token": csrf_token(page), "date": DAY.isoformat()},
    )
    with staff_app.app_context():
        again = get_session().get(Message, message_id)
        assert again is not None and again.state in (MessageState.QUEUED, MessageState.SENT)
        assert again.tries in (0, 1)  # queued again (and maybe sent already by its job)
