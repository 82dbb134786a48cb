"""Crews ride whole, or are told how many of them ride: booked through the API,
planned and published, read back on the API and on the worker's page."""

from __future__ import annotations

import dataclasses

from flask import Flask

from mobility.dispatch import plan_day, publish_plan
from mobility.store import Profile, Stop, StopKind, Vehicle
from tests.clock import DAY
from tests.conftest import NODES, QUICK
from tests.web.conftest import api_worker, register
from web.db import get_session
from web.graphs import graph_loader


def _field_and_one_minibus(app: Flask) -> dict[str, int]:
    """A settlement at A, a farm at F (on a track: only a minibus), the depot at B."""
    with app.app_context():
        db = get_session()
        ids = {}
        for key, name, kind in [
            ("A", "Settlement A", StopKind.SETTLEMENT),
            ("F", "Track farm F", StopKind.FARM),
            ("B", "Depot B", StopKind.DEPOT),
        ]:
            stop = Stop(name=name, kind=kind, lat=NODES[key][0], lon=NODES[key][1])
            db.add(stop)
            db.flush()
            ids[key] = stop.id
        db.add(Vehicle(name="MB-1", seats=8, profile=Profile.MINIBUS, depot_stop_id=ids["B"]))
        db.commit()
        return ids


def test_a_crew_that_allowed_parts_is_told_how_many_ride_and_the_other_is_left_whole(
    staff_app: Flask,
) -> None:
    ids = _field_and_one_minibus(staff_app)
    client = staff_app.test_client()
    code, pin = register(client)  # signed in on the pages, in French
    leader = {"worker_code": code, "pin": pin}
    registered = api_worker(client)
    other = {"worker_code": registered["code"], "pin": registered["pin"]}
    ride = {"date": DAY.isoformat(), "from_stop": ids["A"], "to_stop": ids["F"], "time": "06:00"}
    made = {}
    for who, allow in ((leader, True), (other, False)):
        response = client.post(
            "/api/v1/bookings", json={**who, **ride, "seats": 12, "allow_parts": allow}
        )
        assert response.status_code == 201, response.get_json()
        (booking,) = response.get_json()
        assert booking["allow_parts"] is allow and booking["seats_served"] is None
        made[allow] = (who, booking["code"])
    with staff_app.app_context():
        db = get_session()
        # one trip of the minibus in a 10-minute window: 8 seats of one crew
        plan_day(db, DAY, graph_loader(), settings=dataclasses.replace(QUICK, window_min=10))
        publish_plan(db, DAY)
    read = {}
    for allow, (who, booking_code) in made.items():
        response = client.get(
            f"/api/v1/bookings/{booking_code}",
            headers={"X-Worker-Code": who["worker_code"], "X-Worker-Pin": who["pin"]},
        )
        read[allow] = response.get_json()
    assert (read[True]["status"], read[True]["seats_served"]) == ("scheduled", 8)
    assert read[True]["reason"] == "fleet_full" and read[True]["pickup_time"]
    assert (read[False]["status"], read[False]["seats_served"]) == ("unserved", 0)
    page = client.get("/rides").get_data(as_text=True)
    assert "8 de vos 12 places" in page and "4 places n'ont pas de trajet" in page
