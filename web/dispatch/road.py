"""The day on the road, for dispatchers (on the ``dispatch`` blueprint): each
vehicle's manifest link (revocable), its last tap and lateness, silent vehicles, and
the drivers' no-shows to confirm or take back. The day page loads it and refreshes
it every 30 seconds; without JavaScript it is a page of its own."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from mobility.dispatch import decide_no_show, driver_links, revoke_link, road_status
from mobility.errors import ServiceError
from web.db import get_session
from web.dispatch import DESK, PLANNERS, bp, day_of
from web.dispatch.forms import DayForm
from web.i18n import error_text
from web.settings import get_settings
from web.staff import audit, roles_required


@bp.route("/road/<day>")
@roles_required(*DESK)
def road(day: str) -> ResponseReturnValue:
    """The vehicles of the day as tapped by their drivers (``?partial=1``: the part
    the day page refreshes)."""
    the_day = day_of(day)
    settings = get_settings()
    audit("view_road", the_day.isoformat())
    db = get_session()
    links = {
        link["vehicle"]: link["url"]
        for link in driver_links(db, the_day, get_settings().signing_key(), settings.base_url)
    }
    vehicles = road_status(db, the_day, timezone=settings.timezone)
    template = "dispatch/_road.html" if request.args.get("partial") else "dispatch/road.html"
    return render_template(
        template, day=the_day, vehicles=vehicles, links=links, form=DayForm(date=day)
    )


@bp.route("/road/revoke", methods=["POST"])
@roles_required(*PLANNERS)
def revoke() -> ResponseReturnValue:
    """End a vehicle's manifest link of the day (a lost phone): a new one replaces it."""
    form = DayForm()
    day = day_of(form.date.data)
    if form.validate_on_submit():
        try:
            revoke_link(
                get_session(), day, request.form.get("vehicle", ""), get_settings().signing_key()
            )
        except ServiceError as err:
            flash(error_text(err), "error")
        else:
            flash(
                _("The old link no longer opens the manifest: give the driver the new one."), "info"
            )
    return redirect(url_for("dispatch.road", day=day.isoformat()))


@bp.route("/road/no-show", methods=["POST"])
@roles_required(*DESK)
def no_show() -> ResponseReturnValue:
    """Confirm a driver's no-show, or take it back."""
    form = DayForm()
    day = day_of(form.date.data)
    if form.validate_on_submit():
        try:
            decide_no_show(
                get_session(),
                day,
                request.form.get("booking", ""),
                confirmed=request.form.get("decision") == "confirm",
            )
        except ServiceError as err:
            flash(error_text(err), "error")
    return redirect(url_for("dispatch.road", day=day.isoformat()))
