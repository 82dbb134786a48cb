"""The dispatcher's day page of a planned day in headless Chromium: a screenshot, and
what the page weighs.

    python bench/console_screenshot.py --database-url sqlite:///instance/mobility.db \\
        [--date YYYY-MM-DD] [--out docs/screenshots/console-day.png]

Takes the newest planned day by default and the demo's ``dispatcher`` account (its
password is replaced by a fresh one, as ``mobility demo`` does). Map tiles come from
``MOBILITY_MAP_TILES`` (default here: none, so that nothing leaves the machine).
The last line is one JSON object: ``{"date", "vehicles", "page_bytes",
"layers_bytes", "seconds_to_map"}``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import shutil
import threading
import time
from pathlib import Path

from sqlalchemy import func, select
from werkzeug.serving import make_server

from mobility.dispatch import latest_plan, set_staff_password
from mobility.store import PlanRun
from web import create_app
from web.db import get_session


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--date", type=dt.date.fromisoformat)
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots/console-day.png"))
    args = parser.parse_args()
    app = create_app(
        {
            "DATABASE_URL": args.database_url,
            "SECRET_KEY": secrets.token_hex(32),
            "RATELIMIT_ENABLED": False,
            "MAP_TILES": os.environ.get("MOBILITY_MAP_TILES", ""),
        }
    )
    password = secrets.token_hex(12)
    with app.app_context():
        db = get_session()
        day = args.date or db.scalar(select(func.max(PlanRun.service_date)))
        run = latest_plan(db, day) if day else None
        if run is None:
            raise SystemExit("no planned day in that database: run `mobility demo` first")
        vehicles = len(run.routes)
        set_staff_password(db, "dispatcher", password)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = shutil.which("chromium") or "/usr/bin/chromium"
        browser = pw.chromium.launch(executable_path=chromium, args=["--headless", "--no-sandbox"])
        page = browser.new_page(viewport={"width": 1440, "height": 1000}, locale="it")
        page.goto(f"{base}/dispatch/login?next=/dispatch/?date={day}")
        page.fill("#username", "dispatcher")
        page.fill("#password", password)
        started = time.monotonic()
        page.click("button[type=submit]")
        page.wait_for_selector("#daymap[data-ready]", timeout=120_000)
        seconds = time.monotonic() - started
        page.locator("#timelines").scroll_into_view_if_needed()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(args.out))
        page_bytes = len(page.request.get(f"{base}/dispatch/?date={day}").body())
        layers_bytes = len(page.request.get(f"{base}/dispatch/map/{day}.json").body())
        browser.close()
    server.shutdown()
    print(f"screenshot: {args.out}")
    print(
        json.dumps(
            {
                "date": str(day),
                "vehicles": vehicles,
                "page_bytes": page_bytes,
                "layers_bytes": layers_bytes,
                "seconds_to_map": round(seconds, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
