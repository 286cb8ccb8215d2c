"""The policy simulator: hand-computed replays, properties of the engine, the whole run."""

import datetime as dt
from dataclasses import replace

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasting import daily_grid
from forecasting.simulation import (
    SimulationConfig,
    _items,
    minmax_levels,
    replay,
    sample_lead_days,
    shelfwise_levels,
    simulate_policies,
    stock_at_fill_rate,
    stock_reduction,
)
from forecasting.synthetic import synthetic_demand


def one(values) -> np.ndarray:
    """(P=1, N=1, B=1) levels."""
    return np.array(values, dtype=float).reshape(1, 1, 1)


def test_replay_by_hand_orders_receipts_and_on_hand():
    # demand 2 a day, review daily, reorder below 3 up to 6, lead time 2 days, start at 6:
    # day 0: 6 - 2 = 4 (position 4 ≥ 3, no order)
    # day 1: 4 - 2 = 2, position 2 < 3: order 4, arrives day 3
    # day 2: 2 - 2 = 0, position 0 + 4 on order = 4: no order
    # day 3: +4, 4 - 2 = 2: order 4 (arrives day 5)   day 4: 0
    # day 5: +4, 4 - 2 = 2: order 4 (arrives day 7, after the replay: stays on order)
    acc = replay(np.full((1, 6), 2.0), np.ones((1, 6), bool), one(3), one(6),
                 np.full((1, 6), 2))
    assert acc["units_demanded"][0, 0] == 12 and acc["units_served"][0, 0] == 12
    assert acc["units_lost"][0, 0] == 0 and acc["stockout_days"][0, 0] == 0
    assert acc["on_hand_sum"][0, 0] == 4 + 2 + 0 + 2 + 0 + 2
    assert acc["orders"][0, 0] == 3 and acc["ordered_units"][0, 0] == 12
    # receipts on days 3 and 5: one closed cycle (3 → 5), without lost sales
    assert acc["cycles"][0, 0] == 1 and acc["cycles_ok"][0, 0] == 1


def test_replay_lost_sales_are_not_backordered():
    # 3 on hand, demand 5, 0, 5, never reviewed: 3 served, 2 + 5 lost, nothing comes back
    acc = replay(np.array([[5.0, 0.0, 5.0]]), np.zeros((1, 3), bool), one(0), one(0),
                 np.ones((1, 3), int), initial_on_hand=np.array([[3.0]]))
    assert acc["units_served"][0, 0] == 3 and acc["units_lost"][0, 0] == 7
    assert acc["stockout_days"][0, 0] == 2 and acc["on_hand_sum"][0, 0] == 0


def test_replay_case_pack_and_moq_round_the_order_up():
    # position 0 < 1: need 4 up to 4; case pack 6, MOQ 10 → 2 cases = 12 units
    acc = replay(np.zeros((1, 3)), np.array([[True, False, False]]), one(1), one(4),
                 np.ones((1, 3), int), case_pack=6, moq=10, initial_on_hand=np.array([[0.0]]))
    assert acc["ordered_units"][0, 0] == 12
    assert acc["on_hand_sum"][0, 0] == 0 + 12 + 12  # arrives at the start of day 1


def test_replay_cycle_with_a_stockout_counts_against_cycle_service_level():
    # reorder below 5 up to 8: day 0 orders 8 (L 1), received day 1, when 6 are sold; day 2
    # orders 6 (L 3, arrives day 5); day 3 wants 5 with 2 on hand: 3 lost inside cycle 1 → 5
    demand = np.array([[0, 6, 0, 5, 0, 0, 0.0]])
    review = np.array([[True, False, True, False, False, False, False]])
    lead = np.array([[1, 1, 3, 1, 1, 1, 1]])
    acc = replay(demand, review, one(5), one(8), lead, initial_on_hand=np.array([[0.0]]))
    assert acc["units_lost"][0, 0] == 3 and acc["ordered_units"][0, 0] == 14
    assert acc["cycles"][0, 0] == 1 and acc["cycles_ok"][0, 0] == 0


def test_replay_warm_up_days_are_not_scored():
    acc = replay(np.array([[1.0, 1.0, 1.0, 1.0]]), np.zeros((1, 4), bool), one(0), one(0),
                 np.ones((1, 4), int), initial_on_hand=np.array([[2.0]]), score_from=2)
    assert acc["units_demanded"][0, 0] == 2 and acc["units_lost"][0, 0] == 2
    assert int(acc["scored_days"]) == 2


def test_levels_change_by_block():
    # block 0 never orders (reorder point 0), block 1 orders up to 5 on its first day
    levels_rop = np.array([0.0, 1.0]).reshape(1, 1, 2)
    levels_out = np.array([0.0, 5.0]).reshape(1, 1, 2)
    acc = replay(np.zeros((1, 4)), np.ones((1, 4), bool), levels_rop, levels_out,
                 np.ones((1, 4), int), block=np.array([0, 0, 1, 1]),
                 initial_on_hand=np.array([[0.0]]))
    assert acc["orders"][0, 0] == 1 and acc["on_hand_sum"][0, 0] == 5


@settings(max_examples=40, deadline=None)
@given(
    demand=st.lists(st.integers(0, 9), min_size=5, max_size=30),
    rop=st.integers(0, 20),
    extra=st.integers(0, 20),
    pack=st.integers(1, 6),
    moq=st.integers(0, 12),
    lead=st.integers(1, 6),
    review_every=st.integers(1, 7),
)
def test_replay_conserves_units_and_stacks_settings(demand, rop, extra, pack, moq, lead,
                                                    review_every):
    t = len(demand)
    d = np.array([demand], dtype=float)
    review = (np.arange(t) % review_every == 0)[None, :]
    leads = np.full((1, t), lead)
    levels = [(rop, rop + extra), (0, 0), (rop + 3, rop + extra + 10)]
    rop_arr = np.array([lv[0] for lv in levels], float).reshape(3, 1, 1)
    out_arr = np.array([lv[1] for lv in levels], float).reshape(3, 1, 1)
    stacked = replay(d, review, rop_arr, out_arr, leads, case_pack=pack, moq=moq)
    for i in range(3):
        alone = replay(d, review, rop_arr[i : i + 1], out_arr[i : i + 1], leads,
                       case_pack=pack, moq=moq)
        for key in ("units_served", "on_hand_sum", "orders", "ordered_units", "cycles"):
            assert stacked[key][i, 0] == alone[key][0, 0]
    served, lost = stacked["units_served"][:, 0], stacked["units_lost"][:, 0]
    assert np.allclose(served + lost, d.sum())
    assert (served >= 0).all() and (stacked["on_hand_sum"] >= 0).all()
    # every order is a whole number of cases and at least the MOQ
    orders = stacked["orders"][:, 0]
    units = stacked["ordered_units"][:, 0]
    assert (units % pack == 0).all()
    assert (units >= orders * moq).all()


def test_sample_lead_days_are_seeded_whole_and_at_least_one():
    a = sample_lead_days(np.array([14.0, 3.0, 0.0]), np.array([4.0, 0.0, 0.0]), 4000, seed=1)
    b = sample_lead_days(np.array([14.0, 3.0, 0.0]), np.array([4.0, 0.0, 0.0]), 4000, seed=1)
    assert (a == b).all() and a.dtype == np.int64
    assert abs(a[0].mean() - 14) < 0.3 and 3.5 < a[0].std() < 4.5
    assert (a[1] == 3).all() and (a[2] == 1).all()


def test_minmax_levels_by_hand():
    items = pl.DataFrame({"lead_time_mean_days": [10.0, 5.0], "review_days": [7.0, 14.0]})
    low, high = minmax_levels(np.array([2.0, 0.0]), items, [0, 3])
    # min = 2 × 10 + safety × 2; max = min + 2 × 7; no demand: 0
    assert low.tolist() == [[20.0, 0.0], [26.0, 0.0]]
    assert high.tolist() == [[34.0, 0.0], [40.0, 0.0]]


def test_stock_at_fill_rate_interpolates_and_reports_unreached():
    curves = pl.DataFrame({
        "policy": ["shelfwise"] * 2 + ["minmax"] * 2 + ["never"] * 2,
        "parameter": [0.8, 0.9, 7.0, 14.0, 1.0, 2.0],
        "fill_rate": [0.90, 1.00, 0.94, 0.96, 0.5, 0.6],
        "avg_on_hand_value": [100.0, 200.0, 200.0, 400.0, 1.0, 2.0],
    })
    at = stock_at_fill_rate(curves, 0.95)
    got = dict(zip(at["policy"], at["stock"]))
    assert got["shelfwise"] == pytest.approx(150.0)
    assert got["minmax"] == pytest.approx(300.0)
    assert got["never"] is None
    assert dict(zip(at["policy"], at["parameter"]))["minmax"] == pytest.approx(10.5)
    assert stock_reduction(at) == pytest.approx(0.5)


@pytest.fixture(scope="module")
def small_run():
    grid = daily_grid(synthetic_demand(5, 200, seed=11))
    items = pl.DataFrame({"sku": grid["sku"].unique().sort().to_list()[:2],
                          "unit_cost": [2.0, 10.0], "case_pack": [6.0, 1.0]})
    config = SimulationConfig(eval_days=56, warmup_days=14, refit_days=28,
                              target_kinds=("cycle", "fill_rate"), fill_rates=(0.5, 0.9, 0.99),
                              service_levels=(0.5, 0.9, 0.99), safety_days=(0, 7, 28),
                              baselines=("minmax", "minmax_refreshed"), n_sims=300, seed=3)
    origins = []
    result = simulate_policies(grid, items, config, progress=origins.append)
    return grid, items, config, result, origins


def test_simulate_policies_gives_both_curves_with_every_measure(small_run):
    grid, _, config, result, _ = small_run
    curves = result.curves
    assert curves.group_by("policy").len().sort("policy").rows() == [
        ("minmax", 3), ("minmax_refreshed", 3), ("shelfwise", 3), ("shelfwise_fill_rate", 3)]
    assert result.skus == 5 and result.by_sku.height == 5 * 12
    assert result.window["end"] == grid["date"].max()
    assert result.window["scored_start"] == result.window["end"] - dt.timedelta(days=55)
    # every policy replays the same demand
    assert curves["units_demanded"].n_unique() == 1
    assert ((curves["fill_rate"] >= 0) & (curves["fill_rate"] <= 1)).all()
    # more protection never serves less here (same random numbers for every setting)
    for policy in ("shelfwise", "shelfwise_fill_rate", "minmax"):
        fill = curves.filter(pl.col("policy") == policy).sort("parameter")["fill_rate"]
        assert fill.is_sorted()
    # on-hand value uses the item's unit cost; SKUs without one count 1 per unit
    by_sku = result.by_sku.filter(pl.col("policy") == "minmax", pl.col("parameter") == 28)
    first = by_sku.sort("sku").row(0, named=True)
    assert first["avg_on_hand_value"] == pytest.approx(2.0 * first["avg_on_hand_units"])


def test_less_cycle_stock_means_more_orders_and_less_on_hand(small_run):
    grid, items, config, result, _ = small_run
    half = simulate_policies(grid, items, replace(config, target_kinds=("cycle",),
                                                  baselines=(), cycle_stock_reviews=0.25))
    full = result.curves.filter(pl.col("policy") == "shelfwise").sort("parameter")
    less = half.curves.filter(pl.col("policy") == "shelfwise").sort("parameter")
    assert (less["orders"] >= full["orders"]).all() and (less["orders"] > full["orders"]).any()
    assert (less["avg_on_hand_units"] < full["avg_on_hand_units"]).all()


def test_shelfwise_levels_fill_rate_against_cycle_service_level():
    # a fast mover (≈ 40 a day) and a slow one (≈ 0.5 a day); weekly review, L 14 ± 4
    rng = np.random.default_rng(5)
    dates = [dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(150)]
    grid = daily_grid(pl.DataFrame({
        "sku": ["FAST"] * 150 + ["SLOW"] * 150, "date": dates * 2,
        "units": np.concatenate([rng.poisson(40.0, 150), rng.poisson(0.5, 150)]).astype(float),
    }).filter(pl.col("units") > 0))
    items = _items(grid["sku"].unique().sort().to_list(), None)
    config = SimulationConfig(n_sims=400)
    levels = shelfwise_levels(grid, items, {"fill_rate": [0.95], "cycle": [0.95]}, config, seed=0)
    (fr_rop, fr_out), (csl_rop, csl_out) = levels["fill_rate"], levels["cycle"]
    # same cycle stock on top of each reorder point
    assert (fr_out - fr_rop == csl_out - csl_rop).all()
    fast = items["sku"].to_list().index("FAST")
    # the fast mover needs less for a 95 % fill rate than for 95 % of cycles without a stockout
    assert fr_rop[0, fast] < csl_rop[0, fast]
    assert (fr_rop >= 0).all()
    with pytest.raises(ValueError, match="unknown target kind"):
        shelfwise_levels(grid, items, {"type3": [0.9]}, config, seed=0)


def test_simulate_policies_refits_only_on_the_past(small_run):
    _, _, config, result, origins = small_run
    start = result.window["replay_start"]
    assert len(origins) == 3  # 70 days / 28 → blocks starting on days 0, 28, 56
    for b, line in enumerate(origins):
        origin = dt.date.fromisoformat(line.rsplit(" ", 1)[1])
        assert origin == start + dt.timedelta(days=b * config.refit_days - 1)


def test_simulate_policies_rejects_short_history_and_bad_items():
    grid = daily_grid(synthetic_demand(2, 60, seed=1))
    with pytest.raises(ValueError, match="too short"):
        simulate_policies(grid, config=SimulationConfig(eval_days=50, warmup_days=0))
    sku = grid["sku"][0]
    with pytest.raises(ValueError, match="negative lead time"):
        simulate_policies(grid, pl.DataFrame({"sku": [sku], "lead_time_mean_days": [-1.0]}),
                          SimulationConfig(eval_days=14, warmup_days=0))
