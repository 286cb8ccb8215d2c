"""Inventory truth: movement ledger, reconciliation, available-to-sell per channel, feeds.

``defs`` holds the assets (group ``inventory``) and the record-accuracy check. Each model is
one SQL statement in ``sql/``; :mod:`assets.inventory.models` runs them without Dagster. See
docs/inventory.md.
"""

import dagster as dg

from assets.inventory.assets import ASSETS, CHECKS

defs = dg.Definitions(assets=ASSETS, asset_checks=CHECKS)
