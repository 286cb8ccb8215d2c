"""Jobs: what runs together."""

from __future__ import annotations

import dagster as dg

# everything, in dependency order: what `shelfwise demo` and the daily run materialize
all_assets_job = dg.define_asset_job(
    "shelfwise_all",
    selection=dg.AssetSelection.all(),
    description="Every shelfwise asset: ingest the inbox, then everything built on it.",
)

ingest_job = dg.define_asset_job(
    "ingest",
    selection=dg.AssetSelection.groups("ingest"),
    description="Land new inbox files into raw and core (idempotent).",
)

# the ledger rebuilt from core, every snapshot day reconciled, accuracy checked (the check runs
# with its asset): what the daily schedule runs and `shelfwise reconcile` starts
reconciliation_job = dg.define_asset_job(
    "inventory_reconciliation",
    selection=dg.AssetSelection.assets(
        ["marts", "stock_ledger"], ["marts", "reconciliation"], ["marts", "inventory_record_accuracy"]
    ),
    description="Movement ledger, reconciliation of every snapshot day, record accuracy and its check.",
)

# available-to-sell through to the channel feeds (the ledger included: ATS needs today's book)
inventory_job = dg.define_asset_job(
    "inventory",
    selection=dg.AssetSelection.groups("inventory"),
    description="Every inventory asset: ledger, reconciliation, ATS, position, oversell, feeds.",
)

JOBS = [all_assets_job, ingest_job, reconciliation_job, inventory_job]
