"""A realistic peak harvest day, reproducible from a seed (labelled synthetic).

What it assumes, from the domain's numbers (``../shared/DOMAIN.md``):

- **Where workers live**: the settlements and borghi of the plain, weighted by their
  summer population: Borgo Mezzanone (and the CARA beside it), Borgo Tre Titoli,
  Stornara, Borgo Tressanti, Borgo Libertà, Rignano Garganico (for the Gran Ghetto,
  which has no public coordinates) and San Severo.
- **Where they work**: near home. Farms are real field-edge road points
  (``farm_access_points.csv``, the mapped-farmland tier first) drawn for each
  settlement with a weight ``exp(-t / 12 min)`` of the minibus driving time ``t`` on
  the road graph, and none beyond 45 minutes: most crews ride less than about 35 km.
  A settlement sends its crews to about one farm per 40 workers.
- **Crews**: 85 % of the workers in crews of 5-28 booked by their leader, the others
  alone or in pairs; a crew rides to its farm and back.
- **Two waves**: each farm starts at its own quarter hour between 04:30 and 06:30
  (arrive-by); it ends between 17:00 and 19:00, or at 12:30 on a heat-ban day (the
  regional ordinance stops field work 12:30-16:00 on heat-risk days).
- **Fleet**: 8-seat minibuses (they take farm tracks), 28-seat buses and 50-seat
  coaches in the proportions 20 : 50 : 30, except that the hub rosters enough
  minibuses for the crews only they can take: to fields no bus reaches (more than
  1 km from any road a bus may take), or where the bus's way from (or to) the
  crew's settlement is longer than the planner's ride limit over the minibus's
  (1.5 x its time + 15 min: a farm track saves a long way round). Every
  minibus-load (8 seats of one settlement's crews for one farm) is a trip at the
  farm's start (and end) time, a minibus takes a later trip when it can drive to
  its start in time (as early as the planner's 30-minute windows allow), and the
  hub rosters the fewest minibuses that make all of a wave's trips (a minimum chain
  cover), half the fleet at most. Vehicles are at four depots (Foggia, San Severo,
  Cerignola, Lucera) in proportion to the workers living nearest each (minibuses:
  to the workers only they can take), and a bus at least at each depot; every
  vehicle is rostered 02:45-21:00 with two drivers (an early and a late shift), as
  a hub with evening returns would: the early shift starts in time for a 04:30 farm
  45 minutes from a settlement that is itself up to 40 minutes from the nearest
  depot (Rignano Garganico from San Severo by bus).
"""

from __future__ import annotations

import csv
import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_bipartite_matching

from mobility.demo.data import FARM_POINTS_CSV
from mobility.errors import SnapError
from mobility.planning import PlanningSettings
from mobility.roads import RoadGraph, travel_time_matrix
from mobility.stops import Place, load_places

__all__ = [
    "DEPOTS",
    "SETTLEMENT_WEIGHTS",
    "PeakCrew",
    "PeakDay",
    "PeakVehicle",
    "peak_day",
]

#: Summer weights of the settlements (places_foggia.csv names, by the start of them).
SETTLEMENT_WEIGHTS: Final = {
    "Borgo Mezzanone": 0.27,
    "Borgo Mezzanone - CARA": 0.06,
    "Borgo Tre Titoli": 0.20,
    "Stornara": 0.11,
    "Borgo Tressanti": 0.09,
    "Borgo Libertà": 0.06,
    "Rignano Garganico": 0.12,
    "San Severo": 0.09,
}
DEPOTS: Final = ("Foggia (centre)", "San Severo", "Cerignola", "Lucera")
#: (kind, seats, profile, share of the fleet)
FLEET_MIX: Final = (("MB", 8, "minibus", 0.2), ("BUS", 28, "bus", 0.5), ("COACH", 50, "bus", 0.3))
SHIFT_MIN: Final = (2 * 60 + 45, 21 * 60)
DECAY_MIN: Final = 12.0
MAX_RIDE_MIN: Final = 45.0
#: Minutes of a pickup window (the planner's default): at the farm up to this long
#: before work starts; picked up up to this long after it ends.
WINDOW_MIN: Final = 30
WORKERS_PER_FARM: Final = 40


@dataclass(frozen=True)
class PeakFarm:
    """A synthetic farm at a real field-edge road point."""

    name: str
    lat: float
    lon: float
    starts_min: int
    ends_min: int
    minibus_only: bool = False  # no road a bus may take within 1 km


@dataclass(frozen=True)
class PeakCrew:
    """A crew (or a worker alone): where it lives, its farm, how many."""

    settlement: str
    farm: int  # index into PeakDay.farms
    seats: int


@dataclass(frozen=True)
class PeakVehicle:
    """A vehicle of the day's fleet."""

    name: str
    seats: int
    profile: str
    depot: str
    shift_start_min: int
    shift_end_min: int


@dataclass(frozen=True)
class PeakDay:
    """The day: places (settlements and depots), farms, crews, fleet."""

    seed: int
    heat_ban: bool
    places: dict[str, Place]
    farms: list[PeakFarm]
    crews: list[PeakCrew]
    fleet: list[PeakVehicle]

    @property
    def workers(self) -> int:
        """People riding (each rides to work and back)."""
        return sum(c.seats for c in self.crews)


def _settlements() -> dict[str, Place]:
    places = [p for p in load_places() if p.is_placed]
    found = {}
    for name in [*SETTLEMENT_WEIGHTS, *DEPOTS]:
        found[name] = next(p for p in places if p.name.startswith(name))
    return found


def _farm_points(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    mapped = [r for r in rows if r["landcover"] != "unmapped"]
    return mapped + [r for r in rows if r["landcover"] == "unmapped"]


def peak_day(
    seed: int,
    graph: RoadGraph,
    *,
    workers: int = 3000,
    vehicles: int = 60,
    heat_ban: bool | None = None,
    farm_points: Path = FARM_POINTS_CSV,
    bus_graph: RoadGraph | None = None,
) -> PeakDay:
    """Generate a peak day (the same seed gives the same day).

    Parameters
    ----------
    seed
        Random seed.
    graph
        The minibus road graph (driving times from settlements to farms).
    workers
        People riding to work and back.
    vehicles
        Fleet size.
    heat_ban
        A heat-risk day (returns at 12:30); default: one day in four, by the seed.
    farm_points
        The field-edge road points.
    bus_graph
        The bus road graph: fields it does not reach get minibuses (without it,
        every field is taken as reachable by bus).

    Returns
    -------
    PeakDay
    """
    rng = np.random.default_rng(seed)
    if heat_ban is None:
        heat_ban = bool(rng.random() < 0.25)
    places = _settlements()
    names = list(SETTLEMENT_WEIGHTS)
    points = _farm_points(farm_points)
    coords = [(places[n].lat or 0.0, places[n].lon or 0.0) for n in names]
    coords += [(float(r["lat"]), float(r["lon"])) for r in points]
    minutes = travel_time_matrix(coords, graph, distances=False).durations_s[: len(names)] / 60
    weights = np.array([SETTLEMENT_WEIGHTS[n] for n in names])
    people = rng.multinomial(workers, weights / weights.sum())
    farms: list[PeakFarm] = []
    farm_of_point: dict[int, int] = {}
    crews: list[PeakCrew] = []
    for s, (name, count) in enumerate(zip(names, people, strict=True)):
        t = minutes[s, len(names) :]
        weight = np.where(t <= MAX_RIDE_MIN, np.exp(-t / DECAY_MIN), 0.0)
        k = max(1, min(int(np.count_nonzero(weight)), round(count / WORKERS_PER_FARM)))
        chosen = rng.choice(len(points), size=k, replace=False, p=weight / weight.sum())
        home_farms = []
        for point in chosen.tolist():
            if point not in farm_of_point:
                farm_of_point[point] = len(farms)
                row = points[point]
                farms.append(
                    PeakFarm(
                        f"Farm {len(farms) + 1:03d} (synthetic)",
                        float(row["lat"]),
                        float(row["lon"]),
                        int(rng.choice(range(4 * 60 + 30, 6 * 60 + 31, 15))),
                        12 * 60 + 30
                        if heat_ban
                        else int(rng.choice(range(17 * 60, 19 * 60 + 1, 30))),
                    )
                )
            home_farms.append(farm_of_point[point])
        crews += _crews(rng, name, int(count), home_farms)
    if bus_graph is not None:
        by_bus = bus_reached(bus_graph, [places[n] for n in names], farms)
        farms = [
            dataclasses.replace(f, minibus_only=not ok) for f, ok in zip(farms, by_bus, strict=True)
        ]
    pairs = minibus_pairs(graph, bus_graph, places, crews, farms) if bus_graph else set()
    minibuses = minibuses_needed(graph, places, crews, farms, pairs)
    fleet = _fleet(vehicles, names, places, crews, minibuses, pairs)
    return PeakDay(seed, heat_ban, places, farms, crews, fleet)


def bus_reached(graph: RoadGraph, homes: list[Place], farms: list[PeakFarm]) -> list[bool]:
    """Whether a bus can drive from every settlement to each farm and back (a farm
    more than 1 km from its roads, or on a piece of them cut off, is not reached)."""
    near: list[int] = []
    for i, farm in enumerate(farms):
        try:
            graph.snap([farm.lat], [farm.lon])
        except SnapError:
            continue
        near.append(i)
    coords = [(h.lat or 0.0, h.lon or 0.0) for h in homes]
    coords += [(farms[i].lat, farms[i].lon) for i in near]
    t = travel_time_matrix(coords, graph, distances=False).durations_s
    n = len(homes)
    reached = [False] * len(farms)
    for col, i in enumerate(near, start=n):
        reached[i] = bool(np.isfinite(t[:n, col]).all() and np.isfinite(t[col, :n]).all())
    return reached


def minibus_pairs(
    graph: RoadGraph,
    bus_graph: RoadGraph,
    places: dict[str, Place],
    crews: list[PeakCrew],
    farms: list[PeakFarm],
) -> set[tuple[str, int]]:
    """The (settlement, farm) pairs of the crews only a minibus can take: the farm is
    not reached by bus, or the bus's way (either direction) is longer than the
    planner's ride limit (``PlanningSettings``) over the faster of the two."""
    names = sorted({c.settlement for c in crews})
    used = sorted({c.farm for c in crews if not farms[c.farm].minibus_only})
    row = {name: i for i, name in enumerate(names)}
    col = {farm: len(names) + i for i, farm in enumerate(used)}
    coords = [(places[n].lat or 0.0, places[n].lon or 0.0) for n in names]
    coords += [(farms[f].lat, farms[f].lon) for f in used]
    by_bus = travel_time_matrix(coords, bus_graph, distances=False).durations_s
    direct = np.minimum(travel_time_matrix(coords, graph, distances=False).durations_s, by_bus)
    rules = PlanningSettings()
    too_long = by_bus > rules.ride_factor * direct + rules.ride_extra_min * 60

    def minibus_only(c: PeakCrew) -> bool:
        if farms[c.farm].minibus_only:
            return True
        home, field = row[c.settlement], col[c.farm]
        return bool(too_long[home, field] or too_long[field, home])

    return {(c.settlement, c.farm) for c in crews if minibus_only(c)}


def minibuses_needed(
    graph: RoadGraph,
    places: dict[str, Place],
    crews: list[PeakCrew],
    farms: list[PeakFarm],
    pairs: set[tuple[str, int]],
) -> int:
    """Minibuses the crews only a minibus can take need (``pairs``): every
    minibus-load (8 seats of the crews of one settlement for one farm) is a trip, and
    per wave the fewest minibuses that make every trip (:func:`chain_cover`)."""
    tracks = sorted({farm for _, farm in pairs})
    if not tracks:
        return 0
    names = sorted({c.settlement for c in crews})
    where = {name: i for i, name in enumerate(names)}
    column = {farm: len(names) + i for i, farm in enumerate(tracks)}
    coords = [(places[n].lat or 0.0, places[n].lon or 0.0) for n in names]
    coords += [(farms[f].lat, farms[f].lon) for f in tracks]
    minutes = travel_time_matrix(coords, graph, distances=False).durations_s / 60
    seats: dict[tuple[str, int], int] = {}
    for c in crews:
        if (c.settlement, c.farm) in pairs:
            seats[c.settlement, c.farm] = seats.get((c.settlement, c.farm), 0) + c.seats
    size = FLEET_MIX[0][1]
    to_work: list[Trip] = []
    back: list[Trip] = []
    for (settlement, farm), n in seats.items():
        home, field, f = where[settlement], column[farm], farms[farm]
        ride_in, ride_out = minutes[home, field], minutes[field, home]
        for _ in range(math.ceil(n / size)):
            # at the farm in the window before work starts; picked up in the one
            # after it ends (a trip is free as early as its window allows)
            to_work.append(
                Trip(home, field, f.starts_min - ride_in, f.starts_min - WINDOW_MIN, f.starts_min)
            )
            back.append(
                Trip(field, home, f.ends_min + WINDOW_MIN, f.ends_min + ride_out, f.ends_min)
            )
    return max(chain_cover(to_work, minutes), chain_cover(back, minutes))


@dataclass(frozen=True)
class Trip:
    """A vehicle's trip: it leaves place ``start`` at ``leaves`` at the latest and is
    free again at place ``end`` at ``free`` at the earliest (minutes); ``at`` orders
    the trips (the booked time)."""

    start: int
    end: int
    leaves: float
    free: float
    at: int


def chain_cover(trips: list[Trip], minutes: np.ndarray) -> int:
    """The fewest vehicles that make every trip: a vehicle takes trip ``b`` after
    trip ``a`` (booked no earlier) when it can drive from ``a``'s end to ``b``'s
    start before ``b`` leaves; the fewest such chains covering the trips are their
    number minus a maximum matching (a minimum path cover of an acyclic graph)."""
    if not trips:
        return 0
    free = np.array([t.free for t in trips])
    leaves = np.array([t.leaves for t in trips])
    order = np.array([(t.at, i) for i, t in enumerate(trips)])
    ends = [t.end for t in trips]
    starts = [t.start for t in trips]
    later = (order[:, None, 0] < order[None, :, 0]) | (
        (order[:, None, 0] == order[None, :, 0]) & (order[:, None, 1] < order[None, :, 1])
    )
    follows = later & (free[:, None] + minutes[np.ix_(ends, starts)] <= leaves[None, :])
    matched = maximum_bipartite_matching(csr_matrix(follows), perm_type="column")
    return len(trips) - int(np.count_nonzero(matched >= 0))


def _crews(
    rng: np.random.Generator, settlement: str, count: int, farms: list[int]
) -> list[PeakCrew]:
    crews = []
    left = count
    while left > 0:
        if rng.random() < 0.85 and left >= 5:
            seats = min(left, int(rng.integers(5, 29)))  # a crew leader books <= 28
        else:
            seats = min(left, int(rng.integers(1, 3)))
        crews.append(PeakCrew(settlement, farms[int(rng.integers(0, len(farms)))], seats))
        left -= seats
    return crews


def _fleet(
    vehicles: int,
    names: list[str],
    places: dict[str, Place],
    crews: list[PeakCrew],
    minibuses: int,
    pairs: set[tuple[str, int]],
) -> list[PeakVehicle]:
    """The day's fleet: the mix, minibuses for the crews only they can take
    (``pairs``), at the depots nearest the workers they serve."""

    def depot_of(settlement: str) -> str:
        home = places[settlement]
        return min(
            DEPOTS,
            key=lambda d: math.hypot(
                (places[d].lat or 0) - (home.lat or 0), (places[d].lon or 0) - (home.lon or 0)
            ),
        )

    near = dict.fromkeys(DEPOTS, 0.0)
    near_tracks = dict.fromkeys(DEPOTS, 0.0)
    for crew in crews:
        near[depot_of(crew.settlement)] += crew.seats
        if (crew.settlement, crew.farm) in pairs:
            near_tracks[depot_of(crew.settlement)] += crew.seats
    kind_of = {kind: (kind, seats, profile) for kind, seats, profile, _ in FLEET_MIX}
    counts = dict(zip(kind_of, _shares([s for *_, s in FLEET_MIX], vehicles), strict=True))
    needed = min(vehicles // 2, minibuses)
    if needed > counts["MB"]:
        rest = _shares([s for *_, s in FLEET_MIX[1:]], vehicles - needed)
        counts = {"MB": needed, **dict(zip(list(kind_of)[1:], rest, strict=True))}
    fleet: list[PeakVehicle] = []
    for kind, count in counts.items():
        tracks = kind == "MB" and sum(near_tracks.values()) > 0
        weights = near_tracks if tracks else near
        shares = [weights[d] for d in DEPOTS]
        if kind == "BUS" and count >= len(DEPOTS):  # every depot has a bus at least
            numbers = [1 + n for n in _shares(shares, count - len(DEPOTS))]
        else:
            numbers = _shares(shares, count)
        for depot, n in zip(DEPOTS, numbers, strict=True):
            _, seats, profile = kind_of[kind]
            for _ in range(n):
                name = f"{kind}-{len(fleet) + 1:02d}"
                fleet.append(PeakVehicle(name, seats, profile, places[depot].name, *SHIFT_MIN))
    return fleet


def _shares(weights: list[float], count: int) -> list[int]:
    """``count`` split in proportion to ``weights`` (largest remainders)."""
    total = sum(weights) or 1.0
    exact = [w * count / total for w in weights]
    numbers = [int(x) for x in exact]
    for i in sorted(range(len(exact)), key=lambda i: exact[i] - numbers[i], reverse=True):
        if sum(numbers) == count:
            break
        numbers[i] += 1
    return numbers
