"""Error handlers of the whole application, in one place.

On the JSON API (``/api/``) every error, whatever its status, is one document
``{"error": message, "field": the field at fault or null, "code": machine-readable}``
(:class:`ErrorSchema`, which the OpenAPI document declares), with the headers the
status needs (``Allow`` on 405, ``Retry-After`` on 429). On pages, errors are pages.
A missing road-graph cache is a page that says which command builds it: the web app
never builds one.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException

from mobility.errors import RoadCacheMissingError, ServiceError

__all__ = ["ApiError", "ErrorSchema", "http_error", "init_app", "json_error", "unavailable"]

#: Rule codes answered with another status than 400 on the API.
_STATUS_OF_CODE = {
    "auth_failed": 401,
    "token_invalid": 401,
    "not_found": 404,
    "duplicate_direction": 409,
}
#: The ``code`` of an error the application itself raises with a bare status.
CODE_OF_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}
#: Headers of an HTTP error kept on its JSON answer.
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


class ErrorSchema(Schema):
    """Every error of the API."""

    error = fields.Str(required=True, metadata={"description": "What went wrong, in English"})
    field = fields.Str(
        required=True,
        allow_none=True,
        metadata={"description": "The request field at fault, or null"},
    )
    code = fields.Str(
        required=True,
        metadata={"description": "Machine-readable: e.g. invalid, missing, not_found"},
    )


class ApiError(Exception):
    """An error answered as JSON."""

    def __init__(self, status: int, error: str, field: str | None, code: str = "invalid") -> None:
        super().__init__(error)
        self.status, self.error, self.field, self.code = status, error, field, code


def json_error(
    status: int,
    error: str,
    field: str | None,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The API's error document."""
    response = jsonify(
        {"error": error, "field": field, "code": code or CODE_OF_STATUS.get(status, "error")}
    )
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _on_api() -> bool:
    return request.path.startswith("/api/")


def _validation_error(messages: Any) -> tuple[str, str | None, str]:
    """Message, field and code of webargs' validation messages, which come as
    ``{location: {field: [problems]}}`` or ``{location: [problems]}``."""
    for location, found in (messages or {}).items():
        if isinstance(found, dict):
            for field, problems in found.items():
                text = "; ".join(map(str, problems if isinstance(problems, list) else [problems]))
                if field == "_schema":  # the body as a whole (e.g. not an object)
                    return f"body: {text}", None, "invalid_body"
                code = "missing" if "Missing data" in text else "invalid"
                return f"{field}: {text}", str(field), code
        text = "; ".join(map(str, found if isinstance(found, list) else [found]))
        body = location == "json"
        return f"{'body' if body else location}: {text}", None, "invalid_body"
    return "bad request", None, "bad_request"


def http_error(err: HTTPException) -> ResponseReturnValue:
    """Any HTTP error: the JSON document on the API, the error's page elsewhere."""
    if not _on_api():
        return err
    status = err.code or 500
    data = getattr(err, "data", None) or {}
    if status in (400, 422) and data.get("messages"):
        error, field, code = _validation_error(data["messages"])
        return json_error(400, error, field, code)
    if status == 429:
        error = "too many requests, try again later"
    elif status == 500:
        error = "internal error: nothing was saved; try again"
    else:
        error = err.description or err.name
    kept = {k: v for k, v in err.get_headers() if k in _KEPT_HEADERS}
    return json_error(status, error, None, CODE_OF_STATUS.get(status), kept)


def unavailable() -> ResponseReturnValue:
    """The database (or another service the request needs) does not answer: 503,
    JSON on the API, a page in the user's language elsewhere; try again soon."""
    if _on_api():
        return json_error(
            503,
            "the service's database does not answer: nothing was saved; try again",
            None,
            "unavailable",
            {"Retry-After": "10"},
        )
    return render_template("unavailable.html"), 503, {"Retry-After": "10"}


def init_app(app: Flask) -> None:
    """Register the handlers (the API's own, :func:`http_error`, through its Api)."""

    @app.errorhandler(ApiError)
    def _api_error(err: ApiError) -> ResponseReturnValue:
        return json_error(err.status, err.error, err.field, err.code)

    @app.errorhandler(ServiceError)
    def _service_error(err: ServiceError) -> ResponseReturnValue:
        if not _on_api():
            raise err
        return json_error(_STATUS_OF_CODE.get(err.code, 400), str(err), err.field, err.code)

    app.register_error_handler(HTTPException, http_error)

    @app.errorhandler(RoadCacheMissingError)
    def _no_road_graph(err: RoadCacheMissingError) -> ResponseReturnValue:
        app.logger.error("%s", err)
        if _on_api():
            return json_error(503, str(err), None, "no_road_graph")
        return render_template("no_road_graph.html", message=str(err)), 503
