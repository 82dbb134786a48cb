"""When the day goes wrong, through the staff pages: say what happened, watch the
re-plan run as a job, read it beside the published plan, publish it; the driver's
manifest follows; bad input is named in the page's language."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from mobility.dispatch import latest_plan, publish_plan
from mobility.store import Message, PlanKind, PlanRun
from tests.clock import DAY
from tests.web.conftest import csrf_token, follow_run, quick_planning
from tests.web.test_manifest import _data
from tests.web.test_staff import login, planned_by_dispatcher, seed_day
from web.db import get_session

PAGE = f"/dispatch/disruption/{DAY.isoformat()}"


def _published(app: Flask) -> FlaskClient:
    seed_day(app)
    quick_planning(app)
    client, _ = planned_by_dispatcher(app)
    with app.app_context():
        publish_plan(get_session(), DAY)
    client.get(f"/lang/en?next={PAGE}")
    return client


def _busiest(app: Flask) -> str:
    with app.app_context():
        plan = latest_plan(get_session(), DAY)
        assert plan is not None
        route = max(plan.routes, key=lambda r: sum(m.seats for s in r.stops for m in s.moves))
        return route.vehicle.name


def _form(client: FlaskClient, **fields: str) -> dict[str, str]:
    page = client.get(PAGE).get_data(as_text=True)
    return {"csrf_token": csrf_token(page), "date": DAY.isoformat(), "time_limit": "2", **fields}


def test_a_dispatcher_re_plans_an_absent_driver_s_day_and_publishes_it(staff_app: Flask) -> None:
    client = _published(staff_app)
    name = _busiest(staff_app)
    page = client.get(PAGE).get_data(as_text=True)
    assert "Say what happened" in page and f'<option value="{name}">' in page
    run_page = follow_run(
        client,
        client.post(
            "/dispatch/disruption",
            data=_form(client, kind="absent", vehicle=name, at_time="03:00"),
        ),
    )
    assert "Re-plan" in run_page and "done" in run_page
    page = client.get(PAGE).get_data(as_text=True)
    assert "Re-plan waiting to be published" in page and "Driver absent" in page
    assert "Routes that change" in page and f"<caption>{name}</caption>" in page
    day_page = client.get(f"/dispatch/?date={DAY.isoformat()}").get_data(as_text=True)
    assert "A re-plan waits to be published" in day_page
    with staff_app.app_context():
        db = get_session()
        before = latest_plan(db, DAY)
        assert before is not None
        old_version = before.id
        replan = db.scalar(select(PlanRun.id).where(PlanRun.kind == PlanKind.REPLAN))
        assert replan is not None
        messages_before = len(list(db.scalars(select(Message))))
    # the driver of another vehicle still reads the published plan: nothing published yet
    published = client.post(
        "/dispatch/disruption/publish",
        data={"csrf_token": csrf_token(page), "date": DAY.isoformat(), "run": str(replan)},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Re-plan published" in published and "The published plan is a re-plan" in published
    assert re.search(r"Print the sheets of the vehicles that changed again:.*" + name, published)
    with staff_app.app_context():
        db = get_session()
        now = latest_plan(db, DAY)
        assert now is not None and now.id == replan != old_version
        assert all(r.vehicle.name != name for r in now.routes)  # the absent vehicle stays home
        queued = len(list(db.scalars(select(Message)))) - messages_before
    shown = re.search(r"(\d+) messages queued", published)
    assert shown is not None and int(shown.group(1)) == queued


def test_bad_input_is_named_in_the_page_s_language_and_changes_nothing(staff_app: Flask) -> None:
    client = _published(staff_app)
    name = _busiest(staff_app)
    for fields, said in [
        ({"kind": "late", "vehicle": name, "at_time": "04:00"}, "Minutes late must be between"),
        ({"kind": "absent", "vehicle": name, "at_time": "25:00"}, "Please choose a time."),
        ({"kind": "absent", "vehicle": "MB-9", "at_time": "03:00"}, "No such vehicle."),
    ]:
        page = client.post(
            "/dispatch/disruption", data=_form(client, **fields), follow_redirects=True
        )
        assert said in page.get_data(as_text=True), fields
    client.get(f"/lang/it?next={PAGE}")
    page = client.post(
        "/dispatch/disruption",
        data=_form(client, kind="late", vehicle=name, at_time="04:00"),
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "I minuti di ritardo" in page
    with staff_app.app_context():
        assert get_session().scalar(select(PlanRun).where(PlanRun.kind == PlanKind.REPLAN)) is None


def test_only_dispatchers_re_plan_and_publish(staff_app: Flask) -> None:
    _published(staff_app)
    mediator = staff_app.test_client()
    login(mediator, "mediator")
    page = mediator.get(PAGE)
    assert page.status_code == 200 and "Re-plan the rest of the day" not in page.get_data(
        as_text=True
    )
    form = {"csrf_token": csrf_token(mediator.get("/dispatch/").get_data(as_text=True))}
    assert mediator.post("/dispatch/disruption", data=form).status_code == 403
    assert mediator.post("/dispatch/disruption/publish", data=form).status_code == 403


def test_the_manifest_shows_the_change_once_published(staff_app: Flask) -> None:
    from mobility.dispatch import link_of
    from mobility.store import Vehicle

    client = _published(staff_app)
    name = _busiest(staff_app)
    with staff_app.app_context():
        db = get_session()
        vehicle = db.scalar(select(Vehicle).where(Vehicle.name == name))
        assert vehicle is not None
        path = f"/driver/m/{link_of(db, DAY, vehicle, str(staff_app.config['SECRET_KEY']))}"
    phone = staff_app.test_client()
    version, stops = _data(phone.get(path).get_data(as_text=True))
    assert stops
    follow_run(
        client,
        client.post(
            "/dispatch/disruption",
            data=_form(client, kind="late", vehicle=name, at_time="03:00", minutes="20"),
        ),
    )
    assert _data(phone.get(path).get_data(as_text=True))[0] == version  # a proposal only
    with staff_app.app_context():
        replan = get_session().scalar(select(PlanRun.id).where(PlanRun.kind == PlanKind.REPLAN))
        assert replan is not None
    page = client.get(PAGE).get_data(as_text=True)
    client.post(
        "/dispatch/disruption/publish",
        data={"csrf_token": csrf_token(page), "date": DAY.isoformat(), "run": str(replan)},
    )
    new_version, new_stops = _data(phone.get(path).get_data(as_text=True))
    assert new_version == replan != version
    # new stops are numbered after the old ones: a tap queued for a stop that is gone
    # is refused rather than put on another
    assert not new_stops or min(s for s, _ in new_stops) > max(s for s, _ in stops)
    answer = phone.post(f"{path}/events", json={"events": []}).get_json()
    assert answer["plan_version"] == new_version  # a phone on the old plan shows the banner
