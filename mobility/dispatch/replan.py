"""Re-planning the rest of a day after a disruption (a job like every planning run),
the proposal it stores beside the published plan, and publishing it.

The re-plan keeps every stop that happened exactly as it was (times, taps, who
boarded) and plans the rest from where each vehicle is (see
:mod:`mobility.dispatch.disruption`). It stores a complete plan of the day as a run
of kind ``replan``: a proposal the day page shows side by side with the published
plan. Publishing makes it the day's plan: the bookings left without a ride become
unserved with their reason, riders waiting by a broken-down vehicle are told where
and when they are picked up, and the usual publish tells every worker whose time
moved by more than five minutes (or who lost the ride), and nobody else. Drivers'
manifests follow the day's plan: they show the change at once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mobility.codes import UnservedReason
from mobility.dispatch.disruption import DayUnderWay, Disruption, day_under_way
from mobility.dispatch.planner import GraphLoader, PlanOutcome, stop_matrices
from mobility.dispatch.plans import latest_plan, publish_plan
from mobility.dispatch.run_state import fail_on_error, finish_run
from mobility.dispatch.runs import request_run
from mobility.errors import ServiceError
from mobility.messages import queue_rescue
from mobility.planning import (
    BookingRow,
    DayPlan,
    PlannedStop,
    PlanningSettings,
    ProfileMatrix,
    plan_bookings,
)
from mobility.store import (
    Booking,
    BookingStatus,
    Message,
    PlanKind,
    PlanMove,
    PlanRoute,
    PlanRun,
    PlanStatus,
    PlanStop,
)

#: Share of a re-plan's time given to the plan that moves nobody else.
_KEEP_SHARE: Final = 0.5
#: In that plan, a pickup may be this much later than told (a crew boarding apart
#: from another takes a little longer), never earlier.
KEEP_LATE_MIN: Final = 0

__all__ = [
    "Proposal",
    "check_replan",
    "fill_replan",
    "publish_replan",
    "replan_answer",
    "replan_proposal",
    "request_replan",
]


def check_replan(session: Session, day: dt.date, disruption: Disruption) -> None:
    """Refuse at once a re-plan that cannot run.

    Raises
    ------
    ServiceError
        ``no_plan`` without a published plan, ``not_found`` for a vehicle that has
        no route in it.
    """
    plan = latest_plan(session, day)
    if plan is None or plan.published_version is None:
        raise ServiceError("date", "no_plan", f"date: no published plan for {day}")
    if disruption.vehicle and not any(r.vehicle.name == disruption.vehicle for r in plan.routes):
        raise ServiceError(
            "vehicle", "not_found", f"vehicle: {disruption.vehicle!r} has no route that day"
        )


def request_replan(
    session: Session,
    day: dt.date,
    disruption: Disruption,
    *,
    time_limit_s: float,
    queued_alive: Callable[[PlanRun], bool] | None = None,
) -> tuple[PlanRun, bool]:
    """Queue the re-plan of a day after a disruption (or join the same one going).

    Raises
    ------
    ServiceError
        As :func:`check_replan`, and ``run_active`` when another run of the day is
        going.
    """
    check_replan(session, day, disruption)
    return request_run(
        session,
        day,
        time_limit_s=time_limit_s,
        kind=PlanKind.REPLAN,
        edits=disruption.to_json(),
        queued_alive=queued_alive,
    )


def fill_replan(
    session: Session,
    run: PlanRun,
    graphs: GraphLoader,
    *,
    settings: PlanningSettings,
    progress: Callable[[str], None] | None = None,
) -> PlanOutcome:
    """Do a claimed re-plan run: read the day under way, plan the rest, store the
    proposal and what it means (:func:`replan_proposal`) in one transaction.

    Raises
    ------
    Exception
        Whatever fails, re-raised after marking the run failed (nothing stored).
    """
    say = progress or (lambda _msg: None)
    run_id, day = run.id, run.service_date
    try:
        disruption = Disruption.from_json(run.edits)
        say("reading the published plan and the drivers' taps")
        state = day_under_way(session, day, disruption, window_min=settings.window_min)
        say("computing travel times on the road network")
        matrices = stop_matrices(session, state.rows, state.fleet, graphs)
        say(f"re-planning the rest of the day ({settings.time_limit_s:.0f} s)")
        planned = _keep_or_move(state, matrices, settings)
        say("saving the proposal")
        changed = _store_proposal(session, run_id, state, planned, matrices)
        summary = _summary(state, planned, changed)
        edits = json.loads(disruption.to_json()) | {"summary": summary}
        finish_run(session, run_id, planned.figures.to_json(), json.dumps(edits))
        return PlanOutcome(run_id, planned.figures)
    except Exception as exc:
        fail_on_error(session, run_id, exc)
        raise


def _served(state: DayUnderWay, planned: DayPlan) -> tuple[int, int]:
    """(seats of the affected bookings served, seats served): what a re-plan is
    judged by first."""
    affected = sum(
        sum(planned.seats_in.get(r.id, {}).values()) + (r.seats if r.on_board else 0)
        for r in state.rows
        if r.id in state.affected and r.id not in planned.unserved
    )
    return affected, planned.figures.served_seats


def _kept(row: BookingRow, vehicle: int | None) -> BookingRow:
    """Seats told a time, kept in place: on their vehicle, in the minute told."""
    if row.published_pickup_s is None or row.on_board:
        return row
    return dataclasses.replace(row, keep=True, vehicle_pin=row.vehicle_pin or vehicle)


def _keep_or_move(
    state: DayUnderWay, matrices: dict[str, ProfileMatrix], settings: PlanningSettings
) -> DayPlan:
    """Plan the rest of the day keeping everyone else where they were told (at most
    ``keep_late_min`` later); if that leaves seats without a ride, plan again letting
    the times move within the promise (``max_shift_min``) on the vehicles involved
    (those now serving the affected, and those of the bookings left out), and keep
    that plan if it serves more of the affected, then more seats in all."""
    started = time.perf_counter()
    kept = [_kept(r, k) for r, k in zip(state.rows, state.row_vehicle, strict=True)]
    first = settings.with_time_limit(settings.time_limit_s * _KEEP_SHARE)
    planned = plan_bookings(kept, state.fleet, matrices, settings=first)
    left = settings.time_limit_s - (time.perf_counter() - started)
    out = set(planned.unserved) - set(planned.pickups) - state.standby
    if not out or left < 1:
        return planned
    involved = {state.published_vehicle.get(i) for i in out}
    involved |= {k for i in state.affected for k in planned.vehicles_of.get(i, [])}
    loose = [
        r if k in involved else _kept(r, k)
        for r, k in zip(state.rows, state.row_vehicle, strict=True)
    ]
    moved = plan_bookings(loose, state.fleet, matrices, settings=settings.with_time_limit(left))
    return moved if _served(state, moved) > _served(state, planned) else planned


def _summary(state: DayUnderWay, planned: DayPlan, changed: list[str]) -> dict[str, Any]:
    """What the re-plan means, in booking codes: the answer of ``mobility replan``."""
    codes = {r.id: r.code for r in state.rows}
    lost = {
        i
        for i in codes
        if i in planned.unserved and i not in planned.pickups and i not in state.standby
    }
    # the time a worker is told comes from the whole day: a crew with a part aboard
    # was told that part's boarding
    boarded = {
        m.booking_id: m.start_s if m.start_s is not None else s.arrival_s
        for v in state.vehicles.values()
        for s in v.kept
        for m in s.moves
        if m.boarding
    }
    told = {i: min(t, boarded.get(i, t)) for i, (t, _) in planned.pickups.items()}
    moved = [
        codes[i]
        for i in codes
        if i not in state.affected
        and i in state.published
        and i in told
        and told[i] // 60 != state.published[i][0] // 60
    ]
    return {
        "affected_bookings": sorted(codes[i] for i in state.affected),
        "reserved_bookings": sorted(codes[i] for i in state.affected - lost),
        "lost_bookings": [
            {"code": codes[i], "reason": planned.unserved[i].value}
            for i in sorted(lost, key=lambda i: codes[i])
        ],
        "moved_pickups": sorted(moved),
        "standby_served": sorted(codes[i] for i in state.standby if i in planned.pickups),
        "rescued": {
            str(i): list(planned.pickups[i]) for i in state.stranded if i in planned.pickups
        },
        "changed_vehicles": changed,
        "violations": list(planned.figures.violations),
        "messages_queued": 0,
    }


def replan_answer(run_id: int, summary: dict[str, Any]) -> dict[str, Any]:
    """The answer of ``mobility replan --json``: the run and what it means."""
    keys = ("affected_bookings", "moved_pickups", "reserved_bookings", "lost_bookings")
    answer: dict[str, Any] = {"run": run_id} | {k: summary[k] for k in keys}
    answer["messages_queued"] = summary.get("messages_queued", 0)
    answer |= {k: summary[k] for k in ("standby_served", "changed_vehicles", "violations")}
    if "published_version" in summary:
        answer["published_version"] = summary["published_version"]
    return answer


def _copy(stop: PlanStop) -> PlanStop:
    copy = PlanStop(
        seq=stop.seq,
        stop_id=stop.stop_id,
        arrival_s=stop.arrival_s,
        departure_s=stop.departure_s,
        load_after=stop.load_after,
        actual_arrival_min=stop.actual_arrival_min,
        actual_departure_min=stop.actual_departure_min,
    )
    copy.moves = [
        PlanMove(booking_id=m.booking_id, boarding=m.boarding, seats=m.seats, start_s=m.start_s)
        for m in stop.moves
    ]
    return copy


def _new(stop: PlannedStop, seq: int) -> PlanStop:
    row = PlanStop(
        seq=seq,
        stop_id=stop.stop_id,
        arrival_s=stop.arrival_s,
        departure_s=stop.departure_s,
        load_after=stop.load_after,
    )
    for booking_id, seats in stop.board:
        start = stop.board_start_s.get(booking_id)
        row.moves.append(PlanMove(booking_id=booking_id, boarding=True, seats=seats, start_s=start))
    for booking_id, seats in stop.alight:
        row.moves.append(PlanMove(booking_id=booking_id, boarding=False, seats=seats))
    return row


def _drive_s(matrices: dict[str, ProfileMatrix], profile: str, a: int, b: int) -> int:
    """Driving time between two stops of the day (0 when one is not on the matrix)."""
    m = matrices.get(profile)
    if m is None or a not in m.stop_ids or b not in m.stop_ids:
        return 0
    value = m.durations_s[m.stop_ids.index(a), m.stop_ids.index(b)]
    return int(value) if value == value and value < 10**7 else 0  # NaN or unreachable: 0


def _store_proposal(
    session: Session,
    run_id: int,
    state: DayUnderWay,
    planned: DayPlan,
    matrices: dict[str, ProfileMatrix],
) -> list[str]:
    """The whole day as re-planned: each vehicle's stops that happened, as they were,
    then its new stops (numbered after every stop of its published route, so that a
    tap queued for a stop that is gone is refused, not put on another). Returns the
    names of the vehicles whose route changed."""
    run = session.get(PlanRun, run_id)
    assert run is not None
    new_routes = {r.vehicle_id: r for r in planned.routes}
    changed: list[str] = []
    for vehicle_id, v in state.vehicles.items():
        new = new_routes.pop(vehicle_id, None)
        old = sorted(v.route.stops, key=lambda s: s.seq)
        stops = [_copy(s) for s in v.kept]
        seq = old[-1].seq + 1 if old else 0
        if v.lost and v.kept and state.stranded and state.breakdown_stop is not None:
            at = max(state.at_s, v.at_s)  # everyone leaves the vehicle where it stands
            stranded = [(i, n) for i, n in state.stranded.items()]
            stops.append(_new(PlannedStop(state.breakdown_stop, at, at, 0, alight=stranded), seq))
        elif new is not None:
            stops += [_new(s, seq + n) for n, s in enumerate(new.stops)]
        elif v.kept and v.at_stop is not None and v.at_stop != v.route.vehicle.depot_stop_id:
            depot = v.route.vehicle.depot_stop_id
            back = v.at_s + _drive_s(matrices, v.route.vehicle.profile.value, v.at_stop, depot)
            stops.append(_new(PlannedStop(depot, back, back, 0), seq))
        if _signature(stops) != _signature(old):
            changed.append(v.route.vehicle.name)
        if not stops:
            continue
        share = len(v.kept) / len(old) if old else 0.0
        run.routes.append(
            PlanRoute(
                vehicle_id=vehicle_id,
                distance_m=v.route.distance_m * share + (new.distance_m if new else 0.0),
                driving_s=int(v.route.driving_s * share) + (new.driving_s if new else 0),
                stops=stops,
            )
        )
    for vehicle_id, new in new_routes.items():  # vehicles the published plan did not use
        run.routes.append(
            PlanRoute(
                vehicle_id=vehicle_id,
                distance_m=new.distance_m,
                driving_s=new.driving_s,
                stops=[_new(s, n) for n, s in enumerate(new.stops)],
            )
        )
        changed.append(next(f.name for f in state.fleet if f.id == vehicle_id))
    session.flush()
    return sorted(changed)


def _signature(stops: list[PlanStop]) -> list[tuple[int, int, tuple[tuple[int, bool, int], ...]]]:
    """What a driver reads of a route: each stop, its time and who boards or leaves."""
    return [
        (
            s.stop_id,
            s.arrival_s // 60,
            tuple(sorted((m.booking_id, m.boarding, m.seats) for m in s.moves)),
        )
        for s in stops
    ]


@dataclass(frozen=True)
class Proposal:
    """A re-plan of the day waiting to be published, and what it means."""

    run: PlanRun
    disruption: Disruption
    summary: dict[str, Any]


def replan_proposal(session: Session, day: dt.date) -> Proposal | None:
    """The day's newest finished re-plan made after the day's plan, if any."""
    current = latest_plan(session, day)
    run = session.scalar(
        select(PlanRun)
        .where(
            PlanRun.service_date == day,
            PlanRun.kind == PlanKind.REPLAN,
            PlanRun.status == PlanStatus.DONE,
            PlanRun.id > (current.id if current else 0),
        )
        .order_by(PlanRun.id.desc())
        .limit(1)
    )
    if run is None:
        return None
    return Proposal(run, Disruption.from_json(run.edits), json.loads(run.edits)["summary"])


def publish_replan(session: Session, day: dt.date, run_id: int) -> dict[str, Any]:
    """Make a re-plan the day's plan and publish it; tell exactly those it changes.

    Returns
    -------
    dict
        The re-plan's summary with ``messages_queued`` and ``published_version``.

    Raises
    ------
    ServiceError
        ``not_found`` on ``run`` when the run is not a finished re-plan of that day,
        ``stale_replan`` when a newer plan of the day was made since.
    """
    proposal = replan_proposal(session, day)
    run = session.get(PlanRun, run_id)
    if run is None or run.service_date != day or run.kind is not PlanKind.REPLAN:
        raise ServiceError("run", "not_found", f"run: no re-plan #{run_id} of {day}")
    if proposal is None or proposal.run.id != run_id or run.status is not PlanStatus.DONE:
        raise ServiceError("run", "stale_replan", f"run: #{run_id} is not the day's newest re-plan")
    summary = proposal.summary
    codes = {b.code: b for b in session.scalars(select(Booking).where(Booking.service_date == day))}
    for lost in summary["lost_bookings"]:
        booking = codes[lost["code"]]
        if booking.status in (BookingStatus.SCHEDULED, BookingStatus.REQUESTED):
            booking.status = BookingStatus.UNSERVED
            booking.reason = UnservedReason(lost["reason"])
    for code in summary["standby_served"]:
        if codes[code].status is BookingStatus.UNSERVED:
            codes[code].status, codes[code].reason = BookingStatus.REQUESTED, None
    before = _messages(session, day)
    for booking_id, (time_s, stop_id) in summary["rescued"].items():
        rider = session.get(Booking, int(booking_id))
        if rider is not None:
            rider.pickup_time_min, rider.pickup_stop_id = time_s // 60, stop_id
            queue_rescue(session, rider, run_id)
    run.kind = PlanKind.PLAN
    summary["published_version"] = publish_plan(session, day)  # commits
    summary["messages_queued"] = _messages(session, day) - before
    run.edits = json.dumps(json.loads(proposal.disruption.to_json()) | {"summary": summary})
    session.commit()
    return summary


def _messages(session: Session, day: dt.date) -> int:
    return int(
        session.scalar(select(func.count()).select_from(Message).where(Message.service_date == day))
        or 0
    )
