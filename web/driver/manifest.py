"""The driver's manifest on the phone (on the ``driver`` blueprint): opened with the
vehicle's signed link, usable offline, taps sent as events with idempotency keys.

The link is the credential (no cookie is involved), so the taps need no CSRF token:
a page elsewhere cannot make a phone send a request carrying the link.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from flask import Response, abort, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from mobility.dispatch import (
    link_of,
    manifest,
    record_events,
    vehicle_of_link,
)
from mobility.dispatch.road import NO_SHOW_WAIT_MIN, UNDO_S
from mobility.errors import ServiceError
from mobility.store import Vehicle
from web.db import get_session
from web.dispatch import send_messages_soon
from web.driver import STAFF, _date, _routes, bp
from web.extensions import csrf, limiter
from web.i18n import error_text
from web.settings import get_settings
from web.staff import roles_required

__all__: list[str] = []

#: Where the manifest's script and service worker live (small: the page and its script
#: stay under 60 KB together).
SCRIPT = "manifest.js"


def _open(token: str) -> tuple[dt.date, Vehicle]:
    return vehicle_of_link(
        get_session(), token, get_settings().signing_key(), timezone=get_settings().timezone
    )


@bp.route("/m/<token>")
def manifest_page(token: str) -> ResponseReturnValue:
    """The manifest of the vehicle and day the link is for; a link of another day, a
    revoked or a forged one gets a page that says so."""
    try:
        day, vehicle = _open(token)
    except ServiceError as err:
        return render_template("link_problem.html", message=error_text(err)), 403
    data = manifest(get_session(), day, vehicle)
    response = Response(
        render_template(
            "manifest.html",
            m=data,
            token=token,
            wait_s=60 * NO_SHOW_WAIT_MIN,
            undo_s=UNDO_S,
            nonce=secrets.token_hex(6),
        )
    )
    response.headers["Cache-Control"] = "no-cache"  # the service worker keeps a copy
    return response


@bp.route("/m/<token>/events", methods=["POST"])
@csrf.exempt
@limiter.limit("240/minute")
def manifest_events(token: str) -> ResponseReturnValue:
    """Taps from the phone: ``{"events": [...]}``, each with its key; answers which
    were stored now, before, or refused."""
    try:
        day, vehicle = _open(token)
    except ServiceError as err:
        return jsonify({"error": error_text(err), "field": "link", "code": err.code}), 403
    body = request.get_json(silent=True)
    events = body.get("events") if isinstance(body, dict) else None
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        return jsonify(
            {"error": "events: a list of taps", "field": "events", "code": "invalid"}
        ), 400
    settings = get_settings()
    answer: dict[str, Any] = record_events(
        get_session(),
        day,
        vehicle,
        events[:200],
        timezone=settings.timezone,
        on_its_way=settings.sms_on_its_way,
    )
    if answer["messages"]:
        send_messages_soon()
    for refused in answer["refused"]:  # in the driver's language
        refused["error"] = error_text(ServiceError("event", refused["code"], refused["error"]))
    return jsonify(answer)


@bp.route("/m/<token>/tap", methods=["POST"])
@csrf.exempt
@limiter.limit("240/minute")
def manifest_tap(token: str) -> ResponseReturnValue:
    """A tap from the page without JavaScript: one event from the form's fields (the
    key was written into the form, so pressing twice records it once)."""
    try:
        day, vehicle = _open(token)
    except ServiceError as err:
        return render_template("link_problem.html", message=error_text(err)), 403
    form = request.form
    event: dict[str, Any] = {
        "key": form.get("key", ""),
        "kind": form.get("kind", ""),
        "at": dt.datetime.now(dt.UTC).isoformat(),
        "stop": int(form["stop"]) if form.get("stop", "").isdigit() else None,
        "booking": form.get("booking") or None,
        "confirm_far": True,
    }
    if form.get("seats", "").isdigit():
        event["seats"] = int(form["seats"])
    if form.get("odometer_km", "").replace(".", "", 1).isdigit():
        event["odometer_km"] = float(form["odometer_km"])
    event["checks"] = form.getlist("checks")
    settings = get_settings()
    answer = record_events(
        get_session(),
        day,
        vehicle,
        [event],
        timezone=settings.timezone,
        on_its_way=settings.sms_on_its_way,
    )
    if answer["messages"]:
        send_messages_soon()
    return redirect(url_for("driver.manifest_page", token=token))


@bp.route("/sw.js")
def service_worker() -> ResponseReturnValue:
    """The service worker that keeps the manifest usable without signal (scope
    ``/driver/``)."""
    response = bp.send_static_file("sw.js")
    response.headers["Cache-Control"] = "no-cache"
    response.mimetype = "text/javascript"
    return response


@bp.route("/manifest/<day>/<vehicle>")
@roles_required(*STAFF)
def my_manifest(day: str, vehicle: str) -> ResponseReturnValue:
    """A signed-in driver's way to the manifest of a vehicle assigned to them."""
    the_day = _date(day)
    routes = [r for r in _routes(the_day) if r.vehicle.name == vehicle]
    if not routes or current_user.is_anonymous:
        abort(404)
    token = link_of(get_session(), the_day, routes[0].vehicle, get_settings().signing_key())
    return redirect(url_for("driver.manifest_page", token=token))
