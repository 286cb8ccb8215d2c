"""The inventory SQL on hand-built warehouses: one story per test, numbers checked by hand."""

from __future__ import annotations

import polars as pl
import pytest

from assets.inventory import models
from assets.inventory.config import AllocationSettings, ReconciliationSettings
from inventory_builder import (
    adjustment, at, channel, day, insert, new_warehouse, order_line, product, receipt,
    resellable_return, shipment, shirt_story, snapshot,
)


def one(con, query, params=None):
    return con.execute(query, params or []).fetchall()


@pytest.fixture
def con():
    c = new_warehouse()
    yield c
    c.close()


def basic_world(con, channels=("shop",), locations=("WH1",)):
    insert(con, "locations", [{"location_id": l, "name": l, "location_type": "warehouse"} for l in locations])
    insert(con, "channels", [channel(c) for c in channels])
    insert(con, "channel_locations", [
        {"channel_id": c, "location_id": l, "priority": i + 1}
        for c in channels for i, l in enumerate(locations)
    ])


# ---------------------------------------------------------------- available to sell


def test_500_shirts_6_on_etsy_10_on_ebay_every_channel_shows_484(con):
    shirt_story(con)
    models.build_all(con)
    rows = one(con, "SELECT channel_id, ats_units FROM marts.ats_by_sku_channel ORDER BY 1")
    assert rows == [("ebay", 484), ("etsy", 484), ("shop", 484)]
    assert one(con, "SELECT on_hand_units, allocated_units, ats_units FROM marts.ats_by_sku_location") == [(500, 16, 484)]


def test_a_shipment_after_the_snapshot_moves_units_from_allocated_to_shipped(con):
    shirt_story(con)
    etsy_line = one(con, "SELECT channel_id, order_id, line_id, sku, quantity FROM core.order_lines WHERE channel_id = 'etsy'")[0]
    line = dict(zip(["channel_id", "order_id", "line_id", "sku", "quantity"], etsy_line))
    insert(con, "fulfillment_events", [shipment(line, 1, "WH1")])
    models.build_all(con)
    assert one(con, "SELECT on_hand_units, allocated_units, ats_units FROM marts.ats_by_sku_location") == [(494, 10, 484)]


def test_cancelled_shipped_and_stale_unpaid_lines_hold_nothing(con):
    basic_world(con)
    insert(con, "products", [product("A")])
    insert(con, "stock_snapshots", [snapshot(10, "A", "WH1", 100)])
    insert(con, "order_lines", [
        order_line("shop", "A", 5, n=10, status="cancelled", cancelled=True),
        order_line("shop", "A", 7, n=9, status="shipped", shipped=True),
        order_line("shop", "A", 11, n=10, status="placed", paid=False),  # within 72 h: holds
        order_line("shop", "A", 13, n=5, status="placed", paid=False),   # 5 days old: released
    ])
    models.build_all(con, alloc=AllocationSettings(payment_window_hours=72))
    assert one(con, "SELECT allocated_units, ats_units FROM marts.ats_by_sku_location") == [(11, 89)]
    models.build_all(con, alloc=AllocationSettings(payment_window_hours=24 * 6))
    assert one(con, "SELECT allocated_units FROM marts.ats_by_sku_location") == [(24,)]


def test_partly_shipped_line_holds_only_its_open_units(con):
    basic_world(con)
    insert(con, "products", [product("A")])
    insert(con, "stock_snapshots", [snapshot(0, "A", "WH1", 50)])
    line = order_line("shop", "A", 10, n=0, location="WH1")
    insert(con, "order_lines", [line])
    insert(con, "fulfillment_events", [shipment(line, 1, "WH1", qty=4)])
    models.build_all(con)
    assert one(con, "SELECT on_hand_units, allocated_units, ats_units FROM marts.ats_by_sku_location") == [(46, 6, 40)]


def test_line_without_location_is_allocated_to_the_channels_first_location(con):
    basic_world(con, locations=("WH1", "WH2"))
    con.execute("UPDATE core.channel_locations SET priority = 3 - priority")  # WH2 first now
    insert(con, "products", [product("A")])
    insert(con, "stock_snapshots", [snapshot(0, "A", "WH1", 10), snapshot(0, "A", "WH2", 10)])
    insert(con, "order_lines", [order_line("shop", "A", 4, n=0)])
    models.build_all(con)
    assert one(con, "SELECT location_id, location_source FROM marts.order_allocations") == [("WH2", "channel priority")]
    assert one(con, "SELECT location_id, ats_units FROM marts.ats_by_sku_location ORDER BY 1") == [("WH1", 10), ("WH2", 6)]


def test_reserved_units_are_not_sellable_and_ats_never_goes_below_zero(con):
    basic_world(con)
    insert(con, "products", [product("A"), product("B")])
    insert(con, "stock_snapshots", [snapshot(0, "A", "WH1", 20, reserved=5), snapshot(0, "B", "WH1", 3)])
    insert(con, "order_lines", [order_line("shop", "B", 8, n=0)])
    models.build_all(con)
    assert one(con, "SELECT sku, ats_units FROM marts.ats_by_sku_location ORDER BY 1") == [("A", 15), ("B", 0)]


def test_channel_safety_buffer_fixed_or_percent_whichever_is_larger_and_toml_overrides(con):
    basic_world(con, channels=("fixed", "pct", "both"))
    con.execute("UPDATE core.channels SET safety_buffer_units = 3 WHERE channel_id IN ('fixed', 'both')")
    con.execute("UPDATE core.channels SET safety_buffer_pct = 0.25 WHERE channel_id IN ('pct', 'both')")
    insert(con, "products", [product("A")])
    insert(con, "stock_snapshots", [snapshot(0, "A", "WH1", 10)])
    models.build_all(con)
    # fixed: 10 - 3; pct: 10 - ceil(2.5); both: 10 - max(3, 3)
    assert one(con, "SELECT channel_id, safety_buffer_units, ats_units FROM marts.ats_by_sku_channel ORDER BY 1") == [
        ("both", 3, 7), ("fixed", 3, 7), ("pct", 3, 7)]
    overrides = pl.DataFrame({"channel_id": ["fixed"], "safety_buffer_units": [20], "safety_buffer_pct": [None]},
                             schema={"channel_id": pl.String, "safety_buffer_units": pl.Int64, "safety_buffer_pct": pl.Float64})
    models.build_ats_by_sku_channel(con, overrides)
    assert one(con, "SELECT ats_units FROM marts.ats_by_sku_channel WHERE channel_id = 'fixed'") == [(0,)]


def test_bundle_ats_is_the_scarcest_component_divided_by_units_per_bundle(con):
    basic_world(con)
    insert(con, "products", [product("TEE"), product("CAP"), product("SOCK"), product("KIT", bundle=True),
                             product("KIT2", bundle=True)])
    insert(con, "bundle_components", [
        {"bundle_sku": "KIT", "component_sku": "TEE", "units_per_bundle": 1},
        {"bundle_sku": "KIT", "component_sku": "CAP", "units_per_bundle": 2},
        {"bundle_sku": "KIT2", "component_sku": "TEE", "units_per_bundle": 1},
        {"bundle_sku": "KIT2", "component_sku": "SOCK", "units_per_bundle": 1},  # never stocked
    ])
    insert(con, "stock_snapshots", [snapshot(0, "TEE", "WH1", 10), snapshot(0, "CAP", "WH1", 9)])
    models.build_all(con)
    assert one(con, "SELECT sku, ats_units FROM marts.ats_by_sku_channel WHERE is_bundle ORDER BY 1") == [("KIT", 4), ("KIT2", 0)]
    # an order for 2 kits allocates 2 tees and 4 caps
    insert(con, "order_lines", [order_line("shop", "KIT", 2, n=0)])
    models.build_all(con)
    assert one(con, "SELECT sku, units FROM marts.order_allocations ORDER BY 1") == [("CAP", 4), ("TEE", 2)]
    assert one(con, "SELECT sku, ats_units FROM marts.ats_by_sku_channel ORDER BY 1") == [
        ("CAP", 5), ("KIT", 2), ("KIT2", 0), ("TEE", 8)]


def test_inventory_position_counts_open_po_lines_and_paid_backorders(con):
    basic_world(con)
    insert(con, "products", [product("A")])
    insert(con, "stock_snapshots", [snapshot(0, "A", "WH1", 5)])
    insert(con, "purchase_orders", [
        {"po_number": "PO1", "supplier_id": "S", "sku": "A", "location_id": "WH1", "quantity_ordered": 30,
         "unit_cost": 1.0, "currency": "EUR", "ordered_at": at(0), "status": "open", "updated_at": at(0)},
        {"po_number": "PO0", "supplier_id": "S", "sku": "A", "location_id": "WH1", "quantity_ordered": 99,
         "unit_cost": 1.0, "currency": "EUR", "ordered_at": at(0), "status": "closed", "updated_at": at(0)},
    ])
    insert(con, "receipts", [receipt(1, "A", "WH1", 10, po="PO1")])  # on hand 15, on order 20
    insert(con, "order_lines", [order_line("shop", "A", 12, n=1), order_line("shop", "A", 6, n=1, status="placed", paid=False)])
    models.build_all(con)
    # paid 12 covered first, unpaid 6: 3 covered, 3 not (not a backorder: unpaid)
    assert one(con, """SELECT on_hand_units, on_order_units, allocated_units, backorder_units, inventory_position_units
                       FROM marts.inventory_position""") == [(15, 20, 15, 0, 20)]
    insert(con, "order_lines", [order_line("shop", "A", 4, n=1)])  # paid: 16 paid units, 15 on hand
    models.build_all(con)
    assert one(con, "SELECT allocated_units, backorder_units, inventory_position_units FROM marts.inventory_position") == [(15, 1, 19)]
    assert one(con, "SELECT exception FROM marts.order_exceptions") == [("paid, no location can fill",)]


# ---------------------------------------------------------------- ledger


def test_ledger_moves_receipts_shipments_resellable_returns_transfers_and_adjustments(con):
    basic_world(con)
    insert(con, "products", [product("A"), product("KIT", bundle=True)])
    insert(con, "bundle_components", [{"bundle_sku": "KIT", "component_sku": "A", "units_per_bundle": 3}])
    insert(con, "stock_snapshots", [snapshot(0, "A", "WH1", 100)])
    line = order_line("shop", "A", 4, n=1)
    kit = order_line("shop", "KIT", 2, n=1)
    insert(con, "order_lines", [line, kit])
    insert(con, "receipts", [receipt(1, "A", "WH1", 50)])
    insert(con, "fulfillment_events", [shipment(line, 1, "WH1"), shipment(kit, 1, "WH1")])
    insert(con, "returns", [resellable_return(line, 2, "WH1", 2), resellable_return(line, 2, "WH1", 1, resellable=False)])
    insert(con, "stock_adjustments", [adjustment(2, "A", "WH1", -5, "transfer_out"), adjustment(2, "A", "WH1", -1, "shrinkage")])
    models.build_stock_ledger(con)
    rows = one(con, """SELECT day, opening_units, received, shipped, returned, transferred, adjusted, closing_units
                       FROM marts.stock_ledger ORDER BY day""")
    assert rows == [
        (day(0), 0, 0, 0, 0, 0, 0, 0),          # the first snapshot: nothing before it
        (day(1), 100, 50, 10, 0, 0, 0, 140),    # 4 shirts + 2 kits × 3
        (day(2), 140, 0, 0, 2, -5, -1, 136),
    ]
    assert one(con, "SELECT on_hand_units FROM marts.stock_ledger ORDER BY day") == [(100,), (140,), (136,)]


# ---------------------------------------------------------------- reconciliation


@pytest.fixture
def counted_world(con):
    """A, B, C, D, E at WH1 counted on day 0 and day 2; movements between."""
    basic_world(con)
    insert(con, "products", [product(s, unit_cost=4.0, currency="USD") for s in "ABCDE"])
    insert(con, "fx_rates", [{"rate_date": day(0), "currency": "USD", "rate_to_base": 0.5}])
    insert(con, "stock_snapshots", [snapshot(0, s, "WH1", 100) for s in "ABCDE"])
    return con


def recon(con, sku, n=2):
    return con.execute(
        """SELECT expected_on_hand, counted_on_hand, difference_units, difference_value_base,
                  within_tolerance, likely_cause, cause_reference
           FROM marts.reconciliation WHERE sku = ? AND snapshot_date = ?""", [sku, day(n)]).fetchall()[0]


def test_reconciliation_expected_difference_value_and_causes(counted_world):
    con = counted_world
    line = order_line("shop", "B", 7, n=1)
    insert(con, "order_lines", [line])
    insert(con, "receipts", [receipt(1, "A", "WH1", 30), receipt(3, "C", "WH1", 40)])  # C's posted late
    insert(con, "fulfillment_events", [shipment(line, 3, "WH1")])                     # B's posted late
    insert(con, "stock_snapshots", [
        snapshot(2, "A", "WH1", 130),  # exact
        snapshot(2, "B", "WH1", 93),   # the 7 left before the count: shipment not posted
        snapshot(2, "C", "WH1", 140),  # 40 counted before the receipt was posted
        snapshot(2, "D", "WH1", 97),   # small loss on a counted day
        snapshot(2, "E", "WH1", 160),  # nothing explains 60
    ])
    models.build_all(con)
    assert recon(con, "A")[:6] == (130, 130, 0, 0.0, True, None)
    assert recon(con, "B")[2:6] == (-7, -14.0, False, "shipment not posted")  # 7 × 4 USD × 0.5
    assert recon(con, "C")[5] == "unrecorded receipt" and recon(con, "C")[6].startswith("receipt R")
    assert recon(con, "D")[2:6] == (-3, -6.0, False, "shrinkage")
    assert recon(con, "E")[2:6] == (60, 120.0, False, "unexplained")
    acc = one(con, "SELECT sku_locations, within_tolerance, accuracy FROM marts.inventory_record_accuracy")
    assert acc == [(5, 1, 0.2)]


def test_tolerance_is_units_or_percent_of_expected_whichever_is_larger(counted_world):
    con = counted_world
    insert(con, "stock_snapshots", [snapshot(2, "A", "WH1", 102), snapshot(2, "B", "WH1", 97)])
    models.build_all(con, rec=ReconciliationSettings(tolerance_units=2, tolerance_pct=0.0))
    assert (recon(con, "A")[4], recon(con, "B")[4]) == (True, False)
    models.build_reconciliation(con, ReconciliationSettings(tolerance_units=0, tolerance_pct=0.03))
    assert (recon(con, "A")[4], recon(con, "B")[4]) == (True, True)


def test_a_wrong_count_is_found_and_its_reversal_named(counted_world):
    con = counted_world
    insert(con, "stock_snapshots", [snapshot(2, "A", "WH1", 88), snapshot(3, "A", "WH1", 100)])
    models.build_all(con)
    assert recon(con, "A")[2:6] == (-12, -24.0, False, "count error")
    assert recon(con, "A", 3)[2:] [:1] == (12,) and recon(con, "A", 3)[5] == "count error corrected"


def test_a_back_dated_movement_is_picked_up_on_the_next_run(counted_world):
    con = counted_world
    insert(con, "stock_snapshots", [snapshot(2, "A", "WH1", 90)])
    models.build_all(con)
    assert recon(con, "A")[2] == -10
    insert(con, "stock_adjustments", [adjustment(1, "A", "WH1", -10, "damage")])  # arrives late
    models.build_all(con)
    assert recon(con, "A")[2:5] == (0, 0.0, True)


# ---------------------------------------------------------------- oversell, exceptions, feeds rows


def test_oversell_risk_and_events(con):
    basic_world(con, channels=("shop", "etsy"))
    insert(con, "products", [product("A")])
    insert(con, "stock_snapshots", [snapshot(0, "A", "WH1", 2)])
    first = order_line("shop", "A", 2, n=1, location="WH1")
    insert(con, "order_lines", [first])
    insert(con, "fulfillment_events", [shipment(first, 1, "WH1")])
    insert(con, "order_lines", [order_line("etsy", "A", 1, n=2, order_id="LATE")])  # stock was 0 at day 2
    insert(con, "channel_listings", [
        {"channel_id": "etsy", "channel_sku": "ETSY-A", "sku": "A", "listed_quantity": 5, "as_of": day(2)},
        {"channel_id": "shop", "channel_sku": "A", "sku": "A", "listed_quantity": 0, "as_of": day(2)},
    ])
    models.build_all(con)
    assert one(con, "SELECT channel_id, order_id, ats_at_start_of_day FROM marts.oversell_events") == [("etsy", "LATE", 0)]
    assert one(con, "SELECT channel_id, channel_sku, listed_quantity, ats_units, excess_units FROM marts.oversell_risk") == [
        ("etsy", "ETSY-A", 5, 0, 5)]
    feed = models.channel_feed_rows(con)
    assert feed.select("channel_id", "channel_sku", "quantity").rows() == [("etsy", "ETSY-A", 0), ("shop", "A", 0)]


def test_order_exceptions_shipped_unpaid_and_after_cancellation(con):
    basic_world(con)
    insert(con, "products", [product("A")])
    insert(con, "stock_snapshots", [snapshot(0, "A", "WH1", 20)])
    unpaid = order_line("shop", "A", 1, n=1, status="shipped", paid=False, shipped=True, order_id="UNPAID")
    cancelled = order_line("shop", "A", 1, n=1, status="cancelled", cancelled=True, order_id="CXL")
    insert(con, "order_lines", [unpaid, cancelled, order_line("shop", "A", 1, n=1, status="shipped", shipped=True)])
    insert(con, "fulfillment_events", [shipment(cancelled, 2, "WH1")])
    models.build_all(con)
    assert one(con, "SELECT exception, order_id FROM marts.order_exceptions ORDER BY 1") == [
        ("shipped after cancellation", "CXL"), ("shipped, not paid", "UNPAID")]


def test_no_location_serving_a_channel_is_an_exception(con):
    basic_world(con)
    insert(con, "channels", [channel("popup")])
    insert(con, "products", [product("A")])
    insert(con, "stock_snapshots", [snapshot(0, "A", "WH1", 20)])
    insert(con, "order_lines", [order_line("popup", "A", 1, n=0, order_id="P1")])
    models.build_all(con)
    assert one(con, "SELECT exception, order_id FROM marts.order_exceptions") == [("no location serves the channel", "P1")]
