"""Places and stops: the named places of the plain, the stops made from them, and
stops that staff save (snapped to the road so a vehicle can reach them).

Like every use case, the functions taking a session commit explicitly and check
everything before writing.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from mobility.errors import InputDataError, ServiceError, SnapError
from mobility.paths import SHARED_DATA
from mobility.store import ServiceCategory, Stop, StopKind

if TYPE_CHECKING:
    from mobility.roads import RoadGraph

__all__ = [
    "DEFAULT_PLACES_CSV",
    "DESTINATION_KINDS",
    "FAR_FROM_ROAD_M",
    "PICKUP_KINDS",
    "Place",
    "RoadPoint",
    "SavedStop",
    "get_stops",
    "list_stops",
    "load_places",
    "load_places_as_stops",
    "save_stop",
    "snap_to_road",
    "worker_name",
]

DEFAULT_PLACES_CSV: Final = SHARED_DATA / "places_foggia.csv"
#: Where a ride may start, and where it may go: an informal settlement is a pickup
#: place; a village or borgo, like a town, is both.
PICKUP_KINDS: Final = (StopKind.SETTLEMENT, StopKind.VILLAGE, StopKind.TOWN)
DESTINATION_KINDS: Final = (StopKind.FARM, StopKind.VILLAGE, StopKind.TOWN, StopKind.SERVICE)
#: The longest stop name a worker sees (longer names of places are shortened; the
#: full name stays in the stop's note for staff).
SHORT_PLACE_NAME: Final = 40


@dataclass(frozen=True, slots=True)
class Place:
    """A named place.

    ``lat`` and ``lon`` are ``None`` for a place that has no public coordinates yet
    (some informal settlements): hub staff must place it on the map before it can
    be used for routing.
    """

    name: str
    kind: str
    lat: float | None
    lon: float | None
    source: str = ""

    @property
    def is_placed(self) -> bool:
        """Whether the place has coordinates and can be routed to."""
        return self.lat is not None and self.lon is not None


def _coordinate(value: str, field: str, line: int, low: float, high: float) -> float | None:
    text = value.strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        raise InputDataError(f"places line {line}: {field} {text!r} is not a number") from None
    if not math.isfinite(number) or not low <= number <= high:
        raise InputDataError(f"places line {line}: {field} {number} is out of range")
    return number


def load_places(path: Path | None = None) -> list[Place]:
    """Read a places CSV with the columns ``name,kind,lat,lon`` (``source`` optional).

    Parameters
    ----------
    path
        The CSV file (default: ``../shared/data/places_foggia.csv``).

    Returns
    -------
    list of Place
        In file order; rows with empty coordinates are kept as not yet placed.

    Raises
    ------
    InputDataError
        If the file is missing, lacks a column, or has a bad coordinate; the message
        names the line and field.
    """
    csv_path = DEFAULT_PLACES_CSV if path is None else path
    try:
        with csv_path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = {"name", "kind", "lat", "lon"} - set(reader.fieldnames or [])
            if missing:
                raise InputDataError(f"places file {csv_path}: missing columns {sorted(missing)}")
            places = []
            for line, row in enumerate(reader, start=2):
                name = (row.get("name") or "").strip()
                if not name:
                    raise InputDataError(f"places line {line}: name is empty")
                lat = _coordinate(row.get("lat") or "", "lat", line, -90, 90)
                lon = _coordinate(row.get("lon") or "", "lon", line, -180, 180)
                if (lat is None) != (lon is None):
                    raise InputDataError(f"places line {line}: lat and lon must both be given")
                places.append(
                    Place(name, (row.get("kind") or "").strip(), lat, lon, row.get("source") or "")
                )
            return places
    except FileNotFoundError:
        raise InputDataError(f"places file not found: {csv_path}") from None


# --------------------------------------------------------------------------- stops


def list_stops(
    session: Session,
    *,
    kinds: Iterable[StopKind] | None = None,
    near: tuple[float, float] | None = None,
    active_only: bool = True,
) -> list[Stop]:
    """Stops, by name, or nearest first when ``near`` (lat, lon) is given.

    With ``active_only=False`` every stop is listed: places still to be placed on
    the map first, then inactive stops, then the others.
    """
    query = select(Stop)
    if active_only:
        query = query.where(Stop.active.is_(True))
    if kinds is not None:
        query = query.where(Stop.kind.in_(list(kinds)))
    placed = case((Stop.lat.is_(None), 0), else_=1)
    order = (Stop.name,) if active_only else (placed, Stop.active, Stop.name)
    stops = list(session.scalars(query.order_by(*order)))
    if near is not None:
        lat0, lon0 = near
        k = math.cos(math.radians(lat0))

        def distance(stop: Stop) -> float:
            if stop.lat is None or stop.lon is None:
                return math.inf
            return math.hypot(stop.lat - lat0, (stop.lon - lon0) * k)

        stops.sort(key=distance)
    return stops


def get_stops(session: Session, ids: Iterable[int]) -> dict[int, Stop]:
    """The stops with these ids, by id."""
    wanted = list(ids)
    return {s.id: s for s in session.scalars(select(Stop).where(Stop.id.in_(wanted)))}


def _place_kind(kind: str) -> StopKind:
    head = kind.split(" ")[0].strip().lower()
    if head in ("city", "town"):
        return StopKind.TOWN
    if head in ("village", "hamlet", "suburb", "isolated_dwelling", "borgo"):
        return StopKind.VILLAGE
    return StopKind.SETTLEMENT  # informal settlements, camps, reception centres


def worker_name(name: str) -> str:
    """A place's name as a worker sees it: at most :data:`SHORT_PLACE_NAME`
    characters, the details in brackets or after a comma dropped first
    (``Torretta Antonacci (Gran Ghetto, "ghetto di Rignano")`` ->
    ``Torretta Antonacci (Gran Ghetto)``)."""
    if len(name) <= SHORT_PLACE_NAME:
        return name
    shorter = re.sub(r",[^()]*\)", ")", name)
    if len(shorter) > SHORT_PLACE_NAME:
        shorter = shorter.split(" (")[0].split(", ")[0]
    return shorter[:SHORT_PLACE_NAME]


def load_places_as_stops(session: Session, places: Sequence[Place]) -> int:
    """Add named places as stops, once (idempotent); returns how many were added.

    Places without coordinates are added inactive, "to be placed" by staff.
    """
    existing = set(session.scalars(select(Stop.name))) | set(session.scalars(select(Stop.note)))
    added = 0
    for place in places:
        short = worker_name(place.name)
        if place.name in existing or short in existing:  # loaded before (long or short)
            continue
        note = place.name if short != place.name else ""
        if not place.is_placed:
            note = f"{note}; to be placed" if note else "to be placed"
        session.add(
            Stop(
                name=short,
                kind=_place_kind(place.kind),
                lat=place.lat,
                lon=place.lon,
                active=place.is_placed,
                note=note,
            )
        )
        existing |= {place.name, short}
        added += 1
    session.commit()
    return added


#: A stop farther than this from the nearest road is probably misplaced.
FAR_FROM_ROAD_M = 300.0


@dataclass(frozen=True)
class RoadPoint:
    """Where a point placed on the map meets the minibus road network."""

    lat: float
    lon: float
    distance_m: float

    @property
    def far(self) -> bool:
        """Farther from the road than :data:`FAR_FROM_ROAD_M`: check the place."""
        return self.distance_m > FAR_FROM_ROAD_M


def snap_to_road(graph: RoadGraph, lat: float, lon: float) -> RoadPoint:
    """The road point a stop at (``lat``, ``lon``) would be served from.

    Raises
    ------
    ServiceError
        On ``lat`` when the point is off the road network's area.
    """
    try:
        (snap,) = graph.snap([lat], [lon])
    except SnapError as exc:
        raise ServiceError("lat", "off_map", f"lat, lon: {exc}") from None
    return RoadPoint(snap.lat, snap.lon, snap.distance_m)


@dataclass(frozen=True)
class SavedStop:
    """A stop that staff saved, and where it meets the road.

    ``road`` is where it meets the nearest minibus road; ``snap_error`` says why the
    stop could not be snapped (it is then kept inactive).
    """

    stop: Stop
    road: RoadPoint | None
    snap_error: str | None

    @property
    def snap_m(self) -> float | None:
        """Distance to the road in metres (``None`` when not snapped)."""
        return self.road.distance_m if self.road is not None else None


def save_stop(
    session: Session,
    *,
    name: str,
    kind: str,
    lat: float | None,
    lon: float | None,
    active: bool,
    graph: RoadGraph | None,
    category: str | None = None,
) -> SavedStop:
    """Add a stop, or update the stop of that name, snapping it to the road.

    A stop without coordinates, or off the road network, is kept inactive.

    Parameters
    ----------
    session
        Database session (committed here).
    name, kind
        The stop's name (its key) and kind (a :class:`StopKind` value).
    lat, lon
        Coordinates in degrees, or ``None`` for a place still to be placed.
    active
        Whether workers may choose it.
    graph
        The minibus road graph to snap to (the most permissive profile).
    category
        For a service stop: what is there (a :class:`ServiceCategory` value).

    Raises
    ------
    ServiceError
        For an empty name, an unknown kind or category, a category on a stop that
        is not a service, or only one of the coordinates.
    """
    name = name.strip()
    if not name:
        raise ServiceError("name", "required", "name: required")
    try:
        stop_kind = StopKind(kind)
    except ValueError:
        raise ServiceError("kind", "bad_kind", f"kind: unknown stop kind {kind!r}") from None
    if (lat is None) != (lon is None):
        raise ServiceError("lon", "required", "lat, lon: give both or neither")
    try:
        service = ServiceCategory(category) if category else None
    except ValueError:
        raise ServiceError("category", "bad_category", f"category: unknown {category!r}") from None
    if service is not None and stop_kind is not StopKind.SERVICE:
        raise ServiceError("category", "bad_category", "category: only a service stop has one")
    stop = session.scalar(select(Stop).where(Stop.name == name))
    if stop is None:
        stop = Stop(name=name)
        session.add(stop)
    stop.kind = stop_kind
    stop.category = service
    stop.lat, stop.lon = lat, lon
    stop.active = active and stop.is_placed
    road = snap_error = None
    if lat is not None and lon is not None and graph is not None:
        try:
            road = snap_to_road(graph, lat, lon)
        except ServiceError as exc:  # off the map: say so, keep the stop inactive
            snap_error = str(exc)
            stop.active = False
    session.commit()
    return SavedStop(stop, road, snap_error)
