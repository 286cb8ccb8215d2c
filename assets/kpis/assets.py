"""KPI mart assets: one Dagster asset per mart in :data:`assets.kpis.marts.MARTS`.

Each asset runs its mart's one SQL statement in the warehouse (DuckDB, set-based) and reports
the row count and a preview. The two accuracy KPIs read marts that other domains build and are
computed only when those marts exist (see ``accuracy.py``).
"""

from __future__ import annotations

import time

import dagster as dg
import duckdb

from assets.kpis.marts import MARTS, KpiMart, KpiSettings, build_mart
from assets.metadata import PREVIEW_ROWS, md_table
from assets.resources import SettingsResource
from assets.warehouse import WAREHOUSE_POOL, WarehouseResource

GROUP = "kpis"


def preview_markdown(con: duckdb.DuckDBPyConnection, table: str, limit: int = PREVIEW_ROWS) -> str:
    """The first rows of ``table`` as a markdown table (what the Dagster UI shows)."""
    frame = con.sql(f"SELECT * FROM {table} LIMIT {int(limit)}").pl()
    return md_table(frame.columns, frame.iter_rows(), empty="_(no rows)_")


def _kpi_asset(mart: KpiMart) -> dg.AssetsDefinition:
    deps = [dg.AssetKey(["core", e]) for e in mart.core] + [
        dg.AssetKey(["marts", m]) for m in mart.marts
    ]

    @dg.asset(
        key=["marts", mart.name],
        group_name=GROUP,
        kinds={"duckdb"},
        pool=WAREHOUSE_POOL,
        deps=deps,
        description=mart.doc,
    )
    def _asset(warehouse: WarehouseResource, shelfwise: SettingsResource) -> dg.MaterializeResult:
        kpi = KpiSettings.from_settings(shelfwise.settings)
        started = time.perf_counter()
        with warehouse.connect() as con:
            rows = build_mart(con, mart, kpi)
            preview = preview_markdown(con, f"marts.{mart.name}")
        return dg.MaterializeResult(
            metadata={
                "rows": dg.MetadataValue.int(rows),
                "seconds": dg.MetadataValue.float(round(time.perf_counter() - started, 3)),
                "settings": dg.MetadataValue.json({p: getattr(kpi, p) for p in mart.params}),
                "preview": dg.MetadataValue.md(preview),
            }
        )

    return _asset


KPI_ASSETS = [_kpi_asset(mart) for mart in MARTS]
