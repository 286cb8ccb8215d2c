"""Pooled fill-rate allocation (forecasting/fillrate.py) and the policy that uses it.

The hand-computed case: two SKUs, four equally likely demands over L + R each, three
candidate levels; the cheap SKU gets protection first, the expensive one only when the target
leaves no other way.
"""

import datetime as dt

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasting import daily_grid
from forecasting.fillrate import POOLED_LEVELS, cycle_days, level_table, pooled_levels
from forecasting.policy import policy_levels, reason_text
from forecasting.simulation import SimulationConfig, _items, shelfwise_levels

# columns: A (cheap) demands 0, 2, 4, 6 (mean 3); B (expensive) 0, 0, 0, 8 (mean 2)
DRAWS = np.array([[0.0, 0.0], [2.0, 0.0], [4.0, 0.0], [6.0, 8.0]])
LEVELS = [0.5, 0.75, 0.9999]  # inverted CDF: the 2nd, 3rd and 4th sorted demand


def test_level_table_by_hand():
    reorder, shortage = level_table(DRAWS, LEVELS)
    assert reorder.tolist() == [[2.0, 0.0], [4.0, 0.0], [6.0, 8.0]]
    # A at s = 2: (0 + 0 + 2 + 4) / 4 = 1.5; s = 4: 2 / 4; s = 6: 0. B at s = 0: 8 / 4 = 2
    assert shortage.tolist() == [[1.5, 2.0], [0.5, 2.0], [0.0, 0.0]]
    # a fixed level per SKU (an override) repeats in every row
    reorder, _ = level_table(DRAWS, np.array([[0.5, 0.9999]] * 3))
    assert reorder.tolist() == [[2.0, 8.0]] * 3


def test_pooled_allocation_by_hand():
    reorder, shortage = level_table(DRAWS, LEVELS)
    # unit cost A 1, B 10; 1 unit a day each (2 demanded a day); an order every 2 days, so
    # short per day = shortage / 2: A 0.75, 0.25, 0; B 1, 1, 0.
    # β 0.1 allows 1.8 short a day: the lowest levels (1.75) already do, stock value 2;
    # β 0.3 allows 1.4: A one step up (1.25), value 4;
    # β 0.5 allows 1.0: A at the top (1.0), value 6, B still lowest (lifting B costs 80);
    # β 0.95 allows 0.1: only both at the top (0) do, value 86
    choice, fill = pooled_levels(reorder, shortage, unit_cost=np.array([1.0, 10.0]),
                                 mean_daily=np.array([1.0, 1.0]), cycle_days=np.array([2.0, 2.0]),
                                 targets=[0.1, 0.3, 0.5, 0.95])
    assert choice.tolist() == [[0, 0], [1, 0], [2, 0], [2, 2]]
    assert fill == pytest.approx([1 - 1.75 / 2, 1 - 1.25 / 2, 0.5, 1.0])
    # the same target with the costs swapped protects B first
    choice, _ = pooled_levels(reorder, shortage, unit_cost=np.array([10.0, 0.1]),
                              mean_daily=np.array([1.0, 1.0]), cycle_days=np.array([2.0, 2.0]),
                              targets=[0.5])
    assert choice.tolist() == [[0, 2]]


def test_pooled_allocation_unreachable_target_and_bad_input():
    reorder, shortage = level_table(np.array([[0.0], [9.0]]), [0.5])  # one level: s = 0
    choice, fill = pooled_levels(reorder, shortage, np.array([1.0]), np.array([1.0]),
                                 np.array([1.0]), [0.9])
    assert choice.tolist() == [[0]] and fill[0] < 0.9  # the best it can: reported below
    with pytest.raises(ValueError, match="between 0 and 1"):
        pooled_levels(reorder, shortage, np.array([1.0]), np.array([1.0]), np.array([1.0]), [1.0])
    with pytest.raises(ValueError, match="between 0 and 1"):
        level_table(DRAWS, [0.0, 0.5])


def test_cycle_days_by_hand():
    # 2 a day, R 7: 14 units a review; case pack 12 makes the smallest order 24 = 12 days;
    # an MOQ of 100 makes it 50 days; without packs, R; without demand, R
    days = cycle_days(np.array([2.0, 2.0, 2.0, 0.0]), np.array([7, 7, 7, 7]),
                      np.array([12, 1, 1, 1]), np.array([0, 100, 0, 0]))
    assert days.tolist() == [12.0, 50.0, 7.0, 7.0]
    # half a review of cycle stock: 7 units → one case of 12 still lasts 6 days, but orders
    # come at most once per review: 7 days; 0.25 × 14 → 4 units with case pack 1: still R
    half = cycle_days(np.array([2.0, 2.0, 2.0]), np.array([7, 7, 7]), np.array([12, 1, 24]),
                      np.array([0, 0, 0]), cycle_stock_reviews=0.5)
    assert half.tolist() == [7.0, 7.0, 12.0]


@settings(max_examples=60, deadline=None)
@given(m=st.integers(2, 40), n=st.integers(1, 5), seed=st.integers(0, 10**6),
       levels=st.lists(st.floats(0.01, 0.999), min_size=1, max_size=6))
def test_level_table_matches_numpy_and_brute_force(m, n, seed, levels):
    rng = np.random.default_rng(seed)
    x = rng.poisson(rng.gamma(1.0, 4.0, n), (m, n)).astype(float)
    reorder, shortage = level_table(x, levels)
    assert (reorder == np.quantile(x, levels, axis=0, method="inverted_cdf")).all()
    brute = np.clip(x[None] - reorder[:, None, :], 0, None).mean(axis=1)
    assert shortage == pytest.approx(brute, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 6), seed=st.integers(0, 10**6),
       betas=st.lists(st.floats(0.05, 0.99), min_size=1, max_size=4))
def test_pooled_allocation_meets_the_target_and_beats_any_uniform_level_as_good(n, seed, betas):
    rng = np.random.default_rng(seed)
    x = rng.poisson(rng.gamma(1.0, 3.0, n), (200, n)).astype(float)
    reorder, shortage = level_table(x, POOLED_LEVELS)
    cost = rng.gamma(1.0, 5.0, n)
    daily = x.mean(axis=0) / 10
    cycle = rng.uniform(1, 30, n)
    betas = sorted(betas)
    choice, fill = pooled_levels(reorder, shortage, cost, daily, cycle, betas)
    cols = np.arange(n)
    top = 1 - (shortage[-1] / cycle).sum() / daily.sum() if daily.sum() > 0 else 1.0
    value = (cost * reorder[choice, cols]).sum(axis=1)
    for b, f in zip(betas, fill):
        assert f >= b - 1e-9 or f == pytest.approx(top)  # the target, or the best there is
    # a higher target never gets a lower fill rate or costs less
    assert (np.diff(fill) >= -1e-9).all() and (np.diff(value) >= -1e-9).all()
    # no uniform level with as little expected shortage holds less stock value (Everett)
    short = (shortage[choice, cols] / cycle).sum(axis=1)
    for g in range(len(POOLED_LEVELS)):
        uniform_short = (shortage[g] / cycle).sum()
        uniform_value = (cost * reorder[g]).sum()
        for s, v in zip(short, value):
            if uniform_short <= s + 1e-12:
                assert v <= uniform_value + 1e-9


def _forecast(sku: str, mean: float, vmr: float = 2.0, days: int = 40) -> pl.DataFrame:
    start = dt.date(2026, 3, 1)
    return pl.DataFrame({"sku": sku, "location_id": "W1",
                         "date": [start + dt.timedelta(days=i) for i in range(days)],
                         "mean": mean, "vmr": vmr})


def _params(sku: str, cost: float, level: float | None = None) -> dict:
    return {"sku": sku, "location_id": "W1", "service_level": level,
            "lead_time_mean_days": 10.0, "lead_time_sd_days": 2.0, "review_period_days": 7,
            "unit_cost": cost}


def test_policy_levels_with_a_fill_rate_target():
    fc = pl.concat([_forecast("CHEAP", 3.0), _forecast("DEAR", 3.0), _forecast("FIXED", 3.0)])
    params = pl.DataFrame([_params("CHEAP", 1.0), _params("DEAR", 50.0),
                           _params("FIXED", 50.0, 0.97), _params("NONE", 5.0)],
                          schema_overrides={"service_level": pl.Float64})
    out = {r["sku"]: r for r in policy_levels(fc, params, n_sims=500, fill_rate_target=0.95)
           .iter_rows(named=True)}
    # same demand: the cheap SKU gets more protection than the dear one
    assert out["CHEAP"]["service_level"] > out["DEAR"]["service_level"]
    assert out["CHEAP"]["reorder_point_units"] >= out["DEAR"]["reorder_point_units"]
    assert out["FIXED"]["service_level"] == 0.97  # an override keeps its level
    assert out["NONE"]["service_level"] == POOLED_LEVELS[0]  # no demand: nothing to short
    assert out["NONE"]["reorder_point_units"] == 0
    # without a target every level is taken as given, and one is needed
    with pytest.raises(ValueError, match="no service level"):
        policy_levels(fc, params, n_sims=50)
    with pytest.raises(ValueError, match="unit_cost"):
        policy_levels(fc, params.drop("unit_cost"), n_sims=50, fill_rate_target=0.95)
    with pytest.raises(ValueError, match="between 0 and 1"):
        policy_levels(fc, params, n_sims=50, fill_rate_target=95)


def test_policy_levels_given_levels_match_the_quantiles_as_before():
    from forecasting.quantiles import lead_time_demand_quantiles

    fc = _forecast("A", 2.5)
    params = pl.DataFrame([_params("A", 1.0, 0.9)])
    out = policy_levels(fc, params, n_sims=300, seed=3).row(0, named=True)
    q = lead_time_demand_quantiles(
        fc.select(pl.lit("A\x1fW1").alias("sku"), "date", "mean", "vmr"), 10.0, 2.0,
        review_days=7, quantiles=[0.9], n_sims=300, seed=3)
    assert out["reorder_point_units"] == q["units"][0]
    assert out["service_level"] == 0.9


def test_reason_says_where_a_chosen_level_comes_from():
    row = {"projected_stockout_date": dt.date(2026, 4, 30), "expected_arrival_date": dt.date(2026, 3, 20),
           "order_date": dt.date(2026, 3, 6), "as_of": dt.date(2026, 3, 6),
           "inventory_position_units": 2.0, "reorder_point_units": 5.0, "suggested_units": 3,
           "cases": 3, "case_pack": 1, "service_level": 0.62, "min_order_value": None,
           "currency": "EUR", "coverage_cap_units": 10, "max_coverage_days": 120.0,
           "moq": 0, "moq_flag": False, "coverage_cap": False, "min_order_value_topup": False,
           "order_below_min_value": False, "topup_units": 0, "stockout_before_arrival": False}
    frame = pl.DataFrame([row | {"service_level_source": "fill_rate_target",
                                 "fill_rate_target": 0.95},
                          row | {"service_level_source": "override", "fill_rate_target": 0.95}])
    reasons = frame.select(reason_text(frame))["reason"].to_list()
    assert reasons[0].endswith("to reach 62% service through the next delivery, the level "
                               "that meets a 95% fill rate over all SKUs at the least stock "
                               "value")
    assert reasons[1].endswith("to reach 62% service through the next delivery")


def test_simulator_replays_the_pooled_allocation():
    rng = np.random.default_rng(7)
    dates = [dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(120)]
    grid = daily_grid(pl.DataFrame({
        "sku": ["CHEAP"] * 120 + ["DEAR"] * 120, "date": dates * 2,
        "units": np.concatenate([rng.poisson(4.0, 120), rng.poisson(4.0, 120)]).astype(float),
    }).filter(pl.col("units") > 0))
    items = _items(["CHEAP", "DEAR"], pl.DataFrame({"sku": ["CHEAP", "DEAR"],
                                                   "unit_cost": [1.0, 40.0]}))
    levels = shelfwise_levels(grid, items, {"pooled": [0.8, 0.95, 0.99], "cycle": [0.95]},
                              SimulationConfig(n_sims=400), seed=0)
    rop, out = levels["pooled"]
    assert (np.diff(rop, axis=0) >= 0).all()  # a higher target never lowers a reorder point
    assert rop[1, 0] >= rop[1, 1]  # same demand: the cheap SKU is protected at least as well
    assert (out - rop == levels["cycle"][1] - levels["cycle"][0]).all()  # same cycle stock
