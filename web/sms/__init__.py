"""Incoming SMS (blueprint ``sms``): a gateway posts what workers send; "STOP" (or a
stop word of another language) turns their messages off and deletes their number.

``POST /sms/inbound`` needs the shared secret ``MOBILITY_SMS_INBOUND_SECRET``, in the
header ``X-Sms-Secret`` or as the password of HTTP Basic authentication (a gateway
that cannot set headers puts it in the URL it posts to: ``https://sms:SECRET@host/...``,
which travels as a header). Never in the query string: that lands in access logs. It
takes JSON ``{"from": "+39...", "text": "STOP"}`` or Jasmin's form fields (``from``,
``content``), and answers the same whatever the number and text: the reply tells a
caller nothing about who is known or opted out.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, abort, jsonify, request
from flask.typing import ResponseReturnValue

from mobility.bookings import opt_out_by_phone
from web.db import get_session
from web.extensions import csrf, limiter
from web.settings import get_settings

__all__ = ["bp"]

bp = Blueprint("sms", __name__, url_prefix="/sms")
csrf.exempt(bp)


@bp.route("/inbound", methods=["POST"])
@limiter.limit("120/minute")
def inbound() -> ResponseReturnValue:
    """An SMS from a worker; "STOP" opts them out."""
    secret = get_settings().sms_inbound_secret
    basic = request.authorization
    given = request.headers.get("X-Sms-Secret") or (basic.password if basic else "") or ""
    if not secret:
        abort(404)  # no gateway configured to post here
    if not hmac.compare_digest(given.encode(), secret.encode()):
        abort(403)
    data = request.get_json(silent=True) if request.is_json else None
    if isinstance(data, dict):
        sender, text = str(data.get("from", "")), str(data.get("text", ""))
    else:
        sender = request.form.get("from", "")
        text = request.form.get("content", request.form.get("text", ""))
    opt_out_by_phone(get_session(), sender, text)
    if data is None:
        return "ACK/Jasmin", 200, {"Content-Type": "text/plain"}  # what Jasmin expects
    return jsonify({"received": True})
