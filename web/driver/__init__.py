"""Drivers' pages (blueprint ``driver``): the vehicle's route and printable sheets.

A driver sees only the vehicles assigned to them for the day; dispatchers and
admins see every vehicle. Sheets carry booking codes and counts, never names.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from mobility.dispatch import latest_plan
from mobility.sheets import TEXTS, render_sheets_pdf, sheet_rows
from mobility.store import DriverAssignment, PlanRoute, Role
from web.booking import booking_rules
from web.db import get_session
from web.graphs import graph_loader
from web.staff import audit, roles_required

bp = Blueprint("driver", __name__, url_prefix="/driver", template_folder="../templates/driver")

STAFF = (Role.DRIVER, Role.DISPATCHER)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        abort(404)


def _visible_routes(day: dt.date) -> list[PlanRoute]:
    run = latest_plan(get_session(), day)
    if run is None:
        return []
    if current_user.role in (Role.ADMIN, Role.DISPATCHER):
        return list(run.routes)
    mine = set(
        get_session().scalars(
            select(DriverAssignment.vehicle_id).where(
                DriverAssignment.service_date == day, DriverAssignment.user_id == current_user.id
            )
        )
    )
    return [r for r in run.routes if r.vehicle_id in mine]


def _drivers(day: dt.date) -> dict[int, str]:
    rows = get_session().scalars(
        select(DriverAssignment).where(DriverAssignment.service_date == day)
    )
    return {a.vehicle_id: a.user.username for a in rows}


@bp.route("/")
@roles_required(*STAFF)
def home() -> ResponseReturnValue:
    """Today's and tomorrow's routes of the signed-in driver."""
    today = booking_rules().local_now().date()
    days = [(d, _visible_routes(d)) for d in (today, today + dt.timedelta(days=1))]
    return render_template("driver_home.html", days=days)


@bp.route("/sheets/<day>/<vehicle>")
@roles_required(*STAFF)
def sheet(day: str, vehicle: str) -> ResponseReturnValue:
    """A vehicle's sheet as printable HTML (print CSS)."""
    the_day = _date(day)
    routes = [r for r in _visible_routes(the_day) if r.vehicle.name == vehicle]
    if not routes:
        abort(404)
    language = request.args.get("lang", "it")
    texts = TEXTS.get(language, TEXTS["it"])
    audit("view_route_sheet", f"{day} {vehicle}")
    return render_template(
        "sheet.html",
        day=the_day,
        route=routes[0],
        rows=sheet_rows(routes[0]),
        texts=texts,
        hub_phone=current_app.config["HUB_PHONE"],
        driver=_drivers(the_day).get(routes[0].vehicle_id, ""),
    )


@bp.route("/sheets/<day>.pdf")
@roles_required(*STAFF)
def sheets_pdf(day: str) -> ResponseReturnValue:
    """All sheets of the day the user may see, one vehicle per page."""
    the_day = _date(day)
    run = latest_plan(get_session(), the_day)
    if run is None:
        abort(404)
    routes = _visible_routes(the_day)
    if not routes:
        abort(404)
    audit("export_route_sheets", day)
    pdf = render_sheets_pdf(
        run,
        routes,
        graph_loader(),
        language=request.args.get("lang", "it"),
        hub_phone=current_app.config["HUB_PHONE"],
        drivers=_drivers(the_day),
        route_url=lambda r: url_for(
            "driver.sheet", day=day, vehicle=r.vehicle.name, _external=True
        ),
    )
    return Response(pdf, mimetype="application/pdf")
