"""KPIs: the manager's numbers as marts (fulfillment time, on-time ship, returns, sales,
fill rate, stockouts, turnover, dead stock, supplier on-time, accuracy). See docs/kpis.md."""

import dagster as dg

from assets.kpis.accuracy import ACCURACY_ASSETS
from assets.kpis.assets import KPI_ASSETS
from assets.kpis.checks import CHECKS

defs = dg.Definitions(assets=[*KPI_ASSETS, *ACCURACY_ASSETS], asset_checks=CHECKS)
