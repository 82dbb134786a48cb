"""The colours of a plan's vehicles: the same on the interactive map, the day
page's timelines, the static overview and the route sheets."""

from __future__ import annotations

from typing import Final

__all__ = ["COLOURS", "route_colour"]

#: Colour-blind-friendly first (ColorBrewer Dark2, then Paired).
COLOURS: Final = (
    "#1b9e77",
    "#d95f02",
    "#7570b3",
    "#e7298a",
    "#66a61e",
    "#e6ab02",
    "#a6761d",
    "#1f78b4",
    "#b2df8a",
    "#fb9a99",
    "#6a3d9a",
    "#b15928",
)


def route_colour(index: int) -> str:
    """The colour of the ``index``-th route of a plan."""
    return COLOURS[index % len(COLOURS)]
