"""Replenishment as Dagster assets: lead times, projected stock, the policy, the suggestions.

Thin on purpose: the reads and writes are in :mod:`assets.replenishment.tables` (one
statement a file in ``assets/replenishment/sql/``), the numbers and the rules in
:mod:`forecasting.policy`, :mod:`forecasting.urgency` and
:mod:`forecasting.service_level_source`; each asset reads the warehouse, calls the library,
writes one ``marts`` table and reports what a planner wants to see. See
docs/replenishment.md.
"""

from __future__ import annotations

import datetime as dt
import time

import dagster as dg
import duckdb
import polars as pl

from assets.decisions.transfer_store import TransferDecisionStore
from assets.replenishment import tables, transfers
from assets.replenishment.config import ReplenishmentSettings, replenishment_settings
from assets.metadata import query_md as preview
from assets.resources import SettingsResource
from assets.warehouse import (
    WAREHOUSE_POOL, WarehouseResource, drop_table, replace_table, table_exists,
)

GROUP = "replenishment"
KINDS = {"duckdb", "polars"}

# the marts this group writes and reads, and the core entities it reads, by name
MARTS = {name: dg.AssetKey(["marts", name]) for name in (
    "lead_times", "projected_stock", "replenishment_policy", "replenishment_suggestions",
    "inbound_purchase_orders", "demand_forecast", "demand_segments", "inventory_position",
    "kpi_unit_cost_by_sku")}
CORE = {name: dg.AssetKey(["core", name]) for name in (
    "purchase_orders", "receipts", "products", "suppliers", "fulfillment_events",
    "bundle_components", "fx_rates")}
LEAD_TIMES = MARTS["lead_times"]
PROJECTED_STOCK = MARTS["projected_stock"]
POLICY = MARTS["replenishment_policy"]
SUGGESTIONS = MARTS["replenishment_suggestions"]
INBOUND_PURCHASE_ORDERS = MARTS["inbound_purchase_orders"]
TRANSFERS = dg.AssetKey(["marts", "transfer_suggestions"])


def _stats(con: duckdb.DuckDBPyConnection, query: str) -> dict:
    """The one row of a metadata ``query`` by column name (give every column an alias)."""
    return con.sql(query).pl().row(0, named=True)


def _nothing(con: duckdb.DuckDBPyConnection, table: str, why: str) -> dg.MaterializeResult:
    """Drop a table whose inputs are missing, so nobody reads yesterday's rows as today's."""
    drop_table(con, f"marts.{table}")
    return dg.MaterializeResult(metadata={"dagster/row_count": 0, "note": why})


NO_POSITION = "no marts.inventory_position yet: run the inventory assets first"


def _asset(key: dg.AssetKey, deps: list[dg.AssetKey], **kwargs):
    return dg.asset(key=key, deps=deps, group_name=GROUP, kinds=KINDS, pool=WAREHOUSE_POOL,
                    **kwargs)


# the policy's "today" (tables.policy_as_of) is the inventory position's as-of day: without this
# dep a re-run computed lead times from the previous run's position (issue #20, item 6)
@_asset(LEAD_TIMES, [MARTS["inventory_position"]]
        + [CORE[e] for e in ("purchase_orders", "receipts", "products", "suppliers")])
def lead_times(warehouse: WarehouseResource, shelfwise: SettingsResource) -> dg.MaterializeResult:
    """Lead time per supplier and SKU learned from PO → receipt history; master data as fallback."""
    from forecasting.policy import lead_time_stats

    rs = replenishment_settings(shelfwise.settings)
    with warehouse.connect() as con:
        as_of = tables.policy_as_of(con) or tables.latest_po_day(con)
        since = as_of - dt.timedelta(days=rs.lead_time_history_days) if as_of else None
        table = lead_time_stats(*tables.lead_time_inputs(con, since), min_lines=rs.min_po_lines)
        rows = replace_table(con, "marts.lead_times", table)
        by_source = preview(con, """SELECT source, count(*) FILTER (WHERE sku IS NULL) AS suppliers,
                                           count(*) FILTER (WHERE sku IS NOT NULL) AS skus,
                                           round(avg(lead_time_mean_days), 1) AS mean_days
                                    FROM marts.lead_times GROUP BY ALL ORDER BY source""")
        suppliers = preview(con, """SELECT supplier_id, po_lines, round(lead_time_mean_days, 1) AS mean_days,
                                           round(lead_time_sd_days, 1) AS sd_days,
                                           round(on_time_rate, 3) AS on_time_rate,
                                           round(short_shipped_share, 3) AS short_shipped_share, source
                                    FROM marts.lead_times WHERE sku IS NULL ORDER BY supplier_id""")
    return dg.MaterializeResult(metadata={
        "dagster/row_count": rows, "history_since": str(since),
        "min_po_lines": rs.min_po_lines, "by_source": by_source, "suppliers": suppliers,
    })


def _forecast_by_location(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, rs: ReplenishmentSettings
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """``(split forecast, shares, SKU forecast)``: the SKU forecast after ``as_of`` split over
    locations, the shares it was split by, and the forecast itself."""
    from forecasting.policy import split_forecast

    shares = tables.location_shares(con, as_of, rs.demand_share_days)
    forecast = (tables.read_forecast(con, as_of)
                if table_exists(con, "marts", "demand_forecast")
                else pl.DataFrame(schema=tables.FORECAST_SCHEMA))
    return split_forecast(forecast, shares), shares, forecast


@_asset(PROJECTED_STOCK, [LEAD_TIMES, MARTS["demand_forecast"], MARTS["inventory_position"]]
        + [CORE[e] for e in ("purchase_orders", "receipts", "fulfillment_events",
                             "bundle_components", "products", "suppliers")])
def projected_stock(warehouse: WarehouseResource, shelfwise: SettingsResource) -> dg.MaterializeResult:
    """Projected on hand per SKU × location, day by day: stock, inbound POs, median demand."""
    from forecasting.policy import project_stock

    rs = replenishment_settings(shelfwise.settings)
    with warehouse.connect() as con:
        as_of = tables.policy_as_of(con)
        if as_of is None:
            return _nothing(con, "projected_stock", NO_POSITION)
        split, _, _ = _forecast_by_location(con, as_of, rs)
        last = as_of + dt.timedelta(days=rs.horizon_days)
        split = split.filter(pl.col("date") <= last)
        # the forecast's own horizon limits the projection: beyond it demand is unknown, not 0
        end = split["date"].max() if split.height else last
        days = [as_of + dt.timedelta(days=i) for i in range(1, (end - as_of).days + 1)]
        table = project_stock(split, tables.start_units(con), tables.inbound(con, as_of),
                              days=days)
        table = table.select(pl.lit(as_of).alias("as_of"), pl.all())
        rows = replace_table(con, "marts.projected_stock", table)
        stats = _stats(con, """
            SELECT count(DISTINCT (sku, location_id)) AS sku_locations,
                   count(DISTINCT (sku, location_id)) FILTER (WHERE projected_on_hand_units <= 0
                                                               AND demand_units > 0)
                       AS sku_locations_running_out,
                   coalesce(sum(inbound_units), 0) AS inbound_units
            FROM marts.projected_stock""")
    return dg.MaterializeResult(metadata={
        "dagster/row_count": rows, "as_of": str(as_of), "days": len(days),
        "sku_locations": stats["sku_locations"],
        "sku_locations_running_out": stats["sku_locations_running_out"],
        "inbound_units": int(stats["inbound_units"]),
    })


@_asset(INBOUND_PURCHASE_ORDERS, [LEAD_TIMES, MARTS["inventory_position"]]
        + [CORE[e] for e in ("purchase_orders", "receipts", "suppliers")])
def inbound_purchase_orders(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Open purchase order lines with units still to come, late ones flagged (the drill-down's
    inbound POs; the same lines as the projection's inbound units)."""
    with warehouse.connect() as con:
        as_of = tables.policy_as_of(con)
        if as_of is None:
            return _nothing(con, "inbound_purchase_orders", NO_POSITION)
        rows = tables.build_inbound_purchase_orders(con, as_of)
        stats = _stats(con, """SELECT count(*) FILTER (WHERE is_late) AS late_lines,
                                      coalesce(sum(units_inbound), 0) AS inbound_units
                               FROM marts.inbound_purchase_orders""")
        most_late = preview(con, """SELECT po_number, supplier_id, sku, location_id,
                                           expected_date, units_inbound, days_late
                                    FROM marts.inbound_purchase_orders WHERE is_late
                                    ORDER BY days_late DESC, po_number LIMIT 10""")
    return dg.MaterializeResult(metadata={
        "dagster/row_count": rows, "as_of": str(as_of), "late_lines": stats["late_lines"],
        "inbound_units": int(stats["inbound_units"]), "most_late": most_late,
    })


def _policy_frame(con: duckdb.DuckDBPyConnection, as_of: dt.date,
                  rs: ReplenishmentSettings) -> tuple[pl.DataFrame, float]:
    """The policy's rows per SKU × location (the service level and where it came from, the
    lead time, the levels, the demand share and the season) and the Monte Carlo's seconds."""
    from forecasting.policy import policy_levels, season_ratio, service_levels
    from forecasting.service_level_source import levels_to_choose, service_level_sources

    split, shares, forecast = _forecast_by_location(con, as_of, rs)
    params = tables.policy_params(con)
    # every SKU in scope gets a level; one without demand history (no segment) counts as
    # C and Z, the least protected cell, unless a per-SKU override names it
    segments = params.select("sku").unique().join(tables.segments(con), on="sku", how="left")
    params = params.join(
        service_levels(segments, rs.service_levels, rs.sku_service_levels), on="sku", how="left")
    target = rs.fill_rate_target or None
    inputs = levels_to_choose(params, target)
    if target:  # the fill-rate target values the stock it allocates
        inputs = inputs.join(tables.policy_costs(con), on="sku", how="left")
    started = time.perf_counter()
    numbers = policy_levels(split, inputs, n_sims=rs.n_sims, seed=rs.seed,
                            fill_rate_target=target,
                            cycle_stock_reviews=rs.cycle_stock_reviews)
    seconds = time.perf_counter() - started
    params = service_level_sources(params, target)
    frame = (params.drop("service_level").join(numbers, on=["sku", "location_id"], how="left")
             .join(shares.select("sku", "location_id", pl.col("share").alias("demand_share"),
                                 "share_source"), on=["sku", "location_id"], how="left")
             # the reason names a seasonal lift over the order's window
             .join(season_ratio(forecast, params), on=["sku", "location_id"], how="left"))
    return frame, seconds


@_asset(POLICY, [PROJECTED_STOCK, LEAD_TIMES]
        + [MARTS[m] for m in ("demand_forecast", "demand_segments", "inventory_position",
                              "kpi_unit_cost_by_sku")]
        + [CORE[e] for e in ("products", "suppliers", "fx_rates", "bundle_components",
                             "fulfillment_events")])
def replenishment_policy(context, warehouse: WarehouseResource,
                         shelfwise: SettingsResource) -> dg.MaterializeResult:
    """Per SKU × location: service level, lead time, safety stock, reorder point, order-up-to."""
    settings = shelfwise.settings
    rs = replenishment_settings(settings)
    with warehouse.connect() as con:
        as_of = tables.policy_as_of(con)
        if as_of is None:
            return _nothing(con, "replenishment_policy", NO_POSITION)
        frame, seconds = _policy_frame(con, as_of, rs)
        rows = tables.build_policy(con, frame, as_of, settings.base_currency)
        stats = _stats(con, """
            SELECT count(*) FILTER (WHERE needs_order) AS needs_order,
                   count(*) FILTER (WHERE below_reorder_point) AS below_reorder_point,
                   count(*) FILTER (WHERE is_discontinued) AS discontinued,
                   count(*) FILTER (WHERE projected_stockout_date IS NOT NULL)
                       AS projected_stockouts,
                   coalesce(sum(safety_stock_units * unit_cost_base), 0) AS safety_stock_value
            FROM marts.replenishment_policy""")
        sample = preview(con, """SELECT sku, location_id, abc_class || xyz_class AS cell, service_level,
                                        round(lead_time_mean_days, 1) AS lt_days, review_period_days AS r_days,
                                        round(mean_daily_demand_units, 2) AS daily, round(safety_stock_units, 1) AS ss,
                                        reorder_point_units AS rop, order_up_to_units AS oul,
                                        inventory_position_units AS ip, projected_stockout_date
                                 FROM marts.replenishment_policy WHERE needs_order
                                 ORDER BY projected_stockout_date NULLS LAST, sku LIMIT 10""")
    unknown = sorted(set(rs.sku_service_levels) - set(frame["sku"].to_list()))
    if unknown:
        context.log.warning(f"[replenishment.sku_service_levels] names SKU(s) the policy does not "
                            f"cover: {', '.join(unknown[:10])}")
    target = rs.fill_rate_target or None
    return dg.MaterializeResult(metadata={
        "dagster/row_count": rows, "as_of": str(as_of), "needs_order": stats["needs_order"],
        "below_reorder_point": stats["below_reorder_point"],
        "discontinued": stats["discontinued"],
        "projected_stockouts": stats["projected_stockouts"],
        f"safety_stock_value_{settings.base_currency}": round(float(stats["safety_stock_value"]), 2),
        "monte_carlo_seconds": round(seconds, 2), "n_sims": rs.n_sims,
        "service_levels_from": (f"pooled fill-rate target {target:g}" if target
                                else "ABC × XYZ matrix"),
        "unknown_override_skus": len(unknown), "needing_an_order": sample,
    })


def _sized_suggestions(lines: pl.DataFrame, rs: ReplenishmentSettings) -> pl.DataFrame:
    """Urgency rank, order sizes, reason codes and the reason sentence for the lines needing
    an order, most urgent first."""
    from forecasting.policy import reason_codes, reason_text, size_orders
    from forecasting.urgency import rank_by_urgency, stockout_before_arrival

    ranked = rank_by_urgency(lines).with_columns(
        pl.concat_str([pl.col("supplier_id"), pl.col("order_date").cast(pl.String)],
                      separator="|").alias("order_group"),
    )
    sized = size_orders(ranked, max_coverage_days=rs.max_coverage_days)
    sized = sized.with_columns(
        stockout_before_arrival(),
        pl.lit(rs.max_coverage_days).alias("max_coverage_days"),
        pl.lit(rs.fill_rate_target).alias("fill_rate_target"),
    )
    return sized.with_columns(
        reason_codes(sized), reason_text(sized)
    ).sort("urgency_rank")


@_asset(TRANSFERS, [POLICY])
def transfer_suggestions(warehouse: WarehouseResource,
                         shelfwise: SettingsResource) -> dg.MaterializeResult:
    """Transfers before purchases: spare stock of one location to another below its reorder point."""
    settings = shelfwise.settings
    ts = replenishment_settings(settings).transfers
    with warehouse.connect() as con:
        if not table_exists(con, "marts", "replenishment_policy"):
            return _nothing(con, "transfer_suggestions", "no replenishment policy yet")
        # sent transfers still on their way (the transfer decision store, never the
        # purchase decisions): neither suggested again nor bought for
        store = TransferDecisionStore(settings.home)
        rows = transfers.build_transfers(con, ts, store.latest() if store.path.exists() else [])
        stats = _stats(con, """
            SELECT count(DISTINCT sku) AS skus, coalesce(sum(transfer_units), 0) AS units,
                   coalesce(sum(stock_value_base), 0) AS stock_value,
                   coalesce(sum(transfer_cost_base), 0) AS transfer_cost
            FROM marts.transfer_suggestions""")
        lines = preview(con, """SELECT sku, from_location_id, to_location_id, transfer_units,
                                       expected_arrival_date, reason
                                FROM marts.transfer_suggestions LIMIT 10""")
    return dg.MaterializeResult(metadata={
        "dagster/row_count": rows, "enabled": ts.enabled, "skus": stats["skus"],
        "units": int(stats["units"]),
        f"stock_value_{settings.base_currency}": round(float(stats["stock_value"]), 2),
        f"transfer_cost_{settings.base_currency}": round(float(stats["transfer_cost"]), 2),
        "default_lead_time_days": ts.lead_time_days, "lanes": len(ts.lanes), "first": lines,
    })


@_asset(SUGGESTIONS, [POLICY, PROJECTED_STOCK, TRANSFERS])
def replenishment_suggestions(warehouse: WarehouseResource,
                              shelfwise: SettingsResource) -> dg.MaterializeResult:
    """What to order now per SKU × location: packs, MOQ, min order value, cap, with reasons."""
    settings = shelfwise.settings
    rs = replenishment_settings(settings)
    with warehouse.connect() as con:
        if not table_exists(con, "marts", "replenishment_policy"):
            return _nothing(con, "replenishment_suggestions", "no replenishment policy yet")
        # what transfers do not cover is bought (assets/replenishment/transfers.py)
        lines = transfers.purchase_lines(con)
        rows = tables.build_suggestions(
            con, transfers.note_transfers(_sized_suggestions(lines, rs)),
            moq_overbuy_days=rs.moq_overbuy_days)
        stats = _stats(con, """
            SELECT count(DISTINCT supplier_id) AS suppliers,
                   coalesce(sum(suggested_units), 0) AS units,
                   coalesce(sum(line_value_base), 0) AS value,
                   count(*) FILTER (WHERE projected_stockout_date < expected_arrival_date)
                       AS stockout_before_arrival,
                   count(*) FILTER (WHERE reason_codes LIKE '%min_order_value_topup%')
                       AS topped_up_lines,
                   count(DISTINCT supplier_id) FILTER (WHERE order_below_min_value)
                       AS orders_below_min_value
            FROM marts.replenishment_suggestions""")
        by_supplier = preview(con, """SELECT supplier_id, order_date, count(*) AS lines,
                                             sum(suggested_units) AS units, any_value(currency) AS currency,
                                             round(sum(line_value), 2) AS order_value,
                                             any_value(min_order_value) AS min_order_value,
                                             round(sum(line_value_base), 2) AS value_base
                                      FROM marts.replenishment_suggestions
                                      GROUP BY supplier_id, order_date ORDER BY order_date, supplier_id""")
        urgent = preview(con, """SELECT urgency_rank, urgency, sku, location_id, suggested_units, reason
                                 FROM marts.replenishment_suggestions ORDER BY urgency_rank LIMIT 10""")
    return dg.MaterializeResult(metadata={
        "dagster/row_count": rows, "suppliers": stats["suppliers"], "units": int(stats["units"]),
        f"value_{settings.base_currency}": round(float(stats["value"]), 2),
        "stockout_before_arrival": stats["stockout_before_arrival"],
        "topped_up_lines": stats["topped_up_lines"],
        "orders_below_min_value": stats["orders_below_min_value"],
        "by_supplier_order": by_supplier, "most_urgent": urgent,
    })


@dg.asset_check(asset=SUGGESTIONS, blocking=False, pool=WAREHOUSE_POOL,
                description="Every SKU × location that needs an order and is not served by a "
                            "transfer has a suggestion with a reason and a projected-stock line.")
def every_needed_order_is_suggested(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    """Suggestions cover the policy's needs_order rows, each with reason and projected stock."""
    with warehouse.connect() as con:
        if not table_exists(con, "marts", "replenishment_suggestions"):
            return dg.AssetCheckResult(passed=True, severity=dg.AssetCheckSeverity.WARN,
                                       metadata={"reason": "no suggestions table (no policy yet)"})
        missing = transfers.unserved_needs(con)
        stats = _stats(con, """
            SELECT (SELECT count(*) FROM marts.replenishment_suggestions
                    WHERE coalesce(reason, '') = '' OR coalesce(reason_codes, '') = '')
                       AS without_reason,
                   (SELECT count(*) FROM marts.replenishment_suggestions AS s
                    WHERE NOT EXISTS (SELECT 1 FROM marts.projected_stock AS ps
                                      WHERE ps.sku = s.sku AND ps.location_id = s.location_id))
                       AS without_projected_stock""")
    return dg.AssetCheckResult(
        passed=missing == 0 and stats["without_reason"] == 0
        and stats["without_projected_stock"] == 0,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"needs_order_without_suggestion": missing, **stats},
    )


ASSETS = [lead_times, projected_stock, replenishment_policy, replenishment_suggestions,
          inbound_purchase_orders, transfer_suggestions]
CHECKS = [every_needed_order_is_suggested]
