"""Places: real coordinates kept, unplaced settlements kept but not routable."""

from __future__ import annotations

from pathlib import Path

import pytest

from mobility.errors import InputDataError
from mobility.places import DEFAULT_PLACES_CSV, load_places


def test_shared_places_include_unplaced_settlements() -> None:
    places = {p.name: p for p in load_places(DEFAULT_PLACES_CSV)}
    assert places["Borgo Mezzanone"].is_placed
    assert places["Borgo Mezzanone"].lat == pytest.approx(41.420626)
    unplaced = [p for p in places.values() if not p.is_placed]
    assert any("Palmori" in p.name for p in unplaced)
    assert all(p.lat is None and p.lon is None for p in unplaced)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("X,town,41.4,", "lat and lon must both be given"),
        ("X,town,abc,15.5", "lat 'abc' is not a number"),
        (",town,41.4,15.5", "name is empty"),
    ],
)
def test_bad_place_rows_name_line_and_field(tmp_path: Path, row: str, message: str) -> None:
    path = tmp_path / "p.csv"
    path.write_text(f"name,kind,lat,lon\n{row}\n", encoding="utf-8")
    with pytest.raises(InputDataError, match=f"line 2: {message}"):
        load_places(path)


def test_missing_places_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="not found"):
        load_places(tmp_path / "none.csv")
