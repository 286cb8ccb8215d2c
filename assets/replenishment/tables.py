"""The replenishment domain's warehouse side: what the policy reads, and the tables it writes.

Callable without Dagster: every function takes an open warehouse connection. Each statement
is one file of ``sql/`` (values such as the as-of day, windows and horizons are
``$parameters``); a frame the library computed is registered as ``_frame`` for the statement
that writes it.

Which SKU × locations the policy covers (``sql/policy_scope.sql``, a temporary view every
statement that needs it reads): every row of ``marts.inventory_position`` whose SKU is a
product that is not a bundle and has a supplier in ``core.suppliers`` (bundles are not
ordered, their components are).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from assets.warehouse import row_count, table_exists
from assets.warehouse.sql_files import read_model, sql_dir

SQL_DIR = sql_dir(__file__)

# what a forecast table written before level_cv and yearly_ratio existed stands for them
FORECAST_DEFAULTS = {"level_cv": 0.0, "yearly_ratio": 1.0}
FORECAST_SCHEMA = {"sku": pl.String, "date": pl.Date, "mean": pl.Float64, "vmr": pl.Float64,
                   "level_cv": pl.Float64, "yearly_ratio": pl.Float64}


def query(con: duckdb.DuckDBPyConnection, model: str, params: dict | None = None) -> pl.DataFrame:
    """The rows of ``sql/<model>.sql`` (a SELECT) as a frame."""
    return con.sql(read_model(SQL_DIR, model), params=params).pl()


def write_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame,
                params: dict | None = None) -> int:
    """Run ``sql/<name>.sql`` (``table`` = ``<schema>.<name>``), which writes ``table`` from
    ``frame`` registered as ``_frame``; the rows written."""
    con.register("_frame", frame.to_arrow())
    try:
        con.execute(read_model(SQL_DIR, table.split(".")[1]), params or {})
    finally:
        con.unregister("_frame")
    return row_count(con, table)


def policy_as_of(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The policy's "today": the inventory position's as-of day (the latest stock snapshot)."""
    if not table_exists(con, "marts", "inventory_position"):
        return None
    return query(con, "policy_as_of")["as_of"].item()


def latest_po_day(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The day of the latest purchase order (None without any)."""
    return query(con, "latest_po_day")["ordered_on"].item()


# ---------------------------------------------------------------------------------------------
# lead times
# ---------------------------------------------------------------------------------------------

def lead_time_inputs(con: duckdb.DuckDBPyConnection, since: dt.date | None):
    """``(purchase_orders, receipts, products, suppliers)`` frames for
    :func:`forecasting.policy.lead_time_stats`: PO lines ordered on or after ``since`` (all
    when None), their receipts, the non-bundle products with a supplier, the suppliers."""
    params = {"since": since or dt.date.min}
    return (query(con, "lead_time_purchase_orders", params),
            query(con, "lead_time_receipts", params),
            query(con, "lead_time_products"),
            query(con, "lead_time_suppliers"))


# ---------------------------------------------------------------------------------------------
# demand per location, stock to start from, inbound purchase orders
# ---------------------------------------------------------------------------------------------

def _scoped(con: duckdb.DuckDBPyConnection, model: str, params: dict | None = None) -> pl.DataFrame:
    """The rows of ``model``, which reads the policy's scope (the ``policy_scope`` view)."""
    con.execute(read_model(SQL_DIR, "policy_scope"))
    return query(con, model, params)


def location_shares(con: duckdb.DuckDBPyConnection, as_of: dt.date, days: int) -> pl.DataFrame:
    """``sku, location_id, shipped_units, share, share_source`` for every SKU × location in the
    policy's scope: the location's share of the SKU's units shipped in the ``days`` days up to
    ``as_of`` (bundles counted as components); an equal split over the SKU's locations when
    none of them shipped any (``share_source`` = ``equal_split``). Shares of a SKU sum to 1."""
    return _scoped(con, "location_shares", {"as_of": as_of, "days": days})


def read_forecast(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> pl.DataFrame:
    """``sku, date, mean, vmr, level_cv, yearly_ratio``: the demand forecast for the days after
    ``as_of`` (``level_cv`` 0 and ``yearly_ratio`` 1 in a forecast table written before they
    existed)."""
    forecast = query(con, "demand_forecast_after", {"as_of": as_of})
    missing = [pl.lit(value, pl.Float64).alias(name)
               for name, value in FORECAST_DEFAULTS.items() if name not in forecast.columns]
    return forecast.with_columns(missing).select(list(FORECAST_SCHEMA))


def start_units(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """``sku, location_id, start_units``: what the projection starts from, in units: on hand
    − allocated (will ship) − backorders (paid, waiting for stock); may be below 0."""
    return _scoped(con, "start_units")


def inbound(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> pl.DataFrame:
    """``sku, location_id, date, inbound_units``: open PO lines less what was received, by the
    day they are expected (``expected_at``; without one, order day + the learned lead time;
    overdue lines are expected the day after ``as_of``)."""
    con.execute(read_model(SQL_DIR, "open_po_lines"))
    return _scoped(con, "inbound_units", {"as_of": as_of})


def build_inbound_purchase_orders(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> int:
    """``marts.inbound_purchase_orders``: one row per open PO line with units still to come
    (the lines behind the projection's ``inbound_units``), late when expected before
    ``as_of``."""
    con.execute(read_model(SQL_DIR, "open_po_lines"))
    con.execute(read_model(SQL_DIR, "inbound_purchase_orders"), {"as_of": as_of})
    return row_count(con, "marts.inbound_purchase_orders")


# ---------------------------------------------------------------------------------------------
# the policy's inputs per SKU × location, and the policy table
# ---------------------------------------------------------------------------------------------

def policy_params(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """``sku, location_id, supplier_id, lead_time_mean_days, lead_time_sd_days,
    lead_time_source, review_period_days`` for the policy's scope (lead times from
    ``marts.lead_times``' SKU rows)."""
    return _scoped(con, "policy_params")


def policy_costs(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """``sku, case_pack, moq, unit_cost`` (base currency per unit, null when unknown): what a
    fill-rate target needs to value the stock it allocates and to size a SKU's cycle."""
    return query(con, "policy_costs")


def segments(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """``sku, abc, xyz`` from ``marts.demand_segments`` (empty when it was not built)."""
    if not table_exists(con, "marts", "demand_segments"):
        return pl.DataFrame(schema={"sku": pl.String, "abc": pl.String, "xyz": pl.String})
    return query(con, "demand_segments")


def build_policy(con: duckdb.DuckDBPyConnection, levels: pl.DataFrame, as_of: dt.date,
                 base_currency: str) -> int:
    """``marts.replenishment_policy`` from the computed ``levels`` (one row per SKU ×
    location: service level, lead time, demand and the three levels) joined with the position,
    master data, unit cost, projected stockout date and the supplier's order days."""
    return write_frame(con, "marts.replenishment_policy", levels,
                       {"as_of": as_of, "base_currency": base_currency})


def suggestion_lines(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The policy rows that need an order now: at or below the reorder point, order-up-to
    above the position, not discontinued by the time an order would arrive."""
    return query(con, "suggestion_lines")


def build_suggestions(con: duckdb.DuckDBPyConnection, lines: pl.DataFrame, *,
                      moq_overbuy_days: float = 30.0) -> int:
    """``marts.replenishment_suggestions`` from the sized lines (``suggestion_id`` = md5 of
    ``as_of|sku|location_id``: the same day's re-run keeps the ids).

    Beyond the sizing it adds ``days_of_cover_after_order`` ((inventory position + suggested
    units) ÷ mean daily demand, days from today; null without demand), ``moq_excess_units``
    (units the MOQ adds beyond the need rounded up to whole cases; 0 when the MOQ does not
    bind), ``moq_excess_days`` (the same in days of mean demand) and ``moq_overbuy`` (the
    excess is more than ``moq_overbuy_days`` days of demand, or any excess without demand),
    and the ``urgency`` label of :func:`forecasting.urgency.urgency_label` (critical, high,
    normal), which the Replenishment page shows and filters by."""
    from forecasting.urgency import urgency_label

    return write_frame(con, "marts.replenishment_suggestions", lines.with_columns(urgency_label()),
                       {"moq_overbuy_days": float(moq_overbuy_days)})
