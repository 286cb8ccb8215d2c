"""Properties of the ledger, reconciliation and ATS on random hand-built warehouses (hypothesis)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings, strategies as st

from assets.inventory import models
from assets.inventory.config import ReconciliationSettings
from inventory_builder import (
    adjustment, channel, insert, new_warehouse, order_line, product, receipt, shipment, snapshot,
)

FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DAYS = 12

# one SKU-location's history: per day, (received, shipped, adjusted, snapshot?)
day_strategy = st.tuples(
    st.integers(0, 20), st.integers(0, 15), st.integers(-3, 3), st.booleans())
history = st.lists(day_strategy, min_size=2, max_size=DAYS)


def world(con, locations=("WH1",), channels=("shop",)):
    insert(con, "locations", [{"location_id": l, "name": l, "location_type": "warehouse"} for l in locations])
    insert(con, "channels", [channel(c) for c in channels])
    insert(con, "channel_locations", [{"channel_id": c, "location_id": l, "priority": i + 1}
                                      for c in channels for i, l in enumerate(locations)])


def load_history(con, days, *, start=50, miscount=None):
    """Movements per day and snapshots that follow the book (``miscount``: day → error)."""
    insert(con, "products", [product("A")])
    book = start
    snaps, receipts, ships, adjs, lines = [snapshot(0, "A", "WH1", start)], [], [], [], []
    for n, (rec, ship, adj, snap) in enumerate(days, start=1):
        if rec:
            receipts.append(receipt(n, "A", "WH1", rec))
        if ship:
            line = order_line("shop", "A", ship, n=n, status="shipped", shipped=True, location="WH1")
            lines.append(line)
            ships.append(shipment(line, n, "WH1"))
        if adj:
            adjs.append(adjustment(n, "A", "WH1", adj))
        book += rec - ship + adj
        if snap:
            snaps.append(snapshot(n, "A", "WH1", book + (miscount or {}).get(n, 0)))
    for entity, rows in (("stock_snapshots", snaps), ("receipts", receipts), ("order_lines", lines),
                         ("fulfillment_events", ships), ("stock_adjustments", adjs)):
        insert(con, entity, rows)
    return book


@FAST
@given(history)
def test_ledger_conserves_units_and_matches_a_true_book(days):
    con = new_warehouse()
    world(con)
    book = load_history(con, days)
    models.build_stock_ledger(con)
    rows = con.execute("""SELECT opening_units, received, shipped, returned, transferred, adjusted,
                                 net_change, closing_units, on_hand_units
                          FROM marts.stock_ledger ORDER BY day""").fetchall()
    previous_on_hand = 0
    for opening, rec, ship, ret, tr, adj, net, closing, on_hand in rows:
        assert net == rec - ship + ret + tr + adj
        assert closing == opening + net                    # opening + in - out = closing
        assert opening == previous_on_hand                  # a day opens where the last one closed
        previous_on_hand = on_hand
    assert previous_on_hand == book                         # snapshots follow the book: no drift
    models.build_reconciliation(con, ReconciliationSettings())
    assert con.execute("SELECT count(*) FROM marts.reconciliation WHERE difference_units <> 0").fetchall() == [(0,)]
    bad = con.execute("""SELECT count(*) FROM marts.reconciliation WHERE expected_on_hand
                         <> previous_on_hand + received - shipped + returned + transferred + adjusted""").fetchall()
    assert bad == [(0,)]


@FAST
@given(history, st.data())
def test_reconciliation_finds_injected_count_errors(days, data):
    snapshot_days = [n for n, d in enumerate(days, start=1) if d[3]]
    if not snapshot_days:
        return
    wrong_day = data.draw(st.sampled_from(snapshot_days))
    error = data.draw(st.integers(-30, 30).filter(lambda e: abs(e) > 2))
    con = new_warehouse()
    world(con)
    load_history(con, days, miscount={wrong_day: error})
    models.build_stock_ledger(con)
    models.build_reconciliation(con, ReconciliationSettings(tolerance_units=2, tolerance_pct=0.0))
    found = con.execute("""SELECT snapshot_date, difference_units, within_tolerance, likely_cause
                           FROM marts.reconciliation WHERE difference_units <> 0
                           ORDER BY snapshot_date""").fetchall()
    from inventory_builder import day
    assert found[0][:3] == (day(wrong_day), error, False)
    later = [n for n in snapshot_days if n > wrong_day]
    if later:  # the next snapshot is right again: it shows the opposite difference
        assert found[1][:2] == (day(later[0]), -error)
        assert found[0][3] in ("count error", "unrecorded receipt", "shipment not posted")
        assert found[1][3] in ("count error corrected", "unrecorded receipt", "shipment not posted")
    assert len(found) == (2 if later else 1)


@FAST
@given(history, st.integers(1, DAYS), st.integers(1, 40))
def test_a_back_dated_receipt_changes_exactly_the_days_up_to_the_next_snapshot(days, when, qty):
    when = min(when, len(days))
    con = new_warehouse()
    world(con)
    load_history(con, days)
    models.build_stock_ledger(con)
    before = dict(((r[0]), r[1:]) for r in con.execute(
        "SELECT day, opening_units, received, closing_units, on_hand_units FROM marts.stock_ledger").fetchall())
    insert(con, "receipts", [receipt(when, "A", "WH1", qty, po="LATE")])
    models.build_stock_ledger(con)
    after = dict(((r[0]), r[1:]) for r in con.execute(
        "SELECT day, opening_units, received, closing_units, on_hand_units FROM marts.stock_ledger").fetchall())
    from inventory_builder import day
    snap_days = [day(n) for n, d in enumerate(days, start=1) if d[3] and n >= when]
    next_snapshot = snap_days[0] if snap_days else None
    changed = {d for d in after if after[d] != before.get(d)}
    expected = {d for d in after if d >= day(when) and (next_snapshot is None or d <= next_snapshot)}
    assert changed == expected


orders = st.lists(st.tuples(st.sampled_from(["A", "B", "KIT"]), st.integers(1, 6), st.booleans(),
                            st.sampled_from(["shop", "etsy"]), st.sampled_from([None, "WH1", "WH2"])),
                  max_size=12)
stock = st.tuples(st.integers(0, 40), st.integers(0, 5))


@FAST
@given(st.dictionaries(st.tuples(st.sampled_from(["A", "B"]), st.sampled_from(["WH1", "WH2"])), stock, min_size=1),
       orders, st.integers(1, 3), st.integers(0, 4), st.floats(0, 0.5))
def test_ats_is_never_negative_never_above_on_hand_and_bundles_respect_components(
        stocks, lines, units_per_bundle, buffer_units, buffer_pct):
    con = new_warehouse()
    world(con, locations=("WH1", "WH2"), channels=("shop", "etsy"))
    con.execute("UPDATE core.channels SET safety_buffer_units = ?, safety_buffer_pct = ? WHERE channel_id = 'etsy'",
                [buffer_units, buffer_pct])
    insert(con, "products", [product("A"), product("B"), product("KIT", bundle=True)])
    insert(con, "bundle_components", [{"bundle_sku": "KIT", "component_sku": "A", "units_per_bundle": units_per_bundle},
                                      {"bundle_sku": "KIT", "component_sku": "B", "units_per_bundle": 1}])
    insert(con, "stock_snapshots", [snapshot(0, s, l, oh, reserved=res) for (s, l), (oh, res) in stocks.items()])
    insert(con, "order_lines", [order_line(ch, sku, q, n=0, paid=paid, status="paid" if paid else "placed", location=loc)
                                for sku, q, paid, ch, loc in lines])
    models.build_all(con)
    assert con.execute("""SELECT count(*) FROM marts.ats_by_sku_location
                          WHERE ats_units < 0 OR (NOT is_bundle AND ats_units > on_hand_units)""").fetchall() == [(0,)]
    assert con.execute("""SELECT count(*) FROM marts.ats_by_sku_channel
                          WHERE ats_units < 0 OR (NOT is_bundle AND ats_units > location_ats_units)""").fetchall() == [(0,)]
    violations = con.execute("""
        SELECT count(*) FROM marts.ats_by_sku_channel AS b
        JOIN core.bundle_components AS bc ON bc.bundle_sku = b.sku
        LEFT JOIN marts.ats_by_sku_channel AS c ON c.channel_id = b.channel_id AND c.sku = bc.component_sku
        WHERE b.ats_units > coalesce(c.ats_units, 0) / bc.units_per_bundle""").fetchall()
    assert violations == [(0,)]
    # every channel's ATS comes from the same location ATS: with no buffer, channels agree
    shop = dict(con.execute("SELECT sku, ats_units FROM marts.ats_by_sku_channel WHERE channel_id = 'shop'").fetchall())
    loc_sum = dict(con.execute("SELECT sku, sum(ats_units) FROM marts.ats_by_sku_location WHERE NOT is_bundle GROUP BY sku").fetchall())
    assert {k: v for k, v in shop.items() if k != "KIT"} == loc_sum
