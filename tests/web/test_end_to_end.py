"""End to end on the real Tavoliere extract: book through the API, plan and publish
through the staff pages, read the pickup back as the worker."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mobility.roads import RoadGraph
from mobility.store import Profile, Stop, Vehicle
from tests.clock import DAY
from tests.conftest import TAVOLIERE
from tests.web.conftest import PASSWORD, api_worker, csrf_token, follow_run, quick_planning
from tests.web.test_staff import login
from web import create_app
from web.db import get_session

pytestmark = pytest.mark.integration


def test_small_day_booked_planned_published_and_read_back(
    database_url: str, tavoliere_minibus: RoadGraph
) -> None:
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "e2e",
            "RATELIMIT_ENABLED": False,
            "OSM_PATH": str(TAVOLIERE),
        }
    )
    quick_planning(app)
    runner = app.test_cli_runner()
    assert (
        runner.invoke(
            args=["create-user", "disp", "--role", "dispatcher"],
            env={"MOBILITY_NEW_USER_PASSWORD": PASSWORD},
        ).exit_code
        == 0
    )
    with app.app_context():
        db = get_session()
        foggia = db.scalar(select(Stop).where(Stop.name == "Foggia (centre)"))
        assert foggia is not None
        db.add(Vehicle(name="MB-1", seats=8, profile=Profile.MINIBUS, depot_stop_id=foggia.id))
        db.add(Vehicle(name="BUS-1", seats=28, profile=Profile.BUS, depot_stop_id=foggia.id))
        db.commit()
    client = app.test_client()
    stops = {s["name"]: s["id"] for s in client.get("/api/v1/stops").get_json()}
    day = DAY.isoformat()
    workers = []
    for origin, seats, time in [
        ("Borgo Mezzanone", 6, "06:00"),
        ("Borgo Mezzanone", 12, "06:00"),
        ("Borgo Tressanti", 3, "05:30"),
    ]:
        worker = api_worker(client)
        response = client.post(
            "/api/v1/bookings",
            json={
                "worker_code": worker["code"],
                "pin": worker["pin"],
                "date": day,
                "from_stop": stops[origin],
                "to_stop": stops["Foggia (centre)"],
                "time": time,
                "seats": seats,
                "return_time": "17:00",
            },
        )
        assert response.status_code == 201, response.get_json()
        workers.append(worker)

    staff = app.test_client()
    login(staff, "disp")
    home = staff.get(f"/dispatch/?date={day}").get_data(as_text=True)
    run = follow_run(
        staff,
        staff.post(
            "/dispatch/plan", data={"csrf_token": csrf_token(home), "date": day, "time_limit": "5"}
        ),
    )
    assert "done" in run and "42 / 42" in run  # every seat both ways
    staff.post("/dispatch/publish", data={"csrf_token": csrf_token(home), "date": day})

    for worker in workers:
        mine = client.get(
            "/api/v1/workers/me/bookings",
            headers={"X-Worker-Code": worker["code"], "X-Worker-Pin": worker["pin"]},
        ).get_json()
        assert [b["status"] for b in mine] == ["scheduled", "scheduled"]
        to_work = next(b for b in mine if b["direction"] == "to_work")
        back = next(b for b in mine if b["direction"] == "back")
        assert to_work["pickup_time"] < to_work["time"]  # picked up before the arrive-by time
        assert "17:00" <= back["pickup_time"] <= "17:30"
