"""When the day goes wrong (on the ``dispatch`` blueprint): a dispatcher says a
vehicle is out of service, its driver absent, or it runs late; the rest of the day
is re-planned as a job; the page shows the re-plan beside the published plan, the
workers it could not serve with what would serve them, and publishes it."""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from mobility.clock import parse_hhmm, seconds_into, utcnow
from mobility.dispatch import Disruption, DisruptionKind, publish_replan
from mobility.dispatch.replan_view import replan_view
from mobility.errors import ServiceError
from mobility.store import PlanKind
from web.db import get_session
from web.dispatch import DESK, PLANNERS, _start, bp, day_of, send_messages_soon
from web.dispatch.forms import DayForm, DisruptionForm
from web.i18n import error_text
from web.settings import get_settings
from web.staff import audit, roles_required


@bp.route("/disruption/<day>")
@roles_required(*DESK)
def disruption(day: str) -> ResponseReturnValue:
    """The form, and the re-plan waiting beside the published plan."""
    the_day = day_of(day)
    audit("view_replan", the_day.isoformat())  # booking codes of the lost
    view = replan_view(get_session(), the_day)
    form = DisruptionForm(
        date=the_day.isoformat(), time_limit=min(45, int(get_settings().planning.time_limit_s))
    )
    form.vehicle.choices = view.vehicles
    return render_template(
        "disruption.html", view=view, form=form, day_form=DayForm(date=the_day.isoformat())
    )


def _said(form: DisruptionForm, day: dt.date) -> Disruption:
    """The disruption the form describes; without a time, it happens now."""
    text = (form.at_time.data or "").strip()
    if text:
        at_min = parse_hhmm(text)
        if at_min is None:
            raise ServiceError("from", "bad_time", f"from: {text!r} is not a time HH:MM")
    else:
        now = seconds_into(day, utcnow(), get_settings().timezone) // 60
        at_min = min(max(0, now), 24 * 60 - 1)
    kind = DisruptionKind(form.kind.data)
    lat = float(form.lat.data) if form.lat.data is not None else None
    lon = float(form.lon.data) if form.lon.data is not None else None
    return Disruption(
        kind,
        "" if kind is DisruptionKind.STANDBY else form.vehicle.data or "",
        at_min,
        minutes=form.minutes.data or 0,
        lat=lat if kind is DisruptionKind.OUT_OF_SERVICE else None,
        lon=lon if kind is DisruptionKind.OUT_OF_SERVICE else None,
    )


@bp.route("/disruption", methods=["POST"])
@roles_required(*PLANNERS)
def report_disruption() -> ResponseReturnValue:
    """Queue the re-plan of the rest of the day and show its progress."""
    form = DisruptionForm()
    form.vehicle.choices = [request.form.get("vehicle", "")]
    day = day_of(form.date.data)
    back = redirect(url_for("dispatch.disruption", day=day.isoformat()))
    if not form.validate_on_submit():
        for field, errors in form.errors.items():
            flash(f"{getattr(form, field).label.text}: {errors[0]}", "error")
        return back
    try:
        said = _said(form, day)
    except ServiceError as err:
        flash(error_text(err), "error")
        return back
    audit("report_disruption", f"{day} {said.kind.value} {said.vehicle}".strip())
    return _start(
        day, float(form.time_limit.data or 60), kind=PlanKind.REPLAN, edits=said.to_json()
    )


@bp.route("/disruption/publish", methods=["POST"])
@roles_required(*PLANNERS)
def publish_disruption() -> ResponseReturnValue:
    """Publish the re-plan: the day's plan from now on; its messages on their way."""
    form = DayForm()
    if not form.validate_on_submit():
        abort(400)
    day = day_of(form.date.data)
    try:
        summary = publish_replan(get_session(), day, request.form.get("run", 0, type=int))
    except ServiceError as err:
        flash(error_text(err), "error")
    else:
        send_messages_soon()
        flash(
            _(
                "Re-plan published: %(n)s messages queued; drivers see the change now.",
                n=summary["messages_queued"],
            ),
            "info",
        )
    return redirect(url_for("dispatch.disruption", day=day.isoformat()))
