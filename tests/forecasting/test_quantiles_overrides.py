"""Daily quantiles, lead-time demand quantiles and planner overrides."""

import datetime as dt

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from forecasting import add_quantiles, apply_overrides, lead_time_demand_quantiles, nb_quantiles

D = dt.date(2026, 1, 1)
QS = [0.5, 0.8, 0.9, 0.95, 0.99]


def flat_forecast(mean: float, vmr: float, days: int = 30, skus=("a",)) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sku": [s for s in skus for _ in range(days)],
            "date": [D + dt.timedelta(days=i) for _ in skus for i in range(days)],
            "mean": [mean] * days * len(skus),
            "vmr": [vmr] * days * len(skus),
        }
    )


def test_daily_quantiles_monotone_nonnegative_and_zero_for_zero_mean():
    frame = pl.DataFrame({"mean": [0.0, 0.3, 2.0, 40.0, 5.0], "vmr": [3.0, 1.0, 4.0, 10.0, 0.0]})
    out = add_quantiles(frame, QS)
    values = out.select([f"q{q:g}" for q in QS]).to_numpy()
    assert (values >= 0).all()
    assert (np.diff(values, axis=1) >= 0).all()
    assert (values[0] == 0).all()  # nothing expected, nothing in any quantile
    assert (values[4] == 5.0).all()  # vmr 0: deterministic


def test_poisson_quantiles_match_scipy():
    got = nb_quantiles(np.array([2.5]), np.array([1.0]), [0.9])[0, 0]
    assert got == stats.poisson.ppf(0.9, 2.5)


@settings(max_examples=60, deadline=None)
@given(
    mean=st.floats(0, 500, allow_nan=False),
    vmr=st.one_of(st.just(0.0), st.floats(1, 100)),
    qs=st.lists(st.floats(0.01, 0.99), min_size=2, max_size=6, unique=True),
)
def test_quantiles_monotone_in_level(mean, vmr, qs):
    qs = sorted(qs)
    values = nb_quantiles(np.array([mean]), np.array([vmr]), qs)[0]
    assert (values >= 0).all() and (np.diff(values) >= -1e-9).all()


def test_lead_time_sum_is_exact_for_deterministic_demand_and_fixed_lead_time():
    # 2 units/day for sure, L = 10 days, R = 4 days -> exactly 28 units at every quantile
    out = lead_time_demand_quantiles(
        flat_forecast(2.0, 0.0), 10, 0, review_days=4, quantiles=QS, n_sims=200
    )
    assert out["units"].to_list() == [28.0] * len(QS)


def test_lead_time_sum_of_poisson_days_matches_the_poisson_of_the_sum():
    # independent Poisson days: the 14-day total is Poisson(14 * 1.5); the sum of daily
    # q0.95s would be far higher, which is the mistake this function exists to avoid
    out = lead_time_demand_quantiles(
        flat_forecast(1.5, 1.0), 14, 0, quantiles=[0.5, 0.95], n_sims=20000
    )
    exact = stats.poisson.ppf([0.5, 0.95], 21)
    assert np.abs(out["units"].to_numpy() - exact).max() <= 1
    daily_sum = 14 * stats.poisson.ppf(0.95, 1.5)
    assert out["units"][1] < daily_sum


def test_lead_time_spread_widens_the_upper_quantile_and_frame_input():
    fc = flat_forecast(3.0, 2.0, skus=("a", "b"))
    fixed = lead_time_demand_quantiles(fc, 10, 0, quantiles=[0.99], n_sims=4000, seed=1)
    lt = pl.DataFrame(
        {"sku": ["a", "b"], "lead_time_mean": [10.0, 10.0], "lead_time_sd": [0.0, 5.0]}
    )
    spread = lead_time_demand_quantiles(fc, lt, quantiles=[0.99], n_sims=4000, seed=1)
    assert spread["units"][0] == fixed["units"][0]
    assert spread["units"][1] > fixed["units"][1]
    assert spread.columns == ["sku", "quantile", "units"]


def test_lead_time_longer_than_horizon_repeats_last_week():
    out = lead_time_demand_quantiles(
        flat_forecast(1.0, 0.0, days=7), 20, 0, quantiles=[0.5], n_sims=10
    )
    assert out["units"][0] == 20.0


@settings(max_examples=25, deadline=None)
@given(
    mean=st.floats(0.01, 20),
    vmr=st.one_of(st.just(1.0), st.floats(1, 30)),
    lead=st.floats(0, 30),
    extra=st.floats(0, 20),
    cv=st.one_of(st.just(0.0), st.floats(0.05, 0.8)),
    q=st.sampled_from(QS),
)
def test_lead_time_quantile_non_decreasing_in_lead_time(mean, vmr, lead, extra, cv, q):
    # same seed: L is drawn by inverse CDF (a gamma with a fixed CV scales with its mean) and
    # day t's demand by a stream keyed on t, so a longer L adds days to the same paths
    fc = flat_forecast(mean, vmr, days=20)
    a = lead_time_demand_quantiles(
        fc, lead, cv * lead, review_days=2, quantiles=[q], n_sims=300, seed=3
    )
    b = lead_time_demand_quantiles(
        fc, lead + extra, cv * (lead + extra), review_days=2, quantiles=[q], n_sims=300, seed=3
    )
    assert b["units"][0] >= a["units"][0]


def forecast_frame() -> pl.DataFrame:
    base = flat_forecast(2.0, 1.0, days=6, skus=("a", "b"))
    return add_quantiles(base, [0.5, 0.9])


def test_overrides_multiplier_and_quantity_are_visible():
    overrides = pl.DataFrame(
        {
            "sku": ["a", "b"],
            "start_date": [D, D + dt.timedelta(days=2)],
            "end_date": [D + dt.timedelta(days=1), D + dt.timedelta(days=2)],
            "multiplier": [1.5, None],
            "quantity": [None, 10.0],
            "note": ["promo", "B2B order"],
        }
    )
    out = apply_overrides(forecast_frame(), overrides).sort("sku", "date")
    a = out.filter(pl.col("sku") == "a")
    assert a["mean"].to_list() == [3.0, 3.0, 2.0, 2.0, 2.0, 2.0]
    assert a["statistical_mean"].to_list() == [2.0] * 6
    assert a["is_override"].to_list() == [True, True, False, False, False, False]
    assert a["override_source"][0] == "planner: promo" and a["override_source"][2] == "statistical"
    assert a["q0.9"][0] == 1.5 * a["statistical_q0.9"][0]
    b = out.filter(pl.col("sku") == "b")
    assert b["mean"][2] == 10.0 and b["is_override"].sum() == 1


def test_overrides_reject_ambiguous_rows():
    bad = pl.DataFrame(
        {
            "sku": ["a"],
            "start_date": [D],
            "end_date": [D],
            "multiplier": [2.0],
            "quantity": [3.0],
            "note": ["?"],
        }
    )
    with pytest.raises(ValueError, match="row 1"):
        apply_overrides(forecast_frame(), bad)


def test_no_overrides_keeps_forecast_and_marks_statistical():
    empty = pl.DataFrame(
        schema={
            "sku": pl.String,
            "start_date": pl.Date,
            "end_date": pl.Date,
            "multiplier": pl.Float64,
            "quantity": pl.Float64,
            "note": pl.String,
        }
    )
    out = apply_overrides(forecast_frame(), empty)
    assert not out["is_override"].any() and (out["mean"] == out["statistical_mean"]).all()


def test_a_vanishing_lead_time_draws_its_mean_not_nan():
    import numpy as np

    from forecasting.quantiles import _lead_time_samples

    u = (np.arange(10) + 0.5) / 10
    days = _lead_time_samples(u, 1e-300, 5e-301, None)
    assert np.isfinite(days).all() and (days >= 0).all()
    out = lead_time_demand_quantiles(flat_forecast(2.0, 1.0, days=20), 1e-300, 5e-301,
                                     review_days=2, quantiles=[0.9], n_sims=50, seed=1)
    assert out["units"][0] >= 0
