"""The yearly ratio: last year's seasonal change of a category, applied to the forecast."""

import datetime as dt

import polars as pl
import pytest

from forecasting import ForecastConfig, daily_grid, forecast_demand
from forecasting.seasonality import history_days_needed, yearly_ratio

ORIGIN = dt.date(2026, 6, 30)


def hump_grid(days: int = 420, base: float = 1.0, hump: float = 3.0,
              skus: tuple[str, ...] = ("A", "B")) -> pl.DataFrame:
    """``base`` units/day per SKU, ``hump`` on the 40 days that start 363 days before the
    origin (a season last year), ending at :data:`ORIGIN`."""
    dates = pl.date_range(ORIGIN - dt.timedelta(days=days - 1), ORIGIN, "1d", eager=True)
    hump_start, hump_end = ORIGIN - dt.timedelta(days=363), ORIGIN - dt.timedelta(days=324)
    frame = pl.DataFrame({"date": dates}).join(pl.DataFrame({"sku": list(skus)}), how="cross")
    frame = frame.with_columns(
        pl.when(pl.col("date").is_between(hump_start, hump_end)).then(hump).otherwise(base)
        .alias("units")
    )
    return daily_grid(frame.select("sku", "date", "units"))


CATS = pl.DataFrame({"sku": ["A", "B"], "category": ["garden", "garden"]})


def test_ratio_is_last_years_smoothed_day_over_the_reference_stretch():
    days = [ORIGIN + dt.timedelta(days=d) for d in (1, 20, 60)]
    out = yearly_ratio(hump_grid(), CATS, days)
    ratio = dict(zip(out["date"], out["yearly_ratio"]))
    # reference: the 28 days to 364 days before the origin, 2 SKUs × 1 unit = 2 units/day
    # day 20: its year-ago 29-day window lies inside the hump: 2 × 3 = 6 units/day
    assert ratio[days[1]] == pytest.approx(3.0)
    # day 1: 14 days before the hump (2/day) and 15 in it (6/day)
    assert ratio[days[0]] == pytest.approx((14 * 2 + 15 * 6) / 29 / 2)
    # day 60: after the hump, back to the reference level
    assert ratio[days[2]] == pytest.approx(1.0)


@pytest.mark.parametrize("growth", [0.5, 1.0, 4.0])
def test_ratio_ignores_the_size_of_the_category(growth):
    days = [ORIGIN + dt.timedelta(days=d) for d in range(1, 40)]
    base = yearly_ratio(hump_grid(), CATS, days)
    scaled = yearly_ratio(hump_grid(base=growth, hump=3.0 * growth), CATS, days)
    assert scaled["yearly_ratio"].to_list() == pytest.approx(base["yearly_ratio"].to_list())


def test_no_ratio_without_a_year_and_the_reference_stretch():
    days = [ORIGIN + dt.timedelta(days=5)]
    needed = history_days_needed()
    assert needed == 364 + 28
    assert yearly_ratio(hump_grid(days=needed - 1), CATS, days).is_empty()
    assert yearly_ratio(hump_grid(days=needed), CATS, days).height == 1


def test_no_ratio_for_a_thin_category_or_a_sku_without_one():
    days = [ORIGIN + dt.timedelta(days=5)]
    # 0.4 units/day over the 28 reference days: 11 units, below the 28 needed to scale by
    assert yearly_ratio(hump_grid(base=0.2, hump=0.6), CATS, days).is_empty()
    only_a = yearly_ratio(hump_grid(), CATS.filter(pl.col("sku") == "A"), days)
    assert only_a["category"].to_list() == ["garden"]


def test_forecast_mean_is_scaled_by_the_ratio_and_reports_it():
    grid = hump_grid()
    cfg = ForecastConfig(cv_windows=2, cv_horizon=14)
    on = forecast_demand(grid, horizon=30, config=cfg, categories=CATS).forecast
    off = forecast_demand(grid, horizon=30, config=ForecastConfig(
        cv_windows=2, cv_horizon=14, yearly_seasonality=False), categories=CATS).forecast
    no_cats = forecast_demand(grid, horizon=30, config=cfg).forecast
    assert (off["yearly_ratio"] == 1.0).all() and (no_cats["yearly_ratio"] == 1.0).all()
    assert no_cats["mean"].to_list() == pytest.approx(off["mean"].to_list())
    joined = on.join(off, on=["sku", "date"], suffix="_off")
    assert joined["mean"].to_list() == pytest.approx(
        (joined["mean_off"] * joined["yearly_ratio"]).to_list())
    day20 = on.filter(pl.col("date") == ORIGIN + dt.timedelta(days=20))
    assert day20["yearly_ratio"].to_list() == pytest.approx([3.0, 3.0])
    # quantiles follow the scaled mean
    assert (day20["q0.5"] >= off.filter(pl.col("date") == ORIGIN + dt.timedelta(days=20))["q0.5"]).all()
