"""Service destinations: hospitals, offices, post offices... from OpenStreetMap points
of interest (``../shared/data/services_foggia.csv``), loaded as stops of kind
``service`` with a category (:class:`ServiceCategory`).

A worker sees a short name (at most 40 characters: the place and its town); staff
see the longer description in the stop's note (what OSM calls it, and the source).
Places of worship are not loaded unless asked. Loading is idempotent: a stop of the
same name is left as staff last saved it (renamed, re-categorised, deactivated).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from mobility.errors import InputDataError
from mobility.paths import SHARED_DATA
from mobility.store import ServiceCategory, Stop, StopKind

__all__ = [
    "DEFAULT_SERVICES_CSV",
    "DESTINATION_GROUPS",
    "SHORT_NAME_CHARS",
    "ServicePlace",
    "category_of",
    "import_services",
    "load_services",
    "short_name",
]

DEFAULT_SERVICES_CSV: Final = SHARED_DATA / "services_foggia.csv"
#: The longest name a worker sees on a phone.
SHORT_NAME_CHARS: Final = 40
#: What a worker chooses first on the booking page, and the service categories of
#: each (``work``: farms and towns, no service stop).
DESTINATION_GROUPS: Final[dict[str, frozenset[ServiceCategory]]] = {
    "work": frozenset(),
    "hospital": frozenset({ServiceCategory.HOSPITAL, ServiceCategory.CLINIC}),
    "police": frozenset({ServiceCategory.POLICE}),
    "town_hall": frozenset({ServiceCategory.TOWN_HALL}),
    "job_centre": frozenset({ServiceCategory.JOB_CENTRE}),
    "post": frozenset({ServiceCategory.POST}),
    "other": frozenset(
        {
            ServiceCategory.PHARMACY,
            ServiceCategory.SOCIAL,
            ServiceCategory.STATION,
            ServiceCategory.OTHER,
            ServiceCategory.WORSHIP,
        }
    ),
}

#: OSM's ``class/subclass`` (as in the CSV) -> category; the class alone otherwise.
_CATEGORY: Final = {
    "hospital/clinic": ServiceCategory.CLINIC,
    "town_hall/community_centre": ServiceCategory.SOCIAL,
    "town_hall/courthouse": ServiceCategory.OTHER,
    "named_building/employment": ServiceCategory.JOB_CENTRE,
    "named_building/social_facility": ServiceCategory.SOCIAL,
    "named_area/social_facility": ServiceCategory.SOCIAL,
    "named_building/hospital": ServiceCategory.HOSPITAL,
    "named_building/station": ServiceCategory.STATION,
    "named_building/post": ServiceCategory.POST,
    "named_building/place_of_worship": ServiceCategory.WORSHIP,
    "named_area/police": ServiceCategory.POLICE,
    "hospital": ServiceCategory.HOSPITAL,
    "doctors": ServiceCategory.CLINIC,
    "dentist": ServiceCategory.CLINIC,
    "police": ServiceCategory.POLICE,
    "town_hall": ServiceCategory.TOWN_HALL,
    "post": ServiceCategory.POST,
    "pharmacy": ServiceCategory.PHARMACY,
    "bus": ServiceCategory.STATION,
    "station": ServiceCategory.STATION,
    "place_of_worship": ServiceCategory.WORSHIP,
}


#: The local name of an unnamed point of interest (place names stay Italian, as the
#: signs on the street are).
_UNNAMED: Final = {
    ServiceCategory.HOSPITAL: "Ospedale",
    ServiceCategory.CLINIC: "Ambulatorio",
    ServiceCategory.POLICE: "Polizia",
    ServiceCategory.TOWN_HALL: "Municipio",
    ServiceCategory.JOB_CENTRE: "Centro per l'impiego",
    ServiceCategory.POST: "Poste",
    ServiceCategory.PHARMACY: "Farmacia",
    ServiceCategory.SOCIAL: "Servizi sociali",
    ServiceCategory.STATION: "Stazione",
    ServiceCategory.WORSHIP: "Luogo di culto",
    ServiceCategory.OTHER: "Ufficio",
}


@dataclass(frozen=True, slots=True)
class ServicePlace:
    """A service destination from the CSV."""

    name: str
    town: str
    category: ServiceCategory
    lat: float
    lon: float
    description: str


def category_of(kind: str) -> ServiceCategory:
    """The category of an OSM ``class/subclass`` (``other`` when unknown)."""
    return _CATEGORY.get(kind) or _CATEGORY.get(kind.split("/")[0]) or ServiceCategory.OTHER


def short_name(name: str, town: str) -> str:
    """``"name, town"`` in at most :data:`SHORT_NAME_CHARS` characters (the name is
    cut, with an ellipsis, before the town is)."""
    full = f"{name}, {town}" if town and town not in name else name
    if len(full) <= SHORT_NAME_CHARS:
        return full
    tail = f", {town}" if town and town not in name else ""
    room = SHORT_NAME_CHARS - len(tail) - 1
    return f"{name[:room].rstrip()}…{tail}" if room > 8 else full[: SHORT_NAME_CHARS - 1] + "…"


def load_services(
    path: Path = DEFAULT_SERVICES_CSV, *, worship: bool = False
) -> list[ServicePlace]:
    """Read the service destinations (``name,kind,lat,lon,town,source``).

    Raises
    ------
    InputDataError
        Naming the file and line of the first bad row.
    """
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except FileNotFoundError:
        raise InputDataError(f"services file not found: {path}") from None
    places = []
    for line, row in enumerate(rows, start=2):
        try:
            name, kind = row["name"].strip(), row["kind"].strip()
            lat, lon = float(row["lat"]), float(row["lon"])
        except (KeyError, AttributeError, TypeError, ValueError):
            raise InputDataError(f"services line {line}: needs name, kind, lat, lon") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise InputDataError(f"services line {line}: coordinates off Earth")
        category = category_of(kind)
        name = name or _UNNAMED[category]
        if category is ServiceCategory.WORSHIP and not worship:
            continue
        town = (row.get("town") or "").strip()
        source = row.get("source") or "OpenStreetMap"
        description = f"{name} ({kind}, {town}) at {lat:.6f}, {lon:.6f}; {source}"
        places.append(ServicePlace(name, town, category, lat, lon, description[:300]))
    return places


def import_services(session: Session, places: Sequence[ServicePlace]) -> int:
    """Add the service destinations as stops, once; returns how many were added."""
    taken = set(session.scalars(select(Stop.name)))
    known = set(session.scalars(select(Stop.note).where(Stop.kind == StopKind.SERVICE)))
    added = 0
    for place in places:
        if place.description in known:  # loaded before (perhaps renamed since)
            continue
        name = short_name(place.name, place.town)
        n = 2
        while name in taken:  # two pharmacies of one town
            suffix = f" ({n})"
            name = short_name(place.name, place.town)[: SHORT_NAME_CHARS - len(suffix)] + suffix
            n += 1
        session.add(
            Stop(
                name=name,
                kind=StopKind.SERVICE,
                category=place.category,
                lat=place.lat,
                lon=place.lon,
                active=True,
                note=place.description,
            )
        )
        taken.add(name)
        known.add(place.description)
        added += 1
    session.commit()
    return added
