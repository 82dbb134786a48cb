"""How long the Region's report takes on a season: 30 days of 3,000 workers a day.

Simulates the season into a fresh SQLite database (``mobility demo --season``: each
day seeded, planned with a short limit, published, driven; two breakdowns), then
times the figures, the CSV and the PDF of the whole period. Prints the timings and
the headline figures. Measures and prints; not a test.

Usage: python bench/region_report.py [--days N] [--workers W] [--time-limit S]
                                     [--database URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
from pathlib import Path

from mobility.config import load_config
from mobility.demo.season import run_season
from mobility.outputs import Period, figures_csv, region_figures, render_region_pdf, suppressed
from mobility.roads import load_road_graph
from mobility.store import make_engine, make_session_factory, upgrade_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--workers", type=int, default=3000)
    parser.add_argument("--time-limit", type=float, default=10.0, metavar="S")
    parser.add_argument("--database", help="an existing season's database (no simulation)")
    args = parser.parse_args()
    start = dt.date(2027, 7, 1)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{Path(tmp) / 'season.db'}"
        config = load_config({"DATABASE_URL": url})
        engine = make_engine(url)
        upgrade_database(engine)
        sessions = make_session_factory(engine)
        if not args.database:
            graphs = {p: load_road_graph(p) for p in ("minibus", "bus")}
            totals = run_season(
                sessions,
                config,
                graphs.__getitem__,
                start=start,
                days=args.days,
                workers=args.workers,
                time_limit_s=args.time_limit,
                say=lambda msg: print(msg, flush=True),
            )
            print(f"season: {json.dumps(totals)}")
        period = Period(start, start + dt.timedelta(days=args.days - 1))
        with sessions() as session:
            started = time.perf_counter()
            figures = region_figures(session, period, costs=config.costs, timezone=config.timezone)
            counted = time.perf_counter()
            out = suppressed(figures)
            csv = figures_csv(out)
            pdf = render_region_pdf(out, language="it")
            done = time.perf_counter()
        print(
            f"report of {args.days} days: figures {counted - started:.1f} s, "
            f"CSV ({len(csv)} bytes) and PDF ({len(pdf)} bytes) {done - counted:.1f} s, "
            f"total {done - started:.1f} s"
        )
        print(json.dumps({k: out[k] for k in ("rides", "outcomes", "punctuality", "vehicles")}))
        engine.dispose()


if __name__ == "__main__":
    main()
