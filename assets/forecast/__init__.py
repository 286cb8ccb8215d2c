"""Demand forecasting: demand history from core, segments, forecasts with overrides, accuracy.

``defs`` holds the assets (group ``forecast``); the demand SQL and the warehouse reads and
writes live in ``sql/`` (one model file each), run by :mod:`assets.forecast.sql`; the numbers
in the :mod:`forecasting` library.
See docs/forecasting.md, "In the warehouse".
"""

import dagster as dg

from assets.forecast.assets import ASSETS

defs = dg.Definitions(assets=ASSETS)

# the marts this domain builds, for the serving snapshot to wait for
SERVED_MARTS = (
    "daily_demand_by_sku", "demand_forecast", "demand_segments", "forecast_accuracy",
    "forecast_selection",
)
