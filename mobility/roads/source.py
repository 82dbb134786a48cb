"""Where the OSM extract is, and where the caches built from it go."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from mobility.errors import RoadDataNotFoundError
from mobility.paths import DATA_DIR, SHARED_DATA
from mobility.roads.profiles import SpeedProfile, profile_table_hash

__all__ = ["CACHE_FORMAT_VERSION", "SHARED_EXTRACT", "cache_path", "file_sha256", "find_source"]

#: Bump when the layout of the cache files changes.
CACHE_FORMAT_VERSION: Final = 1
SHARED_EXTRACT: Final = SHARED_DATA / "osm_foggia" / "foggia_province_roads.osm.bz2"
_EXTRACT_SUFFIXES: Final = (".osm", ".osm.bz2", ".xml", ".osm.xml")


def find_source(
    path: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    data_dir: Path = DATA_DIR,
    shared_extract: Path = SHARED_EXTRACT,
) -> Path:
    """Find the OSM extract to read.

    Looks, in this order, at ``path`` (a ``--source`` option), the environment variable
    ``MOBILITY_OSM_PATH``, an extract under ``data/osm_foggia/`` and the province
    extract in ``../shared/data/osm_foggia/``.

    Parameters
    ----------
    path
        An explicit file, which must exist.
    environ
        The environment to read ``MOBILITY_OSM_PATH`` from (default ``os.environ``).
    data_dir
        The project's data folder.
    shared_extract
        The shared province extract.

    Returns
    -------
    Path
        The extract's path.

    Raises
    ------
    RoadDataNotFoundError
        If no extract exists in any of these places.
    """
    env = os.environ if environ is None else environ
    if path is not None:
        explicit = Path(path)
        if not explicit.is_file():
            raise RoadDataNotFoundError(f"road data: no OSM extract at {explicit}")
        return explicit
    env_path = env.get("MOBILITY_OSM_PATH")
    if env_path:
        candidate = Path(env_path)
        if not candidate.is_file():
            raise RoadDataNotFoundError(
                f"road data: MOBILITY_OSM_PATH points to {candidate}, which is not a file"
            )
        return candidate
    if data_dir.is_dir():
        local = sorted(
            p for p in data_dir.iterdir() if p.is_file() and p.name.endswith(_EXTRACT_SUFFIXES)
        )
        if local:
            return local[0]
    if shared_extract.is_file():
        return shared_extract
    raise RoadDataNotFoundError(
        "road data: no OSM extract found (looked at $MOBILITY_OSM_PATH, "
        f"{data_dir}/*.osm[.bz2], {shared_extract}); "
        "run `mobility osm download --out data/osm_foggia/` when online"
    )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_path(source: Path, profile: SpeedProfile, cache_dir: Path | None = None) -> Path:
    """Return the cache file of ``profile`` built from ``source``.

    The name holds the source file's hash and the profile table's hash, so a changed
    extract or speed table misses the cache and is rebuilt.
    """
    folder = DATA_DIR / "cache" if cache_dir is None else cache_dir
    key = f"{file_sha256(source)[:16]}-{profile_table_hash(profile)}-v{CACHE_FORMAT_VERSION}"
    stem = source.name.split(".")[0]
    return folder / f"{stem}-{profile.name}-{key}.npz"
