"""The worker side's use cases (mobility.bookings) on a fresh database (SQLite, and
PostgreSQL when configured): registration, PINs, booking, cancelling, incidents."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mobility.bookings import (
    CODE_ALPHABET,
    BookingRules,
    RideRequest,
    authenticate_worker,
    cancel_booking,
    list_bookings,
    register_worker,
    request_rides,
    submit_incident,
)
from mobility.errors import ServiceError
from mobility.store import Booking, BookingStatus, Direction, Incident, Stop, Worker
from tests.clock import SUNDAY, at
from tests.conftest import RULES, TEST_HASH_METHOD

ROME = BookingRules().zone
# Wednesday 2026-07-15, 10:00 in Foggia
NOW = dt.datetime(2026, 7, 15, 10, 0, tzinfo=ROME)
TOMORROW = dt.date(2026, 7, 16)


def stop(db: Session, name: str) -> Stop:
    found = db.scalar(select(Stop).where(Stop.name == name))
    assert found is not None
    return found


@pytest.fixture
def worker(db: Session) -> Worker:
    w, _ = register_worker(db, language="fr")
    return w


@pytest.fixture
def ride(db: Session) -> RideRequest:
    return RideRequest(
        service_date=TOMORROW,
        from_stop_id=stop(db, "Borgo Mezzanone").id,
        to_stop_id=stop(db, "Foggia (centre)").id,
        time_min=6 * 60,
    )


def count(db: Session, model: type) -> int:
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


def test_registration_gives_a_readable_code_and_stores_only_a_pin_hash(db: Session) -> None:
    worker, pin = register_worker(db, language="ar")
    assert len(worker.code) >= 8 and set(worker.code) <= set(CODE_ALPHABET)
    assert pin.isdigit() and len(pin) == 6
    assert pin not in worker.pin_hash and worker.pin_hash.startswith(TEST_HASH_METHOD)
    assert worker.phone is None


def test_pins_and_passwords_are_hashed_with_scrypt_in_production(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mobility import hashing

    monkeypatch.setattr(hashing, "HASH_METHOD", hashing.SCRYPT)  # as deployed
    hashed = hashing.hash_secret("123456")
    assert hashed.startswith("scrypt:32768:8:1$")  # werkzeug's parameters: ~82 ms a hash
    assert hashing.check_secret(hashed, "123456") and not hashing.check_secret(hashed, "1")


def test_bad_phone_is_rejected_naming_the_field(db: Session) -> None:
    with pytest.raises(ServiceError) as err:
        register_worker(db, phone="call me")
    assert err.value.field == "phone"
    assert count(db, Worker) == 0


def test_wrong_code_and_wrong_pin_get_the_same_answer(db: Session, worker: Worker) -> None:
    with pytest.raises(ServiceError) as wrong_pin:
        authenticate_worker(db, worker.code, "000000x", rules=RULES)
    with pytest.raises(ServiceError) as wrong_code:
        authenticate_worker(db, "ZZZZZZZZ", "123456", rules=RULES)
    assert (wrong_pin.value.code, str(wrong_pin.value)) == (
        wrong_code.value.code,
        str(wrong_code.value),
    )


def test_five_wrong_pins_lock_the_code_even_for_the_right_pin(db: Session) -> None:
    worker, pin = register_worker(db)
    for _ in range(5):
        with pytest.raises(ServiceError):
            authenticate_worker(db, worker.code, "wrong", now=NOW, rules=RULES)
    with pytest.raises(ServiceError):
        authenticate_worker(db, worker.code, pin, now=NOW + dt.timedelta(minutes=5), rules=RULES)
    later = NOW + dt.timedelta(minutes=31)
    assert authenticate_worker(db, worker.code, pin, now=later, rules=RULES).id == worker.id


def test_booking_before_cutoff_is_requested(db: Session, worker: Worker, ride: RideRequest) -> None:
    (booking,) = request_rides(db, worker, ride, now=NOW, rules=RULES)
    assert booking.status is BookingStatus.REQUESTED
    assert len(booking.code) >= 7


def test_booking_after_cutoff_is_late(db: Session, worker: Worker, ride: RideRequest) -> None:
    evening = dt.datetime(2026, 7, 15, 20, 5, tzinfo=ROME)
    (booking,) = request_rides(db, worker, ride, now=evening, rules=RULES)
    assert booking.status is BookingStatus.LATE


def test_return_ride_is_booked_in_the_same_flow(
    db: Session, worker: Worker, ride: RideRequest
) -> None:
    both = request_rides(
        db,
        worker,
        RideRequest(**{**ride.__dict__, "return_time_min": 17 * 60}),
        now=NOW,
        rules=RULES,
    )
    assert [b.direction for b in both] == [Direction.TO_WORK, Direction.BACK]
    assert both[1].from_stop_id == ride.to_stop_id and both[1].to_stop_id == ride.from_stop_id


def test_series_books_monday_to_saturday_until_the_date(
    db: Session, worker: Worker, ride: RideRequest
) -> None:
    series = RideRequest(**{**ride.__dict__, "repeat_until": dt.date(2026, 7, 22)})
    bookings = request_rides(db, worker, series, now=NOW, rules=RULES)
    days = [b.service_date for b in bookings]
    # Thu 16, Fri 17, Sat 18, (no Sunday 19), Mon 20, Tue 21, Wed 22
    assert [d.day for d in days] == [16, 17, 18, 20, 21, 22]
    assert len({b.series_id for b in bookings}) == 1 and bookings[0].series_id


def test_a_week_long_series_booked_on_any_weekday_books_its_six_working_days(
    db: Session, worker: Worker, ride: RideRequest, week_clock: dt.date
) -> None:
    first = week_clock + dt.timedelta(days=1)
    last = first + dt.timedelta(days=6)
    series = RideRequest(**{**ride.__dict__, "service_date": first, "repeat_until": last})
    bookings = request_rides(
        db, worker, series, rules=RULES
    )  # at 10:00 by the clock: before the cut-off
    week = [first + dt.timedelta(days=i) for i in range(7)]
    assert [b.service_date for b in bookings] == [d for d in week if d.weekday() != SUNDAY]
    assert {b.status for b in bookings} == {BookingStatus.REQUESTED}


def test_a_ride_for_tomorrow_booked_after_the_cutoff_is_late_on_any_weekday(
    db: Session, worker: Worker, ride: RideRequest, week_clock: dt.date
) -> None:
    tomorrow = RideRequest(**{**ride.__dict__, "service_date": week_clock + dt.timedelta(days=1)})
    early, _ = register_worker(db)
    with time_machine.travel(at(week_clock, 19, 55), tick=False):
        (in_time,) = request_rides(db, early, tomorrow, rules=RULES)
    with time_machine.travel(at(week_clock, 20, 5), tick=False):
        (late,) = request_rides(db, worker, tomorrow, rules=RULES)
    assert (in_time.status, late.status) == (BookingStatus.REQUESTED, BookingStatus.LATE)


def test_second_ride_the_same_way_the_same_day_is_rejected(
    db: Session, worker: Worker, ride: RideRequest
) -> None:
    request_rides(db, worker, ride, now=NOW, rules=RULES)
    with pytest.raises(ServiceError) as err:
        request_rides(db, worker, ride, now=NOW, rules=RULES)
    assert (err.value.field, err.value.code) == ("date", "duplicate_direction")
    assert count(db, Booking) == 1


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"seats": 0}, "seats", "seats_range"),
        ({"seats": 29}, "seats", "seats_range"),
        ({"service_date": dt.date(2026, 7, 14)}, "date", "date_past"),
        ({"service_date": dt.date(2026, 7, 30)}, "date", "date_too_far"),
        ({"time_min": 24 * 60}, "time", "bad_time"),
        ({"to_stop_id": 99999}, "to_stop", "unknown_stop"),
        ({"repeat_until": dt.date(2026, 7, 10)}, "repeat_until", "repeat_before_start"),
    ],
)
def test_bad_ride_names_the_field_and_writes_nothing(
    db: Session, worker: Worker, ride: RideRequest, change: dict, field: str, code: str
) -> None:
    with pytest.raises(ServiceError) as err:
        request_rides(db, worker, RideRequest(**{**ride.__dict__, **change}), now=NOW, rules=RULES)
    assert (err.value.field, err.value.code) == (field, code)
    assert count(db, Booking) == 0


def test_same_pickup_and_destination_is_rejected(
    db: Session, worker: Worker, ride: RideRequest
) -> None:
    same = RideRequest(**{**ride.__dict__, "to_stop_id": ride.from_stop_id})
    with pytest.raises(ServiceError) as err:
        request_rides(db, worker, same, now=NOW, rules=RULES)
    assert err.value.code == "same_stop"


def test_inactive_stop_cannot_be_booked(db: Session, worker: Worker, ride: RideRequest) -> None:
    destination = db.get(Stop, ride.to_stop_id)
    assert destination is not None
    destination.active = False
    db.commit()
    with pytest.raises(ServiceError) as err:
        request_rides(db, worker, ride, now=NOW, rules=RULES)
    assert err.value.field == "to_stop"


def test_same_idempotency_key_books_once(db: Session, worker: Worker, ride: RideRequest) -> None:
    first = request_rides(db, worker, ride, idempotency_key="tap-1", now=NOW, rules=RULES)
    again = request_rides(db, worker, ride, idempotency_key="tap-1", now=NOW, rules=RULES)
    assert [b.code for b in again] == [b.code for b in first]
    assert count(db, Booking) == 1


def test_crew_leader_books_up_to_28_seats_and_no_more(
    db: Session, worker: Worker, ride: RideRequest
) -> None:
    with pytest.raises(ServiceError) as err:
        request_rides(
            db, worker, RideRequest(**{**ride.__dict__, "seats": 29}), now=NOW, rules=RULES
        )
    assert (err.value.field, err.value.params) == ("seats", {"low": 1, "high": 28})
    assert count(db, Booking) == 0
    (booking,) = request_rides(
        db, worker, RideRequest(**{**ride.__dict__, "seats": 28}), now=NOW, rules=RULES
    )
    assert booking.seats == 28 and count(db, Booking) == 1


def test_worker_cannot_see_or_cancel_someone_elses_booking(
    db: Session, worker: Worker, ride: RideRequest
) -> None:
    (booking,) = request_rides(db, worker, ride, now=NOW, rules=RULES)
    other, _ = register_worker(db)
    with pytest.raises(ServiceError) as err:
        cancel_booking(db, other, booking.code, now=NOW, rules=RULES)
    assert err.value.code == "not_found"
    assert list_bookings(db, other) == []
    assert db.get(Booking, booking.id).status is BookingStatus.REQUESTED  # type: ignore[union-attr]


def test_cancel_rest_of_series_keeps_earlier_rides(
    db: Session, worker: Worker, ride: RideRequest
) -> None:
    series = RideRequest(**{**ride.__dict__, "repeat_until": dt.date(2026, 7, 21)})
    bookings = request_rides(db, worker, series, now=NOW, rules=RULES)
    cancelled = cancel_booking(
        db, worker, bookings[2].code, whole_series=True, now=NOW, rules=RULES
    )
    assert {b.service_date.day for b in cancelled} == {18, 20, 21}
    statuses = [b.status for b in list_bookings(db, worker)]
    assert statuses[:2] == [BookingStatus.REQUESTED, BookingStatus.REQUESTED]


def test_cancelled_ride_cannot_be_cancelled_again(
    db: Session, worker: Worker, ride: RideRequest
) -> None:
    (booking,) = request_rides(db, worker, ride, now=NOW, rules=RULES)
    cancel_booking(db, worker, booking.code, now=NOW, rules=RULES)
    with pytest.raises(ServiceError) as err:
        cancel_booking(db, worker, booking.code, now=NOW, rules=RULES)
    assert err.value.code == "not_cancellable"


def test_incident_report_is_stored_for_staff(db: Session) -> None:
    submit_incident(db, kind="money", text="the driver asked 5 euro", booking_code="abc1234")
    report = db.scalar(select(Incident))
    assert report is not None and report.booking_code == "ABC1234"


def test_incident_report_with_unknown_kind_is_rejected(db: Session) -> None:
    with pytest.raises(ServiceError) as err:
        submit_incident(db, kind="gossip")
    assert err.value.field == "kind"
    assert count(db, Incident) == 0
