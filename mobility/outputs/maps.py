"""Maps of a day's plan: route geometry along the roads, and the static overview.

Routes are drawn along the roads of each vehicle's profile. Every map carries
"(c) OpenStreetMap contributors".
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Final

from mobility.colours import COLOURS, route_colour
from mobility.errors import SnapError
from mobility.roads import RoadGraph
from mobility.store import PlanRoute, PlanRun

__all__ = [
    "ATTRIBUTION",
    "COLOURS",
    "plan_overview_png",
    "route_colour",
    "route_geometry",
]

ATTRIBUTION: Final = "(c) OpenStreetMap contributors"


def route_geometry(route: PlanRoute, graph: RoadGraph) -> list[tuple[float, float]]:
    """The route's path along the roads, as ``(lat, lon)`` points."""
    points: list[tuple[float, float]] = []
    stops = [s.stop for s in route.stops]
    for a, b in itertools.pairwise(stops):
        assert a.lat is not None and a.lon is not None and b.lat is not None and b.lon is not None
        if (a.lat, a.lon) == (b.lat, b.lon):
            continue
        try:
            leg = graph.route((a.lat, a.lon), (b.lat, b.lon)).geometry
        except SnapError:  # drawn straight if the road is unknown (never seen on real data)
            leg = [(a.lat, a.lon), (b.lat, b.lon)]
        points += leg if not points else leg[1:]
    return points


def plan_overview_png(run: PlanRun, graphs: Callable[[str], RoadGraph]) -> bytes:
    """A static picture of every route of a plan over a background drawn from the road
    graph (motorways, main roads, town names): readable on paper, no tiles needed."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mobility.outputs.background import draw_background, padded

    fig, ax = plt.subplots(figsize=(8, 7), dpi=110)
    points: list[tuple[float, float]] = []
    for n, route in enumerate(run.routes):
        line = route_geometry(route, graphs(route.vehicle.profile.value))
        points += line + [(float(s.stop.lat or 0), float(s.stop.lon or 0)) for s in route.stops]
        if line:
            ax.plot(
                [p[1] for p in line],
                [p[0] for p in line],
                color=route_colour(n),
                linewidth=1.4,
                label=route.vehicle.name,
                zorder=2,
            )
        for stop in route.stops:
            lon, lat = float(stop.stop.lon or 0), float(stop.stop.lat or 0)
            ax.plot(lon, lat, "o", color="#333", markersize=2.5, zorder=3)
    if points:
        draw_background(ax, graphs("bus"), padded(points))
    ax.set_aspect(1.33)
    ax.set_title(f"Passaggio - {run.service_date} - {len(run.routes)} vehicles")
    ax.text(0.99, 0.01, ATTRIBUTION, transform=ax.transAxes, fontsize=7, ha="right")
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()
