"""Small geometry and time helpers shared by the road modules."""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = ["MAX_SNAP_M", "M_PER_DEG_LAT", "TIME_RESOLUTION_S", "haversine_m", "ramp"]

#: A point farther than this from every road of a profile cannot be served by it.
MAX_SNAP_M: Final = 1000.0

#: Travel times are rounded to this many seconds, on edges and in matrices.
TIME_RESOLUTION_S: Final = 0.1
#: Metres per degree of latitude (the plain's projection for snapping).
M_PER_DEG_LAT: Final = 111_132.0
_EARTH_RADIUS_M: Final = 6_371_008.8

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def ramp(counts: IntArray) -> IntArray:
    """``[0..c0-1, 0..c1-1, ...]`` for ``counts = [c0, c1, ...]``."""
    total = int(counts.sum())
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.asarray(np.arange(total) - starts, dtype=np.int64)


def haversine_m(
    lat1: FloatArray, lon1: FloatArray, lat2: FloatArray, lon2: FloatArray
) -> FloatArray:
    """Great-circle distance in metres between points given in degrees."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(lon2 - lon1)
    h = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return np.asarray(2 * _EARTH_RADIUS_M * np.arcsin(np.sqrt(h)))
