"""Security headers on every response."""

from __future__ import annotations

from flask import Flask, Response

__all__ = ["init_app"]

CSP = (
    "default-src 'self'; img-src 'self' data:{tiles}; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "geolocation=(self), camera=(), microphone=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def init_app(app: Flask) -> None:
    """Add the headers after each request. Scripts and styles come from the app alone;
    images may also come from the map tile server (``MOBILITY_MAP_TILES``)."""
    from web.maps import tile_origin

    tiles = tile_origin(app.extensions["mobility.settings"].map_tiles)
    headers = {"Content-Security-Policy": CSP.format(tiles=f" {tiles}" if tiles else ""), **HEADERS}

    @app.after_request
    def _headers(response: Response) -> Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        if response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")
        return response
