"""Download a fresh OSM road extract of the province with osmnx (for online users)."""

from __future__ import annotations

from pathlib import Path

from mobility.errors import MobilityError

__all__ = ["OfflineError", "download_extract"]

# The road classes the vehicle profiles can use (see mobility.roads.profiles).
_ROAD_FILTER = (
    '["highway"~"motorway|trunk|primary|secondary|tertiary|unclassified|residential'
    '|living_street|road|service|track"]'
)


class OfflineError(MobilityError, ConnectionError):
    """The OpenStreetMap servers could not be reached."""


def download_extract(out_dir: Path, *, place: str = "Provincia di Foggia, Puglia, Italia") -> Path:
    """Fetch the road network of ``place`` from OpenStreetMap and save it as OSM XML.

    Parameters
    ----------
    out_dir
        Folder to write ``foggia_province_roads.osm`` into (created if needed).
    place
        Nominatim query for the area's boundary.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    OfflineError
        If Nominatim or Overpass cannot be reached.
    """
    import osmnx as ox
    import requests

    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "foggia_province_roads.osm"
    try:
        graph = ox.graph_from_place(
            place, simplify=False, retain_all=True, custom_filter=_ROAD_FILTER
        )
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
        raise OfflineError(
            "osm download: cannot reach the OpenStreetMap servers (offline?); "
            f"use the extract in ../shared/data/osm_foggia/ instead ({type(exc).__name__})"
        ) from exc
    tmp = target.with_name(target.name + ".part")
    ox.io.save_graph_xml(graph, tmp)
    tmp.replace(target)
    return target
