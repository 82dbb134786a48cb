"""Road graphs from their caches, built from the extract when missing (commands only)."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from mobility.errors import RoadCacheMissingError
from mobility.roads.graph import RoadGraph
from mobility.roads.profiles import get_profile
from mobility.roads.source import cache_path, find_source

__all__ = ["load_road_graph"]


def load_road_graph(
    profile: str = "minibus",
    source: str | os.PathLike[str] | None = None,
    *,
    cache_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
    build_missing: bool = True,
) -> RoadGraph:
    """Load a profile's graph from the cache, building the cache on first use.

    Parameters
    ----------
    profile
        ``"minibus"`` or ``"bus"``.
    source
        OSM extract; default: found by :func:`find_source`.
    cache_dir
        Cache folder (default ``data/osm_foggia/cache``).
    environ
        Environment for :func:`find_source`.
    build_missing
        Build the caches when missing (about a minute for the province). The web
        application passes ``False``: it never builds a graph in a request.

    Returns
    -------
    RoadGraph

    Raises
    ------
    RoadDataNotFoundError, CorruptRoadDataError, ValueError
        No extract, an unreadable one, or an unknown profile.
    RoadCacheMissingError
        With ``build_missing=False``, when the cache has not been built.
    """
    prof = get_profile(profile)
    path = find_source(source, environ=environ)
    cached = cache_path(path, prof, cache_dir)
    if cached.is_file():
        return RoadGraph.load(cached)
    if not build_missing:
        raise RoadCacheMissingError(
            f"road graph: no {prof.name} cache for {path.name}; run `mobility graph build`"
        )
    with _build_lock(cached):
        if cached.is_file():  # another process built it while this one waited
            return RoadGraph.load(cached)
        from mobility.roads.build import build_road_graphs

        built = build_road_graphs(path)
        for name, graph in built.items():
            graph.save(cache_path(path, get_profile(name), cache_dir))
    return built[prof.name]


@contextmanager
def _build_lock(cached: Path) -> Iterator[None]:
    """One process builds an extract's caches at a time; the others wait for it."""
    cached.parent.mkdir(parents=True, exist_ok=True)
    lock = cached.parent / f".{cached.name.split('-')[0]}.build.lock"
    with lock.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
