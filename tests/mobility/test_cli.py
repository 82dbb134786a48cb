"""The `mobility` command: JSON outputs, files written, one-line errors with status 2."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest

from mobility.cli import main
from mobility.cli.roads import tenths_csv
from tests.conftest import NODES


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_graph_info_json_has_the_documented_fields(
    tiny_osm: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(
        capsys, "graph", "info", "--profile", "bus", "--json", "--source", str(tiny_osm)
    )
    assert status == 0
    info = json.loads(out)
    assert set(info) == {"nodes", "edges", "bbox", "source", "profile"}
    assert info["profile"] == "bus" and info["nodes"] == 4 and info["edges"] == 6
    min_lon, min_lat, max_lon, max_lat = info["bbox"]
    assert min_lon < max_lon and min_lat < max_lat


def test_route_json_gives_duration_distance_and_snaps(
    tiny_osm: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = "{},{}".format(*NODES["A"])
    c = "{},{}".format(*NODES["C"])
    status, out, _ = run(capsys, "route", a, c, "--json", "--source", str(tiny_osm))
    assert status == 0
    result = json.loads(out)
    assert set(result) == {"duration_s", "distance_m", "snap_m"}
    assert result["distance_m"] == pytest.approx(1670, rel=0.01)  # 0.02 deg of longitude
    assert result["duration_s"] == pytest.approx(1670 / (70 / 3.6), rel=0.01)
    assert len(result["snap_m"]) == 2


def test_matrix_writes_a_square_csv_with_ids(
    tiny_osm: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    points = tmp_path / "points.csv"
    points.write_text("id,lat,lon\nA,41.46,15.50\nC,41.46,15.52\nE,41.47,15.50\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    status, _, _ = run(capsys, "matrix", str(points), "--out", str(out), "--source", str(tiny_osm))
    assert status == 0
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert rows[0] == ["id", "A", "C", "E"]
    assert [r[0] for r in rows[1:]] == ["A", "C", "E"]
    assert rows[1][1] == "0.0"
    assert float(rows[2][3]) != float(rows[3][2])  # one-way loop: C->E differs from E->C


def test_matrix_numbers_are_written_as_numpy_would() -> None:
    rng = np.random.default_rng(3)
    for shape in [(1, 1), (4, 1), (1, 6), (40, 40)]:
        values = np.rint(rng.random(shape) * rng.choice([1, 99, 1e4, 1e7], size=shape) * 10) / 10
        values[rng.random(shape) < 0.15] = np.inf
        text = io.StringIO()
        np.savetxt(text, values, fmt="%.1f", delimiter=",")
        assert tenths_csv(values).decode() == text.getvalue().replace("inf", "")
    assert tenths_csv(np.zeros((0, 0))) == b""
    with pytest.raises(ValueError, match="values"):
        tenths_csv(np.array([[-1.0]]))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name,lat,lon\nA,41.46,15.5\n", "header must be id,lat,lon"),
        ("id,lat,lon\nA,north,15.5\n", "line 2: lat 'north' is not a number"),
        ("id,lat,lon\nA,41.46,15.5\nA,41.46,15.51\n", "line 3: id 'A' repeats"),
        ("id,lat,lon\nA,41.46\n", "line 2: expected 3 fields"),
        ("id,lat,lon\nA,141.46,15.5\n", "line 2: lat 141.46 is out of range"),
        ("id,lat,lon\n", "no points"),
    ],
)
def test_bad_points_csv_is_one_line_and_status_2(
    content: str,
    message: str,
    tiny_osm: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    points = tmp_path / "points.csv"
    points.write_text(content, encoding="utf-8")
    args = ("matrix", str(points), "--out", str(tmp_path / "o.csv"), "--source", str(tiny_osm))
    status, _, err = run(capsys, *args)
    assert status == 2
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "o.csv").exists()


def test_point_off_the_map_is_one_line_and_status_2(
    tiny_osm: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(capsys, "route", "41.46,15.50", "45.0,9.0", "--source", str(tiny_osm))
    assert status == 2
    assert "point 2" in err and "outside the road extract" in err
    assert err.count("\n") == 1


def test_missing_source_file_is_one_line_and_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(capsys, "graph", "info", "--source", str(tmp_path / "none.osm"))
    assert status == 2
    assert "no OSM extract" in err and err.count("\n") == 1


def test_corrupt_source_file_is_one_line_and_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.osm"
    bad.write_text("garbage", encoding="utf-8")
    status, _, err = run(capsys, "graph", "build", "--source", str(bad))
    assert status == 2
    assert "cannot read" in err and err.count("\n") == 1


def test_malformed_point_argument_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["route", "41.46;15.50", "41.46,15.52"])
    assert exit_info.value.code == 2
    assert "LAT,LON" in capsys.readouterr().err


def test_graph_export_writes_graphml_that_osmnx_reads(
    tiny_osm: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import osmnx as ox

    out = tmp_path / "g.graphml"
    status, _, _ = run(
        capsys,
        "graph",
        "export",
        "--profile",
        "minibus",
        "--graphml",
        str(out),
        "--source",
        str(tiny_osm),
    )
    assert status == 0
    graph = ox.load_graphml(out)
    assert graph.number_of_nodes() == 6
    assert all("length" in d and "travel_time" in d for _, _, d in graph.edges(data=True))


def test_offline_download_says_so_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import osmnx as ox
    import requests

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise requests.exceptions.ConnectionError("no network")

    monkeypatch.setattr(ox, "graph_from_place", refuse)
    status, _, err = run(capsys, "osm", "download", "--out", str(tmp_path))
    assert status == 2
    assert "offline" in err and err.count("\n") == 1
    assert not list(tmp_path.iterdir())


def test_places_csv_lists_only_placed_places(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    places = tmp_path / "places.csv"
    places.write_text(
        "name,kind,lat,lon\nBorgo Mezzanone,village,41.420626,15.709612\nPalmori,settlement,,\n",
        encoding="utf-8",
    )
    out = tmp_path / "pts.csv"
    status, printed, _ = run(capsys, "places", "--file", str(places), "--csv", str(out))
    assert status == 0
    assert "1 placed of 2" in printed
    assert out.read_text(encoding="utf-8").splitlines() == [
        "id,lat,lon",
        "Borgo Mezzanone,41.420626,15.709612",
    ]
