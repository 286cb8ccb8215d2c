"""Inventory truth: movement ledger, reconciliation, available-to-sell per channel, feeds.

``defs`` holds the assets (group ``inventory``) and the record-accuracy check. Each model is
one SQL statement in ``sql/``; :mod:`assets.inventory.models` runs them without Dagster. See
docs/inventory.md.
"""

import dagster as dg

from assets.inventory.assets import ASSETS, CHECKS
from assets.inventory.checks import CHECKS as QUALITY_CHECKS

defs = dg.Definitions(assets=ASSETS, asset_checks=[*CHECKS, *QUALITY_CHECKS])

# the marts this domain builds, for the serving snapshot to wait for
SERVED_MARTS = (
    "ats_by_sku_channel", "ats_by_sku_location", "inventory_position",
    "inventory_record_accuracy", "order_allocations", "order_exceptions", "oversell_events",
    "oversell_risk", "reconciliation", "stock_ledger", "stock_on_hand",
)
