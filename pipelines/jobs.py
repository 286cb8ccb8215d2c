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
    "ingest_inbox",
    selection=dg.AssetSelection.groups("ingest"),
    description="Land new inbox files into raw and core (idempotent).",
)

JOBS = [all_assets_job, ingest_job]
