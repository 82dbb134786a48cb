"""Messages to workers: the outbox written with its cause, sending through a real HTTP
server on 127.0.0.1 standing in for the SMS gateway (it answers 503 a few times,
400 for one number), retries, nothing sent twice, opt-out, six languages."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mobility.bookings import (
    RideRequest,
    cancel_booking,
    opt_out_by_phone,
    register_worker,
    request_rides,
    set_phone,
)
from mobility.clock import utcnow
from mobility.dispatch import plan_day, publish_plan
from mobility.errors import ServiceError
from mobility.i18n import LANGUAGES
from mobility.messages import (
    HttpTransport,
    JasminTransport,
    MessageFacts,
    compose,
    count_messages,
    is_gsm,
    list_messages,
    queue_change_notices,
    queue_reminders,
    segments,
    send_again,
    send_due,
)
from mobility.roads import RoadGraph
from mobility.store import (
    Booking,
    BookingStatus,
    Message,
    MessageKind,
    MessageState,
    Profile,
    Stop,
    StopKind,
    Vehicle,
    make_engine,
    make_session_factory,
)
from tests.clock import DAY, SUNDAY
from tests.conftest import NODES, QUICK, RULES

HUB = "+39 0881 000000"
LONG_STOP = "Borgo Mezzanone - CARA (Centro di Accoglienza per Richiedenti Asilo)"


# --------------------------------------------------------------------------- gateway


@dataclass
class Gateway:
    """What the stand-in gateway was asked and how it answers."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    fail_first: int = 0  # 503 for the first tries of every message
    refused: set[str] = field(default_factory=set)  # numbers answered 400
    seen: dict[str, int] = field(default_factory=dict)
    url: str = ""

    def accepted(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["status"] == 200]


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    state = Gateway()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            raw = self.rfile.read(length)
            if self.headers.get("Content-Type", "").startswith("application/json"):
                body = json.loads(raw)
                key, to = body["id"], body["to"]
            else:  # Jasmin: form fields, UCS-2 content as UTF-16BE bytes
                form = parse_qs(raw.decode("latin-1"), keep_blank_values=True)
                body = {k: v[0] for k, v in form.items()}
                key, to = body.get("to", "") + body.get("content", "")[:8], body["to"]
            state.seen[key] = state.seen.get(key, 0) + 1
            if to in state.refused:
                status, answer = 400, b'Error "no route"'
            elif state.seen[key] <= state.fail_first:
                status, answer = 503, b"busy"
            else:
                status, answer = 200, f'Success "gw-{len(state.requests)}"'.encode()
            state.requests.append(
                {"status": status, "body": body, "auth": self.headers.get("Authorization")}
            )
            self.send_response(status)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/send"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()


# --------------------------------------------------------------------------- a day


@pytest.fixture
def sessions(database_url: str) -> Iterator[Any]:
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


DAYS_6 = dt.timedelta(days=6)


def small_day(db: Session) -> dict[str, int]:
    ids = {}
    for key, name, kind in [("A", "Camp", StopKind.SETTLEMENT), ("C", "Field", StopKind.FARM)]:
        stop = Stop(name=name, kind=kind, lat=NODES[key][0], lon=NODES[key][1])
        db.add(stop)
        db.flush()
        ids[key] = stop.id
    for name in ("MB-1", "MB-2"):
        db.add(Vehicle(name=name, seats=8, profile=Profile.MINIBUS, depot_stop_id=ids["A"]))
    db.commit()
    return ids


def book(
    db: Session, ids: dict[str, int], *, phone: str | None, language: str = "fr", minute: int = 360
) -> Booking:
    worker, _ = register_worker(db, language=language, phone=phone)
    (booking,) = request_rides(
        db, worker, RideRequest(DAY, ids["A"], ids["C"], minute, seats=3), rules=RULES
    )
    return booking


def graphs(tiny: dict[str, RoadGraph]) -> Any:
    return lambda profile: tiny[profile]


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", list(MessageKind))
def test_every_message_fits_in_two_sms_in_every_language(kind: MessageKind, language: str) -> None:
    facts = MessageFacts("K7Q2M4X", dt.date(2026, 7, 16), 5 * 60 + 10, LONG_STOP, HUB)
    text = compose(kind, facts, language)
    assert segments(text) <= 2, (kind, language, len(text), text)
    assert "K7Q2M4X" in text and "16/07" in text and HUB in text
    if kind is not MessageKind.UNSERVED:
        assert "05:10" in text
    if language in ("ar", "bg"):  # UCS-2: 134 characters in two parts
        assert len(text) <= 134


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_crew_riding_in_part_is_told_how_many_seats_ride(language: str) -> None:
    facts = MessageFacts("K7Q2M4X", dt.date(2026, 7, 16), 5 * 60 + 10, LONG_STOP, HUB, (5, 10))
    text = compose(MessageKind.PICKUP, facts, language)
    assert segments(text) <= 2, (language, len(text), text)
    assert "5" in text and "10" in text and "05:10" in text and "K7Q2M4X" in text
    assert text != compose(MessageKind.PICKUP, dataclasses.replace(facts, part=None), language)
    if language in ("it", "en", "fr", "ro"):  # written in GSM text, never forced to UCS-2
        assert is_gsm(text), text


def test_segments_count_gsm_and_ucs2_as_phones_do() -> None:
    assert segments("a" * 160) == 1 and segments("a" * 161) == 2 and segments("a" * 306) == 2
    assert segments("€" * 80) == 1 and segments("€" * 81) == 2  # extension: two septets
    assert segments("ș" * 70) == 1 and segments("ș" * 71) == 2 and segments("ș" * 134) == 2
    assert segments("è" * 160) == 1  # Italian accents are GSM


def test_phone_numbers_are_stored_in_e164_and_bad_ones_name_the_field(db: Session) -> None:
    italian, _ = register_worker(db, phone="333 123 4567")
    senegal, _ = register_worker(db, phone="+221 77 123 45 67")
    assert (italian.phone, senegal.phone) == ("+393331234567", "+221771234567")
    with pytest.raises(ServiceError) as err:
        register_worker(db, phone="+39 12")
    assert (err.value.field, err.value.code) == ("phone", "bad_phone")


def test_publish_sends_one_message_per_booking_and_never_twice(
    db: Session, sessions: Any, tiny_graphs: dict[str, RoadGraph], gateway: Gateway
) -> None:
    ids = small_day(db)
    told = [book(db, ids, phone="+39 333 1111111"), book(db, ids, phone="+39 333 2222222")]
    book(db, ids, phone=None)  # did not ask for SMS
    plan_day(db, DAY, graphs(tiny_graphs), settings=QUICK)
    publish_plan(db, DAY)
    assert count_messages(db, DAY) == {"queued": 2, "sent": 0, "failed": 0}
    transport = HttpTransport(gateway.url, "secret-token")
    report = send_due(sessions, transport, hub_phone=HUB)
    assert (report.sent, report.failed, report.retry_later) == (2, 0, 0)
    # published again, and planned and published again: nothing new to tell
    publish_plan(db, DAY)
    plan_day(db, DAY, graphs(tiny_graphs), settings=QUICK)
    publish_plan(db, DAY)
    assert send_due(sessions, transport, hub_phone=HUB).sent == 0
    sent = gateway.accepted()
    assert len(sent) == 2 and len({r["body"]["id"] for r in sent}) == 2
    assert {r["body"]["to"] for r in sent} == {"+393331111111", "+393332222222"}
    assert all(r["auth"] == "Bearer secret-token" for r in sent)
    for request, booking in zip(sorted(sent, key=lambda r: r["body"]["to"]), told, strict=True):
        db.refresh(booking)
        assert booking.code in request["body"]["text"]
        assert f"{booking.pickup_time_min // 60:02d}:" in request["body"]["text"]
        assert "Camp" in request["body"]["text"]  # the pickup stop
    rows = list_messages(db, DAY)
    assert [(r.kind, r.state, r.tries) for r in rows] == [("pickup", "sent", 1)] * 2


def test_retries_back_off_until_the_gateway_takes_the_message(
    db: Session, sessions: Any, tiny_graphs: dict[str, RoadGraph], gateway: Gateway
) -> None:
    ids = small_day(db)
    book(db, ids, phone="+39 333 1111111")
    plan_day(db, DAY, graphs(tiny_graphs), settings=QUICK)
    publish_plan(db, DAY)
    gateway.fail_first = 3
    transport = HttpTransport(gateway.url, "t")
    start = utcnow()
    attempts: list[dt.datetime] = []
    now = start
    for _ in range(6):
        report = send_due(sessions, transport, hub_phone=HUB, now=now)
        message = db.scalar(select(Message))
        assert message is not None
        db.refresh(message)
        attempts.append(now)
        if message.state is MessageState.SENT:
            break
        assert report.retry_later == 1 and message.state is MessageState.QUEUED
        due = message.next_attempt_at.replace(tzinfo=dt.UTC)
        assert due - now <= dt.timedelta(minutes=10)
        now = due
    assert message.state is MessageState.SENT and message.tries == 4
    assert attempts[1] - attempts[0] <= dt.timedelta(seconds=30)  # the first retry
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    assert gaps == sorted(gaps)  # backing off
    assert [r["status"] for r in gateway.requests] == [503, 503, 503, 200]
    assert len({r["body"]["id"] for r in gateway.requests}) == 1  # the same message


def test_a_refused_number_fails_for_good_and_staff_can_send_again(
    db: Session, sessions: Any, tiny_graphs: dict[str, RoadGraph], gateway: Gateway
) -> None:
    ids = small_day(db)
    book(db, ids, phone="+39 333 1111111")
    book(db, ids, phone="+39 333 9999999")
    gateway.refused = {"+393339999999"}
    plan_day(db, DAY, graphs(tiny_graphs), settings=QUICK)
    publish_plan(db, DAY)
    transport = HttpTransport(gateway.url, "t")
    report = send_due(sessions, transport, hub_phone=HUB)
    assert (report.sent, report.failed, report.retry_later) == (1, 1, 0)
    failed = next(r for r in list_messages(db, DAY) if r.state == "failed")
    assert failed.tries == 1 and failed.last_error.startswith("400")
    with pytest.raises(ServiceError) as err:
        send_again(db, next(r.id for r in list_messages(db, DAY) if r.state == "sent"))
    assert err.value.code == "not_failed"
    gateway.refused = set()  # the number was fixed at the gateway
    send_again(db, failed.id)
    assert send_due(sessions, transport, hub_phone=HUB).sent == 1
    assert count_messages(db, DAY) == {"queued": 0, "sent": 2, "failed": 0}


def test_a_failing_gateway_is_given_up_after_the_most_tries(
    db: Session, sessions: Any, tiny_graphs: dict[str, RoadGraph], gateway: Gateway
) -> None:
    ids = small_day(db)
    book(db, ids, phone="+39 333 1111111")
    plan_day(db, DAY, graphs(tiny_graphs), settings=QUICK)
    publish_plan(db, DAY)
    gateway.fail_first = 100
    transport = HttpTransport(gateway.url, "t")
    now = utcnow()
    for _ in range(3):
        send_due(sessions, transport, hub_phone=HUB, max_tries=3, now=now)
        now += dt.timedelta(minutes=10)
    assert [(r.state, r.tries) for r in list_messages(db, DAY)] == [("failed", 3)]


def test_a_moved_pickup_or_a_lost_seat_or_a_staff_cancellation_is_told_once(
    db: Session, tiny_graphs: dict[str, RoadGraph]
) -> None:
    ids = small_day(db)
    moved, lost, cancelled = (book(db, ids, phone=f"+39 333 12345{n}0") for n in range(3))
    plan_day(db, DAY, graphs(tiny_graphs), settings=QUICK)
    publish_plan(db, DAY)
    for booking in (moved, lost, cancelled):
        db.refresh(booking)
        assert booking.told_pickup_min == booking.pickup_time_min is not None
    # the pickup moves by 4 minutes: nothing; by 9 more: one change
    moved.pickup_time_min += 4  # type: ignore[operator]
    assert queue_change_notices(db, moved, "v9") == 0
    moved.pickup_time_min += 9  # type: ignore[operator]
    assert queue_change_notices(db, moved, "v10") == 1
    assert queue_change_notices(db, moved, "v10") == 0  # the same cause: once
    lost.status = BookingStatus.UNSERVED
    assert queue_change_notices(db, lost, "v10") == 1
    db.commit()
    cancel_booking(db, cancelled.worker, cancelled.code, by_staff=True, rules=RULES)
    cancel_booking(db, moved.worker, moved.code, rules=RULES)  # the worker cancels: nothing to tell
    kinds = {(m.booking_code, m.kind.value, m.pickup_min) for m in db.scalars(select(Message))}
    assert (moved.code, "change", moved.pickup_time_min) in kinds
    assert (lost.code, "unserved", None) in kinds
    assert (cancelled.code, "change", None) in kinds
    assert len(kinds) == 6  # three pickups, then these three


def test_the_evening_reminder_goes_to_series_rides_told_nothing_today(
    db: Session, tiny_graphs: dict[str, RoadGraph], week_clock: dt.date
) -> None:
    ids = small_day(db)
    worker, _ = register_worker(db, phone="+39 333 1111111")
    first = week_clock + dt.timedelta(days=2)
    week = RideRequest(first, ids["A"], ids["C"], 360, seats=2, repeat_until=first + DAYS_6)
    rides = request_rides(db, worker, week, rules=RULES)
    assert len(rides) == 6 and all(r.service_date.weekday() != SUNDAY for r in rides)
    ride = rides[0]
    day = ride.service_date
    quiet, _ = register_worker(db, phone="+39 333 2222222")
    (other,) = request_rides(
        db, quiet, RideRequest(day, ids["A"], ids["C"], 390, seats=2), rules=RULES
    )
    other.series_id = "S2"
    db.commit()
    plan_day(db, day, graphs(tiny_graphs), settings=QUICK)
    for booking in (ride, other):  # published before, told long ago
        db.refresh(booking)
        booking.status, booking.pickup_time_min = BookingStatus.SCHEDULED, 300
    db.add(  # the first worker got a message today already
        Message(
            idempotency_key="earlier",
            worker_id=worker.id,
            service_date=day,
            kind=MessageKind.CHANGE,
            booking_code=ride.code,
            state=MessageState.SENT,
        )
    )
    db.commit()
    assert queue_reminders(db, day) == 1
    assert queue_reminders(db, day) == 0  # once
    db.commit()
    (reminder,) = db.scalars(select(Message).where(Message.kind == MessageKind.REMINDER))
    assert reminder.booking_code == other.code


def test_opting_out_deletes_the_number_and_drops_waiting_messages(
    db: Session, tiny_graphs: dict[str, RoadGraph], sessions: Any, gateway: Gateway
) -> None:
    ids = small_day(db)
    by_sms = book(db, ids, phone="+39 333 1111111")
    by_switch = book(db, ids, phone="+221 77 123 45 67")
    plan_day(db, DAY, graphs(tiny_graphs), settings=QUICK)
    publish_plan(db, DAY)
    assert opt_out_by_phone(db, "+393331111111", "hello") is False
    assert opt_out_by_phone(db, "00393331111111", " stop ") is True
    set_phone(db, by_switch.worker, None)
    db.refresh(by_sms.worker)
    assert by_sms.worker.phone is None and by_switch.worker.phone is None
    assert count_messages(db, DAY) == {"queued": 0, "sent": 0, "failed": 0}
    assert send_due(sessions, HttpTransport(gateway.url, "t"), hub_phone=HUB).sent == 0
    assert gateway.requests == []


def test_jasmin_gets_gsm_text_as_it_is_and_arabic_as_ucs2(
    db: Session, sessions: Any, tiny_graphs: dict[str, RoadGraph], gateway: Gateway
) -> None:
    ids = small_day(db)
    book(db, ids, phone="+39 333 1111111", language="it")
    book(db, ids, phone="+39 333 2222222", language="ar")
    plan_day(db, DAY, graphs(tiny_graphs), settings=QUICK)
    publish_plan(db, DAY)
    transport = JasminTransport(gateway.url, "hub", "pw", sender="Passaggio")
    assert send_due(sessions, transport, hub_phone=HUB).sent == 2
    by_number = {r["body"]["to"]: r["body"] for r in gateway.requests}
    italian, arabic = by_number["+393331111111"], by_number["+393332222222"]
    assert "coding" not in italian and italian["content"].startswith("Passaggio")
    assert arabic["coding"] == "8"
    assert arabic["content"].encode("latin-1").decode("utf-16-be").startswith("باساجيو")
    assert italian["username"] == "hub" and italian["from"] == "Passaggio"
    gateway_ids = {m.gateway_id for m in db.scalars(select(Message))}
    assert all(g and g.startswith("gw-") for g in gateway_ids)  # Success "gw-N" read


def test_messages_commands_send_and_list_as_documented(
    db: Session,
    database_url: str,
    tiny_graphs: dict[str, RoadGraph],
    gateway: Gateway,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    from mobility.cli import main

    ids = small_day(db)
    booking = book(db, ids, phone="+39 333 1111111")
    plan_day(db, DAY, graphs(tiny_graphs), settings=QUICK)
    publish_plan(db, DAY)
    monkeypatch.setenv("MOBILITY_DATABASE_URL", database_url)
    monkeypatch.setenv("MOBILITY_SMS_BACKEND", "http")
    monkeypatch.setenv("MOBILITY_SMS_URL", gateway.url)
    monkeypatch.setenv("MOBILITY_SMS_TOKEN", "t")
    assert main(["messages", "send", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"sent": 1, "failed": 0, "retry_later": 0}
    assert main(["messages", "list", "--date", DAY.isoformat(), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed == [{"booking": booking.code, "kind": "pickup", "state": "sent", "tries": 1}]
    monkeypatch.setenv("MOBILITY_SMS_BACKEND", "carrier-pigeon")
    assert main(["messages", "send", "--json"]) == 2
    assert "MOBILITY_SMS_BACKEND" in capsys.readouterr().err


def _sms_env(database_url: str, gateway: Gateway) -> dict[str, str]:
    import os

    return {
        **os.environ,
        "MOBILITY_DATABASE_URL": database_url,
        "MOBILITY_SMS_BACKEND": "http",
        "MOBILITY_SMS_URL": gateway.url,
        "MOBILITY_SMS_TOKEN": "t",
    }


def test_a_rq_worker_sends_what_a_publish_queued(
    production_db: Session,
    production_database_url: str,
    tiny_graphs: dict[str, RoadGraph],
    gateway: Gateway,
    queue_name: str,
) -> None:
    import subprocess
    import sys

    from mobility.jobs import RedisQueue
    from tests.conftest import REDIS_URL

    db = production_db
    ids = small_day(db)
    booking = book(db, ids, phone="+39 333 1111111")
    plan_day(db, DAY, graphs(tiny_graphs), settings=QUICK)
    publish_plan(db, DAY)
    RedisQueue(REDIS_URL, queue_name).enqueue_send()
    env = {
        **_sms_env(production_database_url, gateway),
        "MOBILITY_REDIS_URL": REDIS_URL,
        "MOBILITY_QUEUE": queue_name,
        "MOBILITY_PLAN_AT": "off",
        "MOBILITY_REMIND_AT": "off",
    }
    worker = subprocess.run(
        [str(Path(sys.executable).parent / "mobility"), "worker", "--burst", "--nice", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert worker.returncode == 0, worker.stderr[-2000:]
    (sent,) = gateway.accepted()
    assert sent["body"]["to"] == "+393331111111" and booking.code in sent["body"]["text"]
    assert count_messages(db, DAY) == {"queued": 0, "sent": 1, "failed": 0}


def test_without_redis_a_local_process_sends_them(
    embedded_db: Session,
    embedded_database_url: str,
    tiny_graphs: dict[str, RoadGraph],
    gateway: Gateway,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    import time

    from mobility.jobs import LocalQueue

    db = embedded_db
    ids = small_day(db)
    book(db, ids, phone="+39 333 1111111")
    gateway.fail_first = 1  # the process keeps going until the retry is through
    plan_day(db, DAY, graphs(tiny_graphs), settings=QUICK)
    publish_plan(db, DAY)
    for key, value in _sms_env(embedded_database_url, gateway).items():
        monkeypatch.setenv(key, value)
    LocalQueue(embedded_database_url, None, tmp_path / "jobs.log").enqueue_send()
    deadline = time.monotonic() + 90
    while not gateway.accepted():
        assert time.monotonic() < deadline, (tmp_path / "jobs.log").read_text()[-2000:]
        time.sleep(0.5)
    assert [r["status"] for r in gateway.requests] == [503, 200]
