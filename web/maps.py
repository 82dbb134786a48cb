"""Map assets served by the app itself: Leaflet from its XStatic package (no script or
style sheet from another host on any page), and the map settings pages need."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import xstatic.pkg.leaflet as leaflet
from flask import Blueprint, Flask, send_file, send_from_directory
from flask.typing import ResponseReturnValue

from mobility.outputs import ATTRIBUTION
from mobility.outputs.layers import DAYMAP_JS
from web.settings import get_settings

__all__ = ["bp", "init_app"]

LEAFLET_DIR = Path(leaflet.BASE_DIR)

bp = Blueprint("maps", __name__, url_prefix="/vendor")


@bp.route("/passaggio/daymap.js")
def daymap_script() -> ResponseReturnValue:
    """The script that draws a day's layers (also inlined in standalone map files)."""
    return send_file(DAYMAP_JS, mimetype="text/javascript", max_age=3600)


@bp.route(f"/leaflet-{leaflet.VERSION}/<path:filename>")
def leaflet_file(filename: str) -> ResponseReturnValue:
    """Leaflet's script, style sheet and images (cached for a year: the version is in
    the URL)."""
    return send_from_directory(LEAFLET_DIR, filename, max_age=365 * 24 * 3600)


def init_app(app: Flask) -> None:
    """Register the asset routes and give templates what a map needs."""
    app.register_blueprint(bp)

    @app.context_processor
    def _map_settings() -> dict[str, Any]:
        return {
            "map_tiles": get_settings().map_tiles,
            "map_attribution": ATTRIBUTION,
            "leaflet_version": leaflet.VERSION,
        }
