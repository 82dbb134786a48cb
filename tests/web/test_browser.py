"""Browser test: book a ride at 360x640 in French and in Arabic, in headless Chromium.

Uses Debian's chromium (installed by `make system-deps`) through Playwright; the
screenshots land in tests/screenshots/ (git-ignored) for people to look at.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from web import create_app

SCREENSHOTS = Path(__file__).resolve().parents[1] / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def live_server(database_url: str) -> Iterator[str]:
    app: Flask = create_app(
        {"DATABASE_URL": database_url, "SECRET_KEY": "browser", "RATELIMIT_ENABLED": False}
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    app.extensions["mobility.engine"].dispose()


@pytest.mark.parametrize(
    ("lang", "direction", "booked"), [("fr", "ltr", "Réservé"), ("ar", "rtl", "تم الحجز")]
)
def test_book_a_ride_on_a_small_phone(
    live_server: str, lang: str, direction: str, booked: str
) -> None:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: run `make system-deps`")
    SCREENSHOTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 360, "height": 640}, locale=lang)
        page.goto(f"{live_server}/lang/{lang}?next=/register")
        assert page.get_attribute("html", "dir") == direction
        page.screenshot(path=str(SCREENSHOTS / f"register-{lang}.png"), full_page=True)
        page.click("button[type=submit]")
        page.wait_for_selector("p.code")
        codes = page.locator("p.code").all_inner_texts()
        assert len(codes) == 2 and codes[1].isdigit()
        page.screenshot(path=str(SCREENSHOTS / f"card-{lang}.png"), full_page=True)
        page.click("a.button")
        page.wait_for_selector("#from_stop")
        page.select_option("#from_stop", label="Borgo Mezzanone")
        page.select_option("#to_stop", label="Foggia (centre)")
        page.select_option("#time", "05:30")
        page.fill("#seats", "3")
        page.check("#with_return")
        page.screenshot(path=str(SCREENSHOTS / f"book-{lang}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.click("button[type=submit]")
        page.wait_for_selector("dl.ride")
        assert "05:30" in page.inner_text("dl.ride")
        page.click("button[type=submit]")
        page.wait_for_selector("ul.codes")
        assert booked in page.inner_text("h1")
        assert page.locator("ul.codes .code").count() == 2
        assert page.get_attribute("html", "dir") == direction
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.screenshot(path=str(SCREENSHOTS / f"booked-{lang}.png"), full_page=True)
        browser.close()


@pytest.mark.parametrize(("lang", "direction"), [("ar", "rtl"), ("ro", "ltr")])
def test_book_a_ride_to_a_hospital_on_a_small_phone(
    live_server: str, database_url: str, lang: str, direction: str
) -> None:
    from playwright.sync_api import sync_playwright

    from mobility.service_stops import import_services, load_services
    from mobility.store import make_engine, make_session_factory

    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        import_services(session, load_services())
    engine.dispose()
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: run `make system-deps`")
    SCREENSHOTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 360, "height": 640}, locale=lang)
        page.goto(f"{live_server}/lang/{lang}?next=/register")
        page.click("button[type=submit]")
        page.wait_for_selector("p.code")
        page.click("a.button")
        page.wait_for_selector("nav.purposes")
        page.click("nav.purposes a[href$='for=hospital']")
        page.wait_for_selector("nav.purposes a[aria-current=page][href$='for=hospital']")
        assert page.get_attribute("html", "dir") == direction
        page.select_option("#from_stop", label="Borgo Mezzanone")
        hospital = page.locator("#to_stop option", has_text="Foggia").first.inner_text()
        page.select_option("#to_stop", label=hospital)
        page.select_option("#time", "09:30")
        page.check("#with_return")
        page.select_option("#return_time", "12:00")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.screenshot(path=str(SCREENSHOTS / f"book-hospital-{lang}.png"), full_page=True)
        page.click("button[type=submit]")
        page.wait_for_selector("dl.ride")
        assert "09:30" in page.inner_text("dl.ride") and hospital in page.inner_text("dl.ride")
        page.click("button[type=submit]")
        page.wait_for_selector("ul.codes")
        assert page.locator("ul.codes .code").count() == 2
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        browser.close()
