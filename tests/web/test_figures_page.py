"""The Figures page: admins only, charts drawn by the server as SVG with a table
under each, filters, and PDF and CSV exports that are audited."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select

from mobility.dispatch import publish_plan
from mobility.store import AuditLog
from tests.clock import DAY
from tests.web.conftest import quick_planning
from tests.web.test_staff import login, planned_by_dispatcher, seed_day
from web.db import get_session

PAGE = f"/dispatch/figures?period=month&date={DAY.isoformat()}"


def test_admins_read_the_figures_with_charts_tables_and_exports(staff_app: Flask) -> None:
    seed_day(staff_app)
    quick_planning(staff_app)
    planned_by_dispatcher(staff_app)
    with staff_app.app_context():
        publish_plan(get_session(), DAY)
    admin = staff_app.test_client()
    login(admin, "admin")
    admin.get(f"/lang/en?next={PAGE}")
    page = admin.get(PAGE).get_data(as_text=True)
    assert len(re.findall(r'<svg [^>]*role="img"', page)) == 6
    assert page.count("<caption>") == 7  # the headline figures and a table per chart
    assert "Rides per day by purpose" in page and "<script" not in page.split("<main")[1]
    assert "Bookings (seats) booked" in page and "&lt; 5 (11)" in page  # 2 bookings: under 5
    csv = admin.get(PAGE.replace("/figures?", "/figures.csv?"))
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert "rides,,booked_seats,11" in csv.get_data(as_text=True)
    assert "rides,,booked_bookings,< 5" in csv.get_data(as_text=True)
    pdf = admin.get(PAGE.replace("/figures?", "/figures.pdf?"))
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    with staff_app.app_context():
        actions = [a.action for a in get_session().scalars(select(AuditLog))]
    assert {"view_region_figures", "export_region_csv", "export_region_pdf"} <= set(actions)
    assert admin.get(f"/dispatch/figures?period=year&date={DAY.isoformat()}").status_code == 400
    assert admin.get(PAGE + "&depot=Nowhere").status_code == 400


def test_only_admins_see_the_figures(staff_app: Flask) -> None:
    for role in ("dispatcher", "mediator", "driver"):
        client = staff_app.test_client()
        login(client, role)
        assert client.get(PAGE).status_code == 403
        assert client.get(PAGE.replace("/figures?", "/figures.csv?")).status_code == 403
