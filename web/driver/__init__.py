"""Drivers' pages (blueprint ``driver``): the vehicle's route and printable sheets.

A driver sees only the vehicles assigned to them for the day; dispatchers and
admins see every vehicle. Sheets carry booking codes and counts, never names.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from mobility.dispatch import driver_names, latest_plan, link_of, visible_routes
from mobility.i18n import LANGUAGES
from mobility.outputs import render_sheets_pdf, sheet_rows, sheet_texts
from mobility.store import PlanRoute, Role
from web.db import get_session
from web.graphs import graph_loader
from web.settings import get_settings
from web.staff import audit, roles_required

bp = Blueprint(
    "driver",
    __name__,
    url_prefix="/driver",
    template_folder="../templates/driver",
    static_folder="static",
)

STAFF = (Role.DRIVER, Role.DISPATCHER)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        abort(404)


def _routes(day: dt.date) -> list[PlanRoute]:
    return visible_routes(get_session(), day, current_user.id, current_user.role)


def _language() -> str:
    language = request.args.get("lang", "it")
    return language if language in LANGUAGES else "it"


@bp.route("/")
@roles_required(*STAFF)
def home() -> ResponseReturnValue:
    """Today's and tomorrow's routes of the signed-in driver."""
    today = get_settings().booking.today()
    days = [(d, _routes(d)) for d in (today, today + dt.timedelta(days=1))]
    return render_template("driver_home.html", days=days)


@bp.route("/sheets/<day>/<vehicle>")
@roles_required(*STAFF)
def sheet(day: str, vehicle: str) -> ResponseReturnValue:
    """A vehicle's sheet as printable HTML (print CSS), ``?lang=`` one of the six."""
    the_day = _date(day)
    routes = [r for r in _routes(the_day) if r.vehicle.name == vehicle]
    if not routes:
        abort(404)
    language = _language()
    audit("view_route_sheet", f"{day} {vehicle}")
    return render_template(
        "sheet.html",
        day=the_day,
        route=routes[0],
        rows=sheet_rows(routes[0], language),
        texts=sheet_texts(language),
        sheet_lang=language,
        hub_phone=get_settings().hub_phone,
        driver=driver_names(get_session(), the_day).get(routes[0].vehicle_id, ""),
    )


@bp.route("/sheets/<day>.pdf")
@roles_required(*STAFF)
def sheets_pdf(day: str) -> ResponseReturnValue:
    """All sheets of the day the user may see, one vehicle per page."""
    the_day = _date(day)
    run = latest_plan(get_session(), the_day)
    if run is None:
        abort(404)
    routes = _routes(the_day)
    if not routes:
        abort(404)
    audit("export_route_sheets", day)
    pdf = render_sheets_pdf(
        run,
        routes,
        graph_loader(),
        language=_language(),
        hub_phone=get_settings().hub_phone,
        drivers=driver_names(get_session(), the_day),
        # the sheet's QR code opens the vehicle's manifest on the driver's phone
        route_url=lambda r: url_for(
            "driver.manifest_page",
            token=link_of(get_session(), the_day, r.vehicle, get_settings().signing_key()),
            _external=True,
        ),
    )
    return Response(pdf, mimetype="application/pdf")


# the manifest on the phone lives in its own module, on the same blueprint
from web.driver import manifest as _manifest  # noqa: E402, F401
