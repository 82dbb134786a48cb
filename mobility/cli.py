"""The ``mobility`` command.

Every error the user can cause (missing or corrupt file, bad CSV, a point off the
map) prints one line on standard error and exits with status 2, without a traceback.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from mobility.errors import InputDataError, MobilityError
from mobility.profiles import PROFILES

__all__ = ["main"]

EXIT_USAGE = 2


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


# --------------------------------------------------------------------------- commands


def _cmd_graph_build(args: argparse.Namespace) -> int:
    from mobility.profiles import get_profile
    from mobility.roadgraph import build_road_graphs, cache_path, find_source, load_road_graph

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
    from mobility.roadgraph import load_road_graph

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

    from mobility.roadgraph import load_road_graph

    graph = load_road_graph(args.profile, args.source)
    out = Path(args.graphml)
    out.parent.mkdir(parents=True, exist_ok=True)
    ox.save_graphml(graph.to_networkx(), out)
    print(f"wrote {out} ({graph.n_nodes} nodes, {graph.n_edges} edges, profile {graph.profile})")
    return 0


def _cmd_route(args: argparse.Namespace) -> int:
    from mobility.roadgraph import load_road_graph

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


def _cmd_matrix(args: argparse.Namespace) -> int:
    from mobility.roadgraph import load_road_graph
    from mobility.travel_times import travel_time_matrix

    ids, points = read_points_csv(Path(args.points))
    graph = load_road_graph(args.profile, args.source)
    started = time.perf_counter()
    result = travel_time_matrix(points, graph, distances=False)
    elapsed = time.perf_counter() - started
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", *ids])
        for ident, row in zip(ids, result.durations_s.tolist(), strict=True):
            writer.writerow([ident, *(f"{v:.1f}" if math.isfinite(v) else "" for v in row)])
    unreachable = int((~result.reachable).sum())
    print(
        f"wrote {out}: {len(ids)}x{len(ids)} durations (s), profile {graph.profile}, "
        f"{unreachable} unreachable pairs, {elapsed:.2f} s"
    )
    return 0


def _cmd_osm_download(args: argparse.Namespace) -> int:
    from mobility.osm_download import download_extract

    path = download_extract(Path(args.out), place=args.place)
    print(f"wrote {path}; build its caches with `mobility graph build --source {path}`")
    return 0


def _cmd_places(args: argparse.Namespace) -> int:
    from mobility.places import load_places

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


def database_url(environ: dict[str, str] | None = None) -> str:
    """``MOBILITY_DATABASE_URL``, or the web app's SQLite file in ``instance/``."""
    import os

    from mobility.roadgraph import PROJECT_ROOT

    env = os.environ if environ is None else environ
    return (
        env.get("MOBILITY_DATABASE_URL") or f"sqlite:///{PROJECT_ROOT / 'instance' / 'mobility.db'}"
    )


# sessions and engines a command opened, closed by main() when the command ends
_OPENED: list[object] = []


def _open_session() -> object:
    from mobility.store import make_engine, make_session_factory, upgrade_database

    engine = make_engine(database_url())
    upgrade_database(engine)
    session = make_session_factory(engine)()
    _OPENED.extend([session, engine])
    return session


def _close_opened() -> None:
    while _OPENED:
        item = _OPENED.pop(0)  # the session first, then its engine
        if hasattr(item, "dispose"):
            item.dispose()
        else:
            item.close()  # type: ignore[attr-defined]


def _parse_date(text: str) -> object:
    import datetime as dt

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def _cmd_fleet_import(args: argparse.Namespace) -> int:
    from mobility.dispatch import import_fleet

    session = _open_session()
    added, updated = import_fleet(session, Path(args.file))  # type: ignore[arg-type]
    print(f"fleet: {added} vehicles added, {updated} updated")
    return 0


def _cmd_plan(args: argparse.Namespace) -> int:
    from mobility.dispatch import export_plan, plan_day, publish_plan
    from mobility.roadgraph import load_road_graph
    from optimizer.solve import SolverParams

    session = _open_session()
    if args.export:
        document = export_plan(session, args.date)  # type: ignore[arg-type]
        out = Path(args.export)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(document, indent=1, ensure_ascii=False), encoding="utf-8")
        vehicles, bookings = len(document["vehicles"]), len(document["bookings"])
        print(f"wrote {out}: {vehicles} vehicles, {bookings} bookings")
        return 0
    outcome = plan_day(
        session,  # type: ignore[arg-type]
        args.date,
        load_road_graph,
        params=SolverParams(time_limit_s=args.time_limit),
        progress=None if args.json else (lambda msg: print(f"... {msg}", file=sys.stderr)),
    )
    figures = dict(outcome.figures)
    figures["plan_id"] = outcome.plan_id
    if args.publish:
        figures["published_version"] = publish_plan(session, args.date)  # type: ignore[arg-type]
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key}: {value}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    import datetime as dt

    from mobility.demo import run_demo
    from mobility.roadgraph import load_road_graph
    from mobility.services import BookingRules

    session = _open_session()
    day = args.date or BookingRules().local_now().date() + dt.timedelta(days=1)
    cache: dict[str, object] = {}

    def graphs(profile: str) -> object:
        if profile not in cache:
            cache[profile] = load_road_graph(profile)
        return cache[profile]

    result = run_demo(
        session,  # type: ignore[arg-type]
        graphs,  # type: ignore[arg-type]
        Path(args.out),
        day=day,
        seed=args.seed,
        workers=args.workers,
        time_limit_s=args.time_limit,
    )
    f = result.figures
    print(
        f"day {result.day}: {f['served_seats']} of {f['seats']} seats served by "
        f"{f['vehicles_used']} vehicles, {f['vehicle_km']} vehicle-km, "
        f"{f['unserved_seats']} seats unserved"
    )
    for path in result.outputs:
        print(f"wrote {path}")
    print("demo logins (staff pages at /dispatch/login):")
    for user, password in result.logins.items():
        print(f"  {user:<10} {password}")
    return 0


def _cmd_sheets(args: argparse.Namespace) -> int:
    import os

    from mobility.dispatch import latest_plan
    from mobility.roadgraph import load_road_graph
    from mobility.sheets import render_sheets_pdf

    session = _open_session()
    run = latest_plan(session, args.date)  # type: ignore[arg-type]
    if run is None or not run.routes:
        raise InputDataError(f"--date {args.date}: no plan with routes for that day")
    base = os.environ.get("MOBILITY_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    pdf = render_sheets_pdf(
        run,
        list(run.routes),
        load_road_graph,
        language=args.lang,
        hub_phone=os.environ.get("MOBILITY_HUB_PHONE", ""),
        route_url=lambda r: f"{base}/driver/sheets/{run.service_date}/{r.vehicle.name}",
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(pdf)
    print(f"wrote {out}: {len(run.routes)} vehicles, one per page")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from mobility.dispatch import monthly_report
    from mobility.roadgraph import load_road_graph

    try:
        year, month = (int(x) for x in args.month.split("-"))
        if not 1 <= month <= 12:
            raise ValueError
    except ValueError:
        raise InputDataError(f"--month {args.month!r} is not YYYY-MM") from None
    session = _open_session()
    rows = monthly_report(session, year, month, load_road_graph)  # type: ignore[arg-type]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fields = ["settlement", "destination", "rides", "seats", "no_shows", "km"]
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {out}: {len(rows)} rows, {sum(r['rides'] for r in rows)} rides")
    return 0


# --------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``mobility``."""
    parser = argparse.ArgumentParser(
        prog="mobility",
        description="Passaggio: legal shuttles for farm workers in the province of Foggia.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
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

    fleet = sub.add_parser("fleet", help="vehicles (database: $MOBILITY_DATABASE_URL)")
    fleet_sub = fleet.add_subparsers(dest="fleet_command", required=True)
    fleet_import = fleet_sub.add_parser("import", help="load or update vehicles from a CSV")
    fleet_import.add_argument(
        "file", metavar="FLEET.csv", help="header name,seats,profile,depot,shift_start,shift_end"
    )
    fleet_import.set_defaults(func=_cmd_fleet_import)

    plan = sub.add_parser("plan", help="plan a day's bookings (database: $MOBILITY_DATABASE_URL)")
    plan.add_argument("--date", required=True, type=_parse_date, metavar="YYYY-MM-DD")
    plan.add_argument("--time-limit", type=float, default=60.0, metavar="S")
    plan.add_argument("--publish", action="store_true", help="publish the plan to the workers")
    plan.add_argument("--export", metavar="PLAN.json", help="write the stored plan as JSON instead")
    plan.add_argument("--json", action="store_true")
    plan.set_defaults(func=_cmd_plan)

    demo = sub.add_parser("demo", help="seed, plan and publish a demo day; write map and sheets")
    demo.add_argument("--date", type=_parse_date, default=None, help="default: tomorrow")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--workers", type=int, default=1200)
    demo.add_argument("--time-limit", type=float, default=60.0, metavar="S")
    demo.add_argument("--out", default="out")
    demo.set_defaults(func=_cmd_demo)

    sheets = sub.add_parser("sheets", help="drivers' route sheets of a day as one PDF")
    sheets.add_argument("--date", required=True, type=_parse_date, metavar="YYYY-MM-DD")
    sheets.add_argument("--out", required=True, metavar="FILE.pdf")
    sheets.add_argument("--lang", default="it", choices=["it", "en", "fr"])
    sheets.set_defaults(func=_cmd_sheets)

    report = sub.add_parser("report", help="monthly ridership report for the Region (CSV)")
    report.add_argument("--month", required=True, metavar="YYYY-MM")
    report.add_argument("--out", required=True, metavar="FILE.csv")
    report.set_defaults(func=_cmd_report)

    places = sub.add_parser("places", help="list the named places (candidate stops)")
    places.add_argument("--file", help="places CSV (default: ../shared/data/places_foggia.csv)")
    places.add_argument("--csv", metavar="OUT", help="write placed places as id,lat,lon")
    places.set_defaults(func=_cmd_places)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.func(args)
    except (MobilityError, ValueError) as exc:
        print(f"mobility: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("mobility: interrupted", file=sys.stderr)
        return 130
    finally:
        _close_opened()
    return status


if __name__ == "__main__":
    sys.exit(main())
