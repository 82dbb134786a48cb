"""What leaves the system: maps, drivers' route sheets, the plan as JSON, and the
Region's figures and report. Like a plotting package, it reads plans and never
changes them."""

from mobility.outputs.charts import Chart, png_chart, region_charts, svg_chart
from mobility.outputs.export import export_plan
from mobility.outputs.figures import (
    PERIOD_KINDS,
    Period,
    figures_csv,
    month_period,
    period_of,
    region_figures,
    region_report,
    suppressed,
)
from mobility.outputs.layers import plan_layers, plan_map_html, tile_origin
from mobility.outputs.maps import (
    ATTRIBUTION,
    COLOURS,
    plan_overview_png,
    route_colour,
    route_geometry,
)
from mobility.outputs.region_pdf import render_region_pdf
from mobility.outputs.sheets import SheetTexts, render_sheets_pdf, sheet_rows, sheet_texts

__all__ = [
    "ATTRIBUTION",
    "COLOURS",
    "PERIOD_KINDS",
    "Chart",
    "Period",
    "SheetTexts",
    "export_plan",
    "figures_csv",
    "month_period",
    "period_of",
    "plan_layers",
    "plan_map_html",
    "plan_overview_png",
    "png_chart",
    "region_charts",
    "region_figures",
    "region_report",
    "render_region_pdf",
    "render_sheets_pdf",
    "route_colour",
    "route_geometry",
    "sheet_rows",
    "sheet_texts",
    "suppressed",
    "svg_chart",
    "tile_origin",
]
