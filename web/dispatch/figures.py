"""The Region's figures for the hub's admins (on the ``dispatch`` blueprint): period
and depot filters, headline figures, charts drawn by the server as SVG (the page
works without JavaScript and prints well), a table under each chart, and the PDF and
CSV the hub sends on. Every export is audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response, abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from markupsafe import Markup

from mobility.errors import ServiceError
from mobility.outputs import (
    PERIOD_KINDS,
    figures_csv,
    period_of,
    region_charts,
    region_report,
    render_region_pdf,
    svg_chart,
)
from mobility.outputs.region_pdf import headline_rows
from web.db import get_session
from web.dispatch import bp
from web.i18n import current_language, error_text
from web.settings import get_settings
from web.staff import audit, roles_required


def _asked() -> tuple[str, dt.date, str | None]:
    """The period kind, its anchor day and the depot the request asks for."""
    kind = request.args.get("period", "month")
    try:
        anchor = dt.date.fromisoformat(request.args.get("date") or "")
    except ValueError:
        anchor = get_settings().booking.today()
    return kind, anchor, request.args.get("depot") or None


def _report() -> tuple[dict[str, Any], list[str], str, dt.date, str | None]:
    kind, anchor, depot = _asked()
    settings = get_settings()
    try:
        figures, depots = region_report(
            get_session(),
            period_of(kind, anchor),
            costs=settings.costs,
            timezone=settings.timezone,
            depot=depot,
        )
    except ServiceError as err:
        abort(400, error_text(err))
    return figures, depots, kind, anchor, depot


@bp.route("/figures")
@roles_required()
def figures() -> ResponseReturnValue:
    """The page: filters, headline figures, charts and their tables."""
    report, depots, kind, anchor, depot = _report()
    audit("view_region_figures", f"{kind} {anchor} {depot or ''}".strip())
    charts = [(c, Markup(svg_chart(c))) for c in region_charts(report, _)]
    return render_template(
        "figures.html",
        report=report,
        headline=headline_rows(report, current_language()),
        charts=charts,
        depots=depots,
        kinds=PERIOD_KINDS,
        kind=kind,
        anchor=anchor,
        depot=depot or "",
        query=request.query_string.decode(),
    )


@bp.route("/figures.csv")
@roles_required()
def figures_csv_export() -> ResponseReturnValue:
    """The figures as CSV (suppressed)."""
    report, _depots, kind, anchor, depot = _report()
    audit("export_region_csv", f"{kind} {anchor} {depot or ''}".strip())
    return Response(
        figures_csv(report),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=passaggio-{kind}-{anchor}.csv"},
    )


@bp.route("/figures.pdf")
@roles_required()
def figures_pdf_export() -> ResponseReturnValue:
    """The report as PDF in the page's language (Italian by default)."""
    report, _depots, kind, anchor, depot = _report()
    language = request.args.get("lang") or current_language()
    audit("export_region_pdf", f"{kind} {anchor} {depot or ''} {language}".strip())
    return Response(
        render_region_pdf(report, language=language),
        mimetype="application/pdf",
        headers={"Content-Disposition": f"attachment; filename=passaggio-{kind}-{anchor}.pdf"},
    )
