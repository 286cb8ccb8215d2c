"""Serving: the read-only DuckDB snapshot the dashboards open (see snapshot.py)."""

import dagster as dg

from assets.serving.assets import publish_serving_snapshot

defs = dg.Definitions(assets=[publish_serving_snapshot])
