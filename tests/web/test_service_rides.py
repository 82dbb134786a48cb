"""Rides to services: the booking page chooses a category first, then the place."""

from __future__ import annotations

import html
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from mobility.service_stops import import_services, load_services
from mobility.store import Booking, ServiceCategory, Stop
from tests.web.conftest import csrf_token, register
from tests.web.test_pages import CSS, stop_id
from web.db import get_session


@pytest.fixture
def with_services(app: Flask) -> Flask:
    with app.app_context():
        import_services(get_session(), load_services())
    return app


def _options(page: str, select_id: str) -> list[str]:
    block = re.search(rf'<select[^>]*id="{select_id}".*?</select>', page, re.S)
    assert block, select_id
    return [html.unescape(o) for o in re.findall(r"<option[^>]*>([^<]+)</option>", block.group(0))]


def test_each_category_lists_its_places_and_office_hours(
    with_services: Flask, client: FlaskClient
) -> None:
    register(client)
    work = client.get("/book").get_data(as_text=True)
    hospital = client.get("/book?for=hospital").get_data(as_text=True)
    assert 'aria-current="page"' in hospital and "Foggia (centre)" not in _options(
        hospital, "to_stop"
    )
    with client.application.app_context():
        hospitals = {
            s.name
            for s in get_session().scalars(
                select(Stop).where(
                    Stop.category.in_([ServiceCategory.HOSPITAL, ServiceCategory.CLINIC])
                )
            )
        }
    assert set(_options(hospital, "to_stop")) == hospitals
    assert not hospitals & set(_options(work, "to_stop"))  # work lists farms and towns
    assert "09:30" in _options(hospital, "time") and "05:00" not in _options(hospital, "time")
    assert "05:00" in _options(work, "time")
    css = len(CSS.read_bytes())
    for group in ("work", "hospital", "police", "town_hall", "job_centre", "post", "other"):
        page = client.get(f"/book?for={group}")
        assert page.status_code == 200 and len(page.data) + css <= 30 * 1024, group


@pytest.mark.parametrize(("language", "label"), [("ar", "مستشفى، طبيب"), ("ro", "Spital, medic")])
def test_booking_a_ride_to_a_hospital(
    with_services: Flask, client: FlaskClient, language: str, label: str
) -> None:
    register(client)
    client.get(f"/lang/{language}")
    page = client.get("/book?for=hospital").get_data(as_text=True)
    assert label in page and ('dir="rtl"' in page) == (language == "ar")
    with client.application.app_context():
        hospital = get_session().scalar(
            select(Stop).where(
                Stop.category == ServiceCategory.HOSPITAL, Stop.name.like("%Foggia%")
            )
        )
        assert hospital is not None
        hospital_id, hospital_name = hospital.id, hospital.name
    form = {
        "csrf_token": csrf_token(page),
        "purpose": "hospital",
        "from_stop": str(stop_id(client, "Borgo Mezzanone")),
        "to_stop": str(hospital_id),
        "date": re.search(r'<option selected value="([0-9-]+)"', page).group(1),  # type: ignore[union-attr]
        "time": "09:30",
        "seats": "1",
        "with_return": "y",
        "return_time": "12:00",
        "repeat_until": "",
    }
    confirm = client.post("/book", data=form).get_data(as_text=True)
    assert html.escape(hospital_name) in confirm and "09:30" in confirm
    fields = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', confirm))
    fields["csrf_token"] = csrf_token(confirm)
    client.post("/book/confirm", data=fields)
    with client.application.app_context():
        rides = [
            (b.from_stop_id, b.to_stop_id, b.time_min)
            for b in get_session().scalars(select(Booking).order_by(Booking.id))
        ]
    home = stop_id(client, "Borgo Mezzanone")
    assert rides == [
        (home, hospital_id, 9 * 60 + 30),
        (hospital_id, home, 12 * 60),  # the ride back after the appointment
    ]


def test_the_monthly_report_counts_service_rides_apart(
    with_services: Flask, client: FlaskClient
) -> None:
    import datetime as dt

    from mobility.config import UnitCosts
    from mobility.outputs import Period, region_figures
    from mobility.store import BookingStatus

    test_booking_a_ride_to_a_hospital(with_services, client, "ro", "Spital, medic")
    with client.application.app_context():
        db = get_session()
        rides = list(db.scalars(select(Booking)))
        for b in rides:
            b.status = BookingStatus.COMPLETED
        db.commit()
        day: dt.date = rides[0].service_date
        report = region_figures(db, Period(day, day), costs=UnitCosts(), timezone="Europe/Rome")
    (row,) = report["services"]
    assert (row["category"], row["completed_bookings"]) == ("hospital", 2)
    assert report["by_day"] == [
        {"date": day.isoformat(), "work_seats": 0, "service_seats": row["completed_seats"]}
    ]
