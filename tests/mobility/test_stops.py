"""Places and stops: real coordinates kept, unplaced settlements kept but not
routable, stops listed nearest first, stops saved by staff snapped to the road."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mobility.errors import InputDataError, ServiceError
from mobility.roads import RoadGraph
from mobility.stops import (
    DEFAULT_PLACES_CSV,
    list_stops,
    load_places,
    load_places_as_stops,
    save_stop,
)
from mobility.store import Stop, StopKind
from tests.conftest import NODES


def stop(db: Session, name: str) -> Stop:
    found = db.scalar(select(Stop).where(Stop.name == name))
    assert found is not None
    return found


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


def test_unplaced_settlements_are_kept_inactive(db: Session) -> None:
    palmori = stop(db, "Palmori")
    assert not palmori.active and palmori.lat is None
    assert palmori not in list_stops(db)


def test_stops_sort_nearest_first(db: Session) -> None:
    near_foggia = list_stops(db, kinds=[StopKind.TOWN], near=(41.46, 15.54))
    assert near_foggia[0].name == "Foggia (centre)"


def test_saved_stop_is_snapped_to_the_road_and_active(
    db: Session, tiny_graphs: dict[str, RoadGraph]
) -> None:
    lat, lon = NODES["B"]
    saved = save_stop(
        db,
        name="New stop",
        kind="settlement",
        lat=lat + 0.001,
        lon=lon,
        active=True,
        graph=tiny_graphs["minibus"],
    )
    assert saved.snap_error is None and saved.snap_m == pytest.approx(111, abs=2)
    assert saved.stop.active and saved.stop in list_stops(db)
    again = save_stop(
        db,
        name="New stop",
        kind="town",
        lat=lat,
        lon=lon,
        active=True,
        graph=tiny_graphs["minibus"],
    )
    assert again.stop.id == saved.stop.id and again.stop.kind is StopKind.TOWN


def test_stop_off_the_road_network_is_saved_inactive_with_the_reason(
    db: Session, tiny_graphs: dict[str, RoadGraph]
) -> None:
    saved = save_stop(
        db,
        name="Far away",
        kind="farm",
        lat=41.0,
        lon=16.5,
        active=True,
        graph=tiny_graphs["minibus"],
    )
    assert saved.snap_m is None and "outside the road extract" in (saved.snap_error or "")
    assert not stop(db, "Far away").active


@pytest.mark.parametrize(
    ("name", "kind", "lat", "lon", "field"),
    [
        ("  ", "farm", None, None, "name"),
        ("X", "castle", None, None, "kind"),
        ("X", "farm", 41.4, None, "lon"),
    ],
)
def test_bad_stop_names_the_field_and_writes_nothing(
    db: Session, name: str, kind: str, lat: float | None, lon: float | None, field: str
) -> None:
    before = len(list_stops(db, active_only=False))
    with pytest.raises(ServiceError) as err:
        save_stop(db, name=name, kind=kind, lat=lat, lon=lon, active=True, graph=None)
    assert err.value.field == field
    assert len(list_stops(db, active_only=False)) == before


def test_villages_are_both_pickup_and_destination_and_camps_are_pickups(db: Session) -> None:
    from mobility.stops import DESTINATION_KINDS, PICKUP_KINDS

    kinds = {s.name: s.kind for s in db.scalars(select(Stop))}
    assert kinds["Stornara"] is StopKind.VILLAGE and kinds["Borgo Libertà"] is StopKind.VILLAGE
    assert kinds["Torretta Antonacci (Gran Ghetto)"] is StopKind.SETTLEMENT
    assert StopKind.VILLAGE in PICKUP_KINDS and StopKind.VILLAGE in DESTINATION_KINDS
    assert StopKind.SETTLEMENT in PICKUP_KINDS and StopKind.SETTLEMENT not in DESTINATION_KINDS


def test_long_place_names_are_short_for_workers_and_whole_for_staff(db: Session) -> None:
    from mobility.stops import worker_name

    cara = db.scalar(select(Stop).where(Stop.name == "Borgo Mezzanone - CARA"))
    assert cara is not None and cara.note.startswith(
        "Borgo Mezzanone - CARA (Centro di Accoglienza"
    )
    assert all(len(name) <= 40 for name in db.scalars(select(Stop.name)))
    assert worker_name("Stornara") == "Stornara"
    # a database loaded before, with the long name, gets no second stop for it
    cara.name, cara.note = cara.note, ""
    db.commit()
    before = db.scalar(select(func.count()).select_from(Stop))
    assert load_places_as_stops(db, load_places()) == 0
    assert db.scalar(select(func.count()).select_from(Stop)) == before
