"""Road commands: ``mobility graph``, ``route``, ``matrix``, ``osm download``, ``places``."""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import time
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from mobility.errors import InputDataError
from mobility.roads import PROFILES

__all__ = ["read_points_csv", "register"]


def _parse_point(text: str) -> tuple[float, float]:
    try:
        lat_s, lon_s = text.split(",")
        lat, lon = float(lat_s), float(lon_s)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not LAT,LON (e.g. 41.4206,15.7096)"
        ) from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise argparse.ArgumentTypeError(f"{text!r}: latitude or longitude out of range")
    return lat, lon


def read_points_csv(path: Path) -> tuple[list[str], list[tuple[float, float]]]:
    """Read a points file with the header ``id,lat,lon``.

    Raises
    ------
    InputDataError
        If the file is missing, the header differs, an id repeats or a coordinate is
        not a number in range; the message names the line and the field.
    """
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None or [h.strip().lower() for h in header] != ["id", "lat", "lon"]:
                raise InputDataError(f"{path}: the header must be id,lat,lon")
            ids: list[str] = []
            points: list[tuple[float, float]] = []
            seen: set[str] = set()
            for line, row in enumerate(reader, start=2):
                if not row or all(not cell.strip() for cell in row):
                    continue
                if len(row) != 3:
                    raise InputDataError(f"{path} line {line}: expected 3 fields, got {len(row)}")
                ident = row[0].strip()
                if not ident:
                    raise InputDataError(f"{path} line {line}: id is empty")
                if ident in seen:
                    raise InputDataError(f"{path} line {line}: id {ident!r} repeats")
                seen.add(ident)
                coords = []
                for field, text, limit in (("lat", row[1], 90.0), ("lon", row[2], 180.0)):
                    try:
                        value = float(text)
                    except ValueError:
                        raise InputDataError(
                            f"{path} line {line}: {field} {text.strip()!r} is not a number"
                        ) from None
                    if not math.isfinite(value) or abs(value) > limit:
                        raise InputDataError(f"{path} line {line}: {field} {value} is out of range")
                    coords.append(value)
                ids.append(ident)
                points.append((coords[0], coords[1]))
    except FileNotFoundError:
        raise InputDataError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise InputDataError(f"{path}: not a UTF-8 text file") from None
    if not points:
        raise InputDataError(f"{path}: no points")
    return ids, points


def _cmd_graph_build(args: argparse.Namespace) -> int:
    from mobility.roads import (
        build_road_graphs,
        cache_path,
        find_source,
        get_profile,
        load_road_graph,
    )

    source = find_source(args.source)
    profiles = [args.profile] if args.profile else list(PROFILES)
    missing = [
        p for p in profiles if args.force or not cache_path(source, get_profile(p)).is_file()
    ]
    started = time.perf_counter()
    if missing:
        built = build_road_graphs(source)  # one parse serves every profile
        for name, graph in built.items():
            graph.save(cache_path(source, get_profile(name)))
    for name in profiles:
        graph = load_road_graph(name, source)
        info = graph.info()
        print(
            f"{name}: {info['nodes']} nodes, {info['edges']} edges from {source.name} "
            f"-> {cache_path(source, get_profile(name))}"
        )
    verb = "built" if missing else "cache up to date"
    print(f"{verb} in {time.perf_counter() - started:.1f} s")
    return 0


def _cmd_graph_info(args: argparse.Namespace) -> int:
    from mobility.roads import load_road_graph

    graph = load_road_graph(args.profile, args.source)
    info = graph.info()
    if args.json:
        print(json.dumps(info))
    else:
        bbox = ", ".join(f"{v:.5f}" for v in info["bbox"])
        print(f"profile {info['profile']}: {info['nodes']} nodes, {info['edges']} edges")
        print(f"bbox (min_lon, min_lat, max_lon, max_lat): {bbox}")
        print(f"source: {info['source']}")
    return 0


def _cmd_graph_export(args: argparse.Namespace) -> int:
    import osmnx as ox

    from mobility.roads import load_road_graph

    graph = load_road_graph(args.profile, args.source)
    out = Path(args.graphml)
    out.parent.mkdir(parents=True, exist_ok=True)
    ox.save_graphml(graph.to_networkx(), out)
    print(f"wrote {out} ({graph.n_nodes} nodes, {graph.n_edges} edges, profile {graph.profile})")
    return 0


def _cmd_route(args: argparse.Namespace) -> int:
    from mobility.roads import load_road_graph

    graph = load_road_graph(args.profile, args.source)
    route = graph.route(args.origin, args.destination)
    result = {
        "duration_s": round(route.duration_s, 1),
        "distance_m": round(route.distance_m, 1),
        "snap_m": [round(route.snap_m[0], 1), round(route.snap_m[1], 1)],
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{route.distance_m / 1000:.2f} km, {route.duration_s / 60:.1f} min by {graph.profile} "
            f"(snapped {route.snap_m[0]:.0f} m and {route.snap_m[1]:.0f} m to the road)"
        )
    return 0


def tenths_csv(values: npt.NDArray[np.float64]) -> bytes:
    """Rows of comma-separated numbers with one decimal (``%.1f``), a matrix of
    non-negative values at once; an infinite value is an empty cell.

    The digits are written by numpy into one buffer, a column of digits at a time: a
    million cells in a few hundredths of a second, where ``numpy.savetxt`` formats
    each row in Python.
    """
    finite = np.isfinite(values).ravel()
    tenths = np.rint(np.where(finite, values.ravel(), 0.0) * 10).astype(np.int64)
    if (tenths < 0).any():
        raise ValueError("values: must not be negative")
    whole = tenths // 10
    digits = np.ones(len(whole), dtype=np.int64)
    for power in range(1, len(str(int(whole.max(initial=0))))):
        digits += whole >= 10**power
    # each cell: digits, the point, the tenth, and a comma (a newline ends a row);
    # an empty cell: the comma alone
    width = np.where(finite, digits + 3, 1)
    ends = np.cumsum(width)
    out = np.empty(int(ends[-1]) + 1 if len(ends) else 1, dtype=np.uint8)  # + a spare byte
    spare = len(out) - 1
    out[ends - 1] = ord(",")
    if values.size:
        out[ends[values.shape[1] - 1 :: values.shape[1]] - 1] = ord("\n")
    units = np.where(finite, ends - 4, spare)  # where the units digit goes
    out[np.where(finite, units + 1, spare)] = ord(".")
    out[np.where(finite, units + 2, spare)] = ord("0") + tenths % 10
    for place in range(int(digits.max(initial=1))):
        out[np.where(finite & (digits > place), units - place, spare)] = ord("0") + whole % 10
        whole //= 10
    return out[:spare].tobytes()


def _cmd_matrix(args: argparse.Namespace) -> int:
    from mobility.roads import load_road_graph, travel_time_matrix

    ids, points = read_points_csv(Path(args.points))
    graph = load_road_graph(args.profile, args.source)
    started = time.perf_counter()
    result = travel_time_matrix(points, graph, distances=False)
    elapsed = time.perf_counter() - started
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = tenths_csv(result.durations_s).splitlines()
    labels = io.StringIO()
    csv.writer(labels, lineterminator="\n").writerows([[i] for i in ["id", *ids]])
    names = [name.encode("utf-8") for name in labels.getvalue().splitlines()]
    with out.open("wb") as fh:
        fh.write(b",".join(names) + b"\n")
        fh.writelines(name + b"," + row + b"\n" for name, row in zip(names[1:], rows, strict=True))
    unreachable = int((~result.reachable).sum())
    print(
        f"wrote {out}: {len(ids)}x{len(ids)} durations (s), profile {graph.profile}, "
        f"{unreachable} unreachable pairs, {elapsed:.2f} s"
    )
    return 0


def _cmd_osm_download(args: argparse.Namespace) -> int:
    from mobility.roads.download import download_extract

    path = download_extract(Path(args.out), place=args.place)
    print(f"wrote {path}; build its caches with `mobility graph build --source {path}`")
    return 0


def _cmd_places(args: argparse.Namespace) -> int:
    from mobility.stops import load_places

    places = load_places(Path(args.file) if args.file else None)
    if args.csv:
        out = Path(args.csv)
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["id", "lat", "lon"])
            for place in places:
                if place.is_placed:
                    writer.writerow([place.name, place.lat, place.lon])
        placed = sum(p.is_placed for p in places)
        print(f"wrote {out}: {placed} placed of {len(places)} places")
        return 0
    for place in places:
        where = f"{place.lat:.6f},{place.lon:.6f}" if place.is_placed else "not yet placed"
        print(f"{place.name} [{place.kind}] {where}")
    return 0


#: The commands :func:`register` adds (they need no settings and no database).
COMMANDS: Final = frozenset({"graph", "route", "matrix", "osm", "places"})


def register(sub: Any) -> None:
    """Add the road commands: graph, route, matrix, osm, places."""
    profiles = sorted(PROFILES)

    def add_source(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--source",
            help="OSM extract (default: $MOBILITY_OSM_PATH, data/osm_foggia/, ../shared)",
        )

    graph = sub.add_parser("graph", help="build, inspect and export the road graph")
    graph_sub = graph.add_subparsers(dest="graph_command", required=True)
    build = graph_sub.add_parser("build", help="parse the OSM extract and write the caches")
    build.add_argument("--profile", choices=profiles, help="one profile (default: all)")
    build.add_argument("--force", action="store_true", help="rebuild even if the cache is fresh")
    add_source(build)
    build.set_defaults(func=_cmd_graph_build)
    info = graph_sub.add_parser("info", help="size, bbox and source of a profile's graph")
    info.add_argument("--profile", choices=profiles, default="minibus")
    info.add_argument("--json", action="store_true")
    add_source(info)
    info.set_defaults(func=_cmd_graph_info)
    export = graph_sub.add_parser("export", help="write the routable graph as osmnx GraphML")
    export.add_argument("--profile", choices=profiles, default="minibus")
    export.add_argument("--graphml", required=True, metavar="OUT")
    add_source(export)
    export.set_defaults(func=_cmd_graph_export)

    route = sub.add_parser("route", help="fastest route between two points")
    route.add_argument("origin", type=_parse_point, metavar="LAT,LON")
    route.add_argument("destination", type=_parse_point, metavar="LAT,LON")
    route.add_argument("--profile", choices=profiles, default="minibus")
    route.add_argument("--json", action="store_true")
    add_source(route)
    route.set_defaults(func=_cmd_route)

    matrix = sub.add_parser("matrix", help="travel-time matrix between points of a CSV")
    matrix.add_argument("points", metavar="POINTS.csv", help="header id,lat,lon")
    matrix.add_argument("--out", required=True, metavar="OUT.csv")
    matrix.add_argument("--profile", choices=profiles, default="minibus")
    add_source(matrix)
    matrix.set_defaults(func=_cmd_matrix)

    osm = sub.add_parser("osm", help="OpenStreetMap data")
    osm_sub = osm.add_subparsers(dest="osm_command", required=True)
    download = osm_sub.add_parser("download", help="download a fresh road extract (online)")
    download.add_argument("--out", default="data/osm_foggia/", metavar="DIR")
    download.add_argument("--place", default="Provincia di Foggia, Puglia, Italia")
    download.set_defaults(func=_cmd_osm_download)

    places = sub.add_parser("places", help="list the named places (candidate stops)")
    places.add_argument("--file", help="places CSV (default: ../shared/data/places_foggia.csv)")
    places.add_argument("--csv", metavar="OUT", help="write placed places as id,lat,lon")
    places.set_defaults(func=_cmd_places)
