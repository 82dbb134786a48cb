"""Browser tests of the dispatcher's console in headless Chromium (Debian's, through
Playwright): the day page's timelines and unserved list beside the map, a map page
that asks no other host than the app's own for scripts or styles (map tiles come from
a stand-in tile server on loopback), and a stop placed by clicking the stops map.

Screenshots land in tests/screenshots/ (git-ignored); the README shows copies."""

from __future__ import annotations

import http.server
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from mobility.bookings import RideRequest, register_worker, request_rides
from mobility.dispatch import latest_plan, plan_day
from mobility.roads import RoadGraph
from mobility.store import Profile, Role, StaffUser, Stop, Vehicle
from tests.conftest import NODES, QUICK, RULES
from tests.web.conftest import PASSWORD, password_hash, quick_planning
from tests.web.test_browser import CHROMIUM, FLAGS, SCREENSHOTS
from tests.web.test_staff import DAY, seed_day
from web import create_app
from web.db import get_session
from web.graphs import graph_loader

#: A 1x1 transparent PNG, the stand-in tile server's only picture.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082"
)


@pytest.fixture
def tile_server() -> Iterator[tuple[str, list[str]]]:
    """A tile server on loopback under another host name ("localhost"); the paths
    it was asked for."""
    asked: list[str] = []

    class Tiles(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(PNG)))
            self.end_headers()
            self.wfile.write(PNG)

        def log_message(self, *args: object) -> None:
            pass

    class Quiet(http.server.ThreadingHTTPServer):
        def handle_error(self, request: object, client_address: object) -> None:
            pass  # the browser closing a tile connection early is no news

    server = Quiet(("127.0.0.1", 0), Tiles)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://localhost:{server.server_port}/{{z}}/{{x}}/{{y}}.png", asked
    server.shutdown()


@pytest.fixture
def console(
    database_url: str,
    tiny_osm: Path,
    tiny_graphs: dict[str, RoadGraph],
    tile_server: tuple[str, list[str]],
) -> Iterator[tuple[Flask, str]]:
    """The app (staff accounts, the tiny road network, tiles from the stand-in) served
    on loopback; its base URL."""
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "console",
            "RATELIMIT_ENABLED": False,
            "OSM_PATH": str(tiny_osm),
            "MAP_TILES": tile_server[0],
        }
    )
    with app.app_context():
        db = get_session()
        for role in ("dispatcher", "driver"):
            db.add(StaffUser(username=role, password_hash=password_hash(), role=Role(role)))
        db.commit()
    quick_planning(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    app.extensions["mobility.engine"].dispose()


def _planned_with_one_unserved(app: Flask) -> tuple[list[str], str]:
    """Seed and plan the day: a crew that must arrive before any shift starts stays
    unserved. Returns the used vehicles' names and that booking's code."""
    seed_day(app)
    with app.app_context():
        db = get_session()
        a = db.scalar(select(Stop).where(Stop.name == "Settlement A"))
        c = db.scalar(select(Stop).where(Stop.name == "Farm C"))
        depot = db.scalar(select(Stop).where(Stop.name == "Depot B"))
        assert a is not None and c is not None and depot is not None
        db.add(Vehicle(name="MB-3", seats=8, profile=Profile.MINIBUS, depot_stop_id=depot.id))
        db.commit()
        worker, _ = register_worker(db)
        (early,) = request_rides(
            db, worker, RideRequest(DAY, a.id, c.id, 150, seats=4), rules=RULES
        )
        code = early.code
        plan_day(db, DAY, graph_loader(), settings=QUICK)
        run = latest_plan(db, DAY)
        assert run is not None
        return [r.vehicle.name for r in run.routes], code


def _browser(pw: object, width: int = 1280, height: int = 900) -> object:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: run `make system-deps`")
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)  # type: ignore[attr-defined]
    return browser, browser.new_page(viewport={"width": width, "height": height}, locale="it")


def _sign_in(page: object, base: str, target: str) -> None:
    page.goto(f"{base}/dispatch/login?next={target}")  # type: ignore[attr-defined]
    page.fill("#username", "dispatcher")  # type: ignore[attr-defined]
    page.fill("#password", PASSWORD)  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]


def test_day_page_shows_every_vehicle_s_timeline_the_unserved_and_the_map(
    console: tuple[Flask, str], tile_server: tuple[str, list[str]]
) -> None:
    from playwright.sync_api import sync_playwright

    app, base = console
    used, unserved_code = _planned_with_one_unserved(app)
    SCREENSHOTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser, page = _browser(pw)
        _sign_in(page, base, f"/dispatch/?date={DAY.isoformat()}")
        page.wait_for_selector("#daymap[data-ready]")
        names = page.locator(".tl p b").all_inner_texts()
        assert names == used
        assert page.locator("#daymap path.leaflet-interactive").count() >= len(used)
        unserved = page.locator("table.figures tr").filter(has_text=unserved_code)
        assert unserved.count() == 1 and "in tempo" in unserved.inner_text()  # why, in Italian
        assert tile_server[1], "no map tile was asked for"
        page.screenshot(path=str(SCREENSHOTS / "console-day.png"), full_page=True)
        tablet = browser.new_page(viewport={"width": 800, "height": 1100}, locale="it")
        tablet.context.add_cookies(page.context.cookies())
        tablet.goto(f"{base}/dispatch/?date={DAY.isoformat()}")
        tablet.wait_for_selector("#daymap[data-ready]")
        assert tablet.evaluate("document.documentElement.scrollWidth") <= 800
        browser.close()


def test_map_page_asks_no_other_host_for_scripts_or_styles(
    console: tuple[Flask, str], tile_server: tuple[str, list[str]]
) -> None:
    from playwright.sync_api import sync_playwright

    app, base = console
    _planned_with_one_unserved(app)
    origin = urlsplit(base).netloc
    with sync_playwright() as pw:
        browser, page = _browser(pw)
        _sign_in(page, base, "/dispatch/")
        asked: list[tuple[str, str]] = []
        page.on("request", lambda r: asked.append((r.resource_type, r.url)))
        page.goto(f"{base}/dispatch/map/{DAY.isoformat()}")
        page.wait_for_selector("#daymap[data-ready]")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(SCREENSHOTS / "console-map.png"))
        browser.close()
    hosts = {(kind, urlsplit(url).netloc) for kind, url in asked}
    assert {h for kind, h in hosts if kind in ("script", "stylesheet", "font")} == {origin}
    assert {h for kind, h in hosts if kind in ("fetch", "xhr")} == {origin}
    tiles = urlsplit(tile_server[0].replace("{z}/{x}/{y}", "0/0/0")).netloc
    assert {h for _, h in hosts} == {origin, tiles}  # nothing else at all
    assert ("script", f"{base}/vendor/leaflet-1.9.3/leaflet.js") in asked


def test_clicking_the_stops_map_fills_the_position_and_saves_with_its_snap_distance(
    console: tuple[Flask, str],
) -> None:
    from playwright.sync_api import expect, sync_playwright

    _, base = console
    lat, lon = NODES["B"]
    with sync_playwright() as pw:
        browser, page = _browser(pw)
        _sign_in(page, base, "/dispatch/stops")
        page.wait_for_selector("#stopmap.leaflet-container")
        page.fill("#lat", f"{lat:.6f}")
        page.fill("#lon", f"{lon:.6f}")
        page.dispatch_event("#lon", "change")  # the map centres on the typed point
        page.wait_for_selector("#stopmap[data-snapped]")
        page.fill("#lat", "")
        page.fill("#lon", "")
        box = page.locator("#stopmap").bounding_box()
        assert box is not None
        page.wait_for_timeout(400)  # the pan's animation
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        expect(page.locator("#lat")).not_to_have_value("")
        clicked = float(page.input_value("#lat")), float(page.input_value("#lon"))
        assert abs(clicked[0] - lat) < 0.01 and abs(clicked[1] - lon) < 0.01
        expect(page.locator("#snapinfo")).to_have_text(re.compile(r"\d+ m"))
        shown = page.inner_text("#snapinfo")
        page.fill("#name", "Cancello azienda")
        page.select_option("#kind", "farm")
        page.screenshot(path=str(SCREENSHOTS / "console-stops.png"))
        page.click("button[value=save]")
        page.wait_for_selector("p.flash")
        flash = page.inner_text("p.flash")
        assert "Salvato" in flash and shown.split(" m")[0].split()[-1] + " m" in flash
        assert page.locator("table.figures tr", has_text="Cancello azienda").count() == 1
        browser.close()
