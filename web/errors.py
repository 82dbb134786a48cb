"""Error handlers of the whole application, in one place.

On the JSON API (``/api/``) every error is ``{"error": ..., "field": ...}`` with a
4xx status; on pages, errors are pages in the user's language. A missing road-graph
cache is a page that says which command builds it: the web app never builds one.
"""

from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from mobility.errors import RoadCacheMissingError, ServiceError

__all__ = ["ApiError", "init_app", "json_error"]

#: Rule codes answered with another status than 400 on the API.
_STATUS_OF_CODE = {
    "auth_failed": 401,
    "token_invalid": 401,
    "not_found": 404,
    "duplicate_direction": 409,
}


class ApiError(Exception):
    """An error answered as JSON."""

    def __init__(self, status: int, error: str, field: str | None) -> None:
        super().__init__(error)
        self.status, self.error, self.field = status, error, field


def json_error(status: int, error: str, field: str | None) -> Response:
    """The API's error document."""
    response = jsonify({"error": error, "field": field})
    response.status_code = status
    return response


def _on_api() -> bool:
    return request.path.startswith("/api/")


def init_app(app: Flask) -> None:
    """Register the handlers."""

    @app.errorhandler(ApiError)
    def _api_error(err: ApiError) -> ResponseReturnValue:
        return json_error(err.status, err.error, err.field)

    @app.errorhandler(ServiceError)
    def _service_error(err: ServiceError) -> ResponseReturnValue:
        if not _on_api():
            raise err
        return json_error(_STATUS_OF_CODE.get(err.code, 400), str(err), err.field)

    @app.errorhandler(422)
    @app.errorhandler(400)
    def _validation_error(err: HTTPException) -> ResponseReturnValue:
        if not _on_api():
            return err
        messages = getattr(err, "data", {}).get("messages", {}) if hasattr(err, "data") else {}
        for location in messages.values():
            for field, problems in location.items():
                return json_error(400, f"{field}: {'; '.join(map(str, problems))}", field)
        return json_error(400, err.description or "bad request", None)

    @app.errorhandler(429)
    def _too_many(err: HTTPException) -> ResponseReturnValue:
        if _on_api():
            return json_error(429, "too many requests, try again later", None)
        return err

    @app.errorhandler(RoadCacheMissingError)
    def _no_road_graph(err: RoadCacheMissingError) -> ResponseReturnValue:
        app.logger.error("%s", err)
        if _on_api():
            return json_error(503, str(err), None)
        return render_template("no_road_graph.html", message=str(err)), 503
