"""Shared fixtures: a small hand-built OSM extract and the Tavoliere extract."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from mobility.config import load_config
from mobility.planning import PlanningSettings
from mobility.roads import RoadGraph, load_road_graph
from tests.services import ensure_services

# before anything reads the servers' URLs; the test processes xdist starts inherit them
ensure_services()

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
TAVOLIERE = SHARED / "data" / "osm_foggia" / "tavoliere_roads.osm.bz2"

# A tiny network near Foggia (about 0.85 km between columns, 1.1 km between rows):
#
#   G (service)
#   |
#   E <-- D        E-D-C one-way residential (C -> D -> E -> A)
#   |      ^
#   A --- B --- C  primary, two-way
#         |
#         F        track, two-way (only the minibus may use it)
#
#   H --- I        residential far away, not connected: dropped as a separate component
NODES = {
    "A": (41.46, 15.50),
    "B": (41.46, 15.51),
    "C": (41.46, 15.52),
    "D": (41.47, 15.52),
    "E": (41.47, 15.50),
    "F": (41.45, 15.51),
    "G": (41.48, 15.50),
    "H": (41.40, 15.60),
    "I": (41.40, 15.61),
}
WAYS = [
    (["A", "B", "C"], {"highway": "primary", "name": "Via Principale"}),
    (["C", "D", "E", "A"], {"highway": "residential", "oneway": "yes"}),
    (["B", "F"], {"highway": "track"}),
    (["E", "G"], {"highway": "service"}),
    (["H", "I"], {"highway": "residential"}),
]
NODE_IDS = {name: i + 1 for i, name in enumerate(NODES)}

#: Planning that stops when the answer is known, not at a deadline: OR-Tools' first
#: solution, then a fixed number of large-neighbourhood iterations, one process (the
#: same plan on any machine). The time limit is only a guard.
QUICK = PlanningSettings(time_limit_s=30, solver_workers=1, solution_limit=1, lns_iterations=300)
#: The booking rules of a deployment with the default settings (built like every
#: entry point builds them: from the configuration).
RULES = load_config({}).booking


def write_osm(path: Path, nodes: dict[str, tuple[float, float]], ways: list) -> Path:
    """Write a minimal OSM XML file."""
    ids = {name: i + 1 for i, name in enumerate(nodes)}
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="tests">']
    for name, (lat, lon) in nodes.items():
        lines.append(f'  <node id="{ids[name]}" lat="{lat}" lon="{lon}" version="1"/>')
    for w, (refs, tags) in enumerate(ways, start=1):
        lines.append(f'  <way id="{w}" version="1">')
        lines += [f'    <nd ref="{ids[r]}"/>' for r in refs]
        lines += [f'    <tag k="{k}" v="{v}"/>' for k, v in tags.items()]
        lines.append("  </way>")
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def tiny_osm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny network above as an OSM XML file."""
    return write_osm(tmp_path_factory.mktemp("osm") / "tiny.osm", NODES, WAYS)


@pytest.fixture(scope="session")
def tiny_graphs(tiny_osm: Path) -> dict[str, RoadGraph]:
    """Both profiles' graphs of the tiny network (their caches written, so that the
    web app, which only loads caches, finds them)."""
    return {profile: load_road_graph(profile, tiny_osm) for profile in ("minibus", "bus")}


@pytest.fixture(scope="session")
def tavoliere_minibus() -> RoadGraph:
    """The Tavoliere extract's minibus graph (both profiles cached under
    data/osm_foggia/cache on first use)."""
    if not TAVOLIERE.is_file():
        pytest.fail(f"the Tavoliere extract is missing: {TAVOLIERE}")
    return load_road_graph("minibus", TAVOLIERE)


from tests.clock import week_clock  # noqa: E402,F401  (a shared fixture)
from tests.db_fixtures import (  # noqa: E402,F401  (shared fixtures)
    database_url,
    db,
    embedded_database_url,
    embedded_db,
    production_database_url,
    production_db,
    sqlite_template,
)

#: The Redis every machine of the project runs (CI's included).
REDIS_URL = os.environ.get("MOBILITY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def queue_name() -> Iterator[str]:
    """A job queue of the test's own (tests run in parallel on one Redis)."""
    name = f"test-{uuid.uuid4().hex[:10]}"
    yield name
    from redis import Redis

    connection = Redis.from_url(REDIS_URL)
    for key in connection.scan_iter(f"rq:*{name}*"):
        connection.delete(key)


#: Tests hash PINs and passwords cheaply (a production hash costs 82 ms of CPU, and
#: the suite registers hundreds of workers); the production method has its own test.
TEST_HASH_METHOD = "pbkdf2:sha256:1000"


@pytest.fixture(autouse=True, scope="session")
def _cheap_hashes() -> Iterator[None]:
    from mobility import hashing

    production = hashing.HASH_METHOD
    hashing.HASH_METHOD = TEST_HASH_METHOD
    yield
    hashing.HASH_METHOD = production


#: Tests that mostly wait (for a heartbeat to go stale, a retry, a job's process):
#: run first, so that the others fill the time.
_WAITING = ("killed_worker", "local_process", "manual_edit", "end_to_end", "rq_worker")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the waiting tests first (with several test processes they overlap the rest)."""
    items.sort(key=lambda item: not any(word in item.nodeid for word in _WAITING))
