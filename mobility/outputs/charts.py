"""The Region's charts: one description each (:class:`Chart`), drawn as SVG for the
Figures page (no JavaScript, prints well, a title and a description for screen
readers; the page puts the same numbers in a table under it) and as PNG for the PDF.

Charts are drawn from the suppressed figures (:func:`mobility.outputs.figures.suppressed`):
a count shown as "< 5" is drawn as an empty bar, so no chart shows what its table hides.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final
from xml.sax.saxutils import escape

__all__ = ["Chart", "png_chart", "region_charts", "svg_chart"]

#: One colour per series (colour-blind safe: Okabe and Ito).
COLOURS: Final = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00")


@dataclass(frozen=True)
class Chart:
    """A bar chart: categories along the bottom, one bar per series (stacked or side
    by side), and the table that goes with it."""

    key: str
    title: str
    unit: str
    categories: list[str]
    series: list[tuple[str, list[Any]]]  # (name, values: numbers, None or "< 5")
    stacked: bool = False

    def number(self, value: Any) -> float:
        """What a bar is drawn at: 0 for a suppressed or missing value."""
        return float(value) if isinstance(value, int | float) else 0.0

    def rows(self) -> list[list[str]]:
        """The chart's table: a header, then one row per category."""
        head = [""] + [name for name, _ in self.series]
        body = [
            [category] + [_cell(values[i]) for _, values in self.series]
            for i, category in enumerate(self.categories)
        ]
        return [head, *body]


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def region_charts(figures: dict[str, Any], _: Callable[[str], str]) -> list[Chart]:
    """The report's charts from (suppressed) figures, titled in the reader's
    language (``_`` translates)."""
    days = figures["by_day"]
    weeks = figures["by_week"]
    depots = figures["by_depot"]
    services = figures["services"]
    pct = [
        (w["on_time_rate"] * 100 if isinstance(w["on_time_rate"], float) else w["on_time_rate"])
        for w in weeks
    ]
    occupancy = [
        d["seat_occupancy"] * 100 if isinstance(d["seat_occupancy"], float) else None
        for d in depots
    ]
    return [
        Chart(
            "rides_per_day",
            _("Rides per day by purpose"),
            _("seats"),
            [d["date"][8:10] + "/" + d["date"][5:7] for d in days],
            [
                (_("to work"), [d["work_seats"] for d in days]),
                (_("to services"), [d["service_seats"] for d in days]),
            ],
            stacked=True,
        ),
        Chart(
            "on_time",
            _("On-time performance by week"),
            "%",
            [w["week"] for w in weeks],
            [(_("boarded 0-10 minutes after the time told"), pct)],
        ),
        Chart(
            "no_shows",
            _("No-shows and missed trips by week"),
            _("bookings"),
            [w["week"] for w in weeks],
            [
                (_("no-shows"), [w["no_show_bookings"] for w in weeks]),
                (_("missed by the service"), [w["missed_by_service_bookings"] for w in weeks]),
            ],
        ),
        Chart(
            "occupancy",
            _("Seat occupancy by depot"),
            "%",
            [d["depot"] for d in depots],
            [(_("seat occupancy"), occupancy)],
        ),
        Chart(
            "cost_per_ride",
            _("Cost per ride by depot"),
            "EUR",
            [d["depot"] for d in depots],
            [(_("cost per ride"), [d["cost_per_ride_eur"] for d in depots])],
        ),
        Chart(
            "services",
            _("Rides to services by category"),
            _("seats"),
            [s["category"] for s in services],
            [(_("seats"), [s["completed_seats"] for s in services])],
        ),
    ]


# --------------------------------------------------------------------------- SVG

_W, _H, _LEFT, _BOTTOM, _TOP = 640, 300, 56, 70, 36


def _top(chart: Chart) -> float:
    if chart.stacked:
        totals = [
            sum(chart.number(values[i]) for _, values in chart.series)
            for i in range(len(chart.categories))
        ]
    else:
        totals = [chart.number(v) for _, values in chart.series for v in values]
    top = max(totals, default=0.0)
    return top * 1.1 if top > 0 else 1.0


def svg_chart(chart: Chart) -> str:
    """The chart as an SVG element (role ``img``, with a title and a description)."""
    n = max(1, len(chart.categories))
    plot_w, plot_h = _W - _LEFT - 10, _H - _BOTTOM - _TOP
    top = _top(chart)
    slot = plot_w / n
    bar_w = slot * 0.8 / (1 if chart.stacked else max(1, len(chart.series)))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {_H}" role="img" '
        f'aria-labelledby="{chart.key}-t {chart.key}-d" class="chart">',
        f'<title id="{chart.key}-t">{escape(chart.title)}</title>',
        f'<desc id="{chart.key}-d">{escape(chart.unit)}; '
        + escape("; ".join(" ".join(r) for r in chart.rows()[1:])[:2000])
        + "</desc>",
        f'<text x="{_LEFT}" y="20" font-size="15" font-weight="bold">{escape(chart.title)}</text>',
        f'<line x1="{_LEFT}" y1="{_TOP + plot_h}" x2="{_W - 10}" y2="{_TOP + plot_h}" '
        'stroke="#333"/>',
    ]
    for tick in range(5):
        value = top * tick / 4
        y = _TOP + plot_h - plot_h * tick / 4
        parts.append(
            f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">'
            f"{value:.0f}</text>"
            f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{_W - 10}" y2="{y:.1f}" stroke="#ddd"/>'
        )
    for i, category in enumerate(chart.categories):
        base = float(_TOP + plot_h)
        for s, (_, values) in enumerate(chart.series):
            h = plot_h * chart.number(values[i]) / top
            x = _LEFT + slot * i + slot * 0.1 + (0 if chart.stacked else s * bar_w)
            parts.append(
                f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{COLOURS[s % len(COLOURS)]}"/>'
            )
            if chart.stacked:
                base -= h
        if n <= 16 or i % max(1, n // 16) == 0:
            cx = _LEFT + slot * (i + 0.5)
            parts.append(
                f'<text x="{cx:.1f}" y="{_TOP + plot_h + 14}" font-size="10" '
                f'text-anchor="end" transform="rotate(-35 {cx:.1f} {_TOP + plot_h + 14})">'
                f"{escape(category)}</text>"
            )
    for s, (name, _) in enumerate(chart.series):
        x = _LEFT + s * 200
        parts.append(
            f'<rect x="{x}" y="{_H - 16}" width="10" height="10" '
            f'fill="{COLOURS[s % len(COLOURS)]}"/>'
            f'<text x="{x + 14}" y="{_H - 7}" font-size="11">'
            f"{escape(name)} ({escape(chart.unit)})</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


# --------------------------------------------------------------------------- PNG


def png_chart(chart: Chart, *, dpi: int = 110) -> bytes:
    """The chart as a PNG image (matplotlib, no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.0, 3.2), dpi=dpi)
    axes = figure.subplots()
    n = len(chart.categories)
    positions = list(range(n))
    width = 0.8 if chart.stacked else 0.8 / max(1, len(chart.series))
    bottoms = [0.0] * n
    for s, (name, values) in enumerate(chart.series):
        heights = [chart.number(v) for v in values]
        xs = [p - 0.4 + width / 2 + (0 if chart.stacked else s * width) for p in positions]
        axes.bar(
            xs,
            heights,
            width=width,
            bottom=bottoms if chart.stacked else None,
            color=COLOURS[s % len(COLOURS)],
            label=name,
        )
        if chart.stacked:
            bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
    step = max(1, n // 16)
    axes.set_xticks(
        positions[::step], chart.categories[::step], rotation=35, ha="right", fontsize=7
    )
    axes.set_ylabel(chart.unit)
    axes.set_title(chart.title, fontsize=10)
    if len(chart.series) > 1:
        axes.legend(fontsize=7)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
