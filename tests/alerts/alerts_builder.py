"""Hand-made warehouses for the alert tests: the marts the rules read, written row by row.

Core rows go through the inventory tests' builder (same helpers, same lineage); the marts
the rules read are written straight from dicts, so each test states exactly the condition it
checks. ``put_mart`` keeps only the columns a rule reads plus a few, as the marts have them.
"""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "inventory"))

from inventory_builder import at, day, insert, new_warehouse, product, snapshot  # noqa: E402,F401

from assets.alerts import defs as alert_defs  # noqa: E402
from assets.settings import load_settings  # noqa: E402
from pipelines.resources import build_resources  # noqa: E402

AS_OF = day(30)  # the latest snapshot in every story: the alerts' as_of

MART_SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "replenishment_policy": {
        "as_of": pl.Date, "sku": pl.String, "location_id": pl.String, "supplier_id": pl.String,
        "on_hand_units": pl.Int64, "allocated_units": pl.Int64, "on_order_units": pl.Int64,
        "reorder_point_units": pl.Float64,
        "lead_time_mean_days": pl.Float64, "projected_stockout_date": pl.Date,
        "last_order_date": pl.Date, "unit_cost_base": pl.Float64, "days_of_cover": pl.Float64,
        "mean_daily_demand_units": pl.Float64,
    },
    "ats_by_sku_location": {
        "as_of": pl.Date, "sku": pl.String, "location_id": pl.String, "is_bundle": pl.Boolean,
        "on_hand_units": pl.Int64, "allocated_units": pl.Int64, "reserved_units": pl.Int64,
        "ats_units": pl.Int64,
    },
    "reconciliation": {
        "snapshot_date": pl.Date, "location_id": pl.String, "sku": pl.String,
        "expected_on_hand": pl.Int64, "counted_on_hand": pl.Int64, "difference_units": pl.Int64,
        "difference_value_base": pl.Float64, "tolerance_units": pl.Float64,
        "within_tolerance": pl.Boolean, "likely_cause": pl.String,
    },
    "oversell_risk": {
        "as_of": pl.Date, "channel_id": pl.String, "channel_sku": pl.String, "sku": pl.String,
        "listing_status": pl.String, "listed_quantity": pl.Int64, "ats_units": pl.Int64,
        "excess_units": pl.Int64,
    },
    "kpi_dead_stock_by_sku_location": {
        "sku": pl.String, "supplier_id": pl.String, "location_id": pl.String,
        "on_hand_units": pl.Int64, "unit_cost_base": pl.Float64,
        "dead_stock_value_base": pl.Float64, "last_sold_on": pl.Date,
        "days_without_sale": pl.Int64,
    },
}

DEFAULTS: dict[str, dict] = {
    "replenishment_policy": {"as_of": AS_OF, "location_id": "WH1", "supplier_id": "SUP",
                             "on_hand_units": 0, "allocated_units": 0, "on_order_units": 0,
                             "lead_time_mean_days": 10.0,
                             "unit_cost_base": 2.0, "mean_daily_demand_units": 1.0},
    "ats_by_sku_location": {"as_of": AS_OF, "location_id": "WH1", "is_bundle": False,
                            "on_hand_units": 0, "allocated_units": 0, "reserved_units": 0},
    "reconciliation": {"snapshot_date": AS_OF, "location_id": "WH1", "tolerance_units": 2.0,
                       "likely_cause": "unexplained"},
    "oversell_risk": {"as_of": AS_OF, "listing_status": "active"},
    "kpi_dead_stock_by_sku_location": {"supplier_id": "SUP", "location_id": "WH1",
                                       "unit_cost_base": 2.0},
}


def put_mart(con: duckdb.DuckDBPyConnection, name: str, rows: list[dict]) -> None:
    """Replace ``marts.<name>`` with ``rows`` (defaults filled in; derived columns computed
    where the real mart derives them)."""
    schema = MART_SCHEMAS[name]
    full = [{**DEFAULTS[name], **row} for row in rows]
    frame = pl.DataFrame([{k: r.get(k) for k in schema} for r in full], schema=schema)
    if name == "oversell_risk":
        frame = frame.with_columns(excess_units=pl.col("listed_quantity") - pl.col("ats_units"))
    if name == "reconciliation":
        frame = frame.with_columns(
            difference_units=pl.col("counted_on_hand") - pl.col("expected_on_hand"))
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    con.register("_mart_rows", frame.to_arrow())
    try:
        con.execute(f"CREATE OR REPLACE TABLE marts.{name} AS SELECT * FROM _mart_rows")
    finally:
        con.unregister("_mart_rows")


def po_line(po: str, sku: str, qty: int, *, expected: date, status: str = "open",
            unit_cost: float = 5.0, currency: str = "USD", rate: float = 0.9,
            supplier: str = "SUP", location: str = "WH1") -> dict:
    return {"po_number": po, "supplier_id": supplier, "sku": sku, "location_id": location,
            "quantity_ordered": qty, "unit_cost": unit_cost, "currency": currency,
            "unit_cost_base": unit_cost * rate, "ordered_at": at(0), "expected_at": expected,
            "status": status, "updated_at": at(0)}


def receipt_row(po: str, sku: str, qty: int, n: int = 1, location: str = "WH1") -> dict:
    return {"receipt_id": f"GR-{po}-{sku}-{n}", "po_number": po, "sku": sku,
            "location_id": location, "quantity_received": qty, "received_at": at(n)}


def stocked_world(con: duckdb.DuckDBPyConnection) -> None:
    """A snapshot on AS_OF (it fixes the alerts' as_of) for SKU A at WH1."""
    insert(con, "products", [product("A")])
    insert(con, "stock_snapshots", [snapshot(30, "A", "WH1", 10)])


def story(con: duckdb.DuckDBPyConnection, *, ats: int = 3, policy_days_of_cover: float = 20.0,
          late_days: int = 3) -> None:
    """One alert of each kind, each a warning: low stock (A), overstock (B), dead stock (C), a
    discrepancy (D), an oversell risk (A on etsy), a late PO line (PO-1 A at WH1)."""
    stocked_world(con)
    put_mart(con, "replenishment_policy", [
        # out in 9 days, an order takes 20: 11 days × 2 units of sales lost at 10.00 cost
        {"sku": "A", "on_hand_units": ats, "reorder_point_units": 8.0, "days_of_cover": 3.0,
         "projected_stockout_date": AS_OF + timedelta(days=9), "lead_time_mean_days": 20.0,
         "mean_daily_demand_units": 2.0, "unit_cost_base": 10.0},
        # 400 days of cover: 220 units beyond 180 days of demand tie up 4,400.00
        {"sku": "B", "on_hand_units": 400, "reorder_point_units": 5.0,
         "days_of_cover": policy_days_of_cover * 20, "mean_daily_demand_units": 1.0,
         "unit_cost_base": 20.0},
    ])
    put_mart(con, "ats_by_sku_location", [{"sku": "A", "ats_units": ats, "on_hand_units": ats},
                                          {"sku": "B", "ats_units": 400, "on_hand_units": 400}])
    put_mart(con, "kpi_dead_stock_by_sku_location", [
        {"sku": "C", "on_hand_units": 50, "dead_stock_value_base": 1200.0,
         "last_sold_on": AS_OF - timedelta(days=120), "days_without_sale": 120}])
    put_mart(con, "reconciliation", [
        {"sku": "D", "expected_on_hand": 60, "counted_on_hand": 40,
         "difference_value_base": -40.0, "within_tolerance": False}])
    put_mart(con, "oversell_risk", [
        {"channel_id": "etsy", "channel_sku": "ETSY-A", "sku": "A", "listed_quantity": ats + 5,
         "ats_units": ats}])
    insert(con, "purchase_orders",
           [po_line("PO-1", "A", 20, expected=AS_OF - timedelta(days=late_days))])


RETRIES = 2  # webhook retries after the first try, in make_home's shelfwise.toml


def make_home(tmp_path, webhook=None, smtp=None):
    """A home whose warehouse holds one alert of each kind (see ``story``), with the sinks."""
    toml = ["[alerts.jsonl]", "min_severity = 'info'"]
    if webhook:
        toml += ["[alerts.webhook]", f"url = '{webhook.url}'", f"retries = {RETRIES}",
                 "backoff_seconds = 0.01", "timeout_seconds = 5"]
    if smtp:
        toml += ["[alerts.email]", "host = '127.0.0.1'", f"port = {smtp.port}",
                 "from_addr = 'shelfwise@example.com'", "to = ['ops@example.com']",
                 "min_severity = 'critical'", "retries = 1", "backoff_seconds = 0.01"]
    (tmp_path / "shelfwise.toml").write_text("\n".join(toml) + "\n")
    settings = load_settings(tmp_path)
    settings.warehouse_path.parent.mkdir(parents=True)
    con = new_warehouse(settings.warehouse_path)
    story(con)
    con.close()
    return settings


def materialize(settings) -> dg.ExecuteInProcessResult:
    """The alert assets and check, in process, on ``settings.home``; the run must succeed."""
    result = dg.materialize([*alert_defs.assets, *alert_defs.asset_checks],
                            resources=build_resources(str(settings.home)), raise_on_error=False)
    assert result.success  # a failing sink never fails the run
    return result


__all__ = ["AS_OF", "RETRIES", "at", "day", "insert", "make_home", "materialize", "new_warehouse",
           "po_line", "product", "put_mart", "receipt_row", "snapshot", "stocked_world", "story"]
