"""The monthly report the hub sends the Region, as a PDF: a first page of headline
figures, then each chart followed by its table (Italian by default, any of the six
languages). It is made from the suppressed figures: counts of people under 5 read
"< 5"."""

from __future__ import annotations

import dataclasses
import io
from typing import Any

from mobility.i18n import gettext_for
from mobility.outputs.charts import png_chart, region_charts
from mobility.outputs.sheets import pdf_fonts, pdf_markup, pdf_styles, rtl_visual

__all__ = ["headline_rows", "render_region_pdf"]


def _value(value: Any, suffix: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}{suffix}".replace(",", " ")
    if isinstance(value, int):
        return f"{value:,}{suffix}".replace(",", " ")
    return str(value)


def _pct(value: Any) -> str:
    return f"{value * 100:.1f} %" if isinstance(value, float) else _value(value)


def headline_rows(figures: dict[str, Any], language: str) -> list[tuple[str, str]]:
    """The first page's figures: (label in ``language``, value)."""
    _ = gettext_for(language)
    r, o, p = figures["rides"], figures["outcomes"], figures["punctuality"]
    v, c = figures["vehicles"], figures["cost"]
    return [
        (_("Days operated"), _value(figures["period"]["days_operated"])),
        (_("Heat-ban days"), _value(len(figures["period"]["heat_ban_days"]))),
        (
            _("Bookings (seats) booked"),
            f"{_value(r['booked_bookings'])} ({_value(r['booked_seats'])})",
        ),
        (
            _("Bookings (seats) served"),
            f"{_value(r['served_bookings'])} ({_value(r['served_seats'])})",
        ),
        (_("Rides completed (seats)"), _value(r["completed_seats"])),
        (_("Workers who rode"), _value(r["unique_workers"])),
        (_("No-show rate"), _pct(o["no_show_rate"])),
        (_("Missed by the service"), _pct(o["missed_by_service_rate"])),
        (_("Cancelled after the cut-off"), _value(r["cancelled_late_bookings"])),
        (_("Unserved bookings"), _value(figures["unserved"]["bookings"])),
        (_("On time (0-10 minutes after the time told)"), _pct(p["on_time_rate"])),
        (_("Mean wait (min)"), _value(p["mean_wait_min"])),
        (_("Mean ride (min)"), _value(p["mean_ride_min"])),
        (_("Ride over direct time"), _value(p["mean_ride_over_direct"])),
        (
            _("Vehicle-km (of which deadhead)"),
            f"{_value(v['vehicle_km'])} ({_value(v['deadhead_km'])})",
        ),
        (
            _("Vehicle-hours (of which deadhead)"),
            f"{_value(v['vehicle_hours'])} ({_value(v['deadhead_hours'])})",
        ),
        (_("Seat occupancy"), _pct(v["seat_occupancy"])),
        (_("Passengers per vehicle-hour"), _value(v["passengers_per_vehicle_hour"])),
        (_("Cost (EUR)"), _value(c["total_eur"])),
        (_("Cost per ride (EUR)"), _value(c["per_ride_eur"])),
        (_("Cost per worker (EUR)"), _value(c["per_worker_eur"])),
    ]


def render_region_pdf(figures: dict[str, Any], *, language: str = "it") -> bytes:
    """The report of (suppressed) ``figures`` as a PDF."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import Image, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table

    _ = gettext_for(language)
    font, bold = pdf_fonts()
    styles = pdf_styles()
    period = figures["period"]
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=f"Passaggio {period['from']} - {period['to']}",
    )
    grid = [
        ("FONT", (0, 0), (-1, -1), font, 9),
        ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
        ("FONT", (0, 0), (-1, 0), bold, 9),
    ]
    title = _("Passaggio: legal shuttles for farm workers, province of Foggia")
    story: list[Any] = [
        Paragraph(pdf_markup(title, language), styles["Heading1"]),
        Paragraph(
            pdf_markup(
                _("Figures from %(start)s to %(end)s, counted from what was driven")
                % {"start": period["from"], "end": period["to"]}
                + (f" · {period['depot']}" if period["depot"] else ""),
                language,
            ),
            styles["Heading3"],
        ),
        Table(
            [[rtl_visual(k, language), v] for k, v in headline_rows(figures, language)],
            colWidths=[110 * mm, 60 * mm],
            style=grid[:2],
        ),
        Spacer(1, 4 * mm),
        Paragraph(
            pdf_markup(
                _(
                    "Counts under 5 people are shown as < 5. Definitions of every figure: "
                    "see the hub's documentation."
                ),
                language,
            ),
            styles["small"],
        ),
    ]
    for chart in region_charts(figures, _):
        story += [PageBreak(), Paragraph(pdf_markup(chart.title, language), styles["Heading2"])]
        drawn = dataclasses.replace(  # matplotlib does not shape right-to-left text
            chart,
            title=rtl_visual(chart.title, language),
            unit=rtl_visual(chart.unit, language),
            series=[(rtl_visual(name, language), values) for name, values in chart.series],
        )
        story.append(Image(io.BytesIO(png_chart(drawn)), width=170 * mm, height=78 * mm))
        rows = [[rtl_visual(cell, language) for cell in row] for row in chart.rows()]
        story.append(Table(rows, repeatRows=1, style=grid))
    doc.build(story)
    return buffer.getvalue()
