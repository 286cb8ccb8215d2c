"""Replenishment: lead times, projected stock, the reorder policy and the order suggestions.

``defs`` holds the assets (group ``replenishment``) and the check that every needed order is
suggested; the SQL lives in ``assets/replenishment/sql/`` (run by
:mod:`assets.replenishment.tables`), the numbers in
:mod:`forecasting.policy`. See docs/replenishment.md.
"""

import dagster as dg

from assets.replenishment.assets import ASSETS, CHECKS

defs = dg.Definitions(assets=ASSETS, asset_checks=CHECKS)
