"""Road graphs for the web process, loaded once per profile (from the cache)."""

from __future__ import annotations

import threading
from typing import Any

from flask import current_app

from mobility.roadgraph import RoadGraph, load_road_graph

__all__ = ["graph_loader"]

_LOCK = threading.Lock()


def graph_loader() -> Any:
    """A function ``profile -> RoadGraph`` bound to this app's configuration.

    ``MOBILITY_OSM_PATH`` (config ``OSM_PATH``) picks the extract; graphs stay in
    memory in ``app.extensions`` after the first load.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    cache: dict[str, RoadGraph] = app.extensions.setdefault("mobility.graphs", {})
    source = app.config.get("OSM_PATH")

    def load(profile: str) -> RoadGraph:
        with _LOCK:
            if profile not in cache:
                cache[profile] = load_road_graph(profile, source)
            return cache[profile]

    return load
