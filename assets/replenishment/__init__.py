"""Replenishment: lead times, projected stock, the reorder policy and the order suggestions.

``defs`` holds the assets (group ``replenishment``) and the check that every needed order is
suggested; the SQL lives in ``assets/replenishment/sql/`` (run by
:mod:`assets.replenishment.tables`), the numbers in
:mod:`forecasting.policy`. See docs/replenishment.md.
"""

import dagster as dg

from assets.replenishment.assets import ASSETS, CHECKS
from assets.replenishment.checks import CHECKS as QUALITY_CHECKS

defs = dg.Definitions(assets=ASSETS, asset_checks=[*CHECKS, *QUALITY_CHECKS])

# the marts this domain builds, for the serving snapshot to wait for
SERVED_MARTS = (
    "inbound_purchase_orders", "lead_times", "projected_stock", "replenishment_policy",
    "replenishment_suggestions", "transfer_suggestions",
)
