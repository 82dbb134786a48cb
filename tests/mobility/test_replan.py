"""When the day goes wrong, on the real Tavoliere roads: a breakdown with riders on
board, an absent driver, a late minibus. What happened stays, the checker passes
every re-plan, and exactly the workers it changes are messaged."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mobility.bookings import RideRequest, register_worker, request_rides
from mobility.clock import zone
from mobility.dispatch import (
    Disruption,
    DisruptionKind,
    execute_run,
    latest_plan,
    plan_day,
    plan_pickups,
    publish_plan,
    publish_replan,
    record_events,
    replan_proposal,
    request_replan,
)
from mobility.errors import ServiceError
from mobility.roads import RoadGraph, load_road_graph
from mobility.store import (
    Booking,
    BookingStatus,
    Message,
    PlanRoute,
    PlanRun,
    Profile,
    Stop,
    StopKind,
    Vehicle,
    make_engine,
    make_session_factory,
)
from tests.clock import DAY
from tests.conftest import QUICK, RULES, TAVOLIERE

pytestmark = pytest.mark.integration

ROME = zone("Europe/Rome")
PLACES = {
    "depot": ("Test depot Foggia", StopKind.DEPOT, 41.4620, 15.5433),
    "camp": ("Test camp Mezzanone", StopKind.SETTLEMENT, 41.4206, 15.7096),
    "cara": ("Test camp CARA", StopKind.SETTLEMENT, 41.405217, 15.732647),
    "farm1": ("Test farm east", StopKind.FARM, 41.45, 15.62),
    "farm2": ("Test farm Incoronata", StopKind.FARM, 41.4118, 15.5958),
}
#: (from, to, arrive by (min), seats)
RIDES = [
    ("camp", "farm1", 360, 6),
    ("camp", "farm1", 360, 2),
    ("cara", "farm2", 390, 5),
    ("camp", "farm2", 420, 4),
    ("cara", "farm1", 360, 3),
    ("cara", "farm2", 420, 6),
]


@pytest.fixture(scope="module")
def graphs(tavoliere_minibus: RoadGraph) -> Callable[[str], RoadGraph]:
    bus = load_road_graph("bus", TAVOLIERE)
    return lambda profile: tavoliere_minibus if profile == "minibus" else bus


@pytest.fixture
def day(db: Session, graphs: Callable[[str], RoadGraph]) -> dict[str, int]:
    """Six bookings from two camps to two farms, four minibuses at Foggia; planned and
    published."""
    ids = {}
    for key, (name, kind, lat, lon) in PLACES.items():
        stop = Stop(name=name, kind=kind, lat=lat, lon=lon)
        db.add(stop)
        db.flush()
        ids[key] = stop.id
    for n in range(1, 5):
        db.add(
            Vehicle(name=f"MB-{n}", seats=8, profile=Profile.MINIBUS, depot_stop_id=ids["depot"])
        )
    db.commit()
    for n, (a, b, minute, seats) in enumerate(RIDES):
        worker, _ = register_worker(db, phone=f"+39 333 100000{n}")
        request_rides(
            db, worker, RideRequest(DAY, ids[a], ids[b], minute, seats=seats), rules=RULES
        )
    outcome = plan_day(db, DAY, graphs, settings=QUICK)
    assert outcome.figures.violations == () and outcome.figures.unserved_seats == 0
    publish_plan(db, DAY)
    return ids


def _at(seconds: int) -> str:
    return (dt.datetime.combine(DAY, dt.time(0), ROME) + dt.timedelta(seconds=seconds)).isoformat()


def _replan(
    db: Session, database_url: str, graphs: Callable[[str], RoadGraph], disruption: Disruption
) -> PlanRun:
    run, created = request_replan(db, DAY, disruption, time_limit_s=QUICK.time_limit_s)
    assert created
    sessions = make_session_factory(make_engine(database_url))
    outcome = execute_run(sessions, run.id, graphs, QUICK)
    assert outcome is not None, "the re-plan failed"
    assert outcome.figures.violations == ()  # the independent checker passed it
    db.expire_all()
    proposal = replan_proposal(db, DAY)
    assert proposal is not None and proposal.run.id == run.id
    return proposal.run


def _route(run: PlanRun, name: str) -> PlanRoute | None:
    return next((r for r in run.routes if r.vehicle.name == name), None)


def _busiest(run: PlanRun) -> PlanRoute:
    return max(run.routes, key=lambda r: sum(m.seats for s in r.stops for m in s.moves))


def _stop_rows(route: PlanRoute, up_to: int) -> list[tuple[Any, ...]]:
    return [
        (
            s.seq,
            s.stop_id,
            s.arrival_s,
            s.departure_s,
            s.actual_arrival_min,
            s.actual_departure_min,
            sorted((m.booking_id, m.boarding, m.seats) for m in s.moves),
        )
        for s in sorted(route.stops, key=lambda s: s.seq)
        if s.seq <= up_to
    ]


def _messaged(db: Session) -> dict[int, list[str]]:
    said: dict[int, list[str]] = {}
    for m in db.scalars(select(Message).where(Message.service_date == DAY)):
        said.setdefault(m.booking_id or 0, []).append(m.idempotency_key)
    return said


def test_a_breakdown_with_riders_on_board_keeps_what_happened_and_rescues_them(
    db: Session, database_url: str, graphs: Callable[[str], RoadGraph], day: dict[str, int]
) -> None:
    published = latest_plan(db, DAY)
    assert published is not None
    route = _busiest(published)
    stops = sorted(route.stops, key=lambda s: s.seq)
    first = next(s for s in stops if any(m.boarding for m in s.moves))
    boarding = [m for m in first.moves if m.boarding]
    taps: list[dict[str, Any]] = [
        {"key": "t-start-0001", "kind": "shift_start", "at": _at(first.arrival_s - 1800)},
        {"key": "t-arrive-001", "kind": "arrived", "at": _at(first.arrival_s), "stop": first.seq},
    ]
    taps += [
        {
            "key": f"t-board-{m.booking_id:04d}",
            "kind": "boarded",
            "at": _at(first.arrival_s + 60),
            "stop": first.seq,
            "booking": m.booking.code,
            "seats": m.seats,
        }
        for m in boarding
    ]
    taps.append(
        {"key": "t-depart-001", "kind": "departed", "at": _at(first.departure_s), "stop": first.seq}
    )
    answer = record_events(db, DAY, route.vehicle, taps, timezone="Europe/Rome", on_its_way=False)
    assert len(answer["accepted"]) == len(taps)
    before_messages = _messaged(db)
    told = plan_pickups(published)
    breakdown = Disruption(
        DisruptionKind.OUT_OF_SERVICE, route.vehicle.name, first.departure_s // 60 + 4
    )
    run = _replan(db, database_url, graphs, breakdown)
    summary = replan_proposal(db, DAY).summary  # type: ignore[union-attr]
    mine = {m.booking_id for s in stops for m in s.moves}
    codes = {b.id: b.code for b in db.scalars(select(Booking))}
    assert set(summary["affected_bookings"]) == {codes[i] for i in mine}
    # what happened stays exactly as it was; the riders leave the vehicle where it stands
    kept = _route(run, route.vehicle.name)
    assert kept is not None
    assert _stop_rows(kept, first.seq) == _stop_rows(route, first.seq)
    last = max(kept.stops, key=lambda s: s.seq)
    assert last.stop_id == first.stop_id and all(not m.boarding for m in last.moves)
    assert {m.booking_id for m in last.moves} == {m.booking_id for m in boarding}
    # and another vehicle picks them up there, after the breakdown
    for m in boarding:
        assert str(m.booking_id) in summary["rescued"]
        time_s, stop_id = summary["rescued"][str(m.booking_id)]
        assert stop_id == first.stop_id and time_s >= breakdown.at_min * 60
        other = [
            r
            for r in run.routes
            if r.vehicle_id != route.vehicle_id
            and any(x.booking_id == m.booking_id and x.boarding for s in r.stops for x in s.moves)
        ]
        assert other, f"booking {m.booking_id} is left by the road"
    assert set(summary["reserved_bookings"]) | {x["code"] for x in summary["lost_bookings"]} == set(
        summary["affected_bookings"]
    )
    # publishing tells the rescued, the lost and those moved by more than 5 minutes: no one else
    result = publish_replan(db, DAY, run.id)
    db.expire_all()
    assert latest_plan(db, DAY).id == run.id  # type: ignore[union-attr]
    new_told = plan_pickups(run)
    after = _messaged(db)
    new = {b: k for b, keys in after.items() for k in keys if k not in before_messages.get(b, [])}
    assert result["messages_queued"] == len(new)
    expected = {m.booking_id for m in boarding}
    expected |= {i for i, c in codes.items() if c in {x["code"] for x in summary["lost_bookings"]}}
    for booking in db.scalars(select(Booking).where(Booking.status == BookingStatus.SCHEDULED)):
        i = booking.id
        moved = i in told and i in new_told and abs(new_told[i][0] // 60 - told[i][0] // 60) > 5
        if moved and i not in expected:
            expected.add(i)
    assert set(new) == expected
    rescued = db.get(Booking, boarding[0].booking_id)
    assert rescued is not None and rescued.status is BookingStatus.COMPLETED
    assert rescued.pickup_stop_id == first.stop_id


def test_an_absent_driver_s_riders_go_with_the_others_or_are_told_why_not(
    db: Session, database_url: str, graphs: Callable[[str], RoadGraph], day: dict[str, int]
) -> None:
    published = latest_plan(db, DAY)
    assert published is not None
    route = _busiest(published)
    riders = {m.booking_id for s in route.stops for m in s.moves}
    run = _replan(
        db, database_url, graphs, Disruption(DisruptionKind.ABSENT, route.vehicle.name, 180)
    )
    assert _route(run, route.vehicle.name) is None
    summary = replan_proposal(db, DAY).summary  # type: ignore[union-attr]
    served = {m.booking_id for r in run.routes for s in r.stops for m in s.moves if m.boarding}
    codes = {b.id: b.code for b in db.scalars(select(Booking))}
    lost = {x["code"]: x["reason"] for x in summary["lost_bookings"]}
    for booking_id in riders:
        assert (booking_id in served) != (codes[booking_id] in lost)
    assert all(reason for reason in lost.values())
    # nobody else's time moved beyond the promise
    before, after = plan_pickups(published), plan_pickups(run)
    for booking_id, (time_s, _) in before.items():
        if booking_id not in riders and booking_id in after:
            assert abs(after[booking_id][0] // 60 - time_s // 60) <= QUICK.max_shift_min


def test_a_late_minibus_starts_later_and_its_riders_come_first(
    db: Session, database_url: str, graphs: Callable[[str], RoadGraph], day: dict[str, int]
) -> None:
    published = latest_plan(db, DAY)
    assert published is not None
    route = _busiest(published)
    start = min(route.stops, key=lambda s: s.seq).departure_s
    late = Disruption(DisruptionKind.LATE, route.vehicle.name, 120, minutes=25)
    run = _replan(db, database_url, graphs, late)
    summary = replan_proposal(db, DAY).summary  # type: ignore[union-attr]
    riders = {m.booking.code for s in route.stops for m in s.moves}
    assert set(summary["affected_bookings"]) == riders
    again = _route(run, route.vehicle.name)
    if again is not None:  # it still drives: not before it can
        assert min(again.stops, key=lambda s: s.seq).departure_s >= start + 25 * 60


def test_an_absent_driver_whose_vehicle_left_is_refused(
    db: Session, database_url: str, graphs: Callable[[str], RoadGraph], day: dict[str, int]
) -> None:
    published = latest_plan(db, DAY)
    assert published is not None
    route = _busiest(published)
    first = min((s for s in route.stops if s.moves), key=lambda s: s.seq)
    record_events(
        db,
        DAY,
        route.vehicle,
        [{"key": "t-arrive-777", "kind": "arrived", "at": _at(first.arrival_s), "stop": first.seq}],
        timezone="Europe/Rome",
        on_its_way=False,
    )
    run, _ = request_replan(
        db, DAY, Disruption(DisruptionKind.ABSENT, route.vehicle.name, 300), time_limit_s=5
    )
    sessions = make_session_factory(make_engine(database_url))
    assert execute_run(sessions, run.id, graphs, QUICK) is None
    db.expire_all()
    assert "has left its depot" in (db.get(PlanRun, run.id).message or "")  # type: ignore[union-attr]
    with pytest.raises(ServiceError) as err:
        request_replan(
            db, DAY, Disruption(DisruptionKind.LATE, "MB-9", 300, minutes=5), time_limit_s=5
        )
    assert (err.value.field, err.value.code) == ("vehicle", "not_found")


def test_mobility_replan_is_a_job_a_worker_does_and_prints_the_figures(
    db: Session,
    database_url: str,
    graphs: Callable[[str], RoadGraph],
    day: dict[str, int],
    queue_name: str,
) -> None:
    from tests.mobility.test_jobs import MOBILITY, job_env, kill_processes_with

    published = latest_plan(db, DAY)
    assert published is not None
    name = _busiest(published).vehicle.name
    env = job_env(database_url, queue_name, TAVOLIERE)
    rq_worker = subprocess.Popen(
        [str(MOBILITY), "worker", "--nice", "0"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    command = [str(MOBILITY), "replan", "--date", DAY.isoformat(), "--time-limit", "5"]
    try:
        done = subprocess.run(
            [*command, "--late", name, "--minutes", "20", "--from", "03:00", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        bad = subprocess.run(
            [*command, "--out-of-service", name, "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        kill_processes_with(f"MOBILITY_QUEUE={queue_name}")
        rq_worker.wait()
    assert done.returncode == 0, done.stderr[-2000:]
    answer = json.loads(done.stdout)
    assert set(answer) >= {
        "run",
        "affected_bookings",
        "moved_pickups",
        "reserved_bookings",
        "lost_bookings",
        "messages_queued",
    }
    riders = {m.booking.code for s in _busiest(published).stops for m in s.moves}
    assert set(answer["affected_bookings"]) == riders and answer["messages_queued"] == 0
    db.expire_all()
    run = db.get(PlanRun, answer["run"])
    assert run is not None and run.job_id and run.status.value == "done"  # done by the queue
    assert latest_plan(db, DAY).id == published.id  # type: ignore[union-attr]  # a proposal
    assert bad.returncode == 2 and "--out-of-service needs --from" in bad.stderr


def test_a_same_day_request_is_served_where_room_allows_moving_nobody_beyond_the_promise(
    db: Session, database_url: str, graphs: Callable[[str], RoadGraph], day: dict[str, int]
) -> None:
    published = latest_plan(db, DAY)
    assert published is not None
    before = plan_pickups(published)
    worker, _ = register_worker(db, phone="+39 333 2000000")
    (late,) = request_rides(
        db, worker, RideRequest(DAY, day["camp"], day["farm1"], 360, seats=3), rules=RULES
    )
    messages = _messaged(db)
    run = _replan(db, database_url, graphs, Disruption(DisruptionKind.STANDBY, "", 120))
    summary = replan_proposal(db, DAY).summary  # type: ignore[union-attr]
    assert summary["affected_bookings"] == [] and summary["standby_served"] == [late.code]
    after = plan_pickups(run)
    assert late.id in after
    for booking_id, (time_s, _) in before.items():
        # what a worker is told: minutes
        assert abs(after[booking_id][0] // 60 - time_s // 60) <= QUICK.max_shift_min
    publish_replan(db, DAY, run.id)
    db.expire_all()
    now = _messaged(db)
    new = {b for b, keys in now.items() if set(keys) - set(messages.get(b, []))}
    moved = {b for b, (t, _) in before.items() if abs(after[b][0] // 60 - t // 60) > 5}
    assert new == {late.id} | moved
    assert db.get(Booking, late.id).status is BookingStatus.SCHEDULED  # type: ignore[union-attr]


def test_a_driven_day_gives_the_region_its_figures_from_the_taps(
    db: Session, day: dict[str, int]
) -> None:
    from mobility.demo.season import drive_day
    from mobility.outputs import Period, region_figures
    from mobility.store import RoadEvent
    from tests.mobility.test_figures import COSTS

    driven = drive_day(db, DAY, seed=3, timezone="Europe/Rome")
    assert driven["taps"] > 0 and driven["boarded"] + driven["no_shows"] + driven["missed"] == 6
    keys = list(db.scalars(select(RoadEvent.key)))
    assert keys and all(k.startswith("season-") for k in keys)
    f = region_figures(db, Period(DAY, DAY), costs=COSTS, timezone="Europe/Rome")
    assert f["rides"]["completed_bookings"] == driven["boarded"]
    assert f["outcomes"]["no_show_bookings"] == driven["no_shows"]
    assert f["outcomes"]["missed_by_service_bookings"] == driven["missed"]
    assert f["vehicles"]["odometer_share"] == 1.0  # every shift tapped with its odometer
    if driven["boarded"]:
        assert f["punctuality"]["on_time_rate"] is not None


def test_a_breakdown_at_a_point_on_the_map_is_where_its_riders_are_picked_up(
    db: Session, database_url: str, graphs: Callable[[str], RoadGraph], day: dict[str, int]
) -> None:
    published = latest_plan(db, DAY)
    assert published is not None
    route = _busiest(published)
    first = min((s for s in route.stops if any(m.boarding for m in s.moves)), key=lambda s: s.seq)
    record_events(
        db,
        DAY,
        route.vehicle,
        [
            {
                "key": "p-arrive-01",
                "kind": "arrived",
                "at": _at(first.arrival_s),
                "stop": first.seq,
            },
            *[
                {
                    "key": f"p-board-{m.booking_id:03d}",
                    "kind": "boarded",
                    "at": _at(first.arrival_s + 60),
                    "stop": first.seq,
                    "booking": m.booking.code,
                    "seats": m.seats,
                }
                for m in first.moves
                if m.boarding
            ],
            {
                "key": "p-depart-01",
                "kind": "departed",
                "at": _at(first.departure_s),
                "stop": first.seq,
            },
        ],
        timezone="Europe/Rome",
        on_its_way=False,
    )
    # on the road towards Foggia, a few km on from the camp
    said = Disruption(
        DisruptionKind.OUT_OF_SERVICE,
        route.vehicle.name,
        first.departure_s // 60 + 5,
        lat=41.4425,
        lon=15.6500,
    )
    run = _replan(db, database_url, graphs, said)
    roadside = db.scalar(select(Stop).where(Stop.kind == StopKind.ROADSIDE))
    assert roadside is not None and not roadside.active  # not a stop anyone can book
    summary = replan_proposal(db, DAY).summary  # type: ignore[union-attr]
    boarded = {m.booking_id for m in first.moves if m.boarding}
    assert {int(i) for i in summary["rescued"]} == boarded
    assert {stop for _, stop in summary["rescued"].values()} == {roadside.id}
    kept = _route(run, route.vehicle.name)
    assert kept is not None
    assert max(kept.stops, key=lambda s: s.seq).stop_id == roadside.id
