"""Service destinations from OpenStreetMap points of interest."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mobility.cli import main
from mobility.errors import InputDataError, ServiceError
from mobility.service_stops import (
    SHORT_NAME_CHARS,
    category_of,
    import_services,
    load_services,
    short_name,
)
from mobility.stops import save_stop
from mobility.store import ServiceCategory, Stop, StopKind


def test_osm_kinds_map_to_the_categories_workers_choose_from() -> None:
    assert category_of("hospital/hospital") is ServiceCategory.HOSPITAL
    assert category_of("hospital/clinic") is ServiceCategory.CLINIC
    assert category_of("doctors/doctors") is ServiceCategory.CLINIC
    assert category_of("police/police") is ServiceCategory.POLICE
    assert category_of("town_hall/townhall") is ServiceCategory.TOWN_HALL
    assert category_of("named_building/employment") is ServiceCategory.JOB_CENTRE
    assert category_of("post/post_office") is ServiceCategory.POST
    assert category_of("bus/bus_station") is ServiceCategory.STATION
    assert category_of("something/new") is ServiceCategory.OTHER


def test_worker_facing_names_are_short_and_keep_the_town() -> None:
    assert short_name("Poste Italiane", "Accadia") == "Poste Italiane, Accadia"
    long = short_name("Centro di Accoglienza per Richiedenti Asilo", "Borgo Mezzanone")
    assert len(long) <= SHORT_NAME_CHARS and long.endswith(", Borgo Mezzanone")
    services = load_services()
    assert all(len(short_name(p.name, p.town)) <= SHORT_NAME_CHARS for p in services)


def test_places_of_worship_only_when_asked() -> None:
    plain = load_services()
    everything = load_services(worship=True)
    assert not any(p.category is ServiceCategory.WORSHIP for p in plain)
    assert len(everything) - len(plain) >= 290
    assert {p.category for p in plain} >= {
        ServiceCategory.HOSPITAL,
        ServiceCategory.POLICE,
        ServiceCategory.TOWN_HALL,
        ServiceCategory.POST,
        ServiceCategory.JOB_CENTRE,
    }


def test_import_is_idempotent_and_keeps_what_staff_changed(db: Session) -> None:
    places = load_services()
    added = import_services(db, places)
    assert added == len(places) > 300
    hospital = db.scalar(
        select(Stop).where(Stop.category == ServiceCategory.HOSPITAL).order_by(Stop.id).limit(1)
    )
    assert hospital is not None and hospital.kind is StopKind.SERVICE and hospital.note
    hospital.name = "Ospedale (renamed by staff)"
    db.commit()
    assert import_services(db, places) == 0
    count = db.scalar(select(func.count()).select_from(Stop).where(Stop.kind == StopKind.SERVICE))
    assert count == len(places)
    assert db.scalar(select(Stop.id).where(Stop.name == "Ospedale (renamed by staff)"))


def test_staff_recategorise_a_service_stop_but_not_a_farm(db: Session) -> None:
    saved = save_stop(
        db,
        name="CAF Foggia",
        kind="service",
        lat=41.46,
        lon=15.55,
        active=True,
        graph=None,
        category="social",
    )
    assert saved.stop.category is ServiceCategory.SOCIAL
    with pytest.raises(ServiceError, match="category: only a service stop"):
        save_stop(
            db,
            name="A farm",
            kind="farm",
            lat=41.4,
            lon=15.5,
            active=True,
            graph=None,
            category="hospital",
        )


def test_the_command_loads_them_once(
    db: Session,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("MOBILITY_DATABASE_URL", database_url)
    assert main(["stops", "import-services"]) == 0
    first = capsys.readouterr().out
    assert main(["stops", "import-services"]) == 0
    assert "0 added" in capsys.readouterr().out and "0 added" not in first
    bad = tmp_path / "bad.csv"
    bad.write_text("name,kind,lat,lon\nX,hospital/hospital,north,15\n", encoding="utf-8")
    with pytest.raises(InputDataError, match="services line 2"):
        load_services(bad)
