"""Safety stock, reorder point and order-up-to level per SKU × location (Monte Carlo).

Part of :mod:`forecasting.policy` (units; service levels 0..1).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from forecasting.fillrate import (
    POOLED_LEVELS,
    cycle_days,
    cycle_stock_units,
    level_table,
    pooled_levels,
)
from forecasting.quantiles import lead_time_demand_draws

_KEY = "_series"


def policy_levels(
    forecast: pl.DataFrame,
    params: pl.DataFrame,
    *,
    n_sims: int = 1000,
    seed: int = 0,
    fill_rate_target: float | None = None,
    cycle_stock_reviews: float = 1.0,
) -> pl.DataFrame:
    """Safety stock, reorder point and order-up-to level per SKU × location, in units.

    ``forecast``: ``sku, location_id, date, mean, vmr`` (:func:`split_forecast`; every series
    the same days, starting the day after the as-of day). ``params``: ``sku, location_id,
    service_level (0..1), lead_time_mean_days, lead_time_sd_days, review_period_days``.
    Series in ``params`` without forecast rows have no demand: every level is 0.

    - ``service_level``: the cycle service level the reorder point is the quantile of;
    - ``lead_time_demand_units``: expected demand over round(L) + R days (sum of the means);
    - ``mean_daily_demand_units``: that ÷ (round(L) + R); over the first day when L + R = 0;
    - ``reorder_point_units``: the ``service_level`` quantile of demand over L + R, Monte Carlo
      with gamma-distributed L (:func:`forecasting.lead_time_demand_draws`, ``n_sims``
      scenarios, seeded: the same inputs give the same numbers); with a ``level_cv`` column in
      ``forecast`` each scenario shares one level error over all its days, which widens the
      L + R demand as the backtest's multi-day errors do;
    - ``safety_stock_units``: reorder point − expected demand over L + R, never below 0;
    - ``order_up_to_units``: reorder point + cycle stock, cycle stock = mean daily demand × R
      × ``cycle_stock_reviews`` (default 1: one review period of demand), rounded up to whole
      units (the order quantity Q of an (R, s, S) policy: s covers the L + R days an order
      decided at a review protects, S − s is what one order adds). Below 1 the policy orders
      at more reviews and holds less cycle stock; 0 orders up to the reorder point at every
      review where the position is below it.

    ``fill_rate_target`` (β, 0..1, optional): choose the service levels instead of taking
    them. Every series whose ``service_level`` is null gets the level that, together with
    all the others, meets an expected **pooled** fill rate β (units served ÷ units demanded
    over every series in ``params``) at the least stock value
    (:func:`forecasting.fillrate.pooled_levels` over :data:`forecasting.fillrate.POOLED_LEVELS`);
    a series with a level (a per-SKU override) keeps it and counts in the pool. Needs
    ``unit_cost`` in ``params`` (per unit, one currency for all; null: the median of the
    others) and reads ``case_pack`` and ``moq`` when present (orders larger than R days of
    demand make cycles longer, so fewer of them risk a shortage). A series without demand
    gets the lowest candidate level (it has nothing to short).

    Series are simulated in groups of similar L + R so a long-lead supplier's tail does not
    make every short-lead series simulate as many days.
    """
    _check_arguments(params, n_sims, fill_rate_target, cycle_stock_reviews)
    pooled = fill_rate_target is not None
    p = _series_params(params)
    if not pooled and p["service_level"].null_count():
        missing = p.filter(pl.col("service_level").is_null())["sku"].head(3).to_list()
        raise ValueError(f"no service level for SKU(s) {missing} (and no fill_rate_target)")
    fc = forecast.with_columns(
        (pl.col("sku") + pl.lit("\x1f") + pl.col("location_id")).alias(_KEY),
        # day 1 is the first forecast day (every series has the same days)
        pl.col("date").rank("dense").cast(pl.Int64).alias("day"),
    ).join(p.select(_KEY, "window_days"), on=_KEY, how="inner")
    base = _expected_demand(fc, p)
    simulated, reorder, shortage, levels = _simulate(fc, base, pooled, n_sims, seed)
    if pooled and simulated.height:
        pick = _pooled_choice(simulated, base, reorder, shortage, fill_rate_target,
                              cycle_stock_reviews)
    else:
        pick = np.zeros((1, simulated.height), dtype=np.int64)
    rop = simulated.with_columns(
        pl.Series("reorder_point_units", np.take_along_axis(reorder, pick, axis=0)[0],
                  dtype=pl.Float64),
        pl.Series("_level", np.take_along_axis(levels, pick, axis=0)[0], dtype=pl.Float64),
    )
    return _levels_table(base, rop, cycle_stock_reviews)


def _check_arguments(params: pl.DataFrame, n_sims: int, fill_rate_target: float | None,
                     cycle_stock_reviews: float) -> None:
    """Raise ``ValueError`` with the rule when an argument of :func:`policy_levels` is off."""
    if n_sims < 1:
        raise ValueError("n_sims must be ≥ 1")
    if not cycle_stock_reviews >= 0:
        raise ValueError(f"cycle_stock_reviews = {cycle_stock_reviews!r}: must be ≥ 0 (review "
                         "periods of demand one order adds)")
    pooled = fill_rate_target is not None
    if pooled and not 0 < fill_rate_target < 1:
        raise ValueError(f"fill_rate_target = {fill_rate_target!r}: must be a number between "
                         "0 and 1 (0.95 is 95 %)")
    if pooled and "unit_cost" not in params.columns:
        raise ValueError("a fill-rate target needs unit_cost in params (the stock it saves is "
                         "valued at it)")


def _series_params(params: pl.DataFrame) -> pl.DataFrame:
    """``params`` typed and clipped, optional columns null when absent, with the series key
    and ``window_days`` = round(L) + R."""
    optional = {"unit_cost": pl.Float64, "case_pack": pl.Int64, "moq": pl.Int64}
    return params.select(
        "sku", "location_id", pl.col("service_level").cast(pl.Float64),
        pl.col("lead_time_mean_days").cast(pl.Float64).clip(lower_bound=0.0),
        pl.col("lead_time_sd_days").cast(pl.Float64).fill_null(0.0).clip(lower_bound=0.0),
        pl.col("review_period_days").cast(pl.Int64).fill_null(0).clip(lower_bound=0),
        *[(pl.col(c) if c in params.columns else pl.lit(None)).cast(t).alias(c)
          for c, t in optional.items()],
    ).with_columns(
        (pl.col("sku") + pl.lit("\x1f") + pl.col("location_id")).alias(_KEY),
        (pl.col("lead_time_mean_days").round(0).cast(pl.Int64) + pl.col("review_period_days"))
        .alias("window_days"),
    )


def _expected_demand(fc: pl.DataFrame, p: pl.DataFrame) -> pl.DataFrame:
    """Per series: ``lead_time_demand_units`` (expected demand over round(L) + R days; past
    the horizon the last week's mean repeats, as in the Monte Carlo) and
    ``mean_daily_demand_units``, joined onto the series parameters."""
    expected = fc.group_by(_KEY).agg(
        pl.col("mean").filter(pl.col("day") <= pl.col("window_days")).sum()
        .alias("lead_time_demand_units"),
        pl.col("mean").first().alias("first_day_mean"),
        # the MC repeats the last week past the horizon: so does the expectation
        pl.col("mean").tail(7).mean().alias("tail_mean"),
        pl.col("day").max().alias("horizon"),
    )
    window = pl.col("window_days")
    over_horizon = (window - pl.col("horizon")).clip(lower_bound=0)
    return (
        p.join(expected, on=_KEY, how="left")
        .with_columns(
            (pl.col("lead_time_demand_units").fill_null(0.0)
             + over_horizon.fill_null(0) * pl.col("tail_mean").fill_null(0.0))
            .alias("lead_time_demand_units"),
        )
        .with_columns(
            pl.when(window > 0).then(pl.col("lead_time_demand_units") / window)
            .otherwise(pl.col("first_day_mean").fill_null(0.0)).alias("mean_daily_demand_units"),
        )
    )


def _simulate(fc: pl.DataFrame, base: pl.DataFrame, pooled: bool, n_sims: int, seed: int,
              ) -> tuple[pl.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Monte Carlo demand over L + R for every series with demand: ``(series, reorder,
    shortage, levels)``, the series' keys in column order and (levels × series) tables of
    reorder points, expected shortages and the levels they are for (every candidate of
    :data:`~forecasting.fillrate.POOLED_LEVELS` when ``pooled``, else the series' own)."""
    # one Monte Carlo call per (R, L + 3·sd in weeks) group: few calls, little wasted
    # simulation; a series with no demand at all needs none (every quantile is 0)
    demand = fc.group_by(_KEY).agg(pl.col("mean").sum().alias("_total")) \
        .filter(pl.col("_total") > 0)
    groups = base.join(demand, on=_KEY, how="semi").with_columns(
        ((pl.col("lead_time_mean_days") + 3 * pl.col("lead_time_sd_days")) / 7).ceil()
        .cast(pl.Int64).alias("_weeks")
    )
    candidates = np.asarray(POOLED_LEVELS)
    keys, reorder, shortage, levels = [], [], [], []
    for (review, _), group in groups.group_by("review_period_days", "_weeks"):
        series = fc.filter(pl.col(_KEY).is_in(group[_KEY].implode()))
        names, draws = lead_time_demand_draws(
            series.select(pl.col(_KEY).alias("sku"), "date", "mean", "vmr",
                          *(["level_cv"] if "level_cv" in series.columns else [])),
            group.select(pl.col(_KEY).alias("sku"),
                         pl.col("lead_time_mean_days").alias("lead_time_mean"),
                         pl.col("lead_time_sd_days").alias("lead_time_sd")),
            review_days=int(review), n_sims=n_sims, seed=seed,
        )
        given = (pl.DataFrame({_KEY: names}).join(group, on=_KEY, how="left",
                                                   maintain_order="left")
                 ["service_level"].to_numpy().astype(float))
        if pooled:
            # a fixed level (an override) repeats in every candidate row: the allocation
            # cannot move it, but its expected shortage counts in the pool
            grid = np.where(np.isnan(given)[None, :], candidates[:, None], given[None, :])
        else:
            grid = given[None, :]
        r, short = level_table(draws, grid)
        keys.append(names.to_numpy())
        reorder.append(r)
        shortage.append(short)
        levels.append(grid)
    rows = max((r.shape[0] for r in reorder), default=1)
    simulated = pl.DataFrame({_KEY: np.concatenate(keys) if keys else []},
                             schema={_KEY: pl.String})
    return (simulated, *(np.concatenate(t, axis=1) if keys else np.zeros((rows, 0))
                         for t in (reorder, shortage, levels)))


def _pooled_choice(simulated: pl.DataFrame, base: pl.DataFrame, reorder: np.ndarray,
                   shortage: np.ndarray, fill_rate_target: float,
                   cycle_stock_reviews: float) -> np.ndarray:
    """The row of each simulated series' candidate level that meets the pooled fill rate at
    the least stock value (:func:`forecasting.fillrate.pooled_levels`), shape (1, series)."""
    series = simulated.join(base, on=_KEY, how="left", maintain_order="left")
    daily = series["mean_daily_demand_units"].to_numpy().astype(float)
    choice, _ = pooled_levels(
        reorder, shortage,
        unit_cost=series["unit_cost"].to_numpy().astype(float),
        mean_daily=daily,
        cycle_days=cycle_days(daily, series["review_period_days"].to_numpy(),
                              series["case_pack"].fill_null(1).to_numpy(),
                              series["moq"].fill_null(0).to_numpy(), cycle_stock_reviews),
        targets=[fill_rate_target],
    )
    return choice[0][None, :]


def _levels_table(base: pl.DataFrame, rop: pl.DataFrame,
                  cycle_stock_reviews: float) -> pl.DataFrame:
    """The result of :func:`policy_levels` from the expected demand and the simulated reorder
    points and levels (a series not simulated has none: reorder point 0)."""
    out = (
        base.join(rop, on=_KEY, how="left")
        .with_columns(
            pl.col("reorder_point_units").fill_null(0.0),
            # a series without demand (not simulated) has nothing to short: its own level,
            # else (fill-rate target) the lowest candidate
            pl.coalesce("_level", "service_level", pl.lit(float(POOLED_LEVELS[0])))
            .alias("service_level"),
        )
        .with_columns(
            (pl.col("reorder_point_units") - pl.col("lead_time_demand_units"))
            .clip(lower_bound=0.0).alias("safety_stock_units"),
        )
    )
    cycle = cycle_stock_units(out["mean_daily_demand_units"].to_numpy(),
                              out["review_period_days"].to_numpy(), cycle_stock_reviews)
    out = out.with_columns(
        (pl.col("reorder_point_units") + pl.Series(cycle, dtype=pl.Float64))
        .alias("order_up_to_units"))
    return out.select(
        "sku", "location_id", "service_level", "mean_daily_demand_units",
        "lead_time_demand_units", "safety_stock_units", "reorder_point_units",
        "order_up_to_units",
    ).sort("sku", "location_id")
