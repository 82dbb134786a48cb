"""Drivers' route sheets: one A4 page per vehicle, as PDF (ReportLab).

A sheet shows booking codes and head-counts, never a name or a phone number. The
route map is drawn from the road graph (no map tiles, so no internet needed), with
"(c) OpenStreetMap contributors"; a QR code opens the vehicle's route page. The
sheet's words come from the translation catalogues, in any of the six languages.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from mobility.clock import seconds_hhmm
from mobility.dispatch import plan_seats
from mobility.i18n import RTL_LANGUAGES, gettext_for
from mobility.outputs.background import draw_background, padded
from mobility.outputs.maps import ATTRIBUTION, route_geometry
from mobility.roads import RoadGraph
from mobility.store import SENSITIVE_CATEGORIES, PlanRoute, PlanRun

__all__ = ["SheetTexts", "render_sheets_pdf", "sheet_rows", "sheet_texts"]


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


def sheet_texts(language: str) -> SheetTexts:
    """The sheet's words in ``language`` (from the translation catalogues)."""
    _ = gettext_for(language)
    return SheetTexts(
        title=_("Route sheet"),
        vehicle=_("Vehicle"),
        seats=_("seats"),
        driver=_("Driver"),
        depot=_("Depot"),
        departure=_("departure"),
        hub_phone=_("Hub phone"),
        free=_("The ride is free. Nobody may ask you for money."),
        columns=(
            "#",
            _("Time"),
            _("Stop"),
            _("Coordinates"),
            _("Board"),
            _("Leave"),
            _("On board"),
            _("Real arrival"),
            _("Real departure"),
        ),
        totals=_("Totals"),
        km=_("km"),
        driving=_("driving"),
        first_pickup=_("first pickup"),
        last_dropoff=_("last drop-off"),
        boarded=_("boarded"),
        no_show=_("no-show"),
    )


def pdf_markup(text: object, language: str) -> str:
    """Data (a stop's or a vehicle's name, a note) as text in ReportLab's paragraph
    markup: shaped for right-to-left languages, and ``<``, ``>`` and ``&`` escaped, so
    a name like ``A <b`` is printed, not read as a tag."""
    return xml_escape(rtl_visual(str(text), language))


def rtl_visual(text: str, language: str) -> str:
    """Right-to-left text shaped and put in display order (ReportLab draws glyphs left
    to right and does not join Arabic letters by itself)."""
    if language not in RTL_LANGUAGES:
        return text
    import arabic_reshaper
    from bidi import get_display

    return str(get_display(arabic_reshaper.reshape(text)))


def _localised(texts: SheetTexts, language: str) -> SheetTexts:
    def visual(value: Any) -> Any:
        if isinstance(value, tuple):
            return tuple(rtl_visual(v, language) for v in value)
        return rtl_visual(value, language)

    return SheetTexts(**{k: visual(v) for k, v in texts.__dict__.items()})


def sheet_rows(route: PlanRoute, language: str = "it") -> list[dict[str, object]]:
    """The rows of a sheet: one per stop, in route order (codes and counts only).

    ``shared`` lists the crews boarding there that ride in more than one vehicle,
    as "code: 8 on MB-1, 2 on MB-2" in ``language``. At a sensitive service (police,
    clinic, hospital, legal aid) the seats boarding and leaving are counted, with no
    code: the driver must not learn who went there.
    """
    _ = gettext_for(language)
    seats_in = plan_seats(route.plan)
    rows = []
    for stop in route.stops:
        board = [(m.booking.code, m.seats) for m in stop.moves if m.boarding]
        shared = [
            f"{m.booking.code}: "
            + ", ".join(
                _("%(seats)d on %(vehicle)s") % {"seats": n, "vehicle": name}
                for name, n in seats_in[m.booking_id].items()
            )
            for m in stop.moves
            if m.boarding and len(seats_in.get(m.booking_id, {})) > 1
        ]
        leave = [(m.booking.code, m.seats) for m in stop.moves if not m.boarding]
        if stop.stop.category in SENSITIVE_CATEGORIES:
            board = [("", sum(n for _, n in board))] if board else []
            leave = [("", sum(n for _, n in leave))] if leave else []
            shared = []
        rows.append(
            {
                "seq": stop.seq + 1,
                "time": seconds_hhmm(stop.arrival_s),
                "departure": seconds_hhmm(stop.departure_s),
                "stop": stop.stop.name,
                "landmark": stop.stop.note or stop.stop.kind.value,
                "coords": f"{stop.stop.lat:.5f}, {stop.stop.lon:.5f}",
                "board": board,
                "shared": shared,
                "leave": leave,
                "on_board": stop.load_after,
            }
        )
    return rows


def _map_png(
    points: Sequence[tuple[float, float]],
    stops: Sequence[tuple[float, float]],
    graph: RoadGraph,
) -> bytes:
    """The route over main roads and place names drawn from the road graph."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3.4, 3.0), dpi=150)
    if points:
        ax.plot(
            [p[1] for p in points], [p[0] for p in points], color="#15803d", linewidth=1.8, zorder=2
        )
    for i, (lat, lon) in enumerate(stops):
        ax.plot(lon, lat, "o", color="#1e3a8a", markersize=4, zorder=3)
        ax.annotate(
            str(i + 1), (lon, lat), fontsize=6, xytext=(2, 2), textcoords="offset points", zorder=3
        )
    if points or stops:
        draw_background(ax, graph, padded([*points, *stops], margin=0.12))
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


def pdf_fonts() -> tuple[str, str]:
    """DejaVu Sans (shipped with matplotlib): accents, Cyrillic, Arabic and the tick box."""
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
    hub_phone: str,
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
        One of the six languages (default Italian).
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
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate

    texts = _localised(sheet_texts(language), language)
    styles = pdf_styles()
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
        driver = (drivers or {}).get(route.vehicle.id, "________________")
        story += _route_page(run, route, texts, styles, driver, hub_phone, language)
        story += _route_map(route, graphs, route_url, styles)
    if not routes:
        story.append(Paragraph(f"{texts.title} · {run.service_date} · -", styles["Heading3"]))
    doc.build(story)
    return buffer.getvalue()


def pdf_styles() -> Any:
    from reportlab.lib.styles import getSampleStyleSheet

    font, _bold = pdf_fonts()
    styles = getSampleStyleSheet()
    for style in styles.byName.values():
        style.fontName = font
    styles.add(styles["BodyText"].clone("small", fontSize=7.5, leading=9, fontName=font))
    return styles


def _route_page(
    run: PlanRun,
    route: PlanRoute,
    texts: SheetTexts,
    styles: Any,
    driver: str,
    hub_phone: str,
    language: str,
) -> list[object]:
    """Heading, stop table and totals of one vehicle's sheet."""
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, Spacer

    small = styles["small"]
    vehicle = route.vehicle
    rows = sheet_rows(route, language)
    depot = route.stops[0] if route.stops else None
    depot_name = pdf_markup(depot.stop.name, language) if depot else "-"
    story: list[object] = [
        Paragraph(
            f"<b>{texts.title}</b> · {run.service_date.strftime('%d/%m/%Y')} · "
            f"{texts.vehicle} <b>{pdf_markup(vehicle.name, language)}</b> "
            f"({vehicle.seats} {texts.seats})",
            styles["Heading3"],
        ),
        Paragraph(
            f"{texts.driver}: {pdf_markup(driver, language)} · {texts.depot}: {depot_name}, "
            f"{texts.departure} {seconds_hhmm(depot.departure_s) if depot else '-'} · "
            f"{texts.hub_phone}: {pdf_markup(hub_phone, language)}",
            small,
        ),
        Paragraph(f"<b>{texts.free}</b>", styles["BodyText"]),
        _stop_table(rows, texts, small, language),
        Spacer(1, 3 * mm),
    ]
    pickups = [r for r in rows if r["board"]]
    drops = [r for r in rows if r["leave"]]
    story.append(
        Paragraph(
            f"<b>{texts.totals}</b>: {route.distance_m / 1000:.1f} {texts.km} · "
            f"{texts.driving} {route.driving_s // 3600}h{route.driving_s // 60 % 60:02d} · "
            f"{texts.first_pickup} {pickups[0]['time'] if pickups else '-'} · "
            f"{texts.last_dropoff} {drops[-1]['time'] if drops else '-'} · "
            f"☐ = {texts.boarded} / {texts.no_show}",
            small,
        )
    )
    return story


def _stop_table(rows: list[dict[str, object]], texts: SheetTexts, small: Any, language: str) -> Any:
    """One row per stop: codes boarding and leaving with tick boxes, people on board."""
    from reportlab.lib import colors
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, Table, TableStyle

    def cell(items: object, notes: object = ()) -> Paragraph:
        pairs = items if isinstance(items, list) else []
        lines = [f"☐ {pdf_markup(code, language)} ×{seats}" for code, seats in pairs]
        shared = notes if isinstance(notes, list) else []
        lines += [f"<i>{pdf_markup(note, language)}</i>" for note in shared]
        return Paragraph("<br/>".join(lines), small)

    body = [[Paragraph(f"<b>{c}</b>", small) for c in texts.columns]]
    for row in rows:
        body.append(
            [
                Paragraph(str(row["seq"]), small),
                Paragraph(f"{row['time']}<br/>&gt; {row['departure']}", small),
                Paragraph(
                    f"<b>{pdf_markup(row['stop'], language)}</b><br/>"
                    f"{pdf_markup(row['landmark'], language)}",
                    small,
                ),
                Paragraph(str(row["coords"]), small),
                cell(row["board"], row["shared"]),
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
    return table


def _route_map(
    route: PlanRoute,
    graphs: Callable[[str], RoadGraph],
    route_url: Callable[[PlanRoute], str] | None,
    styles: Any,
) -> list[object]:
    """The route drawn on its roads, the QR code to the route page, the OSM notice."""
    from reportlab.lib.units import mm
    from reportlab.platypus import Image, Paragraph, Table

    graph = graphs(route.vehicle.profile.value)
    geometry = route_geometry(route, graph)
    stop_points = [(float(s.stop.lat or 0), float(s.stop.lon or 0)) for s in route.stops]
    picture = _map_png(geometry, stop_points, graph)
    images = [Image(io.BytesIO(picture), width=85 * mm, height=75 * mm)]
    if route_url is not None:
        images.append(Image(io.BytesIO(_qr_png(route_url(route))), width=28 * mm, height=28 * mm))
    return [Table([images], colWidths=[90 * mm, 35 * mm]), Paragraph(ATTRIBUTION, styles["small"])]
