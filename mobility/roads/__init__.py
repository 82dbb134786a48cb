"""The road network: graphs per vehicle profile, snapping, routes and matrices.

Built once from the OSM extract by ``mobility graph build`` (:mod:`.build`), cached
as flat arrays (:mod:`.cache`, :mod:`.source`), then loaded in a fraction of a
second. :class:`RoadGraph` snaps points to roads and routes between them;
:func:`travel_time_matrix` gives durations and distances between many points.
"""

from mobility.roads.build import build_road_graphs
from mobility.roads.cache import load_road_graph
from mobility.roads.geo import MAX_SNAP_M, TIME_RESOLUTION_S
from mobility.roads.graph import RoadGraph, decode_weight
from mobility.roads.matrices import TravelTimes, travel_time_matrix
from mobility.roads.points import RoadPath, Snap
from mobility.roads.profiles import PROFILES, SpeedProfile, get_profile
from mobility.roads.source import SHARED_EXTRACT, cache_path, find_source

__all__ = [
    "MAX_SNAP_M",
    "PROFILES",
    "SHARED_EXTRACT",
    "TIME_RESOLUTION_S",
    "RoadGraph",
    "RoadPath",
    "Snap",
    "SpeedProfile",
    "TravelTimes",
    "build_road_graphs",
    "cache_path",
    "decode_weight",
    "find_source",
    "get_profile",
    "load_road_graph",
    "travel_time_matrix",
]
