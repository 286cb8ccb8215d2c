"""Supplier restock files as a Dagster asset (the ``restock_files`` job and the daily run)."""

# no `from __future__ import annotations`: Dagster reads the config class from the signature

import dagster as dg
import polars as pl

from assets.decisions.assets import SUGGESTION_DECISIONS, SUGGESTIONS
from assets.decisions.store import DecisionStore
from assets.metadata import frame_md
from assets.resources import SettingsResource
from assets.restock.deliver import send_pending, sink_for
from assets.warehouse import WAREHOUSE_POOL, WarehouseResource

GROUP = "restock"


class RestockConfig(dg.Config):
    """Run options (``shelfwise restock`` sets them; the sensor and the daily run use the
    defaults: every supplier, orders below the supplier's minimum order value held)."""

    suppliers: list[str] | None = None  # only these suppliers' approved lines
    force_below_minimum: bool = False  # send orders below the minimum anyway (audited)
    user: str | None = None  # who sends, for the audit (default: pipeline)
RESTOCK_LINES = dg.AssetKey(["ops", "supplier_restock_lines"])


@dg.asset(
    key=RESTOCK_LINES,
    deps=[SUGGESTION_DECISIONS, SUGGESTIONS, dg.AssetKey(["core", "products"]),
          dg.AssetKey(["core", "suppliers"]), dg.AssetKey(["core", "fx_rates"])],
    group_name=GROUP,
    kinds={"duckdb", "csv", "xlsx"},
    pool=WAREHOUSE_POOL,
)
def supplier_restock_lines(
    context, config: RestockConfig, warehouse: WarehouseResource, shelfwise: SettingsResource
) -> dg.MaterializeResult:
    """Approved lines not yet sent: one PO per supplier (CSV + XLSX in the outbox), marked sent."""
    settings = shelfwise.settings
    sink = sink_for(settings)
    with warehouse.connect() as con:
        run = send_pending(con, settings, store=DecisionStore(settings.home), sink=sink,
                           suppliers=config.suppliers,
                           force_below_minimum=config.force_below_minimum, user=config.user)
        total_rows = con.execute("SELECT count(*) FROM ops.supplier_restock_lines").fetchall()[0][0]
    for po, error in run.failed.items():
        context.log.error(f"{po}: delivery through sink {sink.name!r} failed, lines stay pending: {error}")
    if run.unknown_supplier:
        context.log.warning(f"{len(run.unknown_supplier)} approved line(s) have no supplier in the "
                            f"suggestion or master data and stay pending: {run.unknown_supplier[:10]}")
    for order in run.held:
        context.log.warning(
            f"{order.supplier_id}: held, {order.total_value:,.2f} of the minimum order value "
            f"{order.min_order_value:,.2f} {order.currency} ({order.short_of_minimum:,.2f} short); "
            f"approve more of its lines or send it anyway with "
            f"`shelfwise restock --supplier {order.supplier_id} --force`")
    if run.late_changes:
        context.log.warning(f"a planner changed {len(run.late_changes)} line(s) while their file was "
                            f"written; the file's quantity went out: {run.late_changes[:10]}")
    orders = pl.DataFrame(
        {
            "supplier_id": [o.supplier_id for o in run.orders],
            "po_number": [o.po_number for o in run.orders],
            "lines": [o.lines.height for o in run.orders],
            "units": [o.total_units for o in run.orders],
            "value": [o.total_value for o in run.orders],
            "currency": [o.currency for o in run.orders],
            "delivered_to": [run.delivered_to.get(o.po_number, "FAILED") for o in run.orders],
        },
        schema={"supplier_id": pl.String(), "po_number": pl.String(), "lines": pl.Int64(),
                "units": pl.Int64(), "value": pl.Float64(), "currency": pl.String(),
                "delivered_to": pl.String()},
    )
    return dg.MaterializeResult(metadata={
        "dagster/row_count": total_rows,
        "purchase_orders": len(run.orders),
        "lines_sent": run.lines_sent,
        "files_written": sum(f.new_in_manifest for files in run.files.values() for f in files),
        "failed_deliveries": len(run.failed),
        "lines_without_supplier": len(run.unknown_supplier),
        "late_planner_changes": len(run.late_changes),
        "held_below_minimum": len(run.held),
        "sink": sink.name,
        "orders": frame_md(orders, limit=50),
    })


ASSETS = [supplier_restock_lines]
