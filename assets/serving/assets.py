"""The publish step: copy what the dashboards read into the serving snapshot, atomically."""

from __future__ import annotations

import importlib
import pkgutil
import warnings

import dagster as dg

from assets.resources import SettingsResource
from assets.serving.snapshot import SERVED_CORE, publish_snapshot
from assets.warehouse import WAREHOUSE_POOL, WarehouseResource

GROUP = "serving"


def sibling_mart_keys() -> list[dg.AssetKey]:
    """Every ``["marts", ...]`` asset key defined by the other domain packages under assets/.

    The snapshot copies the whole ``marts`` schema, so it must run after every asset that
    writes there; scanning the sibling domains (rather than a hand-kept list) means a new
    mart is published without touching this file.
    """
    import assets

    keys: set[dg.AssetKey] = set()
    for info in pkgutil.iter_modules(assets.__path__):
        if not info.ispkg or info.name == "serving":
            continue
        try:
            module = importlib.import_module(f"assets.{info.name}")
        except Exception as exc:  # a half-built domain must not take the dashboards down
            warnings.warn(f"serving: could not import assets.{info.name} ({exc}); "
                          "its marts are still copied but not waited for", stacklevel=2)
            continue
        defs = getattr(module, "defs", None)
        if not isinstance(defs, dg.Definitions):
            continue
        for item in defs.assets or []:
            item_keys = getattr(item, "keys", None) or [item.key]
            keys.update(k for k in item_keys if k.path[0] == "marts")
    return sorted(keys, key=lambda k: k.to_user_string())


@dg.asset(
    group_name=GROUP,
    kinds={"duckdb"},
    pool=WAREHOUSE_POOL,
    deps=[
        *sibling_mart_keys(),
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
