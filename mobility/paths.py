"""Where the project finds its data: its own folder and the shared data beside it."""

from __future__ import annotations

from pathlib import Path
from typing import Final

__all__ = ["DATA_DIR", "PROJECT_ROOT", "SHARED_DATA"]

PROJECT_ROOT: Final = Path(__file__).resolve().parent.parent
#: The project's road data folder (caches under ``cache/``; git-ignored).
DATA_DIR: Final = PROJECT_ROOT / "data" / "osm_foggia"
#: Read-only data shared by the projects of the hub (never copied into the repo).
SHARED_DATA: Final = PROJECT_ROOT.parent / "shared" / "data"
