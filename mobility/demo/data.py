"""Reproducible synthetic days for demos and benchmarks (labelled synthetic).

Settlements and depots are real places; farm destinations are drawn from the real
field-edge road points of ``../shared/data/farm_access_points.csv`` and are marked
synthetic. The same seed gives the same day.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

from mobility.paths import SHARED_DATA

__all__ = [
    "DEFAULT_SETTLEMENTS",
    "FARM_POINTS_CSV",
    "CrewBooking",
    "SyntheticFarm",
    "synthetic_crews",
    "synthetic_farms",
]

FARM_POINTS_CSV: Final = SHARED_DATA / "farm_access_points.csv"
#: Where most workers live in summer (places_foggia.csv names).
DEFAULT_SETTLEMENTS: Final = (
    "Borgo Mezzanone",
    "Borgo Mezzanone - CARA",
    "Borgo Tre Titoli",
    "Borgo Libertà",
    "Stornara",
    "Borgo Tressanti",
    "Rignano Garganico",
    "San Severo",
)


@dataclass(frozen=True)
class SyntheticFarm:
    """A synthetic farm at a real field-edge road point."""

    name: str
    lat: float
    lon: float
    source_id: str


@dataclass(frozen=True)
class CrewBooking:
    """A synthetic booking: a crew (or one worker) from a settlement to a farm."""

    settlement: str
    farm: int  # index into the farms
    arrive_by_min: int
    seats: int


def synthetic_farms(count: int, *, seed: int, path: Path = FARM_POINTS_CSV) -> list[SyntheticFarm]:
    """Draw ``count`` farm points (strict farmland tier first, then the rest)."""
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rng = np.random.default_rng(seed)
    strict = [r for r in rows if r["landcover"] != "unmapped"]
    other = [r for r in rows if r["landcover"] == "unmapped"]
    order = list(rng.permutation(len(strict))) + [
        len(strict) + i for i in rng.permutation(len(other))
    ]
    pool = strict + other
    # mix the tiers so farms spread over the whole plain
    chosen = [pool[i] for i in rng.permutation(order[: max(count * 2, count)])[:count]]
    return [
        SyntheticFarm(f"Farm {i + 1:03d} (synthetic)", float(r["lat"]), float(r["lon"]), r["id"])
        for i, r in enumerate(chosen)
    ]


def synthetic_crews(
    workers: int,
    farms: int,
    *,
    seed: int,
    settlements: tuple[str, ...] = DEFAULT_SETTLEMENTS,
    first_min: int = 4 * 60 + 30,
    last_min: int = 6 * 60 + 30,
    crew_share: float = 0.85,
) -> list[CrewBooking]:
    """Split ``workers`` into crews (most) and single riders going to farms.

    Each settlement sends its crews to a dozen farms; each farm starts work at its
    own time, on the quarter hour between ``first_min`` and ``last_min``, so crews
    of one settlement going to one farm ride together.
    """
    rng = np.random.default_rng(seed)
    times = list(range(first_min, last_min + 1, 15))
    farm_start = rng.choice(times, size=farms)
    weights = rng.dirichlet(np.full(len(settlements), 2.0))
    people = rng.multinomial(workers, weights)
    bookings: list[CrewBooking] = []
    for settlement, count in zip(settlements, people, strict=True):
        home_farms = rng.choice(farms, size=min(farms, 12), replace=False)
        left = int(count)
        while left > 0:
            if rng.random() < crew_share and left >= 5:
                seats = min(left, int(rng.integers(5, 29)))  # a crew leader books <= 28
            else:
                seats = min(left, int(rng.integers(1, 3)))
            farm = int(home_farms[rng.integers(0, len(home_farms))])
            bookings.append(CrewBooking(settlement, farm, int(farm_start[farm]), seats))
            left -= seats
    return bookings
