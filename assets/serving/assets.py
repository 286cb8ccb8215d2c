"""The publish step: copy what the dashboards read into the serving snapshot, atomically."""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg

from assets.resources import SettingsResource
from assets.serving.snapshot import SERVED_CORE, publish_snapshot
from assets.warehouse import WAREHOUSE_POOL, WarehouseResource

GROUP = "serving"


def build_publish_serving_snapshot(served_marts: Iterable[dg.AssetKey]) -> dg.AssetsDefinition:
    """The publish asset, downstream of ``served_marts`` (every mart the domains export:
    :func:`pipelines.domains.served_marts`).

    The snapshot copies the whole ``marts`` schema, so it must run after every asset that
    writes there; the list is each domain's ``SERVED_MARTS``, gathered by the one registry of
    domains, so a new mart is waited for once its domain declares it.
    """

    @dg.asset(
        name="publish_serving_snapshot",
        group_name=GROUP,
        kinds={"duckdb"},
        pool=WAREHOUSE_POOL,
        deps=[
            *sorted(set(served_marts), key=lambda k: k.to_user_string()),
            *(dg.AssetKey(["core", t]) for t in (*SERVED_CORE, "order_lines")),
            dg.AssetKey(["quarantine", "rows"]),  # ops.quarantine_summary
        ],
    )
    def publish_serving_snapshot(
        warehouse: WarehouseResource, shelfwise: SettingsResource
    ) -> dg.MaterializeResult:
        """Copy marts, dimensions and ops summaries into a new serving.duckdb and swap it in."""
        serving_path = shelfwise.settings.serving_path
        with warehouse.connect() as con:
            summary = publish_snapshot(con, serving_path)
        table_md = "\n".join(
            ["| table | rows |", "|---|---:|"]
            + [f"| {name} | {rows:,} |" for name, rows in summary.tables.items()]
        )
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(summary.path)),
                "tables": dg.MetadataValue.int(len(summary.tables)),
                "size_bytes": dg.MetadataValue.int(summary.size_bytes),
                "seconds": dg.MetadataValue.float(round(summary.seconds, 3)),
                "published": dg.MetadataValue.md(table_md),
            }
        )

    return publish_serving_snapshot
