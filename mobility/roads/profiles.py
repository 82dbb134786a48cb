"""Vehicle profiles: which roads a vehicle may use and how fast it drives on them.

The OSM extract carries no ``maxspeed``, ``access`` or ``surface`` tags (see
``../shared/data/osm_foggia/PROVENANCE.md``), so speeds are set here, per road class
and vehicle, in one table. They are planning speeds (average, door to door on that
class of road), not legal limits, and they are lower than the Italian limits
(Codice della Strada art. 142: buses 100 km/h on motorways, 80 km/h on main
extra-urban roads, 50 km/h in towns) because a loaded shuttle in the dark on the
Tavoliere does not drive at the limit, and junctions, roundabouts and level
crossings are not modelled separately.

- ``minibus``: an 8-9 seat van (category M1/M2 under 3.5 t). All drivable roads,
  plus service roads and farm tracks at walking-to-slow speed: the last kilometres
  to a field are often a track.
- ``bus``: a 28-50 seat bus or coach (category M3). No farm tracks, no living
  streets and no service roads: a bus cannot turn on a track and must not enter
  farmyards or parking aisles.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

__all__ = ["PROFILES", "SpeedProfile", "get_profile", "profile_table_hash"]


@dataclass(frozen=True, slots=True)
class SpeedProfile:
    """A vehicle profile.

    Parameters
    ----------
    name
        Profile name, ``"minibus"`` or ``"bus"``.
    speeds_kph
        Planning speed in km/h for every OSM ``highway`` class the vehicle may use;
        classes absent from the mapping are forbidden.
    description
        One line for humans.
    """

    name: str
    speeds_kph: MappingProxyType[str, float]
    description: str

    def allows(self, highway: str) -> bool:
        """Return whether the vehicle may drive on roads of class ``highway``."""
        return highway in self.speeds_kph


def _speeds(**kph: float) -> MappingProxyType[str, float]:
    return MappingProxyType(dict(kph))


PROFILES: Final[MappingProxyType[str, SpeedProfile]] = MappingProxyType(
    {
        "minibus": SpeedProfile(
            name="minibus",
            description="8-9 seat minibus: every drivable road, service roads and farm tracks",
            speeds_kph=_speeds(
                motorway=100.0,
                motorway_link=60.0,
                trunk=90.0,
                trunk_link=50.0,
                primary=70.0,
                primary_link=40.0,
                secondary=60.0,
                secondary_link=40.0,
                tertiary=50.0,
                tertiary_link=35.0,
                unclassified=40.0,
                road=30.0,
                residential=30.0,
                living_street=10.0,
                service=15.0,
                track=15.0,
            ),
        ),
        "bus": SpeedProfile(
            name="bus",
            description="28-50 seat bus: no farm tracks, living streets or service roads",
            speeds_kph=_speeds(
                motorway=85.0,
                motorway_link=50.0,
                trunk=75.0,
                trunk_link=45.0,
                primary=60.0,
                primary_link=35.0,
                secondary=50.0,
                secondary_link=35.0,
                tertiary=45.0,
                tertiary_link=30.0,
                unclassified=35.0,
                road=25.0,
                residential=25.0,
            ),
        ),
    }
)


def get_profile(name: str) -> SpeedProfile:
    """Return the profile called ``name``.

    Raises
    ------
    ValueError
        If there is no such profile.
    """
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(sorted(PROFILES))
        raise ValueError(f"profile: unknown profile {name!r} (known: {known})") from None


def profile_table_hash(profile: SpeedProfile) -> str:
    """Return a short hash of a profile's speed table (part of the cache key)."""
    payload = json.dumps(
        {"name": profile.name, "speeds_kph": dict(sorted(profile.speeds_kph.items()))},
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:12]
