"""JSON API under /api/v1 (flask-smorest; OpenAPI document at /api/openapi.json).

Workers open a session with ``POST /api/v1/sessions`` (code and PIN, checked once) and
send ``Authorization: Bearer <token>`` for 30 minutes; the headers ``X-Worker-Code``
and ``X-Worker-Pin`` (or, when booking, the body fields ``worker_code`` and ``pin``)
keep working, at the cost of a PIN check per request. Every error is JSON
``{"error", "field", "code"}`` (:class:`web.errors.ErrorSchema`); a body must be JSON
(``Content-Type: application/json``, at most 64 KB).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, current_app, request
from flask.typing import ResponseReturnValue
from flask_smorest import Api, Blueprint
from marshmallow import Schema, fields, validate
from werkzeug.exceptions import HTTPException

from mobility.bookings import (
    TOKEN_MINUTES,
    BookingRules,
    RideRequest,
    authenticate_worker,
    cancel_booking,
    find_booking,
    issue_token,
    list_bookings,
    register_worker,
    request_rides,
    revoke_tokens,
    worker_from_token,
)
from mobility.clock import hhmm, parse_hhmm
from mobility.i18n import LANGUAGES
from mobility.stops import list_stops
from mobility.store import Booking, Direction, Worker
from web.db import get_session
from web.errors import ApiError, ErrorSchema, http_error
from web.extensions import csrf, limiter
from web.settings import get_settings

__all__ = ["init_app"]

blp = Blueprint("api", __name__, url_prefix="/api/v1", description="Passaggio worker API")

#: HH:MM, 00:00-23:59
HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
#: A phone number as people write it: digits, spaces, dots, dashes, brackets, a
#: leading + (the number itself is checked by the booking rules: code bad_phone).
PHONE = r"^\+?[0-9 ().-]{6,24}$"
#: Personal codes and booking codes: capitals and digits.
CODE = r"^[A-Z0-9]{4,16}$"


class PassaggioApi(Api):
    """flask-smorest's Api with the project's one error document."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException) -> ResponseReturnValue:
        return http_error(error)


@blp.before_request
def _json_body_only() -> None:
    """A request with a body must send JSON (415 otherwise)."""
    if (
        request.method in ("POST", "PUT", "PATCH")
        and request.content_length
        and not request.is_json
    ):
        abort(415, "the body must be JSON (Content-Type: application/json)")


class StopSchema(Schema):
    id = fields.Int()
    name = fields.Str()
    kind = fields.Str()
    category = fields.Str(
        allow_none=True,
        metadata={"description": "for service stops: hospital, clinic, police, town_hall..."},
    )
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)


class NewWorkerSchema(Schema):
    language = fields.Str(load_default="it", validate=validate.OneOf(LANGUAGES))
    phone = fields.Str(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(PHONE),
        metadata={"description": "for SMS: +country code and number, or an Italian number"},
    )


class WorkerCardSchema(Schema):
    code = fields.Str()
    pin = fields.Str()


class NewBookingSchema(Schema):
    worker_code = fields.Str(load_default=None, validate=validate.Regexp(CODE))
    pin = fields.Str(load_default=None, validate=validate.Regexp(r"^[0-9]{6}$"))
    date = fields.Date(required=True)
    direction = fields.Str(
        load_default="to_work", validate=validate.OneOf([d.value for d in Direction])
    )
    from_stop = fields.Int(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    to_stop = fields.Int(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    time = fields.Str(
        required=True,
        validate=validate.Regexp(HHMM),
        metadata={"description": "HH:MM: arrive-by (to work) or depart-after (back)"},
    )
    # documents the default rule (a deployment may set its own)
    seats = fields.Int(load_default=1, validate=validate.Range(min=1, max=BookingRules.max_seats))
    return_time = fields.Str(load_default=None, allow_none=True, validate=validate.Regexp(HHMM))
    repeat_until = fields.Date(load_default=None, allow_none=True)
    allow_parts = fields.Bool(
        load_default=False,
        metadata={
            "description": "a crew may ride in separate vehicles and some of it go when "
            "there is no room for all; otherwise it rides whole or not at all"
        },
    )


class BookingSchema(Schema):
    code = fields.Str()
    date = fields.Str()
    direction = fields.Str()
    from_stop = fields.Int()
    to_stop = fields.Int()
    time = fields.Str()
    seats = fields.Int()
    status = fields.Str()
    pickup_time = fields.Str(allow_none=True)
    pickup_stop = fields.Int(allow_none=True)
    series_id = fields.Str(allow_none=True)
    allow_parts = fields.Bool()
    seats_served = fields.Int(
        allow_none=True,
        metadata={
            "description": "seats with a ride once the plan is published (fewer than seats "
            "only for a crew that allowed parts; 0 when unserved); null before"
        },
    )
    reason = fields.Str(allow_none=True, metadata={"description": "why seats have no ride: a code"})


def booking_json(b: Booking) -> dict[str, Any]:
    """A booking as the API shows it (codes and times, never personal data)."""
    return {
        "code": b.code,
        "date": b.service_date.isoformat(),
        "direction": b.direction.value,
        "from_stop": b.from_stop_id,
        "to_stop": b.to_stop_id,
        "time": hhmm(b.time_min),
        "seats": b.seats,
        "status": b.status.value,
        "pickup_time": hhmm(b.pickup_time_min) or None,
        "pickup_stop": b.pickup_stop_id,
        "series_id": b.series_id,
        "allow_parts": b.allow_parts,
        "seats_served": b.seats_with_ride,
        "reason": b.reason.value if b.reason is not None else None,
    }


def _secret() -> str:
    return str(current_app.config["SECRET_KEY"])


def _worker_from_headers(code: str | None = None, pin: str | None = None) -> Worker:
    """The worker of a bearer token (``POST /sessions``), else of a code and PIN."""
    authorization = request.headers.get("Authorization", "")
    if authorization.startswith("Bearer "):
        return worker_from_token(get_session(), authorization[len("Bearer ") :].strip(), _secret())
    code = code or request.headers.get("X-Worker-Code")
    pin = pin or request.headers.get("X-Worker-Pin")
    if not code or not pin:
        raise ApiError(
            401, "a session token, or worker code and PIN, are required", "X-Worker-Code"
        )
    return authenticate_worker(get_session(), code, pin, rules=get_settings().booking)


class NewSessionSchema(Schema):
    code = fields.Str(required=True, validate=validate.Regexp(CODE))
    pin = fields.Str(required=True, validate=validate.Regexp(r"^[0-9]{6}$"))


class SessionSchema(Schema):
    token = fields.Str()
    token_type = fields.Str()
    expires_in = fields.Int(metadata={"description": "seconds"})


@blp.route("/sessions", methods=["POST"])
@limiter.limit("10/minute;60/hour")
@blp.arguments(NewSessionSchema)
@blp.response(201, SessionSchema)
def new_session(data: dict[str, Any]) -> Any:
    """Check a worker's code and PIN once; the token stands for the worker for 30 minutes
    (send ``Authorization: Bearer <token>``)."""
    worker = authenticate_worker(
        get_session(), data["code"], data["pin"], rules=get_settings().booking
    )
    return {
        "token": issue_token(worker, _secret()),
        "token_type": "Bearer",
        "expires_in": TOKEN_MINUTES * 60,
    }


@blp.route("/sessions", methods=["DELETE"])
@limiter.limit("10/minute")
@blp.response(204)
def end_sessions() -> Any:
    """Revoke every session token of the worker (send one of them as
    ``Authorization: Bearer <token>``, or code and PIN): a lost phone, a shared one."""
    revoke_tokens(get_session(), _worker_from_headers())
    return None


@blp.route("/stops")
@blp.response(200, StopSchema(many=True))
def stops() -> Any:
    """Active stops."""
    return [
        {
            "id": s.id,
            "name": s.name,
            "kind": s.kind.value,
            "category": s.category.value if s.category else None,
            "lat": s.lat,
            "lon": s.lon,
        }
        for s in list_stops(get_session())
    ]


#: What a new worker's card opens (OpenAPI links: clients and Schemathesis follow them).
_CARD_LINKS = {
    "OpenSession": {
        "operationRef": "#/paths/~1api~1v1~1sessions/post",
        "requestBody": {"code": "$response.body#/code", "pin": "$response.body#/pin"},
    },
    "Book": {
        "operationRef": "#/paths/~1api~1v1~1bookings/post",
        "requestBody": {"worker_code": "$response.body#/code", "pin": "$response.body#/pin"},
    },
}


@blp.route("/workers", methods=["POST"])
@limiter.limit("10/hour")
@blp.arguments(NewWorkerSchema, required=False)
@blp.response(201, WorkerCardSchema, description="The new worker's card")
@blp.doc(responses={201: {"links": _CARD_LINKS}})
def new_worker(data: dict[str, Any]) -> Any:
    """Register a worker: returns the personal code and the PIN (shown once)."""
    worker, pin = register_worker(get_session(), language=data["language"], phone=data["phone"])
    return {"code": worker.code, "pin": pin}


@blp.route("/bookings", methods=["POST"])
@limiter.limit("30/hour")
@blp.arguments(NewBookingSchema)
@blp.response(201, BookingSchema(many=True))
def new_booking(data: dict[str, Any]) -> Any:
    """Book a ride (and optionally the ride back and a Monday-Saturday series).

    Send an ``Idempotency-Key`` header to make retries safe.
    """
    worker = _worker_from_headers(data["worker_code"], data["pin"])
    minute = parse_hhmm(data["time"])
    if minute is None:
        raise ApiError(400, "time must be HH:MM", "time")
    back = None
    if data["return_time"] is not None:
        back = parse_hhmm(data["return_time"])
        if back is None:
            raise ApiError(400, "return_time must be HH:MM", "return_time")
    ride = RideRequest(
        service_date=data["date"],
        from_stop_id=data["from_stop"],
        to_stop_id=data["to_stop"],
        time_min=minute,
        seats=data["seats"],
        direction=Direction(data["direction"]),
        return_time_min=back,
        repeat_until=data["repeat_until"],
        allow_parts=data["allow_parts"],
    )
    bookings = request_rides(
        get_session(),
        worker,
        ride,
        idempotency_key=request.headers.get("Idempotency-Key") or None,
        rules=get_settings().booking,
    )
    return [booking_json(b) for b in bookings]


@blp.route("/bookings/<code>", methods=["GET"])
@limiter.limit("60/minute")
@blp.response(200, BookingSchema)
def get_booking(code: str) -> Any:
    """One of the worker's bookings."""
    return booking_json(find_booking(get_session(), _worker_from_headers(), code))


@blp.route("/bookings/<code>", methods=["DELETE"])
@limiter.limit("30/minute")
@blp.response(200, BookingSchema(many=True))
def delete_booking(code: str) -> Any:
    """Cancel a booking (``?series=1``: and the rest of its series)."""
    worker = _worker_from_headers()
    cancelled = cancel_booking(
        get_session(),
        worker,
        code,
        whole_series=request.args.get("series") == "1",
        rules=get_settings().booking,
    )
    return [booking_json(b) for b in cancelled]


@blp.route("/workers/me/bookings")
@limiter.limit("60/minute")
@blp.response(200, BookingSchema(many=True))
def my_bookings() -> Any:
    """The worker's bookings from today on."""
    worker = _worker_from_headers()
    today = get_settings().booking.today()
    return [booking_json(b) for b in list_bookings(get_session(), worker, since=today)]


def init_app(app: Flask) -> None:
    """Register the API and exempt it from CSRF (no cookies used); its errors are
    JSON through :mod:`web.errors`."""
    api = PassaggioApi(app)
    api.register_blueprint(blp)
    csrf.exempt(blp)
