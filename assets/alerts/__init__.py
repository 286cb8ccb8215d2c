"""Alerts: low stock, overstock, dead stock, discrepancies, oversell risk, late POs; sent once
when they open, again when they escalate, and when they resolve; to JSONL, webhook, e-mail.

``defs`` holds the assets (group ``alerts``) and the delivery check; the SQL lives in
:mod:`assets.alerts.sql`, the sinks in :mod:`assets.alerts.sinks`. See docs/alerts.md.
"""

import dagster as dg

from assets.alerts.assets import ASSETS, CHECKS

defs = dg.Definitions(assets=ASSETS, asset_checks=CHECKS)
