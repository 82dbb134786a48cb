"""Road graphs for the web process: loaded once per profile from their caches.

The web app never builds a graph (a minute of CPU for the province): a missing
cache raises :class:`~mobility.errors.RoadCacheMissingError`, which the error
handlers turn into a page naming ``mobility graph build``.
"""

from __future__ import annotations

import threading

from flask import current_app

from mobility.dispatch import GraphLoader
from mobility.roads import RoadGraph, load_road_graph
from web.settings import get_settings

__all__ = ["graph_loader"]

_LOCK = threading.Lock()


def graph_loader() -> GraphLoader:
    """A function ``profile -> RoadGraph`` bound to this app's configuration.

    ``MOBILITY_OSM_PATH`` (config ``OSM_PATH``) picks the extract; graphs stay in
    memory in ``app.extensions`` after the first load.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    cache: dict[str, RoadGraph] = app.extensions.setdefault("mobility.graphs", {})
    source = get_settings().osm_path

    def load(profile: str) -> RoadGraph:
        with _LOCK:
            if profile not in cache:
                cache[profile] = load_road_graph(profile, source, build_missing=False)
            return cache[profile]

    return load
