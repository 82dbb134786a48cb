"""Security headers on every response."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response

__all__ = ["init_app", "local_path"]

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


def local_path(target: str | None) -> str | None:
    """``target`` if it is a path on this site (for a ``next=`` redirect), else
    ``None``. Browsers drop tabs and newlines and read ``\\`` as ``/``, so
    ``/\t/evil.com`` or ``/\\evil.com`` would lead elsewhere: any control character,
    backslash or a second leading slash is refused."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def init_app(app: Flask) -> None:
    """Add the headers after each request. Scripts and styles come from the app alone;
    images may also come from the map tile server (``MOBILITY_MAP_TILES``)."""
    from mobility.outputs import tile_origin

    tiles = tile_origin(app.extensions["mobility.settings"].map_tiles)
    headers = {"Content-Security-Policy": CSP.format(tiles=f" {tiles}" if tiles else ""), **HEADERS}

    @app.after_request
    def _headers(response: Response) -> Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        if response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")
        return response
