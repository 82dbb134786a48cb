"""The retention policy: what a purge removes, what the Region's report keeps."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from mobility.bookings import RideRequest, register_worker, request_rides
from mobility.cli import main
from mobility.clock import utcnow
from mobility.config import UnitCosts
from mobility.outputs import month_period, region_figures
from mobility.retention import RetentionPolicy, purge
from mobility.store import (
    AuditLog,
    Booking,
    BookingStatus,
    Incident,
    IncidentKind,
    Message,
    MessageKind,
    MessageState,
    Stop,
    StopKind,
    Worker,
)
from tests.clock import STARTED
from tests.conftest import NODES, REDIS_URL, RULES

TODAY = STARTED
OLD = TODAY - dt.timedelta(days=120)  # past the 90 days bookings are kept
RECENT = TODAY - dt.timedelta(days=10)


def _book(db: Session, worker: Worker, stops: tuple[int, int], day: dt.date) -> Booking:
    booked_at = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(10), dt.UTC)
    ride = RideRequest(day, stops[0], stops[1], 360, seats=3)
    (booking,) = request_rides(db, worker, ride, now=booked_at, rules=RULES)
    booking.status = BookingStatus.COMPLETED
    db.add(
        Message(
            idempotency_key=f"pickup:{booking.id}",
            worker_id=worker.id,
            booking_id=booking.id,
            service_date=day,
            kind=MessageKind.PICKUP,
            booking_code=booking.code,
            state=MessageState.SENT,
        )
    )
    db.commit()
    return booking


@pytest.fixture
def season(db: Session) -> dict[str, int]:
    """An old worker (rode 120 days ago, registered then), a recent one with an old
    ride too, an old incident report and audit line, and recent ones."""
    ids = []
    for key, name, kind in [("A", "Camp", StopKind.SETTLEMENT), ("C", "Field", StopKind.FARM)]:
        stop = Stop(name=name, kind=kind, lat=NODES[key][0], lon=NODES[key][1])
        db.add(stop)
        db.flush()
        ids.append(stop.id)
    stops = (ids[0], ids[1])
    long_ago = dt.datetime.combine(OLD - dt.timedelta(days=5), dt.time(9), dt.UTC)
    old_worker, _ = register_worker(db, phone="+39 333 1111111")
    old_worker.created_at = long_ago
    regular, _ = register_worker(db, phone="+39 333 2222222")
    regular.created_at = long_ago
    db.commit()
    _book(db, old_worker, stops, OLD)
    _book(db, regular, stops, OLD + dt.timedelta(days=1))
    _book(db, regular, stops, RECENT)
    old_moment = dt.datetime.combine(TODAY - dt.timedelta(days=400), dt.time(9), dt.UTC)
    db.add(Incident(kind=IncidentKind.MONEY, text="asked for money", created_at=old_moment))
    db.add(Incident(kind=IncidentKind.MONEY, text="again", created_at=utcnow()))
    db.add(AuditLog(action="view_worker", detail="x", at=old_moment))
    db.add(AuditLog(action="view_worker", detail="y"))
    db.commit()
    return {"old_worker": old_worker.id, "regular": regular.id}


def _report(db: Session, day: dt.date) -> list[dict[str, object]]:
    """The Region's figures of both months, but the unique workers (counting them
    needs the worker, kept 90 days: a month's report is made before)."""
    months = [f"{d.year}-{d.month:02d}" for d in (day, RECENT)]
    out = []
    for month in months:
        f = region_figures(db, month_period(month), costs=UnitCosts(), timezone="Europe/Rome")
        del f["rides"]["unique_workers"], f["cost"]["per_worker_eur"]
        out.append(f)
    return out


def test_purge_keeps_the_counts_and_drops_the_people(db: Session, season: dict[str, int]) -> None:
    before = _report(db, OLD)
    counts = purge(db, RetentionPolicy(), TODAY)
    assert counts.to_dict() == {
        "bookings_anonymised": 2,
        "workers_deleted": 1,  # the old worker: no booking left
        "phones_deleted": 0,  # the regular rode 10 days ago; the old one is gone
        "reports_deleted": 1,
        "audit_deleted": 1,
    }
    assert _report(db, OLD) == before  # the Region's figures do not change
    assert db.get(Worker, season["old_worker"]) is None
    regular = db.get(Worker, season["regular"])
    assert regular is not None and regular.phone is not None
    linked = db.scalar(select(func.count()).where(Booking.worker_id.is_not(None)))
    assert linked == 1  # the recent ride keeps its worker
    assert db.scalar(select(func.count()).select_from(Message)) == 1
    assert purge(db, RetentionPolicy(), TODAY).to_dict() == dict.fromkeys(counts.to_dict(), 0)
    # 40 days on, the regular has not ridden for 40 days: the number goes
    later = purge(db, RetentionPolicy(), TODAY + dt.timedelta(days=40))
    assert later.phones_deleted == 1 and db.get(Worker, season["regular"]).phone is None  # type: ignore[union-attr]


def test_a_dry_run_counts_and_changes_nothing(db: Session, season: dict[str, int]) -> None:
    dry = purge(db, RetentionPolicy(), TODAY, dry_run=True)
    assert dry.bookings_anonymised == 2 and dry.workers_deleted == 1
    assert db.scalar(select(func.count()).where(Booking.worker_id.is_(None))) == 0
    assert db.get(Worker, season["old_worker"]) is not None
    assert purge(db, RetentionPolicy(), TODAY) == dry


def test_purge_command_prints_the_documented_json(
    db: Session,
    season: dict[str, int],
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MOBILITY_DATABASE_URL", database_url)
    argv = ["purge", "--as-of", TODAY.isoformat(), "--dry-run", "--json"]
    assert main(argv) == 0
    counts = json.loads(capsys.readouterr().out)
    assert counts["bookings_anonymised"] == 2 and set(counts) == {
        "bookings_anonymised",
        "workers_deleted",
        "phones_deleted",
        "reports_deleted",
        "audit_deleted",
    }
    monkeypatch.setenv("MOBILITY_KEEP_BOOKINGS_DAYS", "0")
    assert main(argv) == 2
    assert "MOBILITY_KEEP_BOOKINGS_DAYS" in capsys.readouterr().err


def test_a_policy_of_zero_days_is_refused() -> None:
    with pytest.raises(ValueError, match="phone_days: must be at least 1 day"):
        RetentionPolicy(phone_days=0)


def test_a_first_purge_over_a_backlog_larger_than_a_statement_s_parameters(
    production_db: Session,
) -> None:
    db = production_db
    stops = [s.id for s in db.scalars(select(Stop).limit(2))]
    worker, _ = register_worker(db)
    day = OLD - dt.timedelta(days=1)
    rows = [
        {
            "code": f"B{n:07d}",
            "worker_id": worker.id,
            "service_date": day,
            "direction": "to_work",
            "from_stop_id": stops[0],
            "to_stop_id": stops[1],
            "time_min": 360,
            "seats": 1,
            "status": "completed",
        }
        for n in range(70_000)  # PostgreSQL takes 65,535 parameters a statement
    ]
    db.execute(insert(Booking), rows)
    db.commit()
    counts = purge(db, RetentionPolicy(), TODAY)
    assert counts.bookings_anonymised == 70_000
    left = db.scalar(
        select(func.count()).select_from(Booking).where(Booking.worker_id.is_not(None))
    )
    assert left == 0


def test_the_nightly_purge_schedules_the_next_one_even_when_it_fails(
    monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    from mobility import retention
    from mobility.jobs import schedule, tasks

    scheduled: list[str] = []

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(retention, "purge", broken)
    monkeypatch.setattr(schedule, "schedule_daily", lambda _q, _c, what: scheduled.append(what))
    monkeypatch.setenv("MOBILITY_DATABASE_URL", database_url)
    monkeypatch.setenv("MOBILITY_REDIS_URL", REDIS_URL)
    with pytest.raises(RuntimeError):
        tasks.purge_job()
    assert scheduled == ["purge"]
