"""Where a point meets the road network, and a path between two points."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RoadPath", "Snap"]


@dataclass(frozen=True, slots=True)
class Snap:
    """Where a point meets the road network.

    Attributes
    ----------
    edge
        Index of the edge the point snaps to (the lower index of a two-way pair).
    fraction
        Position along the edge, 0 at its start node, 1 at its end node.
    lat, lon
        The snapped position on the road.
    distance_m
        Straight-line distance from the point to the road, in metres.
    """

    edge: int
    fraction: float
    lat: float
    lon: float
    distance_m: float


@dataclass(frozen=True, slots=True)
class RoadPath:
    """The fastest path between two points on one profile's graph.

    Attributes
    ----------
    duration_s
        Driving time, in seconds.
    distance_m
        Driving distance, in metres.
    snap_m
        Snap distances of the origin and the destination, in metres.
    geometry
        The route as ``(lat, lon)`` pairs, from the snapped origin to the snapped
        destination.
    """

    duration_s: float
    distance_m: float
    snap_m: tuple[float, float]
    geometry: list[tuple[float, float]]
