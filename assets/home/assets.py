"""``marts.feature_availability``: each feature, what it needs, and whether this home has it."""

import dagster as dg
import polars as pl

from assets.features import feature_status, present_entities
from assets.metadata import md_table
from assets.model import ENTITIES
from assets.warehouse import WAREHOUSE_POOL, WarehouseResource


@dg.asset(
    key=dg.AssetKey(["marts", "feature_availability"]),
    group_name="home",
    kinds={"duckdb"},
    pool=WAREHOUSE_POOL,
    deps=[dg.AssetKey(["core", name]) for name in ENTITIES],
)
def feature_availability(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Each feature, the core entities it needs, which are missing and which file adds them."""
    with warehouse.connect() as con:
        statuses = feature_status(present_entities(con))
        frame = pl.DataFrame(
            {
                "feature_key": [s.feature.key for s in statuses],
                "feature": [s.feature.name for s in statuses],
                "page": [s.feature.page for s in statuses],
                "needs": [", ".join(s.feature.needs) for s in statuses],
                "missing": [", ".join(s.missing) for s in statuses],
                "available": [s.available for s in statuses],
                "how_to_enable": [s.how_to_enable for s in statuses],
            }
        )
        arrow = frame.to_arrow()  # noqa: F841 - read by DuckDB's replacement scan
        con.execute("CREATE SCHEMA IF NOT EXISTS marts")
        con.execute("CREATE OR REPLACE TABLE marts.feature_availability AS SELECT * FROM arrow")
    skipped = [(s.feature.name, ", ".join(s.missing)) for s in statuses if not s.available]
    return dg.MaterializeResult(metadata={
        "dagster/row_count": len(statuses),
        "available": sum(s.available for s in statuses),
        "skipped": dg.MetadataValue.md(md_table(["feature", "missing"], skipped, empty="_none_")),
    })
