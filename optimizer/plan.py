"""The solver's answer: routes with timed visits, and what could not be served."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from optimizer.problem import RequestPart

__all__ = ["Plan", "Route", "Unassigned", "UnassignedReason", "Visit", "VisitKind"]


class VisitKind(enum.Enum):
    """What happens at a visit."""

    START = "start"
    PICKUP = "pickup"
    DELIVERY = "delivery"
    END = "end"


class UnassignedReason(enum.Enum):
    """Why a request (part) was left out of the plan."""

    NO_ELIGIBLE_VEHICLE = "no vehicle may serve it"
    TOO_MANY_SEATS = "more seats than any vehicle that may serve it"
    UNREACHABLE_IN_WINDOW = "no vehicle can serve it within its time windows and ride time"
    FLEET_FULL = "no room left in the fleet at that time"


@dataclass(frozen=True, slots=True)
class Visit:
    """A stop of a route.

    Attributes
    ----------
    kind
        Start depot, pickup, delivery or end depot.
    location
        Location index.
    part
        Index into ``Plan.parts`` for pickups and deliveries, else -1.
    arrival
        When the vehicle arrives.
    start
        When service starts (after any waiting).
    departure
        When the vehicle leaves (start + service time).
    load
        Seats occupied after the visit.
    """

    kind: VisitKind
    location: int
    part: int
    arrival: int
    start: int
    departure: int
    load: int


@dataclass(frozen=True, slots=True)
class Route:
    """The ordered visits of one vehicle (empty when the vehicle is not used)."""

    vehicle: int
    visits: tuple[Visit, ...]

    @property
    def is_used(self) -> bool:
        """Whether the vehicle serves any request."""
        return any(v.kind is VisitKind.PICKUP for v in self.visits)

    @property
    def duration(self) -> int:
        """End minus start, or 0 when unused."""
        if not self.is_used:
            return 0
        return self.visits[-1].start - self.visits[0].start


@dataclass(frozen=True, slots=True)
class Unassigned:
    """A request part the plan does not serve, and why."""

    part: int
    reason: UnassignedReason


@dataclass(frozen=True)
class Plan:
    """A solution of a :class:`~optimizer.problem.RoutingProblem`.

    Attributes
    ----------
    routes
        One per vehicle, in vehicle order.
    unassigned
        Parts left out, each with a reason.
    served_seats, unserved_seats
        Seats served and not served.
    vehicles_used
        Vehicles with at least one request.
    travel_time, distance
        Sum over the routes of the matrices' travel times and distances.
    fixed_cost
        Sum of the fixed costs of the vehicles used.
    status
        How the search ended: OR-Tools' routing status name, with ``"+LNS"`` when
        the large-neighbourhood search improved its plan; or ``"EMPTY"``.
    wall_time_s
        Seconds spent in :func:`~optimizer.solve.solve`.
    parts
        The request parts that visits and ``unassigned`` refer to: the problem's
        own, or finer ones where the solver split crews to serve more seats
        (``SolverParams.split_crews``).
    """

    routes: tuple[Route, ...]
    unassigned: tuple[Unassigned, ...]
    served_seats: int
    unserved_seats: int
    vehicles_used: int
    travel_time: int
    distance: int
    fixed_cost: int
    status: str
    wall_time_s: float
    parts: tuple[RequestPart, ...] = ()
    details: dict[str, object] = field(default_factory=dict, compare=False)

    def served_parts(self) -> list[int]:
        """Indices of the request parts served, in route order."""
        return [v.part for r in self.routes for v in r.visits if v.kind is VisitKind.PICKUP]

    def split_requests(self) -> dict[int, list[int]]:
        """Requests served by more than one vehicle -> those vehicles, in order."""
        by_request: dict[int, list[int]] = {}
        for j, k in sorted(self.vehicle_of().items()):
            vehicles = by_request.setdefault(self.parts[j].request, [])
            if k not in vehicles:
                vehicles.append(k)
        return {r: ks for r, ks in by_request.items() if len(ks) > 1}

    def vehicle_of(self) -> dict[int, int]:
        """Map from served part to the vehicle that carries it."""
        return {
            v.part: r.vehicle for r in self.routes for v in r.visits if v.kind is VisitKind.PICKUP
        }

    def summary(self) -> str:
        """One line for logs and the CLI."""
        return (
            f"{self.served_seats} seats served, {self.unserved_seats} unserved, "
            f"{self.vehicles_used} vehicles, travel time {self.travel_time}, "
            f"distance {self.distance}, status {self.status}, {self.wall_time_s:.1f} s"
        )
