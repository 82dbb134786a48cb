"""Booking load on the production setup: 50 clients register, open a session and book.

Starts the `make serve` setup (the Procfile: gunicorn with 2 x cores + 1 workers and
one job worker) on a fresh PostgreSQL database and a queue of its own, unless --url
names a server already running. Each of the clients, at the same time, registers a
worker and opens an API session (two PIN hashes, timed and reported on their own),
then books with its bearer token: to work and back, every day it may (28 rides).
Bookings per second and the p50/p95/p99 latencies are those of the booking requests,
from the first booking to the last. With --planning, the same load runs again (new
clients) while a 60 s planning job runs on the worker.

Prints each phase; the last line is one JSON object. Measures and prints; not a test.

Usage: python bench/load.py [--clients 50] [--planning] [--url URL]
       [--rate R]   (R bookings a second in all, paced; default: as fast as served)
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BENCH_DB = "passaggio_load"


@dataclass
class Tally:
    """What one phase measured."""

    latencies_s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    workers: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Client:
    """One phone: a keep-alive connection, a worker, its session token."""

    def __init__(self, base: str, stops: tuple[int, int]) -> None:
        parsed = urllib.parse.urlsplit(base)
        self.host, self.port = parsed.hostname or "127.0.0.1", parsed.port or 80
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        self.stops = stops
        self.token = ""
        self.rides: list[tuple[str, str]] = []

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json", "Connection": "keep-alive"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        payload = json.dumps(body) if body is not None else None
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=payload, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                return response.status, json.loads(data) if data else None
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def new_worker(self, tally: Tally) -> None:
        status, card = self.call("POST", "/api/v1/workers", {"language": "fr"})
        if status != 201:
            raise RuntimeError(f"register: {status} {card}")
        status, session = self.call(
            "POST", "/api/v1/sessions", {"code": card["code"], "pin": card["pin"]}
        )
        if status != 201:
            raise RuntimeError(f"session: {status} {session}")
        self.token = session["token"]
        today = dt.date.today()
        self.rides = [
            ((today + dt.timedelta(days=d)).isoformat(), direction)
            for d in range(1, 15)
            for direction in ("to_work", "back")
        ]
        with tally.lock:
            tally.workers += 1

    def book(self) -> tuple[int, Any]:
        day, direction = self.rides.pop(0)
        home, town = self.stops
        there = direction == "to_work"
        return self.call(
            "POST",
            "/api/v1/bookings",
            {
                "date": day,
                "direction": direction,
                "from_stop": home if there else town,
                "to_stop": town if there else home,
                "time": "06:00" if there else "17:00",
                "seats": 1,
            },
        )


def client_loop(
    base: str,
    stops: tuple[int, int],
    interval_s: float,
    offset_s: float,
    ready: threading.Barrier,
    signup: Tally,
    tally: Tally,
) -> None:
    client = Client(base, stops)
    try:
        started = time.perf_counter()
        client.new_worker(signup)
        with signup.lock:
            signup.latencies_s.append(time.perf_counter() - started)
    except Exception as exc:
        with signup.lock:
            signup.errors.append(f"{type(exc).__name__}: {exc}")
    ready.wait()  # every client books once all have signed up
    next_at = time.perf_counter() + offset_s  # paced clients start spread over an interval
    while client.rides:
        try:
            if interval_s:
                next_at += interval_s
                time.sleep(max(0.0, next_at - time.perf_counter()))
            started = time.perf_counter()
            status, body = client.book()
            elapsed = time.perf_counter() - started
            with tally.lock:
                tally.latencies_s.append(elapsed)
                if status != 201:
                    tally.errors.append(f"{status} {body}")
        except Exception as exc:  # a failed request is an error of the run, not a crash
            with tally.lock:
                tally.errors.append(f"{type(exc).__name__}: {exc}")


def percentiles(latencies: list[float]) -> dict[str, float]:
    lat = sorted(latencies) or [0.0]

    def pct(p: float) -> float:
        return round(1000 * lat[min(len(lat) - 1, int(p / 100 * len(lat)))], 1)

    return {"p50_ms": pct(50), "p95_ms": pct(95), "p99_ms": pct(99)}


def run_phase(base: str, stops: tuple[int, int], clients: int, rate: float) -> dict[str, Any]:
    signup, tally = Tally(), Tally()
    interval = clients / rate if rate else 0.0
    ready = threading.Barrier(clients + 1)
    threads = [
        threading.Thread(
            target=client_loop,
            args=(base, stops, interval, interval * n / clients, ready, signup, tally),
        )
        for n in range(clients)
    ]
    signup_started = time.perf_counter()
    for thread in threads:
        thread.start()
    ready.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    booked = len(tally.latencies_s) - len(tally.errors)
    return {
        "bookings": booked,
        "bookings_per_s": round(booked / wall, 1),
        **percentiles(tally.latencies_s),
        "mean_ms": round(1000 * statistics.fmean(tally.latencies_s or [0.0]), 1),
        "errors": len(tally.errors) + len(signup.errors),
        "first_errors": (signup.errors + tally.errors)[:3],
        "signup_s": round(started - signup_started, 1),
        "signup_p95_ms": percentiles(signup.latencies_s)["p95_ms"],
        "seconds": round(wall, 1),
    }


def fresh_database(url_base: str) -> str:
    from sqlalchemy import create_engine, text

    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {BENCH_DB}"))
    admin.dispose()
    return f"{url_base}/{BENCH_DB}"


def start_server(port: int, queue: str, database_url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
        "MOBILITY_ENV": "production",
        "MOBILITY_SECRET_KEY": secrets.token_hex(32),
        "MOBILITY_DATABASE_URL": database_url,
        "MOBILITY_REDIS_URL": os.environ.get("MOBILITY_REDIS_URL", "redis://127.0.0.1:6379/0"),
        "MOBILITY_QUEUE": queue,
        "MOBILITY_RATELIMIT_ENABLED": "false",
        "MOBILITY_RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/1",
        "MOBILITY_TRUSTED_PROXIES": "0",
        "MOBILITY_SMS_BACKEND": "log",
        "MOBILITY_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": os.environ.get("WEB_CONCURRENCY", str(2 * (os.cpu_count() or 1) + 1)),
        "FLASK_SKIP_DOTENV": "1",
    }
    subprocess.run([str(BIN / "flask"), "--app", "web", "init-db"], env=env, check=True, cwd=ROOT)
    return subprocess.Popen(
        [str(BIN / "honcho"), "start", "-f", "Procfile", "--no-prefix"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def wait_until_up(base: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            parsed = urllib.parse.urlsplit(base)
            conn = http.client.HTTPConnection(parsed.hostname or "", parsed.port, timeout=2)
            conn.request("GET", "/api/v1/stops")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"server at {base} did not answer in {timeout_s} s")
        time.sleep(0.5)


def pick_stops(base: str) -> tuple[int, int]:
    parsed = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(parsed.hostname or "", parsed.port, timeout=10)
    conn.request("GET", "/api/v1/stops")
    stops = json.loads(conn.getresponse().read())
    by_name = {s["name"]: s["id"] for s in stops}
    return by_name["Borgo Mezzanone"], by_name["Foggia (centre)"]


def start_planning_job(database_url: str, queue: str) -> int:
    """A fleet at Foggia and a 60 s planning run of tomorrow on the worker's queue."""
    from sqlalchemy import select

    from mobility.dispatch import add_vehicle
    from mobility.jobs import RedisQueue, start_planning
    from mobility.store import PlanRun, PlanStatus, Stop, make_engine, make_session_factory

    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    with sessions() as session:
        foggia = session.scalar(select(Stop).where(Stop.name == "Foggia (centre)"))
        assert foggia is not None
        for n in range(12):
            add_vehicle(
                session,
                name=f"BUS-{n + 1:02d}",
                seats=28,
                profile="bus",
                depot_stop_id=foggia.id,
                shift_start_min=3 * 60,
                shift_end_min=20 * 60,
            )
        redis_url = os.environ.get("MOBILITY_REDIS_URL", "redis://127.0.0.1:6379/0")
        tomorrow = dt.date.today() + dt.timedelta(days=1)
        run, _ = start_planning(session, RedisQueue(redis_url, queue), tomorrow, time_limit_s=60)
        run_id = run.id
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # the load starts once the search does
        with sessions() as session:
            found = session.get(PlanRun, run_id)
            if found is not None and found.progress.startswith("optimizing"):
                break
            if found is not None and found.status is PlanStatus.FAILED:
                raise SystemExit(f"planning run failed: {found.message}")
        time.sleep(0.5)
    engine.dispose()
    return run_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rate", type=float, default=0.0, help="paced bookings/s in all")
    parser.add_argument("--planning", action="store_true", help="again during a 60 s job")
    parser.add_argument("--url", help="a server already running (default: start one)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--database", default="postgresql+psycopg://postgres@127.0.0.1:5432", metavar="URL"
    )
    args = parser.parse_args()
    server = None
    queue = f"load-{secrets.token_hex(4)}"
    database_url = ""
    if args.url:
        base = args.url.rstrip("/")
    else:
        database_url = fresh_database(args.database)
        server = start_server(args.port, queue, database_url)
        base = f"http://127.0.0.1:{args.port}"
    try:
        wait_until_up(base)
        stops = pick_stops(base)
        run_phase(base, stops, 10, 0)  # warm up
        result: dict[str, Any] = {"clients": args.clients, "cores": os.cpu_count()}
        result["idle"] = run_phase(base, stops, args.clients, args.rate)
        print(f"idle worker:      {result['idle']}", flush=True)
        if args.planning:
            if not database_url:
                raise SystemExit("--planning needs the server this script starts (no --url)")
            result["planning_run"] = start_planning_job(database_url, queue)
            result["planning"] = run_phase(base, stops, args.clients, args.rate)
            print(f"during planning:  {result['planning']}", flush=True)
        print(json.dumps(result))
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
