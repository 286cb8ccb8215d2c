"""Inventory truth as Dagster assets: ledger, reconciliation, available-to-sell, channel feeds.

Thin on purpose: each asset opens the warehouse, runs one model through
``assets/inventory/models.py`` (its SQL in ``sql/<model>.sql``) and returns metadata a person
wants (rows, a preview, files written), read from its table by column name. The SQL is tested
without Dagster in ``tests/inventory``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import dagster as dg

from assets.inventory import models
from assets.inventory.config import (
    allocation_settings,
    channel_buffer_overrides,
    reconciliation_settings,
)
from assets.inventory.feeds import feed_files_frame, write_channel_feeds
from assets.metadata import query_md as preview
from assets.resources import SettingsResource
from assets.warehouse import WAREHOUSE_POOL, WarehouseResource, core, mart

if TYPE_CHECKING:
    import duckdb

GROUP = "inventory"
KINDS = {"duckdb"}


STOCK_LEDGER = mart("stock_ledger")
RECONCILIATION = mart("reconciliation")
RECORD_ACCURACY = mart("inventory_record_accuracy")
STOCK_ON_HAND = mart("stock_on_hand")
ORDER_ALLOCATIONS = mart("order_allocations")
ATS_BY_SKU_LOCATION = mart("ats_by_sku_location")
ATS_BY_SKU_CHANNEL = mart("ats_by_sku_channel")
INVENTORY_POSITION = mart("inventory_position")
OVERSELL_RISK = mart("oversell_risk")
OVERSELL_EVENTS = mart("oversell_events")
ORDER_EXCEPTIONS = mart("order_exceptions")
CHANNEL_FEEDS = dg.AssetKey(["outbox", "channel_feeds"])

RECONCILIATION_KEYS = [STOCK_LEDGER, RECONCILIATION, RECORD_ACCURACY]


def _asset(key: dg.AssetKey, deps: list[dg.AssetKey], **kwargs):
    return dg.asset(key=key, deps=deps, group_name=GROUP, kinds=KINDS, pool=WAREHOUSE_POOL, **kwargs)


def _summary(con: duckdb.DuckDBPyConnection, query: str) -> dict:
    """The one row of an aggregate ``query`` by column name (a column added to the SELECT
    cannot shift the others)."""
    return con.sql(query).pl().row(0, named=True)


@_asset(STOCK_LEDGER, [core(e) for e in ("receipts", "fulfillment_events", "returns",
                                        "stock_adjustments", "stock_snapshots",
                                        "bundle_components", "order_lines", "channel_locations")])
def stock_ledger(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Movement ledger per SKU × location × day (units in/out, book opening and closing)."""
    with warehouse.connect() as con:
        rows = models.build_stock_ledger(con)
        totals = _summary(con, """
            SELECT count(DISTINCT (sku, location_id)) AS sku_locations,
                   min(day) AS first_day, max(day) AS last_day,
                   coalesce(sum(received), 0) AS received, coalesce(sum(shipped), 0) AS shipped,
                   coalesce(sum(returned), 0) AS returned,
                   coalesce(sum(transferred + adjusted), 0) AS adjusted_net
            FROM marts.stock_ledger""")
        top = preview(con, """SELECT day, location_id, sku, opening_units, received, shipped,
                                     returned, transferred, adjusted, closing_units, snapshot_on_hand
                              FROM marts.stock_ledger ORDER BY day DESC, abs(net_change) DESC
                              LIMIT 10""")
    return dg.MaterializeResult(metadata={
        "dagster/row_count": rows,
        "sku_locations": totals["sku_locations"],
        "first_day": str(totals["first_day"]), "last_day": str(totals["last_day"]),
        "units_received": int(totals["received"]), "units_shipped": int(totals["shipped"]),
        "units_returned_resellable": int(totals["returned"]),
        "units_adjusted_net": int(totals["adjusted_net"]),
        "latest_days": top,
    })


@_asset(RECONCILIATION, [STOCK_LEDGER] + [core(e) for e in ("stock_snapshots", "products",
                                                            "fx_rates", "receipts",
                                                            "fulfillment_events",
                                                            "stock_adjustments",
                                                            "bundle_components")])
def reconciliation(warehouse: WarehouseResource, shelfwise: SettingsResource) -> dg.MaterializeResult:
    """Each snapshot against the book since the previous one: difference, value, likely cause."""
    settings = shelfwise.settings
    rec = reconciliation_settings(settings)
    with warehouse.connect() as con:
        rows = models.build_reconciliation(con, rec, settings.base_currency)
        latest = _summary(con, """
            SELECT max(snapshot_date) AS snapshot_date,
                   count(*) FILTER (WHERE NOT within_tolerance) AS out_of_tolerance,
                   coalesce(sum(abs(difference_value_base)) FILTER (WHERE NOT within_tolerance), 0)
                       AS out_of_tolerance_value_base
            FROM marts.reconciliation
            WHERE snapshot_date = (SELECT max(snapshot_date) FROM marts.reconciliation)""")
        causes = preview(con, """SELECT likely_cause, count(*) AS rows,
                                        count(*) FILTER (WHERE NOT within_tolerance) AS out_of_tolerance,
                                        sum(difference_units) AS net_units,
                                        round(sum(difference_value_base), 2) AS net_value_base
                                 FROM marts.reconciliation WHERE difference_units <> 0
                                 GROUP BY ALL ORDER BY rows DESC""")
        worst = preview(con, """SELECT snapshot_date, location_id, sku, expected_on_hand,
                                       counted_on_hand, difference_units,
                                       round(difference_value_base, 2) AS value_base,
                                       likely_cause, cause_reference
                                FROM marts.reconciliation
                                WHERE NOT within_tolerance
                                  AND snapshot_date = (SELECT max(snapshot_date) FROM marts.reconciliation)
                                ORDER BY abs(difference_value_base) DESC NULLS LAST LIMIT 10""")
    return dg.MaterializeResult(metadata={
        "dagster/row_count": rows,
        "latest_snapshot_date": str(latest["snapshot_date"]),
        "latest_out_of_tolerance": int(latest["out_of_tolerance"]),
        f"latest_out_of_tolerance_value_{settings.base_currency}":
            float(latest["out_of_tolerance_value_base"]),
        "tolerance": f"{rec.tolerance_units} units or {rec.tolerance_pct:.1%} of expected",
        "causes": causes,
        "latest_discrepancies": worst,
    })


@_asset(RECORD_ACCURACY, [RECONCILIATION])
def inventory_record_accuracy(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Share of SKU-locations within tolerance per snapshot day and location."""
    with warehouse.connect() as con:
        rows = models.build_record_accuracy(con)
        latest = models.latest_accuracy(con)
        table = preview(con, """SELECT snapshot_date, location_id, sku_locations, within_tolerance,
                                       round(accuracy, 4) AS accuracy,
                                       round(abs_difference_value_base, 2) AS abs_value_base
                                FROM marts.inventory_record_accuracy
                                ORDER BY snapshot_date DESC, location_id LIMIT 15""")
    meta = {"dagster/row_count": rows, "recent": table}
    if latest:
        meta |= {"latest_snapshot_date": str(latest["snapshot_date"]),
                 "latest_accuracy": float(latest["accuracy"])}
    return dg.MaterializeResult(metadata=meta)


@dg.asset_check(asset=RECORD_ACCURACY, blocking=False, pool=WAREHOUSE_POOL,
                description="Fails (ERROR) when a location's accuracy on the latest snapshot day "
                            "is below [reconciliation] min_accuracy.")
def record_accuracy_above_minimum(
    warehouse: WarehouseResource, shelfwise: SettingsResource
) -> dg.AssetCheckResult:
    """Inventory record accuracy on the latest snapshot day at or above min_accuracy everywhere."""
    minimum = reconciliation_settings(shelfwise.settings).min_accuracy
    with warehouse.connect() as con:
        latest = models.latest_accuracy(con)
    if latest is None:
        return dg.AssetCheckResult(
            passed=True, severity=dg.AssetCheckSeverity.WARN,
            metadata={"reason": "no reconciled snapshot yet (needs two snapshot days)",
                      "min_accuracy": minimum},
        )
    below = [loc for loc in latest["by_location"] if loc["accuracy"] < minimum]
    lines = ["| location | sku-locations | within tolerance | accuracy |", "|---|---|---|---|"]
    lines += [f"| {loc['location_id']} | {loc['sku_locations']} | {loc['within_tolerance']} | "
              f"{loc['accuracy']:.2%} |" for loc in latest["by_location"]]
    return dg.AssetCheckResult(
        passed=not below,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "snapshot_date": str(latest["snapshot_date"]),
            "accuracy": float(latest["accuracy"]),
            "min_accuracy": minimum,
            "sku_locations": latest["sku_locations"],
            "within_tolerance": latest["within_tolerance"],
            "locations_below": ", ".join(loc["location_id"] for loc in below) or "none",
            "worst_location_accuracy": float(latest["by_location"][0]["accuracy"]),
            "by_location": dg.MetadataValue.md("\n".join(lines)),
        },
    )


@_asset(STOCK_ON_HAND, [STOCK_LEDGER, core("stock_snapshots")])
def stock_on_hand(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Units on hand now per SKU × location: latest snapshot plus movements recorded after it."""
    with warehouse.connect() as con:
        rows = models.build_stock_on_hand(con)
        stats = _summary(con, """
            SELECT max(as_of) AS as_of, coalesce(sum(on_hand_units), 0) AS on_hand,
                   coalesce(sum(reserved_units), 0) AS reserved,
                   count(*) FILTER (WHERE on_hand_units < 0) AS negative
            FROM marts.stock_on_hand""")
    return dg.MaterializeResult(metadata={
        "dagster/row_count": rows, "as_of": str(stats["as_of"]),
        "units_on_hand": int(stats["on_hand"]), "units_reserved": int(stats["reserved"]),
        "negative_book_on_hand": int(stats["negative"]),
    })


@_asset(ORDER_ALLOCATIONS, [STOCK_ON_HAND] + [core(e) for e in ("stock_snapshots", "order_lines",
                                                               "fulfillment_events",
                                                               "channel_locations",
                                                               "bundle_components")])
def order_allocations(warehouse: WarehouseResource, shelfwise: SettingsResource) -> dg.MaterializeResult:
    """Units each open order line holds per SKU and location (paid first, unpaid within window)."""
    alloc = allocation_settings(shelfwise.settings)
    with warehouse.connect() as con:
        rows = models.build_order_allocations(con, alloc)
        stats = _summary(con, """
            SELECT count(DISTINCT (channel_id, order_id, line_id)) AS open_lines,
                   coalesce(sum(units), 0) AS allocated,
                   coalesce(sum(units) FILTER (WHERE NOT is_paid), 0) AS held_by_unpaid,
                   coalesce(sum(shortfall_units), 0) AS short
            FROM marts.order_allocations""")
    return dg.MaterializeResult(metadata={
        "dagster/row_count": rows, "open_lines": stats["open_lines"],
        "units_allocated": int(stats["allocated"]),
        "units_held_by_unpaid_lines": int(stats["held_by_unpaid"]),
        "units_short": int(stats["short"]),
        "payment_window_hours": alloc.payment_window_hours,
    })


@_asset(ATS_BY_SKU_LOCATION, [ORDER_ALLOCATIONS, STOCK_ON_HAND, core("stock_snapshots"),
                              core("bundle_components")])
def ats_by_sku_location(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Available to sell per SKU × location: on hand − allocated − reserved, never below 0."""
    with warehouse.connect() as con:
        rows = models.build_ats_by_sku_location(con)
        stats = _summary(con, """
            SELECT max(as_of) AS as_of,
                   coalesce(sum(ats_units) FILTER (WHERE NOT is_bundle), 0) AS available,
                   count(*) FILTER (WHERE ats_units = 0 AND NOT is_bundle) AS at_zero
            FROM marts.ats_by_sku_location""")
    return dg.MaterializeResult(metadata={
        "dagster/row_count": rows, "as_of": str(stats["as_of"]),
        "units_available": int(stats["available"]), "sku_locations_at_zero": stats["at_zero"],
    })


@_asset(ATS_BY_SKU_CHANNEL, [ATS_BY_SKU_LOCATION, core("channels"), core("channel_locations"),
                             core("bundle_components")])
def ats_by_sku_channel(warehouse: WarehouseResource, shelfwise: SettingsResource) -> dg.MaterializeResult:
    """Available to sell per channel × SKU: serving locations' ATS − safety buffer, never below 0."""
    overrides = channel_buffer_overrides(shelfwise.settings)
    with warehouse.connect() as con:
        rows = models.build_ats_by_sku_channel(con, overrides)
        table = preview(con, """SELECT channel_id, count(*) AS skus,
                                       count(*) FILTER (WHERE ats_units > 0) AS skus_available,
                                       sum(ats_units) AS units_available,
                                       sum(safety_buffer_units) AS units_buffered
                                FROM marts.ats_by_sku_channel GROUP BY ALL ORDER BY channel_id""")
        as_of = _summary(con, "SELECT max(as_of) AS as_of FROM marts.ats_by_sku_channel")["as_of"]
    return dg.MaterializeResult(metadata={
        "dagster/row_count": rows, "as_of": str(as_of), "by_channel": table,
        "buffer_overrides": overrides.height,
    })


@_asset(INVENTORY_POSITION, [ORDER_ALLOCATIONS, STOCK_ON_HAND, core("stock_snapshots"),
                             core("purchase_orders"), core("receipts")])
def inventory_position(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Inventory position per SKU × location: on hand + on order − allocated − backorders."""
    with warehouse.connect() as con:
        rows = models.build_inventory_position(con)
        stats = _summary(con, """
            SELECT coalesce(sum(on_order_units), 0) AS on_order,
                   coalesce(sum(backorder_units), 0) AS backordered,
                   count(*) FILTER (WHERE inventory_position_units < 0) AS negative
            FROM marts.inventory_position""")
    return dg.MaterializeResult(metadata={
        "dagster/row_count": rows, "units_on_order": int(stats["on_order"]),
        "units_backordered": int(stats["backordered"]), "negative_positions": stats["negative"],
    })


@_asset(OVERSELL_RISK, [ATS_BY_SKU_CHANNEL, ATS_BY_SKU_LOCATION, core("channel_listings")])
def oversell_risk(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Channel listings showing more units than the channel's ATS."""
    with warehouse.connect() as con:
        rows = models.build_oversell_risk(con)
        top = preview(con, """SELECT channel_id, channel_sku, sku, listed_quantity, ats_units,
                                     excess_units FROM marts.oversell_risk LIMIT 10""")
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, "largest": top})


@_asset(OVERSELL_EVENTS, [STOCK_LEDGER, core("stock_snapshots"), core("order_lines"), core("channels"),
                          core("channel_locations"), core("bundle_components")])
def oversell_events(warehouse: WarehouseResource, shelfwise: SettingsResource) -> dg.MaterializeResult:
    """Order lines accepted on a day the channel's ATS for the SKU was 0 (approximation)."""
    overrides = channel_buffer_overrides(shelfwise.settings)
    with warehouse.connect() as con:
        rows = models.build_oversell_events(con, overrides)
        by_channel = preview(con, """SELECT channel_id, count(*) AS lines, sum(quantity) AS units,
                                            max(order_date) AS latest
                                     FROM marts.oversell_events GROUP BY ALL ORDER BY lines DESC""")
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, "by_channel": by_channel})


@_asset(ORDER_EXCEPTIONS, [ORDER_ALLOCATIONS, ATS_BY_SKU_LOCATION, core("order_lines"),
                           core("fulfillment_events"), core("channel_locations")])
def order_exceptions(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Order lines that need a person: unfillable paid lines, shipped-unpaid, no location."""
    with warehouse.connect() as con:
        rows = models.build_order_exceptions(con)
        by_kind = preview(con, """SELECT exception, count(*) AS lines FROM marts.order_exceptions
                                  GROUP BY ALL ORDER BY lines DESC""")
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, "by_exception": by_kind})


@_asset(CHANNEL_FEEDS, [ATS_BY_SKU_CHANNEL, core("channel_listings")])
def channel_feeds(warehouse: WarehouseResource, shelfwise: SettingsResource) -> dg.MaterializeResult:
    """One availability CSV per channel in the outbox, atomic, listed in the manifest."""
    outbox = shelfwise.settings.outbox
    with warehouse.connect() as con:
        feeds = write_channel_feeds(con, outbox)
    files = feed_files_frame(feeds, outbox)
    lines = ["| channel | file | rows | sha256 |", "|---|---|---|---|"]
    lines += [f"| {r['channel_id']} | {r['file']} | {r['rows']} | {r['sha256'][:12]}… |"
              for r in files.iter_rows(named=True)]
    return dg.MaterializeResult(metadata={
        "files": len(feeds),
        "new_manifest_entries": sum(f.new_in_manifest for f in feeds),
        "rows": sum(f.rows for f in feeds),
        "as_of": feeds[0].as_of if feeds else "",
        "outbox": dg.MetadataValue.path(str(outbox / "channel_feeds")),
        "written": dg.MetadataValue.md("\n".join(lines) if feeds else "_no feeds: no ATS yet_"),
    })


ASSETS = [
    stock_ledger, reconciliation, inventory_record_accuracy, stock_on_hand, order_allocations,
    ats_by_sku_location, ats_by_sku_channel, inventory_position, oversell_risk, oversell_events,
    order_exceptions, channel_feeds,
]
CHECKS = [record_accuracy_above_minimum]
