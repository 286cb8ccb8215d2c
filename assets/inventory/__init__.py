"""Inventory truth: movement ledger, reconciliation, available-to-sell per channel, feeds.

``defs`` holds the assets (group ``inventory``) and the record-accuracy check; the SQL lives in
:mod:`assets.inventory.sql` and can be called without Dagster. See docs/inventory.md.
"""

import dagster as dg

from assets.inventory.assets import ASSETS, CHECKS

defs = dg.Definitions(assets=ASSETS, asset_checks=CHECKS)
