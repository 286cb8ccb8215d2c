"""The level shock: lead-time demand wider than independent days when a forecast's level is off.

level_dispersion estimates the sd of a level error shared by all days of a held-out window;
lead_time_demand_draws applies it as one gamma multiplier per scenario.
"""

import datetime as dt

import numpy as np
import polars as pl
import pytest

from forecasting import ForecastConfig, daily_grid, forecast_demand, lead_time_demand_draws
from forecasting.quantiles import MIN_POOL_SKUS, level_dispersion

D = dt.date(2025, 1, 1)
WINDOW = 28


def windows(level_var: np.ndarray, n_windows: int = 3, seed: int = 0,
            rate: np.ndarray | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Held-out windows of Poisson days whose level is a gamma shock (mean 1, variance
    ``level_var[i]``) per SKU and window; the forecast is the true rate (units/day)."""
    rng = np.random.default_rng(seed)
    n = len(level_var)
    rate = rng.uniform(1.0, 20.0, n) if rate is None else rate
    shocked = level_var > 0
    shape = np.where(shocked, 1 / np.where(shocked, level_var, 1.0), 1.0)
    level = np.where(shocked, rng.gamma(shape, 1 / shape, (n_windows, n)), 1.0)
    f = rate * WINDOW
    y = rng.poisson(f * level)
    skus = [f"s{i:04d}" for i in range(n)]
    frame = pl.DataFrame({"sku": np.tile(skus, n_windows), "vmr": 1.0,
                          "error": (y - f).ravel().astype(float),
                          "forecast": np.broadcast_to(f, (n_windows, n)).ravel()})
    return frame, pl.DataFrame({"sku": skus, "group": "smooth"})


def test_independent_poisson_days_give_a_factor_of_about_one():
    frame, skus = windows(np.zeros(400))
    out = level_dispersion(frame, skus)
    assert out["level_cv"].max() < 0.05
    assert out["dispersion_factor"].mean() == pytest.approx(1.0, abs=0.1)
    assert (out["level_cv_source"] == "own").all()


def test_known_overdispersion_gives_the_expected_factor():
    # level variance 0.04 (sd 20 %): Var of a 28-day sum is F + 0.04 F², factor 1 + 0.04 F
    level_var = 0.04
    rate = np.full(400, 5.0)
    frame, skus = windows(np.full(400, level_var), rate=rate)
    out = level_dispersion(frame, skus)
    assert (out["level_cv"] ** 2).mean() == pytest.approx(level_var, rel=0.2)
    expected = 1 + level_var * 5.0 * WINDOW
    assert out["dispersion_factor"].mean() == pytest.approx(expected, rel=0.2)


def test_each_sku_is_shrunk_towards_its_groups_pool():
    # two groups: one with a level shock, one without; each SKU's 3 windows are noisy, so it
    # lands near its own group's value rather than the overall one
    frame, skus = windows(np.r_[np.full(200, 0.09), np.zeros(200)])
    skus = skus.with_columns(pl.Series("group", ["a"] * 200 + ["b"] * 200))
    out = level_dispersion(frame, skus).sort("sku")
    a = out.filter(pl.col("group") == "a")["level_cv"]
    b = out.filter(pl.col("group") == "b")["level_cv"]
    assert a.mean() == pytest.approx(0.3, abs=0.06)
    assert b.mean() < 0.05
    assert a.std() < 0.15  # shrunk: 3 windows alone would scatter much more


def test_short_history_falls_back_to_the_pool():
    frame, skus = windows(np.full(100, 0.04), rate=np.full(100, 5.0))
    extra = pl.DataFrame({"sku": ["new", "tiny-group"], "group": ["smooth", "rare"]})
    out = level_dispersion(frame, pl.concat([skus, extra])).sort("sku")
    pooled = out.filter(pl.col("sku").is_in(["new", "tiny-group"]))
    assert (pooled["level_cv_source"] == "pooled").all()
    assert (pooled["windows"] == 0).all()
    assert pooled["dispersion_factor"].is_null().all()
    # the SKU without windows gets its group's pool; the group without enough SKUs (here
    # none at all) the pool over everyone, which is the same single group here
    assert pooled["level_cv"][0] == pytest.approx(0.2, abs=0.05)
    assert pooled["level_cv"][1] == pytest.approx(pooled["level_cv"][0], rel=1e-9)
    assert MIN_POOL_SKUS > 1


def test_no_windows_at_all_gives_zero():
    skus = pl.DataFrame({"sku": ["a", "b"], "group": ["smooth", "lumpy"]})
    empty = pl.DataFrame(schema={"sku": pl.String, "vmr": pl.Float64, "error": pl.Float64,
                                 "forecast": pl.Float64})
    out = level_dispersion(empty, skus)
    assert out["level_cv"].to_list() == [0.0, 0.0]


def flat(mean: float, vmr: float, level_cv: float | None, days: int = 30) -> pl.DataFrame:
    frame = pl.DataFrame({"sku": ["a"] * days,
                          "date": [D + dt.timedelta(days=i) for i in range(days)],
                          "mean": [mean] * days, "vmr": [vmr] * days})
    return frame if level_cv is None else frame.with_columns(pl.lit(level_cv).alias("level_cv"))


def test_draws_with_a_level_shock_have_the_modelled_variance():
    # Var(D_k) = vmr × M + level_cv² × M² with M = 20 days × 4 units
    _, totals = lead_time_demand_draws(flat(4.0, 2.0, 0.25), 20, 0, n_sims=20000, seed=1)
    m = 80.0
    assert totals.mean() == pytest.approx(m, rel=0.02)
    assert totals.var() == pytest.approx(2.0 * m + 0.0625 * m**2, rel=0.08)


def test_zero_or_missing_level_cv_leaves_the_draws_unchanged():
    _, without = lead_time_demand_draws(flat(3.0, 1.5, None), 14, 3, review_days=7, seed=4)
    _, zero = lead_time_demand_draws(flat(3.0, 1.5, 0.0), 14, 3, review_days=7, seed=4)
    np.testing.assert_array_equal(without, zero)
    # deterministic demand (vmr 0) ignores the shock
    _, fixed = lead_time_demand_draws(flat(3.0, 0.0, 0.5), 10, 0, seed=4)
    assert np.allclose(fixed, 30.0)


def test_forecast_demand_carries_level_cv_and_can_switch_it_off():
    rng = np.random.default_rng(3)
    days = 28 * 14  # the CV windows start on a block boundary
    rows = []
    for i in range(60):
        shocked = i % 2 == 0
        level = (np.repeat(rng.gamma(11.1, 0.09, days // 28), 28) if shocked
                 else np.ones(days))  # sd 30 % per 28-day block, or none
        y = rng.poisson(rng.uniform(3, 15) * level)
        rows.append(pl.DataFrame({"sku": f"{'s' if shocked else 'p'}{i:02d}",
                                  "date": [D + dt.timedelta(days=d) for d in range(days)],
                                  "units": y.astype(float)}))
    grid = daily_grid(pl.concat(rows))
    result = forecast_demand(grid, horizon=14, config=ForecastConfig(level_shock=True))
    assert "level_cv" in result.forecast.columns and "level_cv" in result.selection.columns
    cv = result.selection.select(pl.col("sku").str.slice(0, 1).alias("kind"), "level_cv")
    shocked = cv.filter(pl.col("kind") == "s")["level_cv"].mean()
    steady = cv.filter(pl.col("kind") == "p")["level_cv"].mean()
    assert shocked > 0.15 and shocked > steady + 0.05
    off = forecast_demand(grid, horizon=14)  # off by default
    assert (off.forecast["level_cv"] == 0).all()
    assert off.forecast.drop("level_cv").equals(result.forecast.drop("level_cv"))
