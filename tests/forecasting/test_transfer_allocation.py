"""Transfers before purchases (forecasting.transfers): a hand example and the guarantees."""

from __future__ import annotations

import math

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasting.transfers import allocate_transfers, purchase_needs, transfer_reason


def _stock(rows):
    return pl.DataFrame(rows, schema={
        "sku": pl.String, "location_id": pl.String, "free_units": pl.Float64,
        "inventory_position_units": pl.Float64, "reorder_point_units": pl.Float64,
        "order_up_to_units": pl.Float64, "lead_time_demand_units": pl.Float64,
        "needs_order": pl.Boolean, "case_pack": pl.Int64}, orient="row")


def test_spare_stock_serves_the_needing_location_before_anything_is_bought():
    # SKU-00192 as measured: Hamburg below its reorder point, Berlin and Leeds hold plenty
    stock = _stock([
        ("A", "HAM", 2, 2, 10, 25, 8, True, 1),
        ("A", "BER", 150, 150, 12, 30, 10, False, 1),   # keeps 40 → spares 110
        ("A", "LDS", 146, 146, 12, 30, 10, False, 1),   # keeps 40 → spares 106
    ])
    lanes = pl.DataFrame({"from_location_id": ["LDS"], "to_location_id": ["HAM"],
                          "lead_time_days": [5.0], "cost_per_unit": [0.5]})
    moves = allocate_transfers(stock, lanes, default_lead_time_days=3)
    # Hamburg asks for 25 − 2 = 23; the largest spare (Berlin, 110) gives all of it
    assert moves.select("from_location_id", "to_location_id", "transfer_units").rows() == [
        ("BER", "HAM", 23)]
    assert moves["transfer_lead_time_days"].to_list() == [3.0]
    assert moves["source_excess_units"].to_list() == [110]
    left = purchase_needs(stock, moves).filter(pl.col("location_id") == "HAM").row(0, named=True)
    assert left["transfer_in_units"] == 23 and not left["needs_order_after_transfers"]
    assert left["need_after_transfers_units"] == 0
    reason = moves.select(transfer_reason()).item()
    assert "HAM is at or below its reorder point (position 2 ≤ 10; order-up-to 25)" in reason
    assert "BER holds 150 free, 110 above" in reason and "arrives in 3 day(s)" in reason


def test_two_needs_share_sources_in_urgency_order_in_whole_cases_and_lanes_price_them():
    stock = _stock([
        ("B", "X", 0, 0, 20, 40, 5, True, 6),      # asks ceil(40/6)·6 = 42
        ("B", "Y", 10, 10, 20, 40, 5, True, 6),    # asks ceil(30/6)·6 = 30
        ("B", "S1", 80, 80, 10, 20, 5, False, 6),  # keeps 25 → 55 spare → 54 (9 cases)
        ("B", "S2", 50, 50, 10, 20, 5, False, 6),  # keeps 25 → 25 spare → 24 (4 cases)
    ])
    lanes = pl.DataFrame({"from_location_id": ["S2"], "to_location_id": ["Y"],
                          "lead_time_days": [1.0], "cost_per_unit": [2.0]})
    moves = allocate_transfers(stock, lanes)
    got = {(r["from_location_id"], r["to_location_id"]): r["transfer_units"]
           for r in moves.iter_rows(named=True)}
    # X (position 0, more urgent) takes 42 of S1's 54; Y takes S1's last 12 and S2's 18
    assert got == {("S1", "X"): 42, ("S1", "Y"): 12, ("S2", "Y"): 18}
    s2y = moves.filter(pl.col("from_location_id") == "S2").row(0, named=True)
    assert s2y["transfer_lead_time_days"] == 1.0 and s2y["transfer_cost"] == 36.0
    left = purchase_needs(stock, moves)
    assert left.filter(pl.col("needs_order_after_transfers")).height == 0


def test_stock_under_the_others_keep_level_moves_when_the_company_holds_enough():
    # SKU-00022 on the demo home: Hamburg needs 1 case of 4; Berlin and Rotterdam each hold a
    # few units above their order-up-to + lead-time demand, less than a case, so the first
    # round moves nothing; the company holds 52 free against reorder points summing to 32
    stock = _stock([
        ("D", "HAM", 2, 2, 4, 5, 0.95, True, 4),
        ("D", "BER", 26, 42, 14, 17, 5.27, False, 4),    # keeps 22.27: 3.73 spare, no case
        ("D", "ROT", 24, 24, 14, 17, 5.40, False, 4),    # keeps 22.40: 1.6 spare, no case
    ])
    moves = allocate_transfers(stock)
    # second round: BER (12 above its reorder point 14: 2 cases) gives HAM its case
    assert moves.select("from_location_id", "to_location_id", "transfer_units", "rule").rows() == [
        ("BER", "HAM", 4, "company_cover")]
    assert purchase_needs(stock, moves).filter(pl.col("needs_order_after_transfers")).is_empty()
    reason = moves.select(transfer_reason()).item()
    assert "the company holds 52 free, covering the sum of its reorder points (32)" in reason
    assert "BER sends 4 of its 26 free and keeps more than its own reorder point (14)" in reason
    # sources just one case above their reorder point keep it (they would fall to the
    # point), though the company still covers its reorder points (2 + 18 + 18 ≥ 32)
    tight = stock.with_columns(pl.when(pl.col("location_id") != "HAM").then(18.0)
                               .otherwise(pl.col("free_units")).alias("free_units"))
    assert allocate_transfers(tight).is_empty()


def test_no_spare_stock_no_transfer_and_the_whole_need_is_still_bought():
    # the company holds 8 free against reorder points summing to 10: it is short, so Y
    # keeps its stock and X is bought for
    stock = _stock([("C", "X", 0, 0, 5, 10, 3, True, 1), ("C", "Y", 8, 8, 5, 10, 3, False, 1)])
    moves = allocate_transfers(stock)
    assert moves.is_empty() and "transfer_units" in moves.columns
    left = purchase_needs(stock, moves).filter(pl.col("location_id") == "X").row(0, named=True)
    assert left["needs_order_after_transfers"] and left["need_after_transfers_units"] == 10


@st.composite
def homes(draw):
    rows = []
    for s in range(draw(st.integers(1, 4))):
        pack = draw(st.sampled_from([1, 1, 4, 6, 12]))
        for loc in range(draw(st.integers(1, 5))):
            rop = draw(st.integers(0, 60))
            oul = rop + draw(st.integers(0, 60))
            ltd = draw(st.integers(0, 40))
            free = draw(st.integers(-5, 300))
            position = free + draw(st.integers(0, 50))  # + on order
            needs = position <= rop and oul > position
            rows.append((f"S{s}", f"L{loc}", float(free), float(position), float(rop),
                         float(oul), float(ltd), needs, pack))
    return _stock(rows)


@settings(max_examples=150, deadline=None)
@given(homes())
def test_allocation_guarantees(stock):
    moves = allocate_transfers(stock)
    by = {(r["sku"], r["location_id"]): r for r in stock.iter_rows(named=True)}
    company = {sku: (sum(r["free_units"] for r in by.values() if r["sku"] == sku),
                     sum(r["reorder_point_units"] for r in by.values() if r["sku"] == sku))
               for sku in stock["sku"].unique()}
    sent = moves.group_by("sku", "from_location_id").agg(pl.col("transfer_units").sum())
    for sku, loc, units in sent.iter_rows():
        r = by[(sku, loc)]
        keep = r["order_up_to_units"] + r["lead_time_demand_units"]
        assert not r["needs_order"]
        # never below its reorder point; strictly above it when it gives below its keep level
        assert r["free_units"] - units >= r["reorder_point_units"]
        if r["free_units"] - units < keep:
            free, rop = company[sku]
            assert free >= rop  # only for a SKU the company holds enough of
            assert r["free_units"] - units > r["reorder_point_units"]
    # for a SKU the company is short of: never more than the spare above order-up-to + LTD
    for sku, loc, units in sent.iter_rows():
        r = by[(sku, loc)]
        if company[sku][0] < company[sku][1]:
            keep = r["order_up_to_units"] + r["lead_time_demand_units"]
            assert units <= max(r["free_units"] - keep, 0)
    got = moves.group_by("sku", "to_location_id").agg(pl.col("transfer_units").sum())
    for sku, loc, units in got.iter_rows():
        r = by[(sku, loc)]
        assert r["needs_order"]
        need = r["order_up_to_units"] - r["inventory_position_units"]
        assert units <= math.ceil(need / r["case_pack"]) * r["case_pack"]  # never beyond a case
    assert (moves["transfer_units"] % moves["case_pack"] == 0).all()
    assert (moves["transfer_units"] > 0).all()
    # units are conserved: what leaves the sources arrives at the destinations, per SKU
    assert sorted(sent.group_by("sku").agg(pl.col("transfer_units").sum()).rows()) == sorted(
        got.group_by("sku").agg(pl.col("transfer_units").sum()).rows())
    # transferred + still bought covers the need of every location that needed an order: its
    # position ends above the reorder point, or a purchase brings it to order-up-to (a
    # transfer that lifts it above the reorder point leaves nothing to buy now: buying a
    # sliver would be rounded up to the MOQ)
    left = purchase_needs(stock, moves).filter(pl.col("needs_order"))
    after = (left["inventory_position_units"] + left["transfer_in_units"]
             + left["need_after_transfers_units"])
    covered = (after > left["reorder_point_units"]) | (after >= left["order_up_to_units"] - 1e-9)
    assert covered.all()
    bought = left.filter(pl.col("need_after_transfers_units") > 0)
    assert (bought["inventory_position_units"] + bought["transfer_in_units"]
            <= bought["reorder_point_units"]).all()
    out = dict(((s, l), u) for s, l, u in sent.iter_rows())
    for sku in stock["sku"].unique():
        short = left.filter((pl.col("sku") == sku) & pl.col("needs_order_after_transfers"))
        # the SKU's first-round spare is used up before a needing location is left short
        spare_left = sum(
            max(math.floor((r["free_units"] - r["order_up_to_units"] - r["lead_time_demand_units"])
                           / r["case_pack"]), 0) * r["case_pack"]
            for r in by.values() if r["sku"] == sku and not r["needs_order"]
        ) - moves.filter((pl.col("sku") == sku) & (pl.col("rule") == "spare"))["transfer_units"].sum()
        assert spare_left <= 0 or short.height == 0
        # the target: a SKU the company holds enough of is bought only when no location can
        # give a whole case and stay strictly above its reorder point
        free, rop = company[sku]
        if free >= rop and short.height:
            for r in by.values():
                if r["sku"] == sku and not r["needs_order"]:
                    rest = r["free_units"] - out.get((sku, r["location_id"]), 0)
                    assert rest - r["case_pack"] <= r["reorder_point_units"] + 1e-9
