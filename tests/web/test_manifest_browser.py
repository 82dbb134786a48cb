"""The manifest on a small phone, in headless Chromium at 360x640, in French and in
Arabic: a run tapped online; then five taps without signal, a reload that still shows
the manifest, the signal back and the taps stored exactly once; a second phone on the
same link doubles nothing."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.serving import make_server

from mobility.store import RoadEvent
from tests.web.test_browser import CHROMIUM, FLAGS, SCREENSHOTS
from tests.web.test_manifest import _published_day
from web.db import get_session


class Server:
    """The app on a loopback port that can lose its signal: while down, every request
    gets a 503, as through a mast that reaches nothing (a browser's offline emulation
    does not hold back the requests of a page its service worker controls)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.signal = True
        self.server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _wsgi(self, environ: dict, start_response: object) -> object:
        if not self.signal:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])  # type: ignore[operator]
            return [b"no signal"]
        return self.app.wsgi_app(environ, start_response)  # type: ignore[arg-type]

    def up(self) -> None:
        self.signal = True

    def down(self) -> None:
        self.signal = False

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def road_server(staff_app: Flask) -> Iterator[tuple[Server, str]]:
    """The staff app serving a published day, and MB-1's manifest path."""
    _, path = _published_day(staff_app)
    server = Server(staff_app)
    yield server, path
    server.close()


#: Taps waiting on the phone.
QUEUED = "JSON.parse(localStorage.getItem(Object.keys(localStorage)[0])).queue.length"


def _events(app: Flask) -> int:
    with app.app_context():
        return int(get_session().scalar(select(func.count()).select_from(RoadEvent)) or 0)


def _until(condition: object, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "not in time"
        time.sleep(0.2)


@pytest.mark.parametrize(("lang", "direction"), [("fr", "ltr"), ("ar", "rtl")])
def test_a_run_tapped_online_then_offline_arrives_exactly_once(
    road_server: tuple[Server, str], lang: str, direction: str
) -> None:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: run `make system-deps`")
    server, path = road_server
    base, app = f"http://127.0.0.1:{server.port}", server.app
    SCREENSHOTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = browser.new_context(viewport={"width": 360, "height": 640}, locale=lang)
        page = context.new_page()
        page.goto(f"{base}/lang/{lang}?next={path}")
        assert page.get_attribute("html", "dir") == direction
        assert page.evaluate("document.documentElement.scrollWidth") <= 360  # one column
        page.evaluate("navigator.serviceWorker.ready")  # the page is kept for offline use
        page.reload()
        taps = page.locator("button[data-kind]")
        total = taps.count()
        assert total >= 7  # start, end, and per stop arrived/departed and the crews
        # online: the shift starts and the first stop is reached
        page.locator("button[data-kind=shift_start]").click()
        page.locator("button[data-kind=arrived]").first.click()
        _until(lambda: _events(app) == 2)
        page.screenshot(path=str(SCREENSHOTS / f"manifest-{lang}.png"), full_page=True)
        # no signal: five more taps wait on the phone, a reload still shows them
        context.set_offline(True)
        server.down()
        for _ in range(5):
            page.locator("button[data-kind]:not(.done):not([disabled])").first.click()
        assert page.evaluate(QUEUED) == 5
        assert page.locator("#sync").inner_text().endswith("5")  # the page says how many wait
        page.reload()
        assert page.locator("#manifest").is_visible()  # the kept copy, without signal
        assert page.evaluate(QUEUED) == 5
        assert _events(app) == 2  # nothing went out
        server.up()
        context.set_offline(False)
        page.evaluate("window.dispatchEvent(new Event('online'))")
        _until(lambda: _events(app) == 7)
        _until(lambda: page.evaluate(QUEUED) == 0)
        time.sleep(1)
        assert _events(app) == 7  # exactly once
        # a second phone on the same link sees what was tapped and doubles nothing
        second = browser.new_context(viewport={"width": 360, "height": 640}, locale=lang)
        other = second.new_page()
        other.goto(f"{base}{path}")
        done = other.locator("button.done").count()
        assert done == 7
        other.locator("button[data-kind=arrived]").first.click()  # tapped by the first phone
        time.sleep(1)
        assert _events(app) == 7
        browser.close()
