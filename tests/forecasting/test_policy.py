"""The replenishment policy library: lead times, service levels, levels, projection, sizing.

The order arithmetic (packs, MOQ, coverage cap, minimum order value) is property-tested with
hypothesis; the rest on frames small enough to check on paper.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasting.ordering import floor_to_case_pack, round_to_case_pack, top_up_to_value
from forecasting.policy import (
    DEFAULT_SERVICE_LEVELS,
    lead_time_stats,
    policy_levels,
    project_stock,
    reason_codes,
    reason_text,
    season_ratio,
    service_levels,
    size_orders,
    split_forecast,
    stockout_dates,
)

D0 = date(2026, 3, 1)
T0 = datetime(2026, 1, 5, 10)


# ---------------------------------------------------------------------------------------------
# lead times
# ---------------------------------------------------------------------------------------------

def _po(n, supplier, sku, days, *, ordered=10, received=None, late=False, status="closed"):
    """A PO line ordered at T0 + n days whose first receipt comes ``days`` later."""
    ordered_at = T0 + timedelta(days=n)
    got = ordered_at + timedelta(days=days)
    expected = (got - timedelta(days=1) if late else got).date()
    po = {"po_number": f"P{n}-{sku}", "supplier_id": supplier, "sku": sku,
          "quantity_ordered": ordered, "ordered_at": ordered_at, "expected_at": expected,
          "status": status}
    receipt = {"po_number": po["po_number"], "sku": sku,
               "quantity_received": ordered if received is None else received, "received_at": got}
    return po, receipt


def _lead_time_table():
    lines = (
        # S1/A: 5 lines → learned per SKU (10, 12, 14, 16, 18 days; one late, one short)
        [_po(i, "S1", "A", 10 + 2 * i, late=i == 0, received=8 if i == 1 else None) for i in range(5)]
        # S1/B: 2 lines only → the supplier's learned values (S1 has 7 lines)
        + [_po(10 + i, "S1", "B", 20) for i in range(2)]
        # S2: 1 line → master data; C has a master-data SKU lead time, D does not
        + [_po(20, "S2", "C", 3)]
    )
    po = pl.DataFrame([p for p, _ in lines] + [  # a cancelled line never counts
        {"po_number": "X", "supplier_id": "S1", "sku": "A", "quantity_ordered": 5,
         "ordered_at": T0, "expected_at": None, "status": "cancelled"}])
    receipts = pl.DataFrame([r for _, r in lines] + [
        {"po_number": "X", "sku": "A", "quantity_received": 5, "received_at": T0 + timedelta(days=99)}])
    products = pl.DataFrame({"sku": ["A", "B", "C", "D", "E"],
                             "supplier_id": ["S1", "S1", "S2", "S2", "S9"],
                             "lead_time_days": [None, None, 9.0, None, None]},
                            schema_overrides={"lead_time_days": pl.Float64})
    suppliers = pl.DataFrame({"supplier_id": ["S1", "S2"], "lead_time_days_mean": [30.0, 6.0],
                              "lead_time_days_sd": [5.0, None]})
    return lead_time_stats(po, receipts, products, suppliers, min_lines=5)


def test_lead_times_learned_where_enough_lines_and_master_data_otherwise():
    table = _lead_time_table()
    rows = {(r["supplier_id"], r["sku"]): r for r in table.iter_rows(named=True)}
    a = rows[("S1", "A")]
    assert a["source"] == "learned_sku" and a["po_lines"] == 5
    assert a["lead_time_mean_days"] == pytest.approx(14.0)
    assert a["lead_time_sd_days"] == pytest.approx(np.std([10, 12, 14, 16, 18], ddof=1))
    assert a["on_time_rate"] == pytest.approx(0.8) and a["short_shipped_share"] == pytest.approx(0.2)
    s1 = rows[("S1", None)]
    assert s1["source"] == "learned_supplier" and s1["po_lines"] == 7
    assert s1["lead_time_mean_days"] == pytest.approx((70 + 40) / 7)
    b = rows[("S1", "B")]  # its own history shows, the supplier's lead time is used
    assert b["source"] == "learned_supplier" and b["po_lines"] == 2
    assert b["lead_time_mean_days"] == pytest.approx(s1["lead_time_mean_days"])
    assert rows[("S2", None)]["source"] == "master_supplier"
    assert rows[("S2", None)]["lead_time_sd_days"] == 0.0  # no sd in master data
    c, d = rows[("S2", "C")], rows[("S2", "D")]
    assert (c["source"], c["lead_time_mean_days"]) == ("master_sku", 9.0)
    assert (d["source"], d["lead_time_mean_days"], d["po_lines"]) == ("master_supplier", 6.0, 0)
    assert d["on_time_rate"] is None
    assert ("S9", "E") not in rows  # unknown supplier: no fallback, no row
    assert table.columns == ["supplier_id", "sku", "po_lines", "lead_time_mean_days",
                             "lead_time_sd_days", "on_time_rate", "short_shipped_share", "source"]


def test_an_open_line_is_not_short_shipped_yet():
    po, receipt = _po(0, "S1", "A", 5, received=3, status="open")
    from forecasting.policy import po_line_lead_times

    lines = po_line_lead_times(pl.DataFrame([po]), pl.DataFrame([receipt]))
    assert lines["short_shipped"].to_list() == [None]
    assert lines["lead_time_days"].to_list() == [pytest.approx(5.0)]


# ---------------------------------------------------------------------------------------------
# service levels
# ---------------------------------------------------------------------------------------------

def test_service_level_from_matrix_override_and_unknown_segments():
    segments = pl.DataFrame({"sku": ["A", "B", "C"], "abc": ["A", "B", None],
                             "xyz": ["X", "Z", None]})
    out = service_levels(segments, DEFAULT_SERVICE_LEVELS, {"B": 0.991})
    rows = {r["sku"]: r for r in out.iter_rows(named=True)}
    assert (rows["A"]["service_level"], rows["A"]["service_level_source"]) == (0.98, "matrix")
    assert (rows["B"]["service_level"], rows["B"]["service_level_source"]) == (0.991, "override")
    assert (rows["C"]["abc_class"], rows["C"]["xyz_class"], rows["C"]["service_level"]) == \
        ("C", "Z", DEFAULT_SERVICE_LEVELS["CZ"])


@pytest.mark.parametrize("matrix, overrides, message", [
    ({**DEFAULT_SERVICE_LEVELS, "AX": 1.2}, {}, "'AX' = 1.2"),
    ({**DEFAULT_SERVICE_LEVELS, "QX": 0.9}, {}, "unknown cell 'QX'"),
    ({k: v for k, v in DEFAULT_SERVICE_LEVELS.items() if k != "BY"}, {}, "no value for BY"),
    (DEFAULT_SERVICE_LEVELS, {"SKU-1": "high"}, "'SKU-1' = 'high'"),
])
def test_bad_service_levels_are_named(matrix, overrides, message):
    with pytest.raises(ValueError, match=message):
        service_levels(pl.DataFrame({"sku": ["A"], "abc": ["A"], "xyz": ["X"]}), matrix, overrides)


# ---------------------------------------------------------------------------------------------
# forecast split, levels, projection
# ---------------------------------------------------------------------------------------------

def _forecast(sku="A", days=30, mean=2.0, vmr=0.0):
    return pl.DataFrame({"sku": sku, "date": [D0 + timedelta(days=i) for i in range(1, days + 1)],
                         "mean": mean, "vmr": vmr})


def test_split_keeps_total_demand_and_thins_the_spread():
    shares = pl.DataFrame({"sku": ["A", "A"], "location_id": ["W1", "W2"], "share": [0.75, 0.25]})
    split = split_forecast(_forecast(mean=4.0, vmr=3.0, days=2), shares)
    assert split.group_by("date").agg(pl.col("mean").sum())["mean"].to_list() == [4.0, 4.0]
    w2 = split.filter(pl.col("location_id") == "W2").row(0, named=True)
    assert (w2["mean"], w2["vmr"]) == (1.0, pytest.approx(1.5))  # 1 + 0.25 × (3 − 1)


def _params(**kw):
    row = {"sku": "A", "location_id": "W1", "service_level": 0.95, "lead_time_mean_days": 10.0,
           "lead_time_sd_days": 0.0, "review_period_days": 7} | kw
    return pl.DataFrame([row])


def test_levels_with_deterministic_demand_and_lead_time_are_exact():
    fc = _forecast(mean=2.0, vmr=0.0).with_columns(pl.lit("W1").alias("location_id"))
    out = policy_levels(fc, _params(), n_sims=50).row(0, named=True)
    assert out["lead_time_demand_units"] == 34.0  # 2/day × (10 + 7) days
    assert out["reorder_point_units"] == 34.0 and out["safety_stock_units"] == 0.0
    assert out["mean_daily_demand_units"] == 2.0
    assert out["order_up_to_units"] == 34.0 + 14.0  # + cycle stock 2/day × R
    # cycle stock in review periods: half a review rounds 7 units up, none orders up to s
    for reviews, cycle in ((0.5, 7.0), (0.25, 4.0), (0.0, 0.0)):
        row = policy_levels(fc, _params(), n_sims=50, cycle_stock_reviews=reviews).row(0, named=True)
        assert (row["reorder_point_units"], row["order_up_to_units"]) == (34.0, 34.0 + cycle)
    with pytest.raises(ValueError, match="cycle_stock_reviews"):
        policy_levels(fc, _params(), n_sims=50, cycle_stock_reviews=-0.5)


def test_levels_grow_with_service_and_lead_time_spread_and_zero_without_demand():
    fc = pl.concat([_forecast(sku, mean=1.5, vmr=2.0) for sku in ("A", "B", "C", "D")]) \
        .with_columns(pl.lit("W1").alias("location_id"))
    params = pl.concat([
        _params(sku="A", service_level=0.9), _params(sku="B", service_level=0.99),
        _params(sku="C", service_level=0.9, lead_time_sd_days=4.0),
        _params(sku="D", service_level=0.9), _params(sku="Z", service_level=0.99),
    ])
    out = {r["sku"]: r for r in policy_levels(fc, params, n_sims=800).iter_rows(named=True)}
    assert out["B"]["reorder_point_units"] > out["A"]["reorder_point_units"]
    assert out["C"]["reorder_point_units"] >= out["A"]["reorder_point_units"]
    assert out["A"]["reorder_point_units"] == out["D"]["reorder_point_units"]  # seeded
    assert out["A"]["safety_stock_units"] > 0
    z = out["Z"]  # no forecast rows: no demand, nothing to protect
    assert (z["reorder_point_units"], z["order_up_to_units"], z["safety_stock_units"]) == (0, 0, 0)


def test_projection_follows_the_median_path_with_inbound():
    fc = _forecast(days=5, mean=2.0, vmr=0.0).with_columns(pl.lit("W1").alias("location_id"))
    start = pl.DataFrame({"sku": ["A"], "location_id": ["W1"], "start_units": [5]})
    inbound = pl.DataFrame({"sku": ["A"], "location_id": ["W1"], "date": [D0 + timedelta(days=4)],
                            "inbound_units": [1]})
    proj = project_stock(fc, start, inbound)
    assert proj["projected_on_hand_units"].to_list() == [3, 1, -1, -2, -4]
    assert stockout_dates(proj)["projected_stockout_date"].to_list() == [D0 + timedelta(days=3)]


def test_a_slow_mover_runs_out_on_the_median_of_cumulative_demand():
    # 0.3 units/day: every daily median is 0, but the cumulative median reaches 2 within weeks
    fc = _forecast(days=28, mean=0.3, vmr=1.0).with_columns(pl.lit("W1").alias("location_id"))
    start = pl.DataFrame({"sku": ["A", "B"], "location_id": ["W1", "W1"], "start_units": [2, 0]})
    proj = project_stock(fc, start)
    a = proj.filter(pl.col("sku") == "A")
    assert a["demand_units"].sum() == 8  # median of Poisson(8.4)
    out = dict(stockout_dates(proj).select("sku", "projected_stockout_date").iter_rows())
    assert out["A"] is not None and out["B"] is None  # B has no forecast: no demand, no stockout


@settings(max_examples=60, deadline=None)
@given(start=st.integers(-20, 200), inbound=st.lists(st.integers(0, 50), min_size=10, max_size=10),
       mean=st.floats(0, 20), vmr=st.sampled_from([0.0, 1.0, 3.0]))
def test_projection_balances(start, inbound, mean, vmr):
    """Last day's projection = start + Σ inbound − Σ demand; demand never negative."""
    fc = _forecast(days=10, mean=mean, vmr=vmr).with_columns(pl.lit("W1").alias("location_id"))
    arrivals = pl.DataFrame({"sku": "A", "location_id": "W1",
                             "date": [D0 + timedelta(days=i) for i in range(1, 11)],
                             "inbound_units": inbound})
    proj = project_stock(fc, pl.DataFrame({"sku": ["A"], "location_id": ["W1"],
                                           "start_units": [start]}), arrivals)
    assert (proj["demand_units"] >= 0).all()
    assert proj["projected_on_hand_units"][-1] == start + sum(inbound) - proj["demand_units"].sum()


# ---------------------------------------------------------------------------------------------
# order arithmetic (property tests)
# ---------------------------------------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(need=st.floats(-50, 5000), pack=st.integers(0, 48), moq=st.integers(-5, 500))
def test_round_to_case_pack(need, pack, moq):
    units = int(round_to_case_pack(need, pack, moq))
    p = max(pack, 1)
    if need <= 0:
        assert units == 0
    else:
        assert units % p == 0 and units >= need - 1e-9 and units >= max(moq, 0)
        assert units - p < max(need, moq)  # one case less would not do


@settings(max_examples=200, deadline=None)
@given(room=st.floats(-50, 5000), pack=st.integers(0, 48))
def test_floor_to_case_pack(room, pack):
    units = int(floor_to_case_pack(room, pack))
    p = max(pack, 1)
    assert units % p == 0 and 0 <= units <= max(room, 0) + 1e-9 and units + p > room


line_strategy = st.tuples(
    st.integers(1, 24),           # case pack
    st.integers(0, 10),           # cases already on the line
    st.floats(0, 30),             # value per unit
    st.integers(0, 50),           # headroom units
)


@settings(max_examples=300, deadline=None)
@given(groups=st.lists(st.tuples(st.lists(line_strategy, min_size=1, max_size=6),
                                 st.floats(0, 3000)), min_size=1, max_size=4))
def test_top_up_to_value(groups):
    packs, units, values, rooms, ids, minimums = [], [], [], [], [], []
    for g, (lines, minimum) in enumerate(groups):
        for pack, cases, value, room in lines:
            packs.append(pack); units.append(cases * pack); values.append(value)  # noqa: E702
            rooms.append(room); ids.append(g); minimums.append(minimum)  # noqa: E702
    units_a, packs_a, values_a = np.array(units), np.array(packs), np.array(values)
    rooms_a, ids_a = np.array(rooms), np.array(ids)
    out = top_up_to_value(units_a, packs_a, values_a, rooms_a, ids_a, np.array(minimums))
    added = out - units_a
    assert (added >= 0).all() and (added % packs_a == 0).all()
    assert (added <= floor_to_case_pack(rooms_a, packs_a)).all()
    for g, (_, minimum) in enumerate(groups):
        at = ids_a == g
        before, after = (units_a * values_a)[at].sum(), (out * values_a)[at].sum()
        full = added[at] == floor_to_case_pack(rooms_a[at], packs_a[at])
        useful = (values_a[at] > 0)
        if before >= minimum:
            assert added[at].sum() == 0  # nothing to top up
            continue
        # reached, or every line that could help is full
        assert after >= minimum - 1e-6 or (full | ~useful).all()
        # most urgent first: a line got cases only if every earlier useful line is full
        got = np.flatnonzero(added[at] > 0)
        if got.size:
            earlier = np.arange(got[-1])
            assert (full[earlier] | ~useful[earlier]).all()
            # minimal: one case less on the last topped-up line falls short
            last = got[-1]
            assert after - packs_a[at][last] * values_a[at][last] < minimum + 1e-6


def _lines(**overrides) -> pl.DataFrame:
    base = {"order_group": "S1", "urgency_rank": 1, "need_units": 10.0, "case_pack": 6,
            "moq": 0, "inventory_position_units": 5, "reorder_point_units": 12,
            "mean_daily_demand_units": 1.0, "lead_time_mean_days": 10.0, "unit_cost": 2.0,
            "min_order_value": 0.0}
    return pl.DataFrame([base | overrides])


def test_size_orders_rounds_moq_caps_and_flags():
    out = size_orders(_lines(), max_coverage_days=100).row(0, named=True)
    assert (out["suggested_units"], out["cases"], out["case_pack_flag"], out["moq_flag"]) == \
        (12, 2, True, False)
    out = size_orders(_lines(moq=30), max_coverage_days=100).row(0, named=True)
    assert (out["suggested_units"], out["moq_flag"]) == (30, True)
    # cap: position 5 + order ≤ 1/day × (10 + 3) = 13 → 8 room → 6 (one case); but the reorder
    # point 12 needs 8 units → 2 cases: service wins over the cap
    out = size_orders(_lines(need_units=40.0), max_coverage_days=3).row(0, named=True)
    assert (out["suggested_units"], out["coverage_cap"]) == (12, True)
    out = size_orders(_lines(need_units=40.0, reorder_point_units=0), max_coverage_days=3) \
        .row(0, named=True)
    assert out["suggested_units"] == 6


def test_size_orders_tops_up_the_most_urgent_line_of_a_group_to_its_minimum():
    lines = pl.concat([
        _lines(urgency_rank=2, need_units=6.0, case_pack=1, min_order_value=50.0),
        _lines(urgency_rank=1, need_units=6.0, case_pack=1, min_order_value=50.0),
        _lines(order_group="S2", urgency_rank=3, need_units=6.0, min_order_value=0.0),
    ])
    out = size_orders(lines, max_coverage_days=365)
    s1 = out.filter(pl.col("order_group") == "S1").sort("urgency_rank")
    assert s1["suggested_units"].to_list() == [19, 6]  # 25 units × 2.0 = 50
    assert s1["min_order_value_topup"].to_list() == [True, False]
    assert s1["order_value"].to_list() == [50.0, 50.0]
    assert not out["order_below_min_value"].any()
    assert out.filter(pl.col("order_group") == "S2")["suggested_units"].to_list() == [6]


def _reason_frame(*, stockout_day: int, **line) -> pl.DataFrame:
    """A sized line of 120 = 2 cases of 60 ordered on D0, arriving on D0 + 22, with the
    columns :func:`reason_text` reads."""
    frame = size_orders(_lines(case_pack=60, need_units=100.0, mean_daily_demand_units=5.0,
                               **line), max_coverage_days=365)
    return frame.with_columns(
        pl.lit(D0).alias("as_of"), pl.lit(D0).alias("order_date"),
        pl.lit(D0 + timedelta(days=stockout_day)).alias("projected_stockout_date"),
        pl.lit(D0 + timedelta(days=22)).alias("expected_arrival_date"),
        pl.lit(True).alias("below_reorder_point"), pl.lit(True).alias("stockout_before_arrival"),
        pl.lit(0.95).alias("service_level"), pl.lit("EUR").alias("currency"),
        pl.lit(120.0).alias("max_coverage_days"),
    )


def test_reason_in_words_and_codes():
    frame = _reason_frame(stockout_day=13, min_order_value=40.0)
    row = frame.select(reason_codes(frame), reason_text(frame)).row(0, named=True)
    assert row["reason_codes"] == "below_reorder_point,stockout_before_arrival,case_pack"
    assert row["reason"] == ("projected to run out on 14 Mar, 9 days before an order placed "
                             "today can arrive (23 Mar); order 120 = 2 cases of 60 to reach 95% "
                             "service through the next delivery")
    # a seasonal lift over the order's window (L 10 + R 7 days) is named; a small one is not
    # (or over the forecast's days when they end first)
    for lift, days, words in (
        (1.84, 56, "; last year's season puts demand over the next 17 days at 1.8× the recent rate"),
        (0.5, 14, "; last year's season puts demand over the next 14 days at 0.5× the recent rate"),
        (1.05, 56, ""), (None, None, ""),
    ):
        seasonal = frame.with_columns(pl.lit(7).alias("review_period_days"),
                                      pl.lit(lift, pl.Float64).alias("season_ratio"),
                                      pl.lit(days, pl.Int64).alias("season_days"))
        text = seasonal.select(reason_text(seasonal)).item()
        assert text == row["reason"] + words


def test_season_ratio_weighs_the_days_an_order_covers():
    days = [D0 + timedelta(days=d) for d in range(1, 6)]
    forecast = pl.DataFrame({"sku": ["A"] * 5 + ["B"] * 5, "date": days * 2,
                             "mean": [2.0, 2.0, 4.0, 4.0, 9.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                             "yearly_ratio": [1.0, 1.0, 2.0, 2.0, 3.0, 2.0, 2.0, 2.0, 2.0, 2.0]})
    params = pl.DataFrame({"sku": ["A", "A", "B"], "location_id": ["W1", "W2", "W1"],
                           "lead_time_mean_days": [2.6, 30.0, 3.0], "review_period_days": [1, 0, 1]})
    ratios = season_ratio(forecast, params)
    out = {(r["sku"], r["location_id"]): r["season_ratio"] for r in ratios.iter_rows(named=True)}
    assert ratios["season_days"].to_list() == [4, 5, 4]
    # A at W1: days 1-4 (round(2.6) + 1): (2 + 2 + 4 + 4) / (2 + 2 + 2 + 2) = 1.5
    assert out[("A", "W1")] == pytest.approx(1.5)
    # A at W2: a window past the forecast uses the days there are: 21 / (2 + 2 + 2 + 2 + 3)
    assert out[("A", "W2")] == pytest.approx(21 / 11)
    # B sells nothing in its window: no ratio
    assert out[("B", "W1")] is None
    # a forecast without yearly_ratio has none to report: 1
    plain = season_ratio(forecast.drop("yearly_ratio"), params.filter(pl.col("sku") == "A"))
    assert plain["season_ratio"].to_list() == pytest.approx([1.0, 1.0])


def test_reason_says_out_of_stock_now_when_nothing_is_on_hand():
    frame = _reason_frame(stockout_day=1).with_columns(
        pl.lit(0).alias("on_hand_units"), pl.lit(0).alias("allocated_units"),
        pl.lit(0).alias("backorder_units"))
    assert frame.select(reason_text(frame)).item().startswith(
        "out of stock now (0 on hand free to sell); an order placed today arrives 23 Mar")
    # stock on hand: the projected stockout as before
    stocked = frame.with_columns(pl.lit(4).alias("on_hand_units"))
    assert stocked.select(reason_text(stocked)).item().startswith("projected to run out on 2 Mar")
