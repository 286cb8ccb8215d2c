"""The SKU forecast per location: its split over locations, and the season over an order's window.

Part of :mod:`forecasting.policy` (units per day; shares and ratios unitless).
"""

from __future__ import annotations

import polars as pl


def split_forecast(forecast: pl.DataFrame, shares: pl.DataFrame) -> pl.DataFrame:
    """The SKU forecast split over locations: ``mean × share`` per day.

    ``forecast``: ``sku, date, mean, vmr`` (units/day); ``shares``: ``sku, location_id, share``
    (each SKU's shares sum to 1; the caller decides how, see docs/replenishment.md). A
    location's demand is a random share of the SKU's: thinning NB1 demand with variance-to-mean
    ratio v by a share p gives mean p·μ and ratio 1 + p·(v − 1), so the split keeps the
    forecast's spread honest (a small location is relatively noisier). ``vmr == 0``
    (deterministic) stays 0. A location × SKU without a forecast row is not in the result.

    A ``level_cv`` column (the forecast's level error, :func:`forecasting.level_dispersion`)
    passes through unchanged: a level error is relative, and every location shares it. Without
    one it is 0 (days independent).

    Returns ``sku, location_id, date, mean, vmr, level_cv``.
    """
    level_cv = pl.col("level_cv") if "level_cv" in forecast.columns else pl.lit(0.0)
    return forecast.select(
        "sku", "date", "mean", "vmr", level_cv.cast(pl.Float64).fill_null(0.0).alias("level_cv")
    ).join(
        shares.select("sku", "location_id", "share"), on="sku", how="inner"
    ).select(
        "sku", "location_id", "date",
        (pl.col("mean").clip(lower_bound=0.0) * pl.col("share")).alias("mean"),
        pl.when(pl.col("vmr") == 0).then(0.0)
        .otherwise(1.0 + pl.col("share") * (pl.col("vmr").clip(lower_bound=1.0) - 1.0))
        .alias("vmr"),
        "level_cv",
    ).sort("sku", "location_id", "date")


def season_ratio(forecast: pl.DataFrame, params: pl.DataFrame) -> pl.DataFrame:
    """How much last year's season lifts the demand an order decided today covers.

    ``forecast``: ``sku, date, mean, yearly_ratio`` (the SKU forecast,
    :func:`forecasting.forecast_demand`; no ``yearly_ratio`` column means 1). ``params``:
    ``sku, location_id, lead_time_mean_days, review_period_days``. Per SKU × location the
    forecast days 1 … round(L) + R (as many as the forecast has: ``season_days``) give
    ``season_ratio`` = Σ mean ÷ Σ (mean ÷ yearly_ratio): demand with the season over demand at
    the recent rate. Null without forecast demand in the window. The reason sentence quotes it
    (:func:`reason_text`).
    """
    ratio = pl.col("yearly_ratio") if "yearly_ratio" in forecast.columns else pl.lit(1.0)
    fc = forecast.select(
        "sku", "date", pl.col("mean").clip(lower_bound=0.0),
        ratio.cast(pl.Float64).fill_null(1.0).clip(lower_bound=1e-9).alias("yearly_ratio"),
    ).with_columns(pl.col("date").rank("dense").over("sku").cast(pl.Int64).alias("_day"))
    window = params.select(
        "sku", "location_id",
        (pl.col("lead_time_mean_days").cast(pl.Float64).fill_null(0.0).round(0).cast(pl.Int64)
         + pl.col("review_period_days").cast(pl.Int64).fill_null(0)).clip(lower_bound=1)
        .alias("_window"),
    )
    sums = (
        window.join(fc, on="sku", how="left")
        .filter(pl.col("_day") <= pl.col("_window"))
        .group_by("sku", "location_id")
        .agg(pl.col("mean").sum().alias("_with"),
             (pl.col("mean") / pl.col("yearly_ratio")).sum().alias("_without"),
             pl.len().alias("season_days"))
    )
    return window.join(sums, on=["sku", "location_id"], how="left").select(
        "sku", "location_id",
        pl.when(pl.col("_without") > 0).then(pl.col("_with") / pl.col("_without"))
        .alias("season_ratio"),
        pl.col("season_days").cast(pl.Int64),
    )
