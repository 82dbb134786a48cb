"""The dispatcher's console: the day page (figures, timelines, unserved with free
vehicles, changes since publishing), the map from the app's own server, the stops
page's snapping, and the day page's weight on a 60-vehicle day."""

from __future__ import annotations

import re
from pathlib import Path

import polyline
import pytest
from flask import Flask
from sqlalchemy import select

from mobility.bookings import RideRequest, cancel_booking, register_worker, request_rides
from mobility.codes import UnservedReason
from mobility.dispatch import free_vehicles, latest_plan, plan_changes, plan_day, publish_plan
from mobility.errors import ConfigError, RoadCacheMissingError
from mobility.planning import DayFigures
from mobility.roads import RoadGraph
from mobility.store import (
    Booking,
    BookingStatus,
    Direction,
    PlanKind,
    PlanMove,
    PlanRoute,
    PlanRun,
    PlanStatus,
    PlanStop,
    Profile,
    Role,
    StaffUser,
    Stop,
    StopKind,
    Vehicle,
)
from tests.conftest import NODES, QUICK, RULES
from tests.web.conftest import password_hash
from tests.web.test_staff import DAY, login, seed_day
from web import create_app
from web.db import get_session
from web.graphs import graph_loader
from web.settings import get_settings

EXTERNAL = re.compile(r"""<(?:script|link)[^>]+(?:src|href)="(?:https?:)?//""", re.I)


def _planned(app: Flask) -> None:
    """The seeded day with an idle third minibus, planned."""
    seed_day(app)
    with app.app_context():
        db = get_session()
        depot = db.scalar(select(Stop).where(Stop.name == "Depot B"))
        assert depot is not None
        db.add(Vehicle(name="MB-idle", seats=8, profile=Profile.MINIBUS, depot_stop_id=depot.id))
        db.commit()
        outcome = plan_day(db, DAY, graph_loader(), settings=QUICK)
        assert outcome.figures.violations == ()


def test_day_page_shows_figures_a_timeline_per_vehicle_and_the_map(staff_app: Flask) -> None:
    _planned(staff_app)
    client = staff_app.test_client()
    login(client, "dispatcher")
    page = client.get(f"/dispatch/?date={DAY.isoformat()}").get_data(as_text=True)
    with staff_app.app_context():
        run = latest_plan(get_session(), DAY)
        assert run is not None
        used = [r.vehicle.name for r in run.routes]
        first_stop = run.routes[0].stops[0]
        first = (first_stop.arrival_s // 60, first_stop.stop.name)
    rows = re.findall(r'<div class="tl" data-vehicle="\d+">(.*?)</div>', page, re.S)
    assert [re.search(r"<b>([^<]+)</b>", r).group(1) for r in rows] == used  # type: ignore[union-attr]
    assert f"<li>{first[0] // 60:02d}:{first[0] % 60:02d} {first[1]}" in rows[0]
    assert "Posti serviti" in page and '<div id="daymap"' in page  # Italian staff page
    assert not EXTERNAL.search(page)
    assert "/vendor/leaflet-" in page
    layers = client.get(f"/dispatch/map/{DAY.isoformat()}.json").get_json()
    colours = re.findall(r'<path fill="(#[0-9a-f]{6})"', page)
    assert [v["colour"] for v in layers["vehicles"]] == colours
    for vehicle in layers["vehicles"]:  # the road path, encoded, from first to last stop
        path = polyline.decode(vehicle["path"], 5)
        first, last = vehicle["stops"][0], vehicle["stops"][-1]
        assert len(path) >= 2
        assert abs(path[0][0] - first["lat"]) + abs(path[0][1] - first["lon"]) < 0.01
        assert abs(path[-1][0] - last["lat"]) + abs(path[-1][1] - last["lon"]) < 0.01
    assert "Settlement A" in page and "MB-idle" not in used


def test_map_layers_need_a_plan_and_say_so_in_json(staff_app: Flask) -> None:
    client = staff_app.test_client()
    login(client, "mediator")
    response = client.get(f"/dispatch/map/{DAY.isoformat()}.json")
    assert response.status_code == 404
    assert response.get_json() == {
        "error": "date: no plan for this day",
        "field": "date",
        "code": "no_plan",
    }
    assert client.get(f"/dispatch/map/{DAY.isoformat()}").status_code == 404


def test_leaflet_comes_from_the_app_and_only_tiles_from_outside(database_url: str) -> None:
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "t", "TESTING": True})
    client = app.test_client()
    script = client.get("/vendor/leaflet-1.9.3/leaflet.js")
    assert script.status_code == 200 and b"Leaflet" in script.data[:200]
    assert client.get("/vendor/leaflet-1.9.3/leaflet.css").mimetype == "text/css"
    assert client.get("/vendor/leaflet-1.9.3/../../__init__.py").status_code == 404
    csp = script.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "style-src 'self';" in csp
    assert "img-src 'self' data: https://tile.openstreetmap.org;" in csp
    bare = create_app(
        {"DATABASE_URL": database_url, "SECRET_KEY": "t", "TESTING": True, "MAP_TILES": ""}
    )
    with bare.test_client() as other:
        assert "img-src 'self' data:;" in other.get("/").headers["Content-Security-Policy"]
    with pytest.raises(ConfigError, match="MOBILITY_MAP_TILES"):
        create_app({"DATABASE_URL": database_url, "SECRET_KEY": "t", "MAP_TILES": "tiles.png"})


def test_free_vehicles_exclude_the_busy_and_list_the_idle(staff_app: Flask) -> None:
    _planned(staff_app)
    with staff_app.app_context():
        db = get_session()
        run = latest_plan(db, DAY)
        assert run is not None
        bookings = list(db.scalars(select(Booking).where(Booking.service_date == DAY)))
        free = free_vehicles(db, run, bookings)
        for booking in bookings:
            carriers = {
                r.vehicle.name
                for r in run.routes
                for s in r.stops
                for m in s.moves
                if m.booking_id == booking.id
            }
            assert carriers and not carriers & set(free[booking.id].names)
            assert "MB-idle" in free[booking.id].names
        # a bus is free too, but its roads do not reach a stop at the end of a track
        depot = db.scalar(select(Stop).where(Stop.name == "Depot B"))
        assert depot is not None
        track_end = Stop(
            name="Track end", kind=StopKind.SETTLEMENT, lat=NODES["F"][0], lon=NODES["F"][1]
        )
        db.add_all(
            [
                track_end,
                Vehicle(name="BUS-1", seats=28, profile=Profile.BUS, depot_stop_id=depot.id),
            ]
        )
        db.flush()
        worker, _ = register_worker(db)
        c = db.scalar(select(Stop).where(Stop.name == "Farm C"))
        assert c is not None
        (far,) = request_rides(db, worker, RideRequest(DAY, track_end.id, c.id, 900), rules=RULES)
        assert {"BUS-1", "MB-idle"} <= set(free_vehicles(db, run, [far])[far.id].names)
        reached = free_vehicles(db, run, [far], graph_loader())[far.id]
        assert "MB-idle" in reached.names and "BUS-1" not in reached.names

        def no_graph_here(profile: str) -> RoadGraph:
            raise RoadCacheMissingError(f"no {profile} cache on this machine")

        unknown = free_vehicles(db, run, [far], no_graph_here)[far.id].names
        assert {"BUS-1", "MB-idle"} <= set(unknown)  # reach unknown: not ruled out
        assert reached.minute == 900
        far.reason = UnservedReason.UNREACHABLE
        assert free_vehicles(db, run, [far])[far.id].names == []  # no vehicle alone could
        # the only active vehicle is busy at 06:00: the nearest time it is free is offered
        first = next(b for b in bookings if b.time_min == 360)
        route = next(
            r for r in run.routes if any(m.booking_id == first.id for s in r.stops for m in s.moves)
        )
        for vehicle in db.scalars(select(Vehicle)):
            vehicle.active = vehicle.id == route.vehicle_id
            vehicle.shift_start_min = 0
        offer = free_vehicles(db, run, [first])[first.id]
        assert offer.names == [route.vehicle.name] and offer.minute != 360
        assert abs(offer.minute - 360) <= 120
        low, high = offer.minute - 120, offer.minute + 20  # to work: the ride ends at its time
        assert not [s for s in route.stops if low <= s.arrival_s // 60 <= high]


def test_changes_since_publishing_name_moved_cancelled_and_new_bookings(
    staff_app: Flask,
) -> None:
    code, _ = seed_day(staff_app)
    with staff_app.app_context():
        db = get_session()
        plan_day(db, DAY, graph_loader(), settings=QUICK)
        run = latest_plan(db, DAY)
        assert run is not None
        assert plan_changes(db, run).published_version is None
        publish_plan(db, DAY)
        assert not plan_changes(db, run).any
        # a new plan whose first pickup is 10 minutes later
        plan_day(db, DAY, graph_loader(), settings=QUICK)
        newer = latest_plan(db, DAY)
        assert newer is not None and newer.id != run.id
        stop = next(s for r in newer.routes for s in r.stops if any(m.boarding for m in s.moves))
        move = next(m for m in stop.moves if m.boarding)
        moved_code = move.booking.code
        assert move.start_s is not None
        old_minute = move.start_s // 60
        for m in stop.moves:  # the stop's boardings, 10 minutes later
            m.start_s = None if m.start_s is None else m.start_s + 600
        stop.arrival_s += 600
        stop.departure_s += 600
        db.commit()
        worker, _ = register_worker(db)
        rules = get_settings().booking
        (late,) = request_rides(
            db, worker, RideRequest(DAY, stop.stop_id, stop.stop_id + 1, 600), rules=rules
        )
        booking = db.scalar(select(Booking).where(Booking.code == code))
        assert booking is not None and booking.worker is not None
        if moved_code != code:
            cancel_booking(db, booking.worker, code, rules=rules, by_staff=True)
        changes = plan_changes(db, newer)
        assert changes.published_version == 1
        assert (moved_code, old_minute) in {(c, old[0]) for c, old, new in changes.moved}
        assert {new[0] - old[0] for _, old, new in changes.moved} == {10}
        late_code = late.code
        assert late_code in changes.booked_since
        if moved_code != code:
            assert changes.cancelled == [code]
    client = staff_app.test_client()
    login(client, "dispatcher")
    page = client.get(f"/dispatch/?date={DAY.isoformat()}").get_data(as_text=True)
    assert moved_code in page and late_code in page


def test_stop_snap_answers_distance_and_warns_when_far(staff_app: Flask) -> None:
    client = staff_app.test_client()
    login(client, "dispatcher")
    lat, lon = NODES["A"]
    near = client.get(f"/dispatch/stops/snap?lat={lat}&lon={lon}").get_json()
    assert near["distance_m"] < 5 and near["far"] is False and "m" in near["text"]
    far = client.get(f"/dispatch/stops/snap?lat={lat - 0.005}&lon={lon}").get_json()
    assert 500 < far["distance_m"] < 600 and far["far"] is True and "300" in far["text"]
    bad = client.get("/dispatch/stops/snap?lat=north&lon=15")
    assert bad.status_code == 400 and bad.get_json()["field"] == "lat"
    assert client.get("/dispatch/stops/snap?lat=41&lon=200").get_json()["field"] == "lon"
    login(client, "mediator")
    assert client.get(f"/dispatch/stops/snap?lat={lat}&lon={lon}").status_code == 403


def test_stop_snap_without_a_road_graph_answers_json(database_url: str, tmp_path: Path) -> None:
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "t",
            "OSM_PATH": str(tmp_path / "nowhere.osm"),
        }
    )
    with app.app_context():
        db = get_session()
        db.add(
            StaffUser(username="dispatcher", password_hash=password_hash(), role=Role.DISPATCHER)
        )
        db.commit()
    client = app.test_client()
    login(client, "dispatcher")
    response = client.get("/dispatch/stops/snap?lat=41.46&lon=15.5")
    assert response.status_code == 503 and response.get_json()["code"] == "no_graph"


def test_stops_page_checks_before_saving_and_lists_unplaced_first(staff_app: Flask) -> None:
    from tests.web.conftest import csrf_token

    client = staff_app.test_client()
    login(client, "dispatcher")
    page = client.get("/dispatch/stops").get_data(as_text=True)
    rows = re.findall(r"<tr><td>(.*?)</td>.*?<td>(.*?)</td><td>[^<]*</td></tr>", page)
    placed = ["da posizionare" not in position for _, position in rows]
    assert placed.index(True) > 0 and all(placed[placed.index(True) :])  # unplaced first
    lat, lon = NODES["A"]
    form = {"csrf_token": csrf_token(page), "name": "Field gate", "kind": "farm", "active": "y"}
    form |= {"lat": f"{lat - 0.005:.6f}", "lon": f"{lon:.6f}", "category": ""}
    position = {k: form[k] for k in ("csrf_token", "lat", "lon")}  # no name yet: fine
    checked = client.post("/dispatch/stops", data=position | {"action": "check"})
    text = checked.get_data(as_text=True)
    assert checked.status_code == 200 and "300 m" in text and 'class="error"' not in text
    empty = {"csrf_token": form["csrf_token"], "action": "check", "lat": "", "lon": ""}
    unplaced = client.post("/dispatch/stops", data=empty)
    assert 'class="error"' in unplaced.get_data(as_text=True)
    with staff_app.app_context():
        assert get_session().scalar(select(Stop).where(Stop.name == "Field gate")) is None
    saved = client.post("/dispatch/stops", data=form | {"action": "save"}, follow_redirects=True)
    assert re.search(r"Salvato\. .* 5\d\d m", saved.get_data(as_text=True))
    with staff_app.app_context():
        assert get_session().scalar(select(Stop).where(Stop.name == "Field gate")) is not None


def _sixty_vehicle_day(app: Flask, *, stops_per_route: int = 24) -> None:
    """A stored plan of 60 vehicles, each with ``stops_per_route`` stops (a pickup and a
    drop-off per crew, real place names), and 40 unserved bookings."""
    with app.app_context():
        db = get_session()
        places = list(db.scalars(select(Stop).where(Stop.lat.is_not(None)).order_by(Stop.id)))
        longest = sorted(places, key=lambda s: -len(s.name))[:40]
        m = len(longest)
        run = PlanRun(
            service_date=DAY,
            status=PlanStatus.DONE,
            kind=PlanKind.PLAN,
            figures=DayFigures(
                bookings=760,
                seats=6000,
                reachable_seats=6000,
                servable_seats=5520,
                vehicles_used=60,
            ).to_json(),
        )
        db.add(run)
        n = 0
        for v in range(60):
            vehicle = Vehicle(
                name=f"Minibus {v + 1:02d}",
                seats=9,
                profile=Profile.MINIBUS,
                depot_stop_id=places[0].id,
            )
            route = PlanRoute(plan=run, vehicle=vehicle, distance_m=123_456.0)
            db.add(route)
            for k in range(0, stops_per_route, 2):
                n += 1
                a, b = longest[(v + k) % m], longest[(v + k + 1) % m]
                booking = Booking(
                    code=f"T{n:05d}",
                    service_date=DAY,
                    direction=Direction.TO_WORK,
                    from_stop_id=a.id,
                    to_stop_id=b.id,
                    time_min=300 + 30 * k,
                    seats=8,
                    status=BookingStatus.REQUESTED,
                )
                t = 4 * 3600 + 1800 * k
                for seq, (place, at, boarding) in enumerate(((a, t, True), (b, t + 1500, False))):
                    stop = PlanStop(
                        route=route,
                        seq=k + seq,
                        stop_id=place.id,
                        arrival_s=at,
                        departure_s=at + 60,
                        load_after=8 if boarding else 0,
                    )
                    db.add(PlanMove(plan_stop=stop, booking=booking, boarding=boarding, seats=8))
        for u in range(40):
            db.add(
                Booking(
                    code=f"U{u:05d}",
                    service_date=DAY,
                    direction=Direction.BACK,
                    from_stop_id=longest[u % m].id,
                    to_stop_id=longest[(u + 1) % m].id,
                    time_min=17 * 60,
                    seats=12,
                    status=BookingStatus.UNSERVED,
                    reason=UnservedReason.FLEET_FULL,
                )
            )
        db.commit()


def test_day_page_of_a_sixty_vehicle_day_weighs_at_most_100_kb(staff_app: Flask) -> None:
    _sixty_vehicle_day(staff_app)
    client = staff_app.test_client()
    login(client, "dispatcher")
    page = client.get(f"/dispatch/?date={DAY.isoformat()}").get_data()
    assert page.count(b'<div class="tl"') == 60
    assert len(re.findall(rb"<li>\d\d:\d\d ", page)) == 60 * 24
    assert page.count(b"U000") == 40
    # no plan of this fleet serves more than 5,520 of the 6,000 seats: said above the list
    flash = re.search(rb'<p class="flash">([^<]*5520[^<]*)</p>', page)
    assert flash is not None and b"6000" in flash.group(1) and b"480" in flash.group(1)
    print(f"day page of 60 vehicles x 24 stops: {len(page)} bytes")
    assert len(page) <= 100_000, f"{len(page)} bytes"


def test_day_page_of_a_plan_without_routes_says_no_vehicle(staff_app: Flask) -> None:
    seed_day(staff_app)
    with staff_app.app_context():
        db = get_session()
        for vehicle in db.scalars(select(Vehicle)):
            vehicle.active = False
        db.commit()
        outcome = plan_day(db, DAY, graph_loader(), settings=QUICK)  # no vehicle at all
        assert outcome.figures.unserved_bookings == 2
    client = staff_app.test_client()
    login(client, "dispatcher")
    page = client.get(f"/dispatch/?date={DAY.isoformat()}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Veicoli (0)" in text and "Nessun veicolo nella flotta" in text
