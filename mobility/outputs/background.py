"""A background for printed maps, drawn from the road graph itself: motorways, main
roads and town names, so that an overview or a route sheet can be read on paper
without map tiles. Town names come from OpenStreetMap's place nodes of the province
(``osm_places_foggia_province.csv`` beside the extract; without it, no names)."""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from mobility.paths import SHARED_DATA
from mobility.roads import RoadGraph

__all__ = ["PLACES_CSV", "Town", "draw_background", "padded", "towns"]

PLACES_CSV: Final = SHARED_DATA / "osm_foggia" / "osm_places_foggia_province.csv"

#: Road classes drawn, largest first: (OSM highway prefix, line width, colour). Greys,
#: so that the routes' colours stand out, also on a black-and-white printout.
ROAD_STYLES: Final = (
    ("motorway", 2.2, "#8c8c8c"),
    ("trunk", 1.7, "#a3a3a3"),
    ("primary", 1.1, "#bdbdbd"),
    ("secondary", 0.7, "#d6d6d6"),
)
#: Place classes labelled, by how far the map is zoomed out (degrees of longitude).
_LABELS_WIDE: Final = frozenset({"city", "town"})
_LABELS_NEAR: Final = frozenset({"city", "town", "village", "hamlet"})


@dataclass(frozen=True)
class Town:
    """A named place to label: name, OSM place class, position."""

    name: str
    kind: str
    lat: float
    lon: float


@functools.cache
def towns(path: Path = PLACES_CSV) -> tuple[Town, ...]:
    """The named places of the province (cities, towns, villages, hamlets)."""
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except FileNotFoundError:
        return ()
    found = []
    for row in rows:
        name, kind = (row.get("name") or "").strip(), (row.get("osm_place_class") or "").strip()
        if name and kind in _LABELS_NEAR:
            try:
                found.append(Town(name, kind, float(row["lat"]), float(row["lon"])))
            except (KeyError, TypeError, ValueError):
                continue
    return tuple(found)


_Roads = list[tuple[Any, list[Any], float, str]]
_ROADS: dict[tuple[str, str, int], _Roads] = {}


def _main_roads(graph: RoadGraph) -> _Roads:
    """Per road class: the edges' midpoints and polylines (each road once), kept per
    graph source and profile."""
    key = (graph.source_sha256, graph.profile, graph.n_edges)
    if key in _ROADS:
        return _ROADS[key]
    highway = graph.edge_highway.astype(str)
    edges = np.arange(graph.n_edges)
    once = (graph.edge_reverse < 0) | (graph.edge_reverse > edges)
    out = []
    for prefix, width, colour in ROAD_STYLES:
        ptr = graph.geom_ptr
        lines = [
            np.column_stack(
                (graph.geom_lon[ptr[e] : ptr[e + 1]], graph.geom_lat[ptr[e] : ptr[e + 1]])
            )
            for e in edges[once & np.char.startswith(highway, prefix)]
        ]
        mid = np.array([line[len(line) // 2] for line in lines]).reshape(-1, 2)
        out.append((mid, lines, width, colour))
    _ROADS[key] = out
    return out


def padded(
    points: list[tuple[float, float]], *, margin: float = 0.08, least: float = 0.02
) -> tuple[float, float, float, float]:
    """``(min_lon, min_lat, max_lon, max_lat)`` around ``(lat, lon)`` points, with a
    margin (a share of the size, at least ``least`` degrees)."""
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    dlat = max((max(lats) - min(lats)) * margin, least)
    dlon = max((max(lons) - min(lons)) * margin, least)
    return (min(lons) - dlon, min(lats) - dlat, max(lons) + dlon, max(lats) + dlat)


def draw_background(
    ax: Any,
    graph: RoadGraph,
    bbox: tuple[float, float, float, float],
    *,
    places: Path = PLACES_CSV,
) -> None:
    """Draw main roads and place names inside ``bbox`` (min_lon, min_lat, max_lon,
    max_lat) under whatever is drawn next, and fix the axes to that box."""
    from matplotlib import patheffects
    from matplotlib.collections import LineCollection

    west, south, east, north = bbox
    wide = east - west > 0.6
    for mid, lines, width, colour in _main_roads(graph):
        if wide and colour == ROAD_STYLES[-1][2]:
            continue  # secondary roads only when zoomed in
        if not len(lines):
            continue
        inside = (
            (mid[:, 0] >= west) & (mid[:, 0] <= east) & (mid[:, 1] >= south) & (mid[:, 1] <= north)
        )
        kept = [line for line, keep in zip(lines, inside, strict=True) if keep]
        if kept:
            ax.add_collection(
                LineCollection(kept, linewidths=width, colors=colour, zorder=0, capstyle="round")
            )
    wanted = _LABELS_WIDE if wide else _LABELS_NEAR
    halo = [patheffects.withStroke(linewidth=2.2, foreground="white")]
    for town in towns(places):
        if town.kind in wanted and west <= town.lon <= east and south <= town.lat <= north:
            big = town.kind in ("city", "town")
            ax.text(
                town.lon,
                town.lat,
                town.name,
                fontsize=7 if big else 5.5,
                color="#333" if big else "#555",
                ha="center",
                va="center",
                zorder=5,  # above the routes, with a white halo
                path_effects=halo,
            )
    ax.set_xlim(west, east)
    ax.set_ylim(south, north)
