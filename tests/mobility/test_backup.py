"""Backup and restore round trips on both databases: every booking comes back."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mobility.bookings import RideRequest, register_worker, request_rides
from mobility.cli import main
from mobility.store import Booking, BookingStatus, Stop
from tests.clock import DAY
from tests.conftest import RULES


def _bookings(db: Session) -> list[tuple[str, str, int]]:
    db.expire_all()
    rows = db.scalars(select(Booking).order_by(Booking.code))
    return [(b.code, b.status.value, b.seats) for b in rows]


def test_a_backup_restored_brings_every_booking_back(
    db: Session,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    names = ("Borgo Mezzanone", "Foggia (centre)")
    by_name = {s.name: s.id for s in db.scalars(select(Stop).where(Stop.name.in_(names)))}
    stops = [by_name[n] for n in names]
    for seats in (1, 4, 12):
        worker, _ = register_worker(db)
        request_rides(
            db,
            worker,
            RideRequest(DAY, stops[0], stops[1], 360, seats=seats, return_time_min=1020),
            rules=RULES,
        )
    before = _bookings(db)
    assert len(before) == 6
    monkeypatch.setenv("MOBILITY_DATABASE_URL", database_url)
    backup = tmp_path / "backup.dump"
    assert main(["backup", "--out", str(backup)]) == 0
    assert backup.stat().st_size > 0 and "wrote" in capsys.readouterr().out
    assert backup.stat().st_mode & 0o777 == 0o600  # personal data: the owner's alone
    # after the backup: a ride cancelled, another booked
    first = db.scalar(select(Booking).order_by(Booking.code))
    assert first is not None
    first.status = BookingStatus.CANCELLED
    late, _ = register_worker(db)
    request_rides(db, late, RideRequest(DAY, stops[0], stops[1], 420, seats=2), rules=RULES)
    db.commit()
    assert _bookings(db) != before
    db.close()
    assert main(["restore", str(backup)]) == 0
    assert _bookings(db) == before


def test_restoring_a_file_that_is_not_a_backup_is_one_line_and_status_2(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MOBILITY_DATABASE_URL", database_url)
    bogus = tmp_path / "bogus.dump"
    bogus.write_text("not a backup", encoding="utf-8")
    assert main(["restore", str(bogus)]) == 2
    assert main(["restore", str(tmp_path / "missing.dump")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("mobility: error:") for line in err)


def test_the_dump_tools_get_the_password_in_their_environment_not_their_arguments() -> None:
    from mobility.store.backup import _libpq

    url = "postgresql+psycopg://hub:s3cret@127.0.0.1:5432/passaggio?options=-csearch_path%3Dt1"
    connection, schema, env = _libpq(url)
    assert "s3cret" not in connection and schema == ["--schema=t1"]
    assert env["PGPASSWORD"] == "s3cret"
