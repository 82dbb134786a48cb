"""Staff pages with a map (blueprint ``dispatch``): the plan's map and its layers,
and the stops page, where a click on the map places a stop. The maps use the app's
own Leaflet (see :mod:`web.maps`) and draw without background tiles too."""

from __future__ import annotations

import json
from decimal import Decimal

from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from mobility.dispatch import day_overview, latest_plan
from mobility.errors import RoadDataNotFoundError, ServiceError
from mobility.outputs import plan_layers
from mobility.stops import FAR_FROM_ROAD_M, RoadPoint, list_stops, save_stop, snap_to_road
from web.booking.forms import REQUIRED
from web.db import get_session
from web.dispatch import DESK, PLANNERS, bp, day_of
from web.dispatch.forms import StopForm
from web.errors import json_error
from web.graphs import graph_loader
from web.i18n import error_text, reason_text
from web.staff import audit, roles_required


@bp.route("/map/<day>")
@roles_required(*DESK)
def map_view(day: str) -> ResponseReturnValue:
    """The plan on a map, full page: a layer per vehicle, the unserved marked."""
    the_day = day_of(day)
    if latest_plan(get_session(), the_day) is None:
        abort(404)
    audit("view_plan_map", the_day.isoformat())
    return render_template("map.html", day=the_day)


@bp.route("/map/<day>.json")
@roles_required(*DESK)
def map_layers(day: str) -> ResponseReturnValue:
    """The layers of the day's plan for the map (booking codes, never names)."""
    overview = day_overview(get_session(), day_of(day))
    if overview.plan is None:
        return json_error(404, "date: no plan for this day", "date", "no_plan")
    audit("view_plan_layers", overview.day.isoformat())
    layers = plan_layers(overview.plan, graph_loader(), overview.unserved)
    for booking in layers["unserved"]:
        booking["reason"] = reason_text(booking["reason"])
    return jsonify(layers)


def _coordinate(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


@bp.route("/stops/snap")
@roles_required(*PLANNERS)
def stop_snap() -> ResponseReturnValue:
    """Where a point clicked on the stops map meets the road, and how far it is."""
    lat = request.args.get("lat", type=float)
    lon = request.args.get("lon", type=float)
    if lat is None or not -90 <= lat <= 90:
        return json_error(400, "lat: a number between -90 and 90", "lat", "invalid")
    if lon is None or not -180 <= lon <= 180:
        return json_error(400, "lon: a number between -180 and 180", "lon", "invalid")
    try:
        road = snap_to_road(graph_loader()("minibus"), lat, lon)
    except ServiceError as err:
        return json_error(422, str(err), err.field, err.code)
    except RoadDataNotFoundError:
        current_app.logger.exception("no road graph to snap a stop to")
        return json_error(503, "no road graph here: run `mobility graph build`", None, "no_graph")
    return jsonify(
        {
            "lat": round(road.lat, 6),
            "lon": round(road.lon, 6),
            "distance_m": round(road.distance_m),
            "far": road.far,
            "text": _snap_text(road),
        }
    )


def _snap_text(road: RoadPoint) -> str:
    text = _("Snaps to the road %(m)s m away.", m=round(road.distance_m))
    if road.far:
        text += " " + _(
            "That is more than %(limit)s m: check the place before saving.",
            limit=round(FAR_FROM_ROAD_M),
        )
    return text


def _check_position(form: StopForm) -> str | None:
    """The snap text of the form's position, or ``None`` with the error on the form."""
    lat, lon = _coordinate(form.lat.data), _coordinate(form.lon.data)
    if lat is None or lon is None:
        form.lat.errors = [*form.lat.errors, str(REQUIRED)]
        return None
    try:
        return _snap_text(snap_to_road(graph_loader()("minibus"), lat, lon))
    except ServiceError as err:
        form.lat.errors = [*form.lat.errors, error_text(err)]
        return None


@bp.route("/stops", methods=["GET", "POST"])
@roles_required(*PLANNERS)
def stops() -> ResponseReturnValue:
    """Stops: place one on the map (or type its position), check where it meets the
    road, save it; places still to be placed are listed first."""
    db = get_session()
    form = StopForm()
    preview: str | None = None
    checking = form.is_submitted() and request.form.get("action") == "check"
    # checking a position saves nothing: only the coordinates need to be valid
    if checking and form.lat.validate(form) and form.lon.validate(form):
        preview = _check_position(form)
    elif not checking and form.validate_on_submit():
        try:
            saved = save_stop(
                db,
                name=form.name.data or "",
                kind=form.kind.data or "",
                lat=_coordinate(form.lat.data),
                lon=_coordinate(form.lon.data),
                active=bool(form.active.data),
                graph=graph_loader()("minibus") if form.lat.data is not None else None,
                category=form.category.data or None,
            )
        except ServiceError as err:
            getattr(form, err.field, form.name).errors.append(error_text(err))
        else:
            note = saved.snap_error or (_snap_text(saved.road) if saved.road else "")
            flash(_("Saved.") + (f" {note}" if note else ""), "info")
            return redirect(url_for("dispatch.stops"))
    every = list_stops(db, active_only=False)
    placed = [
        [round(s.lat, 5), round(s.lon, 5), s.name]
        for s in every
        if s.lat is not None and s.lon is not None
    ]
    return render_template(
        "stops.html",
        form=form,
        stops=every,
        preview=preview,
        placed=json.dumps(placed, ensure_ascii=False),
        far_m=round(FAR_FROM_ROAD_M),
    )
