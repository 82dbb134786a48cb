"""What leaves the system: route sheets in every language (codes, never names)."""

from __future__ import annotations

import base64
import hashlib
import html
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from mobility.bookings import RideRequest, register_worker, request_rides
from mobility.dispatch import latest_plan, plan_day
from mobility.i18n import LANGUAGES, gettext_for
from mobility.outputs import render_sheets_pdf, sheet_texts
from mobility.roads import RoadGraph
from mobility.store import Profile, ServiceCategory, Stop, StopKind, Vehicle
from tests.clock import DAY
from tests.conftest import NODES, QUICK, RULES


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    assert shutil.which("pdftotext"), "poppler-utils is missing: run `make system-deps`"
    path = tmp_path / "sheet.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True)
    # Arabic comes out as presentation forms: compare in their base letters
    return unicodedata.normalize("NFKC", out.stdout)


def test_sheet_words_come_from_the_catalogue_of_each_language() -> None:
    titles = {lang: sheet_texts(lang).title for lang in LANGUAGES}
    assert titles["it"] == "Foglio di viaggio" and titles["en"] == "Route sheet"
    assert len(set(titles.values())) == len(LANGUAGES)  # six different words
    for lang in LANGUAGES:
        assert sheet_texts(lang).free == gettext_for(lang)(
            "The ride is free. Nobody may ask you for money."
        )


@pytest.mark.parametrize("language", LANGUAGES)
def test_pdf_sheet_is_written_in_each_language_with_codes_and_no_phone(
    db: Session, tiny_graphs: dict[str, RoadGraph], tmp_path: Path, language: str
) -> None:
    ids = {}
    for key, name, kind in [("A", "Camp", StopKind.SETTLEMENT), ("C", "Field", StopKind.FARM)]:
        stop = Stop(name=name, kind=kind, lat=NODES[key][0], lon=NODES[key][1])
        db.add(stop)
        db.flush()
        ids[key] = stop.id
    db.add(Vehicle(name="MB-1", seats=8, profile=Profile.MINIBUS, depot_stop_id=ids["A"]))
    db.commit()
    worker, _ = register_worker(db, phone="+39 333 7654321")
    (booking,) = request_rides(
        db, worker, RideRequest(DAY, ids["A"], ids["C"], 360, seats=4), rules=RULES
    )
    plan_day(db, DAY, lambda p: tiny_graphs[p], settings=QUICK)
    run = latest_plan(db, DAY)
    assert run is not None
    pdf = render_sheets_pdf(
        run,
        list(run.routes),
        lambda p: tiny_graphs[p],
        language=language,
        hub_phone="+39 0881 000000",
    )
    text = pdf_text(pdf, tmp_path)
    texts = sheet_texts(language)
    assert texts.title in text and texts.totals in text
    assert booking.code in text and "MB-1" in text and "OpenStreetMap contributors" in text
    assert "7654321" not in text


def test_a_crew_split_over_two_vehicles_shows_its_seats_in_each(
    db: Session, tiny_graphs: dict[str, RoadGraph], tmp_path: Path
) -> None:
    from mobility.outputs import export_plan, sheet_rows

    ids = {}
    for key, name, kind in [("A", "Camp", StopKind.SETTLEMENT), ("C", "Field", StopKind.FARM)]:
        stop = Stop(name=name, kind=kind, lat=NODES[key][0], lon=NODES[key][1])
        db.add(stop)
        db.flush()
        ids[key] = stop.id
    # a short shift each: one trip, no time for a second one
    for name in ("MB-1", "MB-2"):
        db.add(
            Vehicle(
                name=name,
                seats=8,
                profile=Profile.MINIBUS,
                depot_stop_id=ids["A"],
                shift_start_min=352,
                shift_end_min=364,
            )
        )
    db.commit()
    worker, _ = register_worker(db, phone="+39 333 7654321")
    (crew,) = request_rides(
        db, worker, RideRequest(DAY, ids["A"], ids["C"], 360, seats=12), rules=RULES
    )
    plan_day(db, DAY, lambda p: tiny_graphs[p], settings=QUICK)
    run = latest_plan(db, DAY)
    assert run is not None
    exported = {b["code"]: b for b in export_plan(db, DAY)["bookings"]}[crew.code]
    seats = exported["seats_in"]  # a full minibus and the rest, either way round
    assert sorted(seats.items()) in ([("MB-1", 8), ("MB-2", 4)], [("MB-1", 4), ("MB-2", 8)])
    assert exported["vehicles"] == ["MB-1", "MB-2"]
    one, two = seats["MB-1"], seats["MB-2"]
    note = f"{crew.code}: {one} on MB-1, {two} on MB-2"
    for route in run.routes:  # each driver's sheet says where the rest of the crew rides
        assert [n for row in sheet_rows(route, "en") for n in row["shared"]] == [note]
    pdf = render_sheets_pdf(
        run, list(run.routes), lambda p: tiny_graphs[p], language="it", hub_phone="+39 0881 000000"
    )
    flat = "".join(pdf_text(pdf, tmp_path).split())  # the narrow column wraps lines
    assert f"{crew.code}:{one}suMB-1,{two}suMB-2" in flat


def test_printed_maps_draw_main_roads_and_place_names_from_the_graph(
    tiny_graphs: dict[str, RoadGraph], tmp_path: Path
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    from mobility.outputs.background import draw_background, padded

    places = tmp_path / "places.csv"
    places.write_text(
        "name,osm_place_class,lat,lon,tile_z14\n"
        "Borgo Vicino,hamlet,41.465,15.505,x\n"
        "Lontano,town,42.5,16.5,x\n"
        ",locality,41.46,15.5,x\n",
        encoding="utf-8",
    )
    fig, ax = plt.subplots()
    bbox = padded([NODES["A"], NODES["G"], NODES["C"]])
    draw_background(ax, tiny_graphs["minibus"], bbox, places=places)
    (roads,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(roads.get_segments()) == 2  # the primary road A-B-C, each way drawn once
    assert [t.get_text() for t in ax.texts] == ["Borgo Vicino"]  # inside the box, named
    assert ax.get_xlim() == (bbox[0], bbox[2])
    plt.close(fig)


def test_the_standalone_map_file_inlines_everything_but_the_tiles(
    db: Session, tiny_graphs: dict[str, RoadGraph]
) -> None:
    import json
    import re

    from mobility.outputs import plan_map_html

    camp = Stop(name="Camp", kind=StopKind.SETTLEMENT, lat=NODES["A"][0], lon=NODES["A"][1])
    field = Stop(name="Field </script>", kind=StopKind.FARM, lat=NODES["C"][0], lon=NODES["C"][1])
    db.add_all([camp, field])
    db.flush()
    db.add(Vehicle(name="MB-1", seats=8, profile=Profile.MINIBUS, depot_stop_id=camp.id))
    db.commit()
    worker, _ = register_worker(db)
    request_rides(db, worker, RideRequest(DAY, camp.id, field.id, 360, seats=4), rules=RULES)
    plan_day(db, DAY, lambda p: tiny_graphs[p], settings=QUICK)
    run = latest_plan(db, DAY)
    assert run is not None
    page = plan_map_html(run, tiny_graphs.__getitem__, tiles="")
    assert not re.search(r"<(script|link)[^>]+(src|href)=", page)  # nothing fetched
    assert "Leaflet" in page and "decodePath" in page and "url(images/" not in page
    found = re.search(
        r'<script type="application/json" id="daymap-data">(.*?)</script>', page, re.S
    )
    assert found
    layers = json.loads(found.group(1))
    codes = {c for v in layers["vehicles"] for s in v["stops"] for c in s["codes"]}
    assert codes == {m.booking.code for r in run.routes for s in r.stops for m in s.moves}
    assert page.count("</script>") == 3  # Leaflet, the data, the drawing script
    assert "Field </script>" in {s["name"] for v in layers["vehicles"] for s in v["stops"]}
    # the file runs only its own scripts and style: a policy with their hashes
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert policy and "unsafe-inline" not in policy.group(1)
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    style = re.search(r"<style>(.*?)</style>", page, re.S)
    assert len(scripts) == 2 and style
    for text in [*scripts, style.group(1)]:
        digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in html.unescape(policy.group(1))


def _sheet_of(db: Session, tiny_graphs: dict[str, RoadGraph], farm: Stop) -> tuple[str, str]:
    """A booking from a camp to ``farm`` planned and printed: (its code, the PDF's text)."""
    camp = Stop(name="Camp", kind=StopKind.SETTLEMENT, lat=NODES["A"][0], lon=NODES["A"][1])
    db.add_all([camp, farm])
    db.flush()
    db.add(Vehicle(name="MB <1>", seats=8, profile=Profile.MINIBUS, depot_stop_id=camp.id))
    db.commit()
    worker, _ = register_worker(db)
    (booking,) = request_rides(
        db, worker, RideRequest(DAY, camp.id, farm.id, 600, seats=3), rules=RULES
    )
    plan_day(db, DAY, lambda p: tiny_graphs[p], settings=QUICK)
    run = latest_plan(db, DAY)
    assert run is not None
    return booking.code, render_sheets_pdf(
        run, list(run.routes), tiny_graphs.__getitem__, language="it", hub_phone="+39 1"
    )


def test_names_like_markup_are_printed_as_they_are_on_a_sheet(
    db: Session, tiny_graphs: dict[str, RoadGraph], tmp_path: Path
) -> None:
    field = Stop(name="Field A <b & c", kind=StopKind.FARM, lat=NODES["C"][0], lon=NODES["C"][1])
    _, pdf = _sheet_of(db, tiny_graphs, field)
    text = pdf_text(pdf, tmp_path)
    assert "Field A <b & c" in text and "MB <1>" in text


def test_a_sheet_shows_only_counts_at_a_police_station_or_a_clinic(
    db: Session, tiny_graphs: dict[str, RoadGraph], tmp_path: Path
) -> None:
    police = Stop(
        name="Questura di Foggia",
        kind=StopKind.SERVICE,
        category=ServiceCategory.POLICE,
        lat=NODES["C"][0],
        lon=NODES["C"][1],
    )
    code, pdf = _sheet_of(db, tiny_graphs, police)
    text = pdf_text(pdf, tmp_path)
    assert text.count(code) == 1  # boarding at the camp; leaving at the police: a count
    assert "Questura di Foggia" in text and "×3" in text.replace(" ", "")
