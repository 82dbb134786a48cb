"""What the day page's "When the day goes wrong" shows: the vehicles a dispatcher
can name, the re-plan waiting to be published beside the published plan (vehicle by
vehicle, the routes that change), its figures and the workers it could not serve;
once published, the disruption and the sheets to print again."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from mobility.codes import UnservedReason
from mobility.dispatch.disruption import Disruption
from mobility.dispatch.plans import latest_plan
from mobility.dispatch.replan import Proposal, replan_proposal
from mobility.store import PlanRoute, PlanRun

__all__ = ["ReplanView", "RouteSide", "StopLine", "replan_view"]


@dataclass(frozen=True)
class StopLine:
    """A stop as a dispatcher compares it: time, place, seats boarding and leaving."""

    seq: int
    time_min: int
    stop: str
    board: int
    alight: int
    done: bool  # it happened (tapped), kept as it was


@dataclass(frozen=True)
class RouteSide:
    """One vehicle's route in the published plan and in the re-plan."""

    vehicle: str
    before: list[StopLine]
    after: list[StopLine]


@dataclass
class ReplanView:
    """The page's content."""

    day: dt.date
    plan: PlanRun | None
    vehicles: list[str] = field(default_factory=list)  # names in the published plan
    proposal: Proposal | None = None
    sides: list[RouteSide] = field(default_factory=list)
    lost: list[tuple[str, UnservedReason]] = field(default_factory=list)
    #: the published plan came from a re-plan: what happened, and what it did
    published_disruption: Disruption | None = None
    published_summary: dict[str, Any] | None = None


def _lines(route: PlanRoute | None) -> list[StopLine]:
    if route is None:
        return []
    return [
        StopLine(
            s.seq,
            s.arrival_s // 60,
            s.stop.name,
            sum(m.seats for m in s.moves if m.boarding),
            sum(m.seats for m in s.moves if not m.boarding),
            s.actual_arrival_min is not None or s.actual_departure_min is not None,
        )
        for s in sorted(route.stops, key=lambda s: s.seq)
    ]


def replan_view(session: Session, day: dt.date) -> ReplanView:
    """The day's published plan, and its re-plan proposal if one waits."""
    plan = latest_plan(session, day)
    view = ReplanView(day, plan)
    if plan is None:
        return view
    view.vehicles = sorted(r.vehicle.name for r in plan.routes)
    data = json.loads(plan.edits or "{}")
    if "disruption" in data:
        view.published_disruption = Disruption.from_json(plan.edits)
        view.published_summary = data.get("summary")
    proposal = replan_proposal(session, day)
    if proposal is None:
        return view
    view.proposal = proposal
    before = {r.vehicle.name: r for r in plan.routes}
    after = {r.vehicle.name: r for r in proposal.run.routes}
    view.sides = [
        RouteSide(name, _lines(before.get(name)), _lines(after.get(name)))
        for name in proposal.summary["changed_vehicles"]
    ]
    view.lost = [
        (row["code"], UnservedReason(row["reason"])) for row in proposal.summary["lost_bookings"]
    ]
    return view
