"""Named places of the plain (towns, borghi, settlements) as candidate stops."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from mobility.errors import InputDataError

__all__ = ["DEFAULT_PLACES_CSV", "Place", "load_places"]

DEFAULT_PLACES_CSV: Final = (
    Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "places_foggia.csv"
)


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
