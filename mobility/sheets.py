"""Drivers' route sheets: one A4 page per vehicle, as PDF (ReportLab).

A sheet shows booking codes and head-counts, never a name or a phone number. The
route map is drawn from the road graph (no map tiles, so no internet needed), with
"(c) OpenStreetMap contributors"; a QR code opens the vehicle's route page.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from mobility.clock import seconds_hhmm
from mobility.maps import ATTRIBUTION, route_geometry
from mobility.roadgraph import RoadGraph
from mobility.store import PlanRoute, PlanRun

__all__ = ["TEXTS", "SheetTexts", "render_sheets_pdf", "sheet_rows"]

FREE_NOTICE: Final = {
    "it": "Il viaggio è gratuito. Nessuno può chiedere soldi.",
    "en": "The ride is free. Nobody may ask for money.",
    "fr": "Le trajet est gratuit. Personne ne peut demander d'argent.",
}


@dataclass(frozen=True)
class SheetTexts:
    """The fixed words of a sheet, in one language."""

    title: str
    vehicle: str
    seats: str
    driver: str
    depot: str
    departure: str
    hub_phone: str
    free: str
    columns: tuple[str, ...]
    totals: str
    km: str
    driving: str
    first_pickup: str
    last_dropoff: str
    boarded: str
    no_show: str


TEXTS: Final = {
    "it": SheetTexts(
        "Foglio di viaggio",
        "Veicolo",
        "posti",
        "Autista",
        "Deposito",
        "partenza",
        "Telefono del polo",
        FREE_NOTICE["it"],
        (
            "#",
            "Ora",
            "Fermata",
            "Coordinate",
            "Salgono",
            "Scendono",
            "A bordo",
            "Arrivo reale",
            "Partenza reale",
        ),
        "Totali",
        "km",
        "guida",
        "prima salita",
        "ultima discesa",
        "salito",
        "assente",
    ),
    "en": SheetTexts(
        "Route sheet",
        "Vehicle",
        "seats",
        "Driver",
        "Depot",
        "departure",
        "Hub phone",
        FREE_NOTICE["en"],
        (
            "#",
            "Time",
            "Stop",
            "Coordinates",
            "Board",
            "Leave",
            "On board",
            "Real arrival",
            "Real departure",
        ),
        "Totals",
        "km",
        "driving",
        "first pickup",
        "last drop-off",
        "boarded",
        "no-show",
    ),
    "fr": SheetTexts(
        "Feuille de route",
        "Véhicule",
        "places",
        "Chauffeur",
        "Dépôt",
        "départ",
        "Téléphone du centre",
        FREE_NOTICE["fr"],
        (
            "#",
            "Heure",
            "Arrêt",
            "Coordonnées",
            "Montent",
            "Descendent",
            "À bord",
            "Arrivée réelle",
            "Départ réel",
        ),
        "Totaux",
        "km",
        "conduite",
        "première montée",
        "dernière descente",
        "monté",
        "absent",
    ),
}


def sheet_rows(route: PlanRoute) -> list[dict[str, object]]:
    """The rows of a sheet: one per stop, in route order (codes and counts only)."""
    rows = []
    for stop in route.stops:
        board = [(m.booking.code, m.seats) for m in stop.moves if m.boarding]
        leave = [(m.booking.code, m.seats) for m in stop.moves if not m.boarding]
        rows.append(
            {
                "seq": stop.seq + 1,
                "time": seconds_hhmm(stop.arrival_s),
                "departure": seconds_hhmm(stop.departure_s),
                "stop": stop.stop.name,
                "landmark": stop.stop.note or stop.stop.kind.value,
                "coords": f"{stop.stop.lat:.5f}, {stop.stop.lon:.5f}",
                "board": board,
                "leave": leave,
                "on_board": stop.load_after,
            }
        )
    return rows


def _map_png(points: Sequence[tuple[float, float]], stops: Sequence[tuple[float, float]]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3.4, 3.0), dpi=150)
    if points:
        ax.plot([p[1] for p in points], [p[0] for p in points], color="#15803d", linewidth=1.6)
    for i, (lat, lon) in enumerate(stops):
        ax.plot(lon, lat, "o", color="#1e3a8a", markersize=4)
        ax.annotate(str(i + 1), (lon, lat), fontsize=6, xytext=(2, 2), textcoords="offset points")
    ax.set_aspect(1.33)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.text(0.99, 0.01, ATTRIBUTION, transform=ax.transAxes, fontsize=5, ha="right", va="bottom")
    fig.tight_layout(pad=0.2)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def _qr_png(url: str) -> bytes:
    import qrcode

    image = qrcode.make(url, box_size=4, border=1)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()


def _fonts() -> tuple[str, str]:
    """DejaVu Sans (shipped with matplotlib): accents, Cyrillic and the tick box."""
    from pathlib import Path

    import matplotlib
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    if "DejaVuSans" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("DejaVuSans", str(folder / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(folder / "DejaVuSans-Bold.ttf")))
        addMapping("DejaVuSans", 0, 0, "DejaVuSans")
        addMapping("DejaVuSans", 1, 0, "DejaVuSans-Bold")
        addMapping("DejaVuSans", 0, 1, "DejaVuSans")
        addMapping("DejaVuSans", 1, 1, "DejaVuSans-Bold")
    return "DejaVuSans", "DejaVuSans-Bold"


def render_sheets_pdf(
    run: PlanRun,
    routes: Sequence[PlanRoute],
    graphs: Callable[[str], RoadGraph],
    *,
    language: str = "it",
    hub_phone: str = "",
    drivers: dict[int, str] | None = None,
    route_url: Callable[[PlanRoute], str] | None = None,
) -> bytes:
    """Route sheets of the given routes, each vehicle starting on a new page.

    Parameters
    ----------
    run
        The plan.
    routes
        The routes to print (one vehicle each).
    graphs
        Loads a profile's road graph (for the map).
    language
        ``it`` (default), ``en`` or ``fr``.
    hub_phone
        The hub's phone number.
    drivers
        Vehicle id -> driver's user name.
    route_url
        The address the QR code opens for a route.

    Returns
    -------
    bytes
        The PDF.
    """
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        Image,
        PageBreak,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    texts = TEXTS.get(language, TEXTS["it"])
    font, bold = _fonts()
    styles = getSampleStyleSheet()
    for style in styles.byName.values():
        style.fontName = font
    small = styles["BodyText"].clone("small", fontSize=7.5, leading=9, fontName=font)
    del bold
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=10 * mm,
        rightMargin=10 * mm,
        topMargin=10 * mm,
        bottomMargin=10 * mm,
        title=f"Passaggio {run.service_date}",
    )
    story: list[object] = []
    for n, route in enumerate(routes):
        if n:
            story.append(PageBreak())
        vehicle = route.vehicle
        rows = sheet_rows(route)
        depot = route.stops[0] if route.stops else None
        driver = (drivers or {}).get(vehicle.id, "________________")
        story.append(
            Paragraph(
                f"<b>{texts.title}</b> · {run.service_date.strftime('%d/%m/%Y')} · "
                f"{texts.vehicle} <b>{vehicle.name}</b> ({vehicle.seats} {texts.seats})",
                styles["Heading3"],
            )
        )
        story.append(
            Paragraph(
                f"{texts.driver}: {driver} · {texts.depot}: {depot.stop.name if depot else '-'}, "
                f"{texts.departure} {seconds_hhmm(depot.departure_s) if depot else '-'} · "
                f"{texts.hub_phone}: {hub_phone}",
                small,
            )
        )
        story.append(Paragraph(f"<b>{texts.free}</b>", styles["BodyText"]))
        header = [Paragraph(f"<b>{c}</b>", small) for c in texts.columns]
        body = [header]
        for row in rows:

            def cell(items: object) -> Paragraph:
                pairs = items if isinstance(items, list) else []
                return Paragraph(
                    "<br/>".join(f"☐ {code} ×{seats}" for code, seats in pairs) or "", small
                )

            body.append(
                [
                    Paragraph(str(row["seq"]), small),
                    Paragraph(f"{row['time']}<br/>&gt; {row['departure']}", small),
                    Paragraph(f"<b>{row['stop']}</b><br/>{row['landmark']}", small),
                    Paragraph(str(row["coords"]), small),
                    cell(row["board"]),
                    cell(row["leave"]),
                    Paragraph(str(row["on_board"]), small),
                    Paragraph("____", small),
                    Paragraph("____", small),
                ]
            )
        widths = [9 * mm, 17 * mm, 34 * mm, 26 * mm, 30 * mm, 30 * mm, 12 * mm, 16 * mm, 16 * mm]
        table = Table(body, colWidths=widths, repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dcfce7")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        story.append(table)
        story.append(Spacer(1, 3 * mm))
        pickups = [r for r in rows if r["board"]]
        drops = [r for r in rows if r["leave"]]
        story.append(
            Paragraph(
                f"<b>{texts.totals}</b>: {route.distance_m / 1000:.1f} {texts.km} · "
                f"{texts.driving} {route.duration_s // 3600}h{route.duration_s // 60 % 60:02d} · "
                f"{texts.first_pickup} {pickups[0]['time'] if pickups else '-'} · "
                f"{texts.last_dropoff} {drops[-1]['time'] if drops else '-'} · "
                f"☐ = {texts.boarded} / {texts.no_show}",
                small,
            )
        )
        geometry = route_geometry(route, graphs(vehicle.profile.value))
        stop_points = [(float(s.stop.lat or 0), float(s.stop.lon or 0)) for s in route.stops]
        images = [Image(io.BytesIO(_map_png(geometry, stop_points)), width=85 * mm, height=75 * mm)]
        if route_url is not None:
            images.append(
                Image(io.BytesIO(_qr_png(route_url(route))), width=28 * mm, height=28 * mm)
            )
        story.append(Table([images], colWidths=[90 * mm, 35 * mm]))
        story.append(Paragraph(ATTRIBUTION, small))
    if not routes:
        story.append(Paragraph(f"{texts.title} · {run.service_date} · -", styles["Heading3"]))
    doc.build(story)
    return buffer.getvalue()
