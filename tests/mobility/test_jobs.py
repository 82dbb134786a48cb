"""Planning as jobs: a real `rq` worker process on the Redis at 127.0.0.1:6379, a
worker killed mid-run, one run per day, the local-process path, the nightly schedule."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mobility.bookings import RideRequest, register_worker, request_rides
from mobility.clock import utcnow
from mobility.config import config_from_env
from mobility.dispatch import (
    STALE_AFTER_S,
    RunAbandonedError,
    claim_run,
    fail_run,
    fill_run,
    get_run,
    latest_plan,
    plan_day,
    reap_stale_runs,
    request_run,
)
from mobility.errors import ServiceError
from mobility.jobs import RedisQueue, nightly_job, schedule_nightly, start_planning
from mobility.roads import RoadGraph
from mobility.store import (
    Booking,
    BookingStatus,
    PlanKind,
    PlanRun,
    PlanStatus,
    Profile,
    Stop,
    StopKind,
    Vehicle,
    make_engine,
    make_session_factory,
)
from tests.clock import DAY
from tests.conftest import NODES, QUICK, REDIS_URL, RULES, TAVOLIERE

MOBILITY = Path(sys.executable).parent / "mobility"
#: A short search for a job queued from the command line.
QUICK_ARGS = ("--time-limit", "3")
#: What the jobs of these tests plan with: stop when the answer is known.
QUICK_JOB = {k: v for k, v in dataclasses.asdict(QUICK).items() if k != "time_limit_s"}


def job_env(database_url: str, queue_name: str, osm: Path, redis: bool = True) -> dict[str, str]:
    env = {
        **os.environ,
        "MOBILITY_DATABASE_URL": database_url,
        "MOBILITY_QUEUE": queue_name,
        "MOBILITY_OSM_PATH": str(osm),
    }
    if redis:
        env["MOBILITY_REDIS_URL"] = REDIS_URL
    else:
        env.pop("MOBILITY_REDIS_URL", None)
    return env


def tavoliere_day(db: Session, crews: int = 3) -> list[Booking]:
    """Two minibuses and a bus at Foggia; crews from two settlements to Foggia."""
    stops = {s.name: s for s in db.scalars(select(Stop))}
    depot = stops["Foggia (centre)"]
    for name, seats, profile in [("MB-1", 8, Profile.MINIBUS), ("MB-2", 8, Profile.MINIBUS)]:
        db.add(Vehicle(name=name, seats=seats, profile=profile, depot_stop_id=depot.id))
    db.add(Vehicle(name="BUS-1", seats=28, profile=Profile.BUS, depot_stop_id=depot.id))
    db.commit()
    bookings = []
    for n in range(crews):
        worker, _ = register_worker(db)
        origin = stops["Borgo Mezzanone" if n % 2 else "Borgo Tressanti"]
        ride = RideRequest(DAY, origin.id, depot.id, 6 * 60, seats=4 + n)
        bookings += request_rides(db, worker, ride, rules=RULES)
    return bookings


def wait_for(check: Any, timeout_s: float, every_s: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"not within {timeout_s} s"
        time.sleep(every_s)


def kill_processes_with(marker: str) -> set[int]:
    """SIGKILL every process whose environment holds ``marker``; their pids."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if marker.encode() in environ:
            found.add(int(entry.name))
    for pid in found:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return found


def run_status(database_url: str, run_id: int) -> PlanStatus:
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            run = session.get(PlanRun, run_id)
            assert run is not None
            return run.status
    finally:
        engine.dispose()


@pytest.mark.integration
def test_a_real_rq_worker_plans_a_queued_run_on_the_tavoliere(
    production_db: Session,
    production_database_url: str,
    queue_name: str,
    tavoliere_minibus: RoadGraph,
) -> None:
    db, database_url = production_db, production_database_url
    bookings = tavoliere_day(db)
    queue = RedisQueue(REDIS_URL, queue_name)
    run, created = start_planning(db, queue, DAY, time_limit_s=20, settings=QUICK_JOB)
    assert created and run.status is PlanStatus.QUEUED and run.job_id
    worker = subprocess.run(
        [str(MOBILITY), "worker", "--burst", "--nice", "0"],
        env=job_env(database_url, queue_name, TAVOLIERE),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert worker.returncode == 0, worker.stderr[-2000:]
    db.expire_all()
    done = db.get(PlanRun, run.id)
    assert done is not None and done.status is PlanStatus.DONE, done and done.message
    assert done.started_at is not None and done.finished_at is not None
    plan = latest_plan(db, DAY)
    assert plan is not None and plan.id == run.id and plan.routes
    served = {m.booking_id for r in plan.routes for s in r.stops for m in s.moves}
    assert served == {b.id for b in bookings}
    assert json.loads(plan.figures)["violations"] == []


@pytest.mark.integration
def test_a_killed_worker_is_detected_within_60_s_and_the_plan_stays(
    production_db: Session,
    production_database_url: str,
    queue_name: str,
    tavoliere_minibus: RoadGraph,
) -> None:
    db, database_url = production_db, production_database_url
    bookings = tavoliere_day(db)
    previous = plan_day(db, DAY, lambda profile: load(profile), settings=QUICK)
    before = {b.id: (b.status, b.pickup_time_min) for b in bookings}
    queue = RedisQueue(REDIS_URL, queue_name)
    # a long search, so that the worker is surely killed in the middle of it (a fixed
    # count of iterations is never cut short by the plateau rule)
    long = {"solver_workers": 1, "lns_iterations": 10**9}
    run, _ = start_planning(db, queue, DAY, time_limit_s=300, settings=long)
    worker = subprocess.Popen(
        [str(MOBILITY), "worker", "--nice", "0"],
        env=job_env(database_url, queue_name, TAVOLIERE),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: run_status(database_url, run.id) is PlanStatus.RUNNING, 120)
        time.sleep(2)  # well into the search
    finally:
        # as when its machine is lost: the worker, the job's work horse (a session of its
        # own), its heartbeat and its solver processes, all at once
        killed_pids = kill_processes_with(f"MOBILITY_QUEUE={queue_name}")
        worker.wait()
    assert worker.pid in killed_pids and len(killed_pids) >= 3
    killed = time.monotonic()

    def failed() -> bool:
        db.expire_all()
        found = get_run(db, run.id, queued_alive=queue.queued_alive)
        return found is not None and found.status is PlanStatus.FAILED

    wait_for(failed, 60)
    assert time.monotonic() - killed <= 60
    db.expire_all()
    dead = db.get(PlanRun, run.id)
    assert dead is not None and "no heartbeat" in dead.message
    plan = latest_plan(db, DAY)
    assert plan is not None and plan.id == previous.plan_id  # the previous plan stays
    assert {b.id: (db.get(Booking, b.id).status, b.pickup_time_min) for b in bookings} == before  # type: ignore[union-attr]
    again, created = start_planning(db, queue, DAY, time_limit_s=5, settings=QUICK_JOB)
    assert created and again.id != run.id  # a new run can start


_GRAPHS: dict[str, RoadGraph] = {}


def load(profile: str) -> RoadGraph:
    from mobility.roads import load_road_graph

    if profile not in _GRAPHS:
        _GRAPHS[profile] = load_road_graph(profile, TAVOLIERE)
    return _GRAPHS[profile]


def test_two_plan_requests_for_one_day_give_one_run(db: Session, database_url: str) -> None:
    first, created = request_run(db, DAY, time_limit_s=10)
    second, again = request_run(db, DAY, time_limit_s=10)
    assert created and not again and second.id == first.id
    # many at the same moment, each on its own connection: still one run
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    other_day = DAY + dt.timedelta(days=1)
    ids: list[int] = []

    def ask() -> None:
        with sessions() as session:
            ids.append(request_run(session, other_day, time_limit_s=10)[0].id)

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engine.dispose()
    assert len(ids) == 6 and len(set(ids)) == 1
    # another kind of run (a manual edit's check) is refused while one is going
    with pytest.raises(ServiceError) as err:
        request_run(db, DAY, time_limit_s=10, kind=PlanKind.PREVIEW, moves={"X": None})
    assert err.value.code == "run_active" and err.value.field == "date"


def test_a_running_run_without_heartbeat_is_failed_and_cannot_store_its_plan(
    db: Session, tiny_graphs: dict[str, RoadGraph]
) -> None:
    ids = {}
    for key, name, kind in [("A", "Camp", StopKind.SETTLEMENT), ("C", "Field", StopKind.FARM)]:
        stop = Stop(name=name, kind=kind, lat=NODES[key][0], lon=NODES[key][1])
        db.add(stop)
        db.flush()
        ids[key] = stop.id
    db.add(Vehicle(name="MB-1", seats=8, profile=Profile.MINIBUS, depot_stop_id=ids["A"]))
    db.commit()
    worker, _ = register_worker(db)
    (booking,) = request_rides(
        db, worker, RideRequest(DAY, ids["A"], ids["C"], 360, seats=3), rules=RULES
    )
    run, _ = request_run(db, DAY, time_limit_s=5)
    claimed = claim_run(db, run.id)
    assert claimed is not None and claimed.status is PlanStatus.RUNNING
    later = utcnow() + dt.timedelta(seconds=STALE_AFTER_S + 1)
    assert reap_stale_runs(db, now=later) == [run.id]
    db.expire_all()
    with pytest.raises(RunAbandonedError):
        fill_run(db, db.get(PlanRun, run.id), lambda p: tiny_graphs[p], settings=QUICK)  # type: ignore[arg-type]
    db.expire_all()
    assert latest_plan(db, DAY) is None  # nothing stored
    assert db.get(Booking, booking.id).status is BookingStatus.REQUESTED  # type: ignore[union-attr]
    assert not fail_run(db, run.id, "again")  # failed once is failed


def test_enqueue_without_redis_runs_the_job_in_a_local_process(
    embedded_db: Session,
    embedded_database_url: str,
    tiny_osm: Path,
    tiny_graphs: dict[str, RoadGraph],
    queue_name: str,
) -> None:
    db, database_url = embedded_db, embedded_database_url
    ids = {}
    for key, name, kind in [("A", "Camp", StopKind.SETTLEMENT), ("C", "Field", StopKind.FARM)]:
        stop = Stop(name=name, kind=kind, lat=NODES[key][0], lon=NODES[key][1])
        db.add(stop)
        db.flush()
        ids[key] = stop.id
    db.add(Vehicle(name="MB-1", seats=8, profile=Profile.MINIBUS, depot_stop_id=ids["A"]))
    db.commit()
    worker, _ = register_worker(db)
    request_rides(db, worker, RideRequest(DAY, ids["A"], ids["C"], 360, seats=3), rules=RULES)
    env = job_env(database_url, queue_name, tiny_osm, redis=False)
    started = time.monotonic()
    out = subprocess.run(
        [str(MOBILITY), "plan", "--date", DAY.isoformat(), "--enqueue", "--json", *QUICK_ARGS],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert time.monotonic() - started < 15  # returns at once, the job runs elsewhere
    queued = json.loads(out.stdout)
    assert queued == {"run": queued["run"], "status": "queued"}

    def runs() -> list[dict[str, Any]]:
        listed = subprocess.run(
            [str(MOBILITY), "runs", "--date", DAY.isoformat(), "--json"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return list(json.loads(listed.stdout))

    final = wait_for(lambda: [r for r in runs() if r["status"] in ("done", "failed")], 120)
    assert final[0]["run"] == queued["run"] and final[0]["status"] == "done", final
    assert set(final[0]) == {"run", "status", "reason", "started", "finished"}
    assert final[0]["reason"] is None
    assert final[0]["started"] <= final[0]["finished"]


def test_a_worker_leaves_its_command_channel_at_once(queue_name: str) -> None:
    # what an rq worker does on its way out (a burst run's end, a deploy's SIGTERM):
    # with redis 8.2 the pubsub thread, back in its 60 s wait after the unsubscribe
    # reply, was joined to the end, and a worker took a minute to quit
    from redis import Redis
    from rq import Queue, Worker

    connection = Redis.from_url(REDIS_URL)
    worker = Worker([Queue(queue_name, connection=connection)], connection=connection)
    worker.subscribe()
    worker.pubsub.unsubscribe()
    time.sleep(0.5)  # the thread reads the reply and waits again
    started = time.monotonic()
    worker.unsubscribe()
    assert time.monotonic() - started < 5


def test_worker_without_redis_exits_2_naming_the_variable(database_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "MOBILITY_REDIS_URL"}
    env["MOBILITY_DATABASE_URL"] = database_url
    result = subprocess.run(
        [str(MOBILITY), "worker", "--burst"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "MOBILITY_REDIS_URL" in result.stderr and "Traceback" not in result.stderr


def test_nightly_planning_is_scheduled_after_the_cutoff_and_plans_tomorrow(
    production_db: Session,
    production_database_url: str,
    queue_name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db, database_url = production_db, production_database_url
    monkeypatch.setenv("MOBILITY_DATABASE_URL", database_url)
    monkeypatch.setenv("MOBILITY_REDIS_URL", REDIS_URL)
    monkeypatch.setenv("MOBILITY_QUEUE", queue_name)
    monkeypatch.setenv("MOBILITY_PLAN_AT", "20:05")
    config = config_from_env()
    queue = RedisQueue(REDIS_URL, queue_name)
    # 19:00 in Foggia (summer time): tonight at 20:05, that is 18:05 UTC
    now = dt.datetime(2026, 7, 15, 17, 0, tzinfo=dt.UTC)
    job_id = schedule_nightly(queue.queue, config, now=now)
    assert job_id == f"{queue_name}-nightly-plan-2026-07-15"
    registry = queue.queue.scheduled_job_registry
    assert registry.get_job_ids() == [job_id]
    when = registry.get_scheduled_time(job_id)
    assert when.replace(tzinfo=dt.UTC) == dt.datetime(2026, 7, 15, 18, 5, tzinfo=dt.UTC)
    assert schedule_nightly(queue.queue, config, now=now) == job_id  # once
    assert registry.get_job_ids() == [job_id]
    # the job itself: tomorrow's run on the queue, and the next evening scheduled
    run_id = nightly_job()
    db.expire_all()
    run = db.get(PlanRun, run_id)
    assert run is not None and run.status is PlanStatus.QUEUED
    assert run.service_date == config.tomorrow()
    assert len(queue.queue) == 1  # the planning job waits for a worker
    assert len(registry.get_job_ids()) == 2  # and a next evening is scheduled


def test_mobility_plan_with_redis_is_a_job_a_worker_does(
    production_db: Session,
    production_database_url: str,
    tiny_osm: Path,
    tiny_graphs: dict[str, RoadGraph],
    queue_name: str,
) -> None:
    db, database_url = production_db, production_database_url
    ids = {}
    for key, name, kind in [("A", "Camp", StopKind.SETTLEMENT), ("C", "Field", StopKind.FARM)]:
        stop = Stop(name=name, kind=kind, lat=NODES[key][0], lon=NODES[key][1])
        db.add(stop)
        db.flush()
        ids[key] = stop.id
    db.add(Vehicle(name="MB-1", seats=8, profile=Profile.MINIBUS, depot_stop_id=ids["A"]))
    db.commit()
    worker, _ = register_worker(db)
    request_rides(db, worker, RideRequest(DAY, ids["A"], ids["C"], 360, seats=3), rules=RULES)
    env = job_env(database_url, queue_name, tiny_osm)
    rq_worker = subprocess.Popen(
        [str(MOBILITY), "worker", "--nice", "0"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        planned = subprocess.run(
            [str(MOBILITY), "plan", "--date", DAY.isoformat(), "--json", *QUICK_ARGS],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
    finally:
        kill_processes_with(f"MOBILITY_QUEUE={queue_name}")
        rq_worker.wait()
    assert planned.returncode == 0, planned.stderr[-2000:]
    figures = json.loads(planned.stdout)
    assert figures["served_seats"] == 3 and figures["violations"] == []
    db.expire_all()
    run = db.get(PlanRun, figures["plan_id"])
    assert run is not None and run.status is PlanStatus.DONE and run.job_id  # done by the queue
