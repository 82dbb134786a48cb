"""The production setup for real: gunicorn with 3 workers on PostgreSQL, rate limits
in Redis, behind one trusted proxy (the tests send the ``X-Forwarded-For`` header a
proxy on loopback would add). Per-client limits must hold across the processes while
another client is served, and parallel wrong PINs from several client processes must
lose no count."""

from __future__ import annotations

import json
import multiprocessing
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from mobility.store import Worker, make_engine, make_session_factory
from tests.conftest import REDIS_URL

ROOT = Path(__file__).resolve().parent.parent.parent
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def gunicorn(production_database_url: str, tmp_path: Path) -> Iterator[str]:
    """The app on gunicorn, 3 workers, as ``make serve`` runs it; its base URL."""
    port = _free_port()
    env = {
        **os.environ,
        "MOBILITY_ENV": "production",
        "MOBILITY_SECRET_KEY": secrets.token_hex(32),
        "MOBILITY_DATABASE_URL": production_database_url,
        "MOBILITY_RATELIMIT_STORAGE_URI": REDIS_URL,
        "MOBILITY_RATELIMIT_KEY_PREFIX": f"prod-{secrets.token_hex(4)}",
        "MOBILITY_TRUSTED_PROXIES": "1",
        "MOBILITY_SMS_BACKEND": "log",
        "WEB_CONCURRENCY": "3",
        "MOBILITY_REDIS_URL": "",
    }
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--workers",
            "3",
            "--bind",
            f"127.0.0.1:{port}",
            "web:create_app()",
        ],
        env=env,
        cwd=ROOT,
        stdout=(tmp_path / "gunicorn.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/stops", timeout=2).close()
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail((tmp_path / "gunicorn.log").read_text(errors="replace")[-3000:])
            time.sleep(0.2)
    yield f"http://127.0.0.1:{port}"
    server.terminate()
    server.wait(timeout=30)


def _post(url: str, body: dict[str, object], client: str) -> int:
    """POST JSON as a client behind the proxy (which appends the client's address to
    whatever the client sent as X-Forwarded-For)."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={
            "Content-Type": "application/json",
            "X-Forwarded-For": f"6.6.6.6, {client}",  # a spoofed first entry counts for nothing
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


def test_rate_limits_count_per_client_across_the_web_processes(gunicorn: str) -> None:
    sessions = f"{gunicorn}/api/v1/sessions"
    wrong = {"code": "AAAAAAAA", "pin": "000000"}
    statuses = [_post(sessions, wrong, "203.0.113.7") for _ in range(11)]
    assert statuses[:10] == [401] * 10  # spread over 3 processes, counted as one
    assert statuses[10] == 429
    # another client behind the same proxy is served meanwhile
    assert _post(sessions, wrong, "203.0.113.8") == 401


def _wrong_pins(url: str, code: str, client: str, count: int) -> list[int]:
    return [_post(url, {"code": code, "pin": "000000"}, client) for _ in range(count)]


def test_parallel_wrong_pins_from_four_processes_lock_the_code(
    gunicorn: str, production_database_url: str
) -> None:
    request = urllib.request.Request(
        f"{gunicorn}/api/v1/workers",
        data=b'{"language": "fr"}',
        headers={"Content-Type": "application/json", "X-Forwarded-For": "198.51.100.1"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        worker = json.loads(response.read())
    url = f"{gunicorn}/api/v1/sessions"
    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:
        # each process a client of its own (the rate limit is per client: 10 a minute)
        jobs = [(url, worker["code"], f"198.51.100.{10 + k}", 5) for k in range(4)]
        statuses = [s for batch in pool.starmap(_wrong_pins, jobs) for s in batch]
    assert statuses == [401] * 20
    engine = make_engine(production_database_url)
    with make_session_factory(engine)() as db:
        row = db.scalar(select(Worker).where(Worker.code == worker["code"]))
        assert row is not None
        # counted one by one (a lost count would leave fewer than 5, and no lock): the
        # code is locked; attempts that came after the lock were not even counted
        assert 5 <= row.failed_pins <= 20
        assert row.locked_until is not None
    engine.dispose()
    right = _post(url, {"code": worker["code"], "pin": worker["pin"]}, "198.51.100.99")
    assert right == 401  # locked, even for the right PIN
