"""The dial-a-ride problem: requests, vehicles and travel matrices, validated on creation.

Units are the caller's, as integers: times in seconds from the start of the service
day (or any integer time unit), distances in metres. Travel times must be rounded
*up* when they come from real numbers: a schedule that is feasible with rounded-up
times is then feasible with the true times too (arrivals can only be earlier), which
is how :mod:`optimizer.darp` reads the Euclidean benchmark instances.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "PREFIX_KINDS",
    "UNLIMITED",
    "Request",
    "RequestPart",
    "RoutingProblem",
    "Vehicle",
    "boarding_time",
]

#: Stands for "no limit" on ride time and route duration.
UNLIMITED: Final = -1
#: What a visit of a vehicle's fixed prefix does (``Vehicle.prefix``).
PREFIX_KINDS: Final = ("pickup", "delivery")

IntMatrix = npt.NDArray[np.int64]


def boarding_time(seats: int, *, base_s: int = 60, per_seat_s: int = 10) -> int:
    """Service time to board (or leave) a group: a base plus a time per seat.

    Parameters
    ----------
    seats
        People boarding.
    base_s
        Time to stop, open the doors and check a booking, in seconds.
    per_seat_s
        Time per person getting on or off, in seconds.

    Returns
    -------
    int
        Seconds.
    """
    return base_s + per_seat_s * seats


def _window(value: Sequence[int], name: str) -> tuple[int, int]:
    if len(value) != 2:
        raise ValueError(f"{name}: must be (open, close)")
    open_, close = int(value[0]), int(value[1])
    if open_ < 0:
        raise ValueError(f"{name}: opens at {open_}, before time 0")
    if open_ > close:
        raise ValueError(f"{name}: opens at {open_} after it closes at {close}")
    return open_, close


@dataclass(frozen=True, slots=True)
class Request:
    """A ride: a group travels from a pickup location to a drop-off location.

    Parameters
    ----------
    pickup, delivery
        Location indices into the problem's matrices.
    seats
        People travelling together (a crew books several seats).
    pickup_window, delivery_window
        ``(open, close)``: when service may start at each end.
    max_ride
        Longest time between the end of boarding and the start of leaving the
        vehicle; ``UNLIMITED`` for none.
    pickup_service, delivery_service
        Boarding and alighting times (see :func:`boarding_time`).
    label
        The caller's name for the request, echoed in the plan.
    units
        Seats of the parties that make up the group (bookings), in order; empty
        for one party. When the request is split (see ``RoutingProblem.split``),
        each party rides whole where it can.
    partial
        Whether a party may be served in part: some of its seats ride and the others
        are left out. By default a party in several parts (a crew larger than its
        vehicles, or split for room) rides whole, in one or several vehicles, or not
        at all (see ``RequestPart.together``).
    priority
        Served before any request without it: leaving one of its seats out costs
        more than leaving out every other seat (as far as integer costs allow), e.g.
        the riders of a vehicle that broke down.
    on_board
        Index of the vehicle the group is already on board of, or ``None``. Only
        its drop-off is left to plan, by that vehicle: ``pickup`` must be the
        vehicle's start, and the problem holds the request as picked up there at the
        vehicle's start time in no time (its seats are the vehicle's initial load).
        ``max_ride`` counts from the vehicle's start. It is a priority request.
    """

    pickup: int
    delivery: int
    seats: int = 1
    pickup_window: tuple[int, int] = (0, 86_400)
    delivery_window: tuple[int, int] = (0, 86_400)
    max_ride: int = UNLIMITED
    pickup_service: int = 0
    delivery_service: int = 0
    label: str = ""
    units: tuple[int, ...] = ()
    partial: bool = False
    priority: bool = False
    on_board: int | None = None

    def __post_init__(self) -> None:
        if self.seats < 1:
            raise ValueError(f"request {self.label!r}: seats must be at least 1, got {self.seats}")
        object.__setattr__(self, "units", tuple(int(u) for u in self.units))
        if self.units and (min(self.units) < 1 or sum(self.units) != self.seats):
            raise ValueError(
                f"request {self.label!r}: units must be at least 1 and add up to seats"
            )
        if self.pickup == self.delivery and self.on_board is None:
            raise ValueError(f"request {self.label!r}: pickup equals delivery ({self.pickup})")
        _window(self.pickup_window, f"request {self.label!r}: pickup_window")
        _window(self.delivery_window, f"request {self.label!r}: delivery_window")
        if self.max_ride != UNLIMITED and self.max_ride < 0:
            raise ValueError(f"request {self.label!r}: max_ride must be >= 0 or UNLIMITED")
        if self.pickup_service < 0 or self.delivery_service < 0:
            raise ValueError(f"request {self.label!r}: service times must be >= 0")


@dataclass(frozen=True, slots=True)
class Vehicle:
    """A vehicle and its shift.

    Parameters
    ----------
    seats
        Passenger seats; never more riders than this.
    start, end
        Depot location indices where the route starts and ends.
    shift
        ``(earliest start, latest end)`` of the route.
    max_duration
        Longest route (end - start); ``UNLIMITED`` for none.
    fixed_cost
        Cost of using the vehicle at all (see :class:`optimizer.solve.SolverParams`).
    serves
        Indices of the requests this vehicle may serve; ``None`` for all (a bus
        cannot reach a field that only a farm track reaches).
    label
        The caller's name for the vehicle.
    profile
        Which of the problem's travel matrices this vehicle drives by (a bus is
        slower than a minibus on the same roads); 0 when there is one.
    prefix
        Visits the route must begin with, in this order (after the pickups of the
        requests on board, see ``Request.on_board``): ``(request, "pickup")`` or
        ``(request, "delivery")``, e.g. the stop a vehicle is driving to when the
        day is re-planned. Service starts as early as the windows allow. A request
        in a prefix is served whole by this vehicle; its drop-off may be in the
        prefix only after its pickup (or when it is on board).

    ``start`` and ``shift[0]`` are where and when the vehicle is at the start of its
    route: its depot before the day, or where it is when a day is re-planned.
    """

    seats: int
    start: int
    end: int
    shift: tuple[int, int] = (0, 86_400)
    max_duration: int = UNLIMITED
    fixed_cost: int = 0
    serves: frozenset[int] | None = None
    label: str = ""
    profile: int = 0
    prefix: tuple[tuple[int, str], ...] = ()

    def __post_init__(self) -> None:
        if self.seats < 1:
            raise ValueError(f"vehicle {self.label!r}: seats must be at least 1, got {self.seats}")
        object.__setattr__(self, "prefix", tuple((int(r), str(kind)) for r, kind in self.prefix))
        for r, kind in self.prefix:
            if kind not in PREFIX_KINDS:
                raise ValueError(
                    f"vehicle {self.label!r}: prefix visit of request {r} is {kind!r}, "
                    "not 'pickup' or 'delivery'"
                )
        _window(self.shift, f"vehicle {self.label!r}: shift")
        if self.max_duration != UNLIMITED and self.max_duration < 0:
            raise ValueError(f"vehicle {self.label!r}: max_duration must be >= 0 or UNLIMITED")
        if self.fixed_cost < 0:
            raise ValueError(f"vehicle {self.label!r}: fixed_cost must be >= 0")

    def may_serve(self, request: int) -> bool:
        """Whether the vehicle may serve request number ``request``."""
        return self.serves is None or request in self.serves


@dataclass(frozen=True, slots=True)
class RequestPart:
    """A request, or one part of it: of a crew too large for any single vehicle, or
    of a request the problem allows to split (``RoutingProblem.split``).

    ``request`` is the index of the original request; ``part`` numbers its parts
    from 0 (always 0 for a request served whole); ``parts`` is how many there are;
    ``seats`` is this part's share. ``together`` is the index (in the problem's
    parts) of the first part of the set this one is served with, all or none: the
    parts that carry seats of one party of a request that may not ride in part (a
    part served alone, or of a ``partial`` request, is its own set).
    """

    request: int
    part: int
    parts: int
    seats: int
    together: int = -1


@dataclass(frozen=True)
class RoutingProblem:
    """A dial-a-ride problem.

    Parameters
    ----------
    durations
        Square matrix of travel times between locations (integers >= 0), or a stack
        of them, one per vehicle profile (shape profiles x n x n).
    requests
        The rides to plan.
    vehicles
        The fleet.
    distances
        Distances (integers >= 0), shaped like ``durations``; defaults to them.
    split
        Indices of requests that may ride in several vehicles: one part per unit
        (see ``Request.units``), or two halves for a single party.
    part_limits
        Request index -> most seats a part of it may have: a crew comes in parts
        no larger (full parts of that size and the rest) even when a larger vehicle
        may serve it (the solver sets it for crews only smaller vehicles can serve
        in time).

    Attributes
    ----------
    durations, distances
        The matrices of profile 0.
    profile_durations, profile_distances
        The matrices of every profile.
    parts
        The requests as served: crews too large for any vehicle and the requests
        in ``split`` come in several parts, the others in one.
    pinned
        Request -> the vehicle that must serve it: the group is on board
        (``Request.on_board``) or in the vehicle's prefix (``Vehicle.prefix``).
    """

    durations: IntMatrix
    requests: tuple[Request, ...]
    vehicles: tuple[Vehicle, ...]
    distances: IntMatrix | None = None
    split: frozenset[int] = frozenset()
    part_limits: Mapping[int, int] = field(default_factory=dict)
    parts: tuple[RequestPart, ...] = field(init=False)
    pinned: dict[int, int] = field(init=False)
    profile_durations: tuple[IntMatrix, ...] = field(init=False)
    profile_distances: tuple[IntMatrix, ...] = field(init=False)

    def __post_init__(self) -> None:
        stack = _matrices(self.durations, "durations")
        object.__setattr__(self, "profile_durations", stack)
        if self.distances is None:
            object.__setattr__(self, "profile_distances", stack)
        else:
            distances = _matrices(self.distances, "distances")
            if [d.shape for d in distances] != [d.shape for d in stack]:
                raise ValueError("distances: must have the same shape as durations")
            object.__setattr__(self, "profile_distances", distances)
        durations = stack[0]
        object.__setattr__(self, "durations", durations)
        object.__setattr__(self, "distances", self.profile_distances[0])
        object.__setattr__(self, "requests", tuple(self.requests))
        object.__setattr__(self, "vehicles", tuple(self.vehicles))
        if not self.vehicles:
            raise ValueError("vehicles: at least one vehicle is needed")
        n = durations.shape[0]
        for i, r in enumerate(self.requests):
            for name in ("pickup", "delivery"):
                loc = getattr(r, name)
                if not 0 <= loc < n:
                    raise ValueError(f"requests[{i}].{name}: unknown location index {loc}")
        for k, v in enumerate(self.vehicles):
            for name in ("start", "end"):
                loc = getattr(v, name)
                if not 0 <= loc < n:
                    raise ValueError(f"vehicles[{k}].{name}: unknown location index {loc}")
            if not 0 <= v.profile < len(stack):
                raise ValueError(f"vehicles[{k}].profile: no travel matrix {v.profile}")
            if v.serves is not None:
                bad = [r for r in v.serves if not 0 <= r < len(self.requests)]
                if bad:
                    raise ValueError(f"vehicles[{k}].serves: unknown request index {bad[0]}")
        object.__setattr__(self, "split", frozenset(self.split))
        bad_split = [r for r in self.split if not 0 <= r < len(self.requests)]
        if bad_split:
            raise ValueError(f"split: unknown request index {bad_split[0]}")
        for index, limit in self.part_limits.items():
            if not 0 <= index < len(self.requests):
                raise ValueError(f"part_limits: unknown request index {index}")
            if limit < 1:
                raise ValueError(f"part_limits[{index}]: must be at least 1, got {limit}")
        object.__setattr__(self, "part_limits", dict(self.part_limits))
        object.__setattr__(self, "pinned", self._pins())
        object.__setattr__(self, "parts", tuple(self._split()))

    def _pins(self) -> dict[int, int]:
        """Check the requests on board and the prefixes; hold each request on board
        as picked up at its vehicle's start and start time, in no time."""
        pins: dict[int, int] = {}
        requests = list(self.requests)
        for i, r in enumerate(requests):
            if r.on_board is None:
                continue
            where = f"requests[{i}].on_board"
            if not 0 <= r.on_board < len(self.vehicles):
                raise ValueError(f"{where}: unknown vehicle {r.on_board}")
            v = self.vehicles[r.on_board]
            if r.pickup != v.start:
                raise ValueError(f"{where}: pickup {r.pickup} is not the vehicle's start {v.start}")
            if not v.may_serve(i) or i in self.split:
                raise ValueError(f"{where}: the vehicle may not serve it, or it is split")
            at = v.shift[0]
            requests[i] = replace(r, pickup_window=(at, at), pickup_service=0, priority=True)
            pins[i] = r.on_board
        load = Counter[int]()
        for i, k in pins.items():
            load[k] += requests[i].seats
        for k, seats in load.items():
            if seats > self.vehicles[k].seats:
                raise ValueError(f"vehicles[{k}]: {seats} on board, more than its seats")
        object.__setattr__(self, "requests", tuple(requests))
        for k, v in enumerate(self.vehicles):
            self._check_prefix(k, v, pins)
        return pins

    def _check_prefix(self, k: int, v: Vehicle, pins: dict[int, int]) -> None:
        """A prefix names known requests this vehicle may serve whole, each visit
        once, a drop-off after its pickup (or of a request on board)."""
        picked = {i for i, vehicle in pins.items() if vehicle == k}
        seen: set[tuple[int, str]] = set()
        for r, kind in v.prefix:
            where = f"vehicles[{k}].prefix"
            if not 0 <= r < len(self.requests):
                raise ValueError(f"{where}: unknown request index {r}")
            if (r, kind) in seen or pins.get(r, k) != k:
                raise ValueError(f"{where}: request {r} is visited twice or by another vehicle")
            if not v.may_serve(r) or r in self.split or self.requests[r].seats > v.seats:
                raise ValueError(f"{where}: request {r} cannot ride this vehicle whole")
            if kind == "pickup" and r in picked:
                raise ValueError(f"{where}: request {r} is picked up twice")
            if kind == "delivery" and r not in picked:
                raise ValueError(f"{where}: request {r} is dropped off before its pickup")
            seen.add((r, kind))
            picked.add(r)
            pins[r] = k

    @property
    def n_locations(self) -> int:
        """Number of locations (rows of the matrices)."""
        return int(self.durations.shape[0])

    def travel(self, vehicle: int) -> tuple[IntMatrix, IntMatrix]:
        """Durations and distances that vehicle ``vehicle`` drives by."""
        profile = self.vehicles[vehicle].profile
        return self.profile_durations[profile], self.profile_distances[profile]

    def eligible_vehicles(self, request: int) -> list[int]:
        """Indices of the vehicles that may serve request ``request`` (only its own
        for a request on board or in a vehicle's prefix)."""
        pinned = self.pinned.get(request)
        if pinned is not None:
            return [pinned] if self.vehicles[pinned].may_serve(request) else []
        return [k for k, v in enumerate(self.vehicles) if v.may_serve(request)]

    def with_split(self, requests: Iterable[int]) -> RoutingProblem:
        """The same problem where ``requests`` (too) may ride in several vehicles."""
        return self._variant(self.split | frozenset(requests), self.part_limits)

    def with_part_limits(self, limits: Mapping[int, int]) -> RoutingProblem:
        """The same problem where the requests in ``limits`` come in parts of at most
        that many seats."""
        return self._variant(self.split, {**self.part_limits, **limits})

    def _variant(self, split: frozenset[int], part_limits: Mapping[int, int]) -> RoutingProblem:
        """The same matrices, requests and fleet with other splits."""
        return RoutingProblem(
            np.stack(self.profile_durations),
            self.requests,
            self.vehicles,
            distances=np.stack(self.profile_distances),
            split=split,
            part_limits=part_limits,
        )

    def _split(self) -> list[RequestPart]:
        """The parts of each request.

        A request that may be split comes in its units (or, when it fits a vehicle,
        in halves). A piece too large for every vehicle that may serve it (or over its
        part limit) comes in as many full loads of the largest such vehicle as it
        fills, and the rest: a full vehicle carries no one else, and a small rest
        rides with other crews going the same way (equal parts would leave a few
        seats free in every vehicle, too few for anyone else).
        """
        parts: list[RequestPart] = []
        for i, r in enumerate(self.requests):
            capacity = max((self.vehicles[k].seats for k in self.eligible_vehicles(i)), default=0)
            capacity = min(capacity, self.part_limits.get(i, capacity))
            if i not in self.split:
                pieces = [r.seats]
            elif len(r.units) > 1:
                pieces = list(r.units)
            elif r.seats > capacity:  # in loads already: halves would only cut them smaller
                pieces = [r.seats]
            else:
                pieces = [r.seats - r.seats // 2, r.seats // 2] if r.seats > 1 else [r.seats]
            seats: list[int] = []
            for piece in pieces:
                full, rest = divmod(piece, capacity) if capacity else (0, piece)
                seats += [capacity] * full + ([rest] if rest else [])
            sets = _together(seats, r, len(parts))
            parts += [
                RequestPart(i, p, len(seats), n, together=t)
                for p, (n, t) in enumerate(zip(seats, sets, strict=True))
            ]
        return parts


def _together(seats: list[int], request: Request, first: int) -> list[int]:
    """For each part (of ``seats``, in order, numbered from ``first``), the first part
    of the set it rides with, all or none: parts that share a party (the request's
    units fill the parts in order) belong together, unless the request is partial."""
    if request.partial or len(seats) == 1:
        return [first + p for p in range(len(seats))]
    units = request.units or (request.seats,)
    owner = list(range(len(seats)))  # union-find over the parts

    def root(p: int) -> int:
        while owner[p] != p:
            owner[p] = owner[owner[p]]
            p = owner[p]
        return p

    # a party spans the seats [start, end) of the request; so does each part
    part_end = np.cumsum(seats)
    start = 0
    for unit in units:
        end = start + unit
        spanned = [
            p for p in range(len(seats)) if start < part_end[p] and part_end[p] - seats[p] < end
        ]
        for p in spanned[1:]:
            owner[root(p)] = root(spanned[0])
        start = end
    first_of: dict[int, int] = {}
    for p in range(len(seats)):
        first_of.setdefault(root(p), p)
    return [first + first_of[root(p)] for p in range(len(seats))]


def _matrices(value: object, name: str) -> tuple[IntMatrix, ...]:
    array = np.asarray(value)
    if array.ndim == 3 and array.shape[0] == 0:
        raise ValueError(f"{name}: no matrices")
    return tuple(_matrix(m, name) for m in array) if array.ndim == 3 else (_matrix(array, name),)


def _matrix(value: object, name: str) -> IntMatrix:
    array = np.asarray(value)
    if array.ndim != 2 or array.shape[0] != array.shape[1] or array.shape[0] == 0:
        raise ValueError(f"{name}: matrix must be square and not empty, got shape {array.shape}")
    if not np.issubdtype(array.dtype, np.integer) and (
        not np.all(np.isfinite(array)) or not np.all(array == np.round(array))
    ):
        raise ValueError(f"{name}: values must be whole numbers (round travel times up)")
    ints = array.astype(np.int64)
    if (ints < 0).any():
        raise ValueError(f"{name}: negative values are not allowed")
    ints.setflags(write=False)
    return ints
