"""Yearly seasonality: what last year's season says about the coming days, per category.

The statistical models see a year of history but track the *recent* level (weekly pattern,
exponential smoothing, window averages): at the top of a spring peak they forecast the peak
for the whole horizon, and stock ordered then sits through the decline. Last year knows
better. For a target day t and a forecast made at origin o, :func:`yearly_ratio` is

    ratio(category, t) = m(t − 364) ÷ r(o − 364)

- m(x): the category's demand per day, summed over its SKUs, averaged over ``smooth_days``
  centred on x (a moving average: one day's noise and promotions wash out);
- r(x): the category's demand per day over the ``reference_days`` ending at x, the stretch
  the models' level mostly comes from.

364 days (52 weeks) keeps weekdays aligned. The ratio compares two stretches of the same
year, so growth between years cancels. The point forecast is multiplied by it
(:func:`forecasting.forecast_demand` with ``ForecastConfig.yearly_seasonality``). The ratio
is pooled per category because one SKU's year-ago days are too noisy to say much. The
generator and most retail give a category one season (garden in spring, toys at
Christmas).

Edge cases, all ratio 1 (no correction): a SKU without a category; a history shorter
than :func:`history_days_needed`; a category with fewer than ``min_reference_units`` units in
its reference stretch (too thin to scale by). Ratios are clipped to
[:data:`RATIO_MIN`, :data:`RATIO_MAX`].
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from forecasting.history import impute_censored

LAG_DAYS = 364
RATIO_MIN, RATIO_MAX = 0.1, 10.0


def history_days_needed(reference_days: int = 28) -> int:
    """Days of history (ending at the origin) the ratio needs: a year plus the reference
    stretch. Forecast days up to a year minus half the smoothing window ahead then get one."""
    return LAG_DAYS + reference_days


def yearly_ratio(
    grid: pl.DataFrame,
    categories: pl.DataFrame,
    dates: pl.Series | list[dt.date],
    *,
    reference_days: int = 28,
    smooth_days: int = 29,
    min_reference_units: float = 28.0,
) -> pl.DataFrame:
    """``category, date, yearly_ratio`` for each category and forecast day in ``dates``.

    ``grid``: :func:`forecasting.daily_grid` output (``sku, date, units, censored``) ending at
    the origin. Censored days count at their imputed value
    (:func:`forecasting.impute_censored`), since a stockout hides demand. ``categories``:
    ``sku, category``. ``dates``: forecast days after the grid's last date. Only categories
    and days with a ratio are returned. Callers use 1 for the rest.
    """
    schema = {"category": pl.String, "date": pl.Date, "yearly_ratio": pl.Float64}
    if reference_days < 1 or smooth_days < 1:
        raise ValueError("reference_days and smooth_days must be ≥ 1")
    if grid.is_empty() or categories.is_empty():
        return pl.DataFrame(schema=schema)
    origin: dt.date = grid["date"].max()
    first: dt.date = grid["date"].min()
    ref_end = origin - dt.timedelta(days=LAG_DAYS)
    ref_start = ref_end - dt.timedelta(days=reference_days - 1)
    if ref_start < first:
        return pl.DataFrame(schema=schema)

    cats = categories.select(pl.col("sku").cast(pl.String),
                             pl.col("category").cast(pl.String)).drop_nulls().unique("sku")
    targets = pl.DataFrame({"date": pl.Series(dates, dtype=pl.Date)})
    if targets.is_empty():
        return pl.DataFrame(schema=schema)
    # only the days the ratio reads: the reference stretch and the smoothing windows a year
    # before the targets, plus the 28 days the imputation of a censored day looks back
    half = dt.timedelta(days=smooth_days // 2)
    lag = dt.timedelta(days=LAG_DAYS)
    low = max(first, min(ref_start, targets["date"].min() - lag - half) - dt.timedelta(days=28))
    high = min(origin, max(ref_end, targets["date"].max() - lag + half))
    daily = (
        impute_censored(grid.filter(pl.col("date").is_between(low, high)))
        .join(cats, on="sku", how="inner")
        .group_by("category", "date").agg(pl.col("y").sum())
    )
    if daily.is_empty():
        return pl.DataFrame(schema=schema)
    # a complete calendar per category: a day nobody sold anything on counts as 0
    calendar = pl.date_range(low, high, "1d", eager=True).alias("date")
    daily = (
        daily.select("category").unique().join(calendar.to_frame(), how="cross")
        .join(daily, on=["category", "date"], how="left")
        .with_columns(pl.col("y").fill_null(0.0))
        .sort("category", "date")
        .with_columns(
            pl.col("y").rolling_mean(window_size=smooth_days, center=True,
                                     min_samples=smooth_days).over("category").alias("m")
        )
    )
    reference = (
        daily.filter(pl.col("date").is_between(ref_start, ref_end))
        .group_by("category")
        .agg(pl.col("y").sum().alias("ref_units"), pl.len().alias("ref_days"))
        .filter(pl.col("ref_days") == reference_days,
                pl.col("ref_units") >= min_reference_units)
        .select("category", (pl.col("ref_units") / reference_days).alias("ref"))
    )
    targets = targets.with_columns((pl.col("date") - lag).alias("year_ago"))
    return (
        targets.join(reference, how="cross")
        .join(daily.select("category", pl.col("date").alias("year_ago"), "m"),
              on=["category", "year_ago"], how="inner")
        .filter(pl.col("m").is_not_null())
        .select("category", "date",
                (pl.col("m") / pl.col("ref")).clip(RATIO_MIN, RATIO_MAX).alias("yearly_ratio"))
        .sort("category", "date")
    )
