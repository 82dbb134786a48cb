"""A day's plan as map layers (plain JSON for the app's own Leaflet map): one layer per
vehicle with its road path and its stops, and the bookings left unserved. Booking
codes and seat counts only, never names or phone numbers."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import polyline
from shapely.geometry import LineString

from mobility.clock import hhmm, seconds_hhmm
from mobility.outputs.maps import ATTRIBUTION, route_colour, route_geometry
from mobility.roads import RoadGraph
from mobility.store import Booking, PlanRoute, PlanRun

__all__ = ["DAYMAP_JS", "plan_layers", "plan_map_html", "tile_origin"]

#: The script drawing a day's layers on Leaflet (served by the app, inlined in files).
DAYMAP_JS: Final = Path(__file__).with_name("daymap.js")
#: The default background of a standalone map file.
OSM_TILES: Final = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"

#: Paths are simplified to about 12 m (a pixel at zoom 14) and rounded to about 1 m:
#: a 35-vehicle day is about 150 kB of JSON.
_SIMPLIFY_DEG = 0.00012
_DIGITS = 5


def _path(points: Sequence[tuple[float, float]]) -> str:
    """The path simplified, in Google's encoded polyline format (5 decimals)."""
    if len(points) >= 2:
        line = LineString([(lon, lat) for lat, lon in points]).simplify(_SIMPLIFY_DEG)
        points = [(lat, lon) for lon, lat in line.coords]
    return str(polyline.encode(list(points), _DIGITS))


def _stops(route: PlanRoute) -> list[dict[str, Any]]:
    return [
        {
            "seq": stop.seq + 1,
            "name": stop.stop.name,
            "lat": round(float(stop.stop.lat or 0), _DIGITS),
            "lon": round(float(stop.stop.lon or 0), _DIGITS),
            "arrival": seconds_hhmm(stop.arrival_s),
            "departure": seconds_hhmm(stop.departure_s),
            "board": sum(m.seats for m in stop.moves if m.boarding),
            "alight": sum(m.seats for m in stop.moves if not m.boarding),
            "on_board": stop.load_after,
            "codes": sorted({m.booking.code for m in stop.moves}),
        }
        for stop in route.stops
    ]


def _unserved(bookings: Iterable[Booking]) -> list[dict[str, Any]]:
    return [
        {
            "code": b.code,
            "seats": b.seats,
            "lat": round(float(b.from_stop.lat or 0), _DIGITS),
            "lon": round(float(b.from_stop.lon or 0), _DIGITS),
            "from": b.from_stop.name,
            "to": b.to_stop.name,
            "time": hhmm(b.time_min),
            "reason": b.reason or "",
        }
        for b in bookings
        if b.from_stop.lat is not None and b.from_stop.lon is not None
    ]


def plan_layers(
    run: PlanRun, graphs: Callable[[str], RoadGraph], unserved: Iterable[Booking] = ()
) -> dict[str, Any]:
    """The layers of a plan's map.

    Returns
    -------
    dict
        ``{"date", "attribution", "vehicles": [{"name", "seats", "colour", "km",
        "path", "stops": [...]}], "unserved": [...], "bounds"}``; ``path`` is the road
        path in Google's encoded polyline format (precision 5, latitude first: about
        5 bytes a point where a JSON pair takes 20); ``bounds`` is ``[[south, west],
        [north, east]]`` or ``None`` for an empty day.
    """
    vehicles = []
    points: list[list[float]] = []
    for n, route in enumerate(run.routes):
        line = route_geometry(route, graphs(route.vehicle.profile.value))
        stops = _stops(route)
        points += [[lat, lon] for lat, lon in line] + [[s["lat"], s["lon"]] for s in stops]
        vehicles.append(
            {
                "name": route.vehicle.name,
                "seats": route.vehicle.seats,
                "colour": route_colour(n),
                "km": round(route.distance_m / 1000, 1),
                "path": _path(line),
                "stops": stops,
            }
        )
    left = _unserved(unserved)
    points += [[u["lat"], u["lon"]] for u in left]
    bounds = None
    if points:
        lats = [p[0] for p in points]
        lons = [p[1] for p in points]
        bounds = [[min(lats), min(lons)], [max(lats), max(lons)]]
    return {
        "date": run.service_date.isoformat(),
        "attribution": ATTRIBUTION,
        "vehicles": vehicles,
        "unserved": left,
        "bounds": bounds,
    }


def plan_map_html(
    run: PlanRun,
    graphs: Callable[[str], RoadGraph],
    unserved: Iterable[Booking] = (),
    *,
    tiles: str = OSM_TILES,
    labels: dict[str, str] | None = None,
) -> str:
    """The plan's map as one standalone HTML file: Leaflet (from its XStatic package),
    the drawing script and the layers inlined, nothing fetched but the background
    tiles (``tiles``; empty for none). Opens from disk, offline too (without tiles)."""
    import xstatic.pkg.leaflet as leaflet

    folder = Path(leaflet.BASE_DIR)
    data = json.dumps(plan_layers(run, graphs, unserved), ensure_ascii=False)
    words = json.dumps(labels or {}, ensure_ascii=False)
    title = html.escape(f"Passaggio - {run.service_date}")

    def inline(text: str) -> str:  # nothing inlined may close its element early
        return text.replace("</", "<\\/")

    def picture(found: re.Match[str]) -> str:  # the style sheet's images, as data
        data = base64.b64encode((folder / "images" / found.group(1)).read_bytes()).decode()
        return f"url(data:image/png;base64,{data})"

    css = re.sub(r"url\(images/([\w.-]+\.png)\)", picture, (folder / "leaflet.css").read_text())
    style = f"{css}html,body{{margin:0;height:100%}}#daymap{{height:100%}}"
    leaflet_js = inline((folder / "leaflet.js").read_text(encoding="utf-8"))
    daymap_js = inline(DAYMAP_JS.read_text(encoding="utf-8"))

    def sha(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"

    # the file runs only its own two scripts and style (a stop named like markup stays
    # text) and asks no host but the tile server for anything
    origin = tile_origin(tiles)
    csp = (
        f"default-src 'none'; script-src {sha(leaflet_js)} {sha(daymap_js)}; "
        f"style-src {sha(style)}; img-src data:{' ' + origin if origin else ''}; "
        "base-uri 'none'; form-action 'none'"
    )
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{html.escape(csp)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title>"
        f"<style>{style}</style>"
        f"<script>{leaflet_js}</script>"
        "</head><body>"
        f'<div id="daymap" data-tiles="{html.escape(tiles)}" '
        f'data-attribution="{html.escape(ATTRIBUTION)}" data-labels="{html.escape(words)}"></div>'
        f'<script type="application/json" id="daymap-data">{inline(data)}</script>'
        f"<script>{daymap_js}</script>"
        "</body></html>"
    )


def tile_origin(template: str) -> str:
    """``scheme://host`` of a tile URL template (``{s}`` subdomains as a wildcard)."""
    parts = urlsplit(template.replace("{s}.", "*."))
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""
