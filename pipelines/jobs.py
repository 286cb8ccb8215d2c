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

# planner decisions imported (auto-approve rules applied), then every approved line not yet sent
# goes to its supplier: what the restock sensor and `shelfwise restock` start
restock_job = dg.define_asset_job(
    "restock_files",
    selection=dg.AssetSelection.assets(["ops", "suggestion_decisions"], ["ops", "supplier_restock_lines"]),
    description="Import planner decisions, write one PO per supplier (CSV + XLSX), mark lines sent.",
)

# alert conditions from the marts as they are, state advanced, pending deliveries sent (a sink
# that was down gets its backlog now), then the snapshot the Alerts page reads
alerts_job = dg.define_asset_job(
    "alerts",
    selection=(dg.AssetSelection.groups("alerts")
               | dg.AssetSelection.assets("publish_serving_snapshot")),
    description="Evaluate alert rules, open/escalate/resolve, deliver to every sink, publish.",
)

# lead times, projected stock, the reorder policy and today's suggestions (reads the inventory
# position and the demand forecast as they were last built)
replenishment_job = dg.define_asset_job(
    "replenishment",
    selection=dg.AssetSelection.groups("replenishment"),
    description="Lead times, projected stock, reorder policy and order suggestions with reasons.",
)

JOBS = [all_assets_job, ingest_job, reconciliation_job, inventory_job, restock_job, alerts_job,
        replenishment_job]
