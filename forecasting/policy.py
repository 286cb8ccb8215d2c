"""Replenishment policy: lead times, service levels, reorder levels, projected stock, orders.

A plain library like the rest of :mod:`forecasting`: polars frames in, frames out, no Dagster,
no DuckDB, no files. Quantities are in units, times in days, money in the currency the caller
names. The warehouse side (which rows, which dates) lives in ``assets/replenishment``.

    lt = lead_time_stats(po_lines, receipts, products, suppliers)      # marts.lead_times
    sl = service_levels(segments, matrix, overrides)                  # per SKU
    split = split_forecast(forecast, shares)                          # per SKU × location
    levels = policy_levels(split, params, n_sims=1000)                # SS, ROP, OUL
    levels = policy_levels(split, params, fill_rate_target=0.95)      # levels chosen too
    proj = project_stock(split, start, inbound)                       # day by day
    orders = size_orders(lines)                                       # packs, MOQ, cap, MOV

Definitions (docs/replenishment.md has them with examples):

- lead time of a PO line: days from ``ordered_at`` to its first receipt;
- reorder point: the service-level quantile of demand over L + R (Monte Carlo over the
  probabilistic forecast with gamma lead times, :func:`forecasting.lead_time_demand_draws`);
- service level: the ABC × XYZ cell's or a per-SKU override; or, with a pooled fill-rate
  target, chosen per series for that target at the least stock value
  (:func:`forecasting.fillrate.pooled_levels`);
- safety stock: reorder point − expected demand over round(L) + R days (never below 0);
- order-up-to level: reorder point + cycle stock (mean daily demand × R);
- suggestion: order-up-to − inventory position, rounded up to whole cases, at least the MOQ,
  at most the coverage cap, then topped up per supplier order to the minimum order value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl

from forecasting.ordering import floor_to_case_pack, round_to_case_pack, top_up_to_value
from forecasting.quantiles import nb_quantiles

LEAD_TIME_SOURCES = ("learned_sku", "learned_supplier", "master_sku", "master_supplier")
ABC = ("A", "B", "C")
XYZ = ("X", "Y", "Z")
# what a retailer usually wants: more protection for valuable (A) and steady (X) items, where
# service is cheap, less for cheap erratic ones (CZ), where every extra point costs a lot of stock
DEFAULT_SERVICE_LEVELS: dict[str, float] = {
    "AX": 0.98, "AY": 0.97, "AZ": 0.95,
    "BX": 0.96, "BY": 0.95, "BZ": 0.93,
    "CX": 0.93, "CY": 0.92, "CZ": 0.90,
}
REASON_CODES = ("below_reorder_point", "stockout_before_arrival", "moq", "case_pack",
                "min_order_value_topup", "coverage_cap")


# ---------------------------------------------------------------------------------------------
# lead times
# ---------------------------------------------------------------------------------------------

def po_line_lead_times(purchase_orders: pl.DataFrame, receipts: pl.DataFrame) -> pl.DataFrame:
    """One row per PO line that has received goods: how long it took and how it went.

    ``purchase_orders``: ``po_number, supplier_id, sku, quantity_ordered, ordered_at (datetime),
    expected_at (date, may be null), status``; cancelled lines are left out. ``receipts``:
    ``po_number, sku, quantity_received, received_at (datetime)``.

    - ``lead_time_days`` (float days): ``ordered_at`` → the line's **first** receipt (a split
      delivery's later parts are the supplier's shortfall, not its lead time);
    - ``on_time``: the first receipt's date is on or before ``expected_at`` (null without one);
    - ``short_shipped``: the line is settled (status ``closed``) and fewer units were received
      than ordered; null while it is still open (more may come).

    Lines without any receipt yet are not in the result (their lead time is unknown).
    """
    received = receipts.group_by("po_number", "sku").agg(
        pl.col("received_at").min().alias("first_received_at"),
        pl.col("quantity_received").sum().alias("received_units"),
    )
    lines = purchase_orders.filter(pl.col("status") != "cancelled").join(
        received, on=["po_number", "sku"], how="inner"
    )
    return lines.select(
        "po_number", "supplier_id", "sku", "quantity_ordered", "received_units",
        "ordered_at", "expected_at", "first_received_at",
        ((pl.col("first_received_at") - pl.col("ordered_at")).dt.total_seconds() / 86400.0)
        .clip(lower_bound=0.0).alias("lead_time_days"),
        (pl.col("first_received_at").dt.date() <= pl.col("expected_at")).alias("on_time"),
        pl.when(pl.col("status") == "closed")
        .then(pl.col("received_units") < pl.col("quantity_ordered"))
        .alias("short_shipped"),
    )


def _line_stats(lines: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    return lines.group_by(by).agg(
        pl.len().cast(pl.Int64).alias("po_lines"),
        pl.col("lead_time_days").mean().alias("learned_mean"),
        pl.col("lead_time_days").std(ddof=1).fill_null(0.0).alias("learned_sd"),
        pl.col("on_time").cast(pl.Float64).mean().alias("on_time_rate"),
        pl.col("short_shipped").cast(pl.Float64).mean().alias("short_shipped_share"),
    )


def lead_time_stats(
    purchase_orders: pl.DataFrame,
    receipts: pl.DataFrame,
    products: pl.DataFrame,
    suppliers: pl.DataFrame,
    *,
    min_lines: int = 5,
) -> pl.DataFrame:
    """Lead times per supplier (``sku`` null) and per supplier × SKU, learned where possible.

    ``products``: ``sku, supplier_id, lead_time_days`` (master-data SKU override, may be null),
    the SKUs to give a row; ``suppliers``: ``supplier_id, lead_time_days_mean,
    lead_time_days_sd`` (master data). PO and receipt frames as for :func:`po_line_lead_times`.

    The lead time used (``lead_time_mean_days``, ``lead_time_sd_days``, days) and its
    ``source``, first that applies:

    - SKU rows: ``learned_sku`` (≥ ``min_lines`` received lines of this SKU from this supplier),
      ``master_sku`` (the product's ``lead_time_days``, with the supplier row's spread),
      else the supplier row's values and source;
    - supplier rows: ``learned_supplier`` (≥ ``min_lines`` received lines), else
      ``master_supplier`` (sd 0 when master data has none).

    ``po_lines``, ``on_time_rate`` and ``short_shipped_share`` (0..1) always describe the row's
    own history (null without lines), whichever source the lead time comes from. SKUs whose
    supplier is not in ``suppliers`` get no row (there is no fallback for them).

    Returns ``supplier_id, sku, po_lines, lead_time_mean_days, lead_time_sd_days,
    on_time_rate, short_shipped_share, source``, supplier rows first.
    """
    if min_lines < 2:
        raise ValueError("min_lines must be ≥ 2 (a spread needs two lead times)")
    lines = po_line_lead_times(purchase_orders, receipts)
    by_supplier = _line_stats(lines, ["supplier_id"])
    by_sku = _line_stats(lines, ["supplier_id", "sku"])

    learned = pl.col("po_lines").fill_null(0) >= min_lines
    sup = (
        suppliers.select("supplier_id", "lead_time_days_mean", "lead_time_days_sd")
        .join(by_supplier, on="supplier_id", how="left")
        .with_columns(
            pl.when(learned).then("learned_mean").otherwise("lead_time_days_mean")
            .alias("lead_time_mean_days"),
            pl.when(learned).then("learned_sd")
            .otherwise(pl.col("lead_time_days_sd").fill_null(0.0)).alias("lead_time_sd_days"),
            pl.when(learned).then(pl.lit("learned_supplier")).otherwise(pl.lit("master_supplier"))
            .alias("source"),
            pl.lit(None, pl.String).alias("sku"),
            pl.col("po_lines").fill_null(0),
        )
    )
    fallback = sup.select("supplier_id", pl.col("lead_time_mean_days").alias("sup_mean"),
                          pl.col("lead_time_sd_days").alias("sup_sd"),
                          pl.col("source").alias("sup_source"))
    sku = (
        products.filter(pl.col("supplier_id").is_not_null())
        .select("sku", "supplier_id", "lead_time_days")
        .join(fallback, on="supplier_id", how="inner")
        .join(by_sku, on=["supplier_id", "sku"], how="left")
        .with_columns(
            pl.when(learned).then("learned_mean")
            .when(pl.col("lead_time_days").is_not_null()).then("lead_time_days")
            .otherwise("sup_mean").alias("lead_time_mean_days"),
            pl.when(learned).then("learned_sd").otherwise("sup_sd").alias("lead_time_sd_days"),
            pl.when(learned).then(pl.lit("learned_sku"))
            .when(pl.col("lead_time_days").is_not_null()).then(pl.lit("master_sku"))
            .otherwise("sup_source").alias("source"),
            pl.col("po_lines").fill_null(0),
        )
    )
    columns = ["supplier_id", "sku", "po_lines", "lead_time_mean_days", "lead_time_sd_days",
               "on_time_rate", "short_shipped_share", "source"]
    return pl.concat([sup.select(columns).sort("supplier_id"),
                      sku.select(columns).sort("supplier_id", "sku")])


# ---------------------------------------------------------------------------------------------
# service levels
# ---------------------------------------------------------------------------------------------

def validate_service_levels(matrix: Mapping[str, float], overrides: Mapping[str, float]) -> None:
    """Raise ``ValueError`` naming the cell or SKU when a level is not in (0, 1) or a matrix
    key is not one of AX … CZ."""
    cells = {a + x for a in ABC for x in XYZ}
    for key, value in matrix.items():
        if key not in cells:
            raise ValueError(f"service level matrix: unknown cell {key!r}; cells are "
                             f"{', '.join(sorted(cells))} (ABC class then XYZ class)")
    for where, values in (("service level matrix", matrix), ("SKU service level", overrides)):
        for key, value in values.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
                raise ValueError(f"{where} {key!r} = {value!r}: must be a number between 0 and "
                                 "1 (0.95 is 95 %)")
    missing = cells - set(matrix)
    if missing:
        raise ValueError(f"service level matrix: no value for {', '.join(sorted(missing))}")


def service_levels(
    segments: pl.DataFrame,
    matrix: Mapping[str, float] | None = None,
    overrides: Mapping[str, float] | None = None,
) -> pl.DataFrame:
    """Target cycle service level (0..1) per SKU from its ABC × XYZ cell, or a per-SKU override.

    ``segments``: ``sku, abc, xyz`` (nulls allowed: a SKU without demand history counts as
    ``C`` and ``Z``, the least protected cell). ``matrix``: cell (``"AX"``) → level, all nine
    cells (default :data:`DEFAULT_SERVICE_LEVELS`); ``overrides``: SKU → level, which wins.

    Returns ``sku, abc_class, xyz_class, service_level, service_level_source``
    (``matrix`` | ``override``).
    """
    matrix = dict(DEFAULT_SERVICE_LEVELS if matrix is None else matrix)
    overrides = dict(overrides or {})
    validate_service_levels(matrix, overrides)
    cells = pl.DataFrame({"cell": list(matrix), "matrix_level": list(matrix.values())},
                         schema={"cell": pl.String, "matrix_level": pl.Float64})
    override = pl.DataFrame({"sku": list(overrides), "override_level": list(overrides.values())},
                            schema={"sku": pl.String, "override_level": pl.Float64})
    return (
        segments.select(
            "sku",
            pl.col("abc").fill_null("C").alias("abc_class"),
            pl.col("xyz").fill_null("Z").alias("xyz_class"),
        )
        .with_columns((pl.col("abc_class") + pl.col("xyz_class")).alias("cell"))
        .join(cells, on="cell", how="left")
        .join(override, on="sku", how="left")
        .select(
            "sku", "abc_class", "xyz_class",
            pl.coalesce("override_level", "matrix_level").alias("service_level"),
            pl.when(pl.col("override_level").is_not_null()).then(pl.lit("override"))
            .otherwise(pl.lit("matrix")).alias("service_level_source"),
        )
    )


# ---------------------------------------------------------------------------------------------
# the forecast per location
# ---------------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------------
# safety stock, reorder point, order-up-to level
# ---------------------------------------------------------------------------------------------

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
    from forecasting.fillrate import (
        POOLED_LEVELS,
        cycle_days,
        cycle_stock_units,
        level_table,
        pooled_levels,
    )
    from forecasting.quantiles import lead_time_demand_draws

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
    optional = {"unit_cost": pl.Float64, "case_pack": pl.Int64, "moq": pl.Int64}
    p = params.select(
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
    if not pooled and p["service_level"].null_count():
        missing = p.filter(pl.col("service_level").is_null())["sku"].head(3).to_list()
        raise ValueError(f"no service level for SKU(s) {missing} (and no fill_rate_target)")
    fc = forecast.with_columns(
        (pl.col("sku") + pl.lit("\x1f") + pl.col("location_id")).alias(_KEY),
        # day 1 is the first forecast day (every series has the same days)
        pl.col("date").rank("dense").cast(pl.Int64).alias("day"),
    ).join(p.select(_KEY, "window_days"), on=_KEY, how="inner")
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
    base = (
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
    n = sum(len(k) for k in keys)
    rows = max((r.shape[0] for r in reorder), default=1)
    reorder = np.concatenate(reorder, axis=1) if keys else np.zeros((rows, 0))
    shortage = np.concatenate(shortage, axis=1) if keys else np.zeros((rows, 0))
    levels = np.concatenate(levels, axis=1) if keys else np.zeros((rows, 0))
    simulated = pl.DataFrame({_KEY: np.concatenate(keys) if keys else []},
                             schema={_KEY: pl.String})
    if pooled and n:
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
        pick = choice[0][None, :]
    else:
        pick = np.zeros((1, n), dtype=np.int64)
    rop = simulated.with_columns(
        pl.Series("reorder_point_units", np.take_along_axis(reorder, pick, axis=0)[0],
                  dtype=pl.Float64),
        pl.Series("_level", np.take_along_axis(levels, pick, axis=0)[0], dtype=pl.Float64),
    )

    out = (
        base.join(rop, on=_KEY, how="left")
        .with_columns(
            pl.col("reorder_point_units").fill_null(0.0),
            # a series without demand (not simulated) has nothing to short: its own level,
            # else (fill-rate target) the lowest candidate
            pl.coalesce("_level", "service_level", pl.lit(float(candidates[0])))
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


# ---------------------------------------------------------------------------------------------
# projected stock
# ---------------------------------------------------------------------------------------------

def project_stock(
    forecast: pl.DataFrame,
    start: pl.DataFrame,
    inbound: pl.DataFrame | None = None,
    *,
    days: Sequence | None = None,
) -> pl.DataFrame:
    """Projected on hand per SKU × location, day by day, on the median forecast.

    ``forecast``: ``sku, location_id, date, mean, vmr`` (:func:`split_forecast`), the days to
    project; ``start``: ``sku, location_id, start_units`` (the stock the days start from:
    units the location can still sell; the caller decides, e.g. on hand − allocated −
    backorders); ``inbound``: ``sku, location_id, date, inbound_units`` (open POs by expected
    date; dates outside the forecast days are ignored, so the caller moves overdue POs in).
    A ``start`` series without forecast rows is projected on the forecast's days with no
    demand. ``days`` (dates) sets the days explicitly, e.g. when there is no forecast at all.

    ``demand_units`` on day t is the increase of the **median of cumulative demand** through
    t (NB1 with the summed mean): the projection then follows the middle path. Summing daily
    medians would not: a slow mover's daily median is 0 and it would never run out.

    Returns ``sku, location_id, date, demand_units, inbound_units, projected_on_hand_units``
    (units; the projection may go below 0: that is unmet demand).
    """
    days = (forecast.select("date").unique().sort("date") if days is None
            else pl.DataFrame({"date": list(days)}, schema={"date": pl.Date}))
    grid = (
        start.select("sku", "location_id", "start_units").join(days, how="cross")
        .join(forecast.select("sku", "location_id", "date", "mean", "vmr"),
              on=["sku", "location_id", "date"], how="left")
        .with_columns(pl.col("mean").fill_null(0.0), pl.col("vmr").fill_null(1.0))
        .sort("sku", "location_id", "date")
        .with_columns(pl.col("mean").cum_sum().over("sku", "location_id").alias("_cum_mean"),
                      # the NB1 sum of days keeps the SKU's ratio; take the series' first
                      pl.col("vmr").first().over("sku", "location_id").alias("_vmr"))
    )
    pairs = grid.select("_cum_mean", "_vmr").unique()
    medians = nb_quantiles(pairs["_cum_mean"].to_numpy(), pairs["_vmr"].to_numpy(), [0.5])[:, 0]
    pairs = pairs.with_columns(pl.Series("_cum_median", medians))
    if inbound is None:
        inbound = pl.DataFrame(schema={"sku": pl.String, "location_id": pl.String,
                                       "date": pl.Date, "inbound_units": pl.Int64})
    inbound = inbound.group_by("sku", "location_id", "date").agg(pl.col("inbound_units").sum())
    return (
        grid.join(pairs, on=["_cum_mean", "_vmr"], how="left", nulls_equal=True)
        .join(inbound, on=["sku", "location_id", "date"], how="left")
        .sort("sku", "location_id", "date")
        .with_columns(
            pl.col("_cum_median").diff().over("sku", "location_id")
            .fill_null(pl.col("_cum_median")).round(0).cast(pl.Int64).alias("demand_units"),
            pl.col("inbound_units").fill_null(0).cast(pl.Int64),
        )
        .with_columns(
            (pl.col("start_units").cast(pl.Int64)
             + (pl.col("inbound_units") - pl.col("demand_units"))
             .cum_sum().over("sku", "location_id"))
            .alias("projected_on_hand_units")
        )
        .select("sku", "location_id", "date", "demand_units", "inbound_units",
                "projected_on_hand_units")
    )


def stockout_dates(projection: pl.DataFrame) -> pl.DataFrame:
    """The projected stockout date per SKU × location: the first day the projected on hand is
    at or below 0 after some demand (the day the last unit goes); null when none in the
    projection (a SKU with no demand never runs out, whatever its stock).

    Returns ``sku, location_id, projected_stockout_date``.
    """
    return (
        projection.sort("sku", "location_id", "date")
        .with_columns(pl.col("demand_units").cum_sum().over("sku", "location_id").alias("_cum"))
        .group_by("sku", "location_id")
        .agg(pl.col("date").filter((pl.col("projected_on_hand_units") <= 0) & (pl.col("_cum") > 0))
             .min().alias("projected_stockout_date"))
        .sort("sku", "location_id")
    )


# ---------------------------------------------------------------------------------------------
# sizing the suggestions
# ---------------------------------------------------------------------------------------------

def size_orders(lines: pl.DataFrame, *, max_coverage_days: float) -> pl.DataFrame:
    """Suggested units per line: the need rounded to what the supplier ships, capped, topped up.

    ``lines``: ``order_group`` (one supplier order, e.g. supplier × order day), ``urgency_rank``
    (1 = most urgent), ``need_units`` (order-up-to − inventory position), ``case_pack``,
    ``moq``, ``inventory_position_units``, ``reorder_point_units``,
    ``mean_daily_demand_units``, ``lead_time_mean_days``,
    ``unit_cost`` (per unit, the order's currency; null counts as 0) and ``min_order_value``
    (the group's, same currency; null or 0: none).

    1. ``round_to_case_pack(need, case_pack, moq)``: whole cases, at least the MOQ;
    2. coverage cap: when the delivery arrives, at most ``max_coverage_days`` of mean daily
       demand on hand: inventory position + order ≤ mean daily demand × (lead time +
       ``max_coverage_days``), rounded down to whole cases, but never below the smallest
       orderable quantity that lifts the position above the reorder point (service comes
       first: the cap trims cycle stock and top-ups, not protection) nor below the MOQ;
    3. per order group below its minimum order value: whole cases added to the most urgent
       lines first, each up to its coverage cap (:func:`forecasting.ordering.top_up_to_value`).
       If every line is at its cap the order stays below the minimum
       (``order_below_min_value``).

    Adds ``suggested_units`` and ``cases`` (int64), ``topup_units``, ``coverage_cap_units``
    (the most the cap allows), ``line_value``, ``order_value`` (group total),
    ``order_below_min_value`` and the flags ``moq_flag``, ``case_pack_flag``, ``coverage_cap``,
    ``min_order_value_topup`` (what changed the quantity; see :data:`REASON_CODES`).
    """
    if max_coverage_days <= 0:
        raise ValueError("max_coverage_days must be > 0")
    frame = lines.sort("order_group", "urgency_rank")
    need = frame["need_units"].to_numpy().astype(float)
    pack = np.maximum(frame["case_pack"].fill_null(1).to_numpy().astype(np.int64), 1)
    moq = np.maximum(frame["moq"].fill_null(0).to_numpy().astype(np.int64), 0)
    position = frame["inventory_position_units"].to_numpy().astype(float)
    daily = np.nan_to_num(frame["mean_daily_demand_units"].to_numpy().astype(float)).clip(min=0)
    lead = np.nan_to_num(frame["lead_time_mean_days"].to_numpy().astype(float)).clip(min=0)
    cost = np.nan_to_num(frame["unit_cost"].to_numpy().astype(float)).clip(min=0)

    rounded = round_to_case_pack(need, pack, moq)
    by_pack_only = round_to_case_pack(need, pack, 0)
    reorder_point = frame["reorder_point_units"].to_numpy().astype(float)
    # the least that lifts the position above the reorder point (1 unit when it already is)
    smallest = round_to_case_pack(
        np.where(need > 0, np.maximum(reorder_point + 1 - position, 1.0), 0.0), pack, moq)
    cap_level = daily * (lead + max_coverage_days)
    cap = np.maximum(floor_to_case_pack(cap_level - position, pack), smallest)
    capped = np.minimum(rounded, cap)
    headroom = np.where(need > 0, cap - capped, 0)

    group = frame["order_group"].to_numpy()
    minimum = np.nan_to_num(frame["min_order_value"].to_numpy().astype(float))
    final = top_up_to_value(capped, pack, cost, headroom, group, minimum)
    value = final * cost
    out = frame.with_columns(
        pl.Series("suggested_units", final, dtype=pl.Int64),
        pl.Series("cases", final // pack, dtype=pl.Int64),
        pl.Series("topup_units", final - capped, dtype=pl.Int64),
        pl.Series("coverage_cap_units", np.where(need > 0, cap, 0), dtype=pl.Int64),
        pl.Series("line_value", value, dtype=pl.Float64),
        pl.Series("moq_flag", by_pack_only < rounded),
        pl.Series("case_pack_flag",
                  (pack > 1) & (by_pack_only > np.ceil(np.maximum(need, 0) - 1e-9))),
        pl.Series("coverage_cap", capped < rounded),
        pl.Series("min_order_value_topup", final > capped),
    ).with_columns(pl.col("line_value").sum().over("order_group").alias("order_value"))
    return out.with_columns(
        ((pl.col("order_value") < pl.col("min_order_value").fill_null(0.0) - 1e-9)
         & (pl.col("order_value") > 0)).alias("order_below_min_value"),
    )


def reason_codes(frame: pl.DataFrame) -> pl.Expr:
    """The comma-separated ``reason_codes`` expression from boolean flag columns named as in
    :data:`REASON_CODES` (``moq`` and ``case_pack`` as ``moq_flag``, ``case_pack_flag``)."""
    flags = {code: ({"moq": "moq_flag", "case_pack": "case_pack_flag"}.get(code, code))
             for code in REASON_CODES}
    parts = [pl.when(pl.col(col)).then(pl.lit(code)) for code, col in flags.items()
             if col in frame.columns]
    return pl.concat_str(parts, separator=",", ignore_nulls=True).alias("reason_codes")


def _fmt_units(expr: pl.Expr) -> pl.Expr:
    return expr.round(0).cast(pl.Int64).cast(pl.String)


def _fmt_pct(expr: pl.Expr) -> pl.Expr:
    """0.955 → "95.5", 0.95 → "95" (one decimal, none when it is 0)."""
    return (expr * 100).round(1).cast(pl.String).str.replace(r"\.0$", "")


# the reason mentions the season when it moves demand over the order's window by this much
SEASON_NOTE = 0.1


def reason_text(frame: pl.DataFrame, *, as_of_label: str = "today") -> pl.Expr:
    """One sentence per suggestion a planner reads at a glance, numbers included.

    Needs ``projected_stockout_date, expected_arrival_date, order_date, as_of,
    inventory_position_units, reorder_point_units, suggested_units, cases, case_pack,
    service_level, min_order_value, currency, coverage_cap_units, max_coverage_days`` and the
    flags of :func:`size_orders` plus ``stockout_before_arrival``; with
    ``service_level_source`` and ``fill_rate_target`` columns, a level the fill-rate target
    chose says so ("… to reach 62% service through the next delivery, the level that meets a
    95% fill rate over all SKUs at the least stock value"); with ``season_ratio``
    (:func:`season_ratio`, ``season_days``) at least 10 % away from 1, the sentence ends with
    the lift ("…; last year's season puts demand over the next 35 days at 1.8× the recent
    rate"). For example: "projected to run out on 14 Mar, 9 days before an order placed today
    can arrive (23 Mar); order 120 = 2 cases of 60 to reach 95% service through the next
    delivery". With ``on_hand_units`` (and optionally ``allocated_units``,
    ``backorder_units``), a line with nothing on hand free to sell (on hand − allocated −
    backorders ≤ 0) says "out of stock now (0 on hand free to sell); an order placed today
    arrives 23 Mar" instead of a projected date that has already passed.
    """
    day = "%-d %b"
    stockout = pl.col("projected_stockout_date")
    arrival = pl.col("expected_arrival_date")
    placed = (pl.when(pl.col("order_date") == pl.col("as_of")).then(pl.lit(as_of_label))
              .otherwise(pl.lit("on ") + pl.col("order_date").dt.strftime("%a %-d %b")))
    gap = (arrival - stockout).dt.total_days()
    if "on_hand_units" in frame.columns:
        free = pl.col("on_hand_units").fill_null(0) - sum(
            pl.col(c).fill_null(0) for c in ("allocated_units", "backorder_units")
            if c in frame.columns)
        out_now = free <= 0
    else:
        free, out_now = pl.lit(None), pl.lit(False)
    situation = (
        pl.when(out_now)
        .then(pl.concat_str([
            pl.lit("out of stock now ("), _fmt_units(pl.max_horizontal(free, pl.lit(0))),
            pl.lit(" on hand free to sell); an order placed "), placed, pl.lit(" arrives "),
            arrival.dt.strftime(day),
        ]))
        .when(stockout.is_not_null() & pl.col("stockout_before_arrival"))
        .then(pl.concat_str([
            pl.lit("projected to run out on "), stockout.dt.strftime(day), pl.lit(", "),
            gap.cast(pl.String),
            pl.when(gap == 1).then(pl.lit(" day")).otherwise(pl.lit(" days")),
            pl.lit(" before an order placed "), placed, pl.lit(" can arrive ("),
            arrival.dt.strftime(day), pl.lit(")"),
        ]))
        .when(stockout.is_not_null())
        .then(pl.concat_str([
            pl.lit("projected to run out on "), stockout.dt.strftime(day),
            pl.lit("; an order placed "), placed, pl.lit(" arrives "), arrival.dt.strftime(day),
            pl.lit(" and inventory position "), _fmt_units(pl.col("inventory_position_units")),
            pl.lit(" is at or below the reorder point "), _fmt_units(pl.col("reorder_point_units")),
        ]))
        .otherwise(pl.concat_str([
            pl.lit("inventory position "), _fmt_units(pl.col("inventory_position_units")),
            pl.lit(" is at or below the reorder point "), _fmt_units(pl.col("reorder_point_units")),
        ]))
    )
    minimum = pl.concat_str([pl.col("min_order_value").round(0).cast(pl.Int64).cast(pl.String),
                             pl.lit(" "), pl.col("currency")])
    quantity = pl.concat_str([
        pl.lit("; order "), pl.col("suggested_units").cast(pl.String),
        pl.when(pl.col("case_pack") > 1).then(pl.concat_str([
            pl.lit(" = "), pl.col("cases").cast(pl.String),
            pl.when(pl.col("cases") == 1).then(pl.lit(" case of ")).otherwise(pl.lit(" cases of ")),
            pl.col("case_pack").cast(pl.String)])).otherwise(pl.lit("")),
        pl.lit(" to reach "), _fmt_pct(pl.col("service_level")),
        pl.lit("% service through the next delivery"),
    ])
    if {"service_level_source", "fill_rate_target"} <= set(frame.columns):
        # a level the fill-rate target chose can be low (an expensive slow mover's): say why
        quantity = pl.concat_str([quantity, pl.when(
            pl.col("service_level_source") == "fill_rate_target").then(pl.concat_str([
                pl.lit(", the level that meets a "), _fmt_pct(pl.col("fill_rate_target")),
                pl.lit("% fill rate over all SKUs at the least stock value")]))
            .otherwise(pl.lit(""))])
    extras = pl.concat_str([
        pl.when(pl.col("moq_flag")).then(pl.concat_str(
            [pl.lit(" (MOQ "), pl.col("moq").cast(pl.String), pl.lit(")")])).otherwise(pl.lit("")),
        pl.when(pl.col("coverage_cap")).then(pl.concat_str(
            [pl.lit(" (capped at "), pl.col("max_coverage_days").round(0).cast(pl.Int64)
             .cast(pl.String), pl.lit(" days of cover on arrival)")])).otherwise(pl.lit("")),
        pl.when(pl.col("min_order_value_topup") & pl.col("order_below_min_value"))
        .then(pl.concat_str([pl.lit(" (+"), pl.col("topup_units").cast(pl.String),
                             pl.lit(" toward the supplier's minimum order of "), minimum,
                             pl.lit("; still below it with every line at its coverage cap)")]))
        .when(pl.col("min_order_value_topup"))
        .then(pl.concat_str([pl.lit(" (+"), pl.col("topup_units").cast(pl.String),
                             pl.lit(" to reach the supplier's minimum order of "), minimum,
                             pl.lit(")")]))
        .when(pl.col("order_below_min_value"))
        .then(pl.concat_str([pl.lit(" (the order is below the supplier's minimum of "),
                             minimum, pl.lit(" even at the coverage cap)")]))
        .otherwise(pl.lit("")),
    ])
    season = pl.lit("")
    if "season_ratio" in frame.columns:
        # a seasonal lift or dip of 10 % or more is worth a planner's attention
        lift = pl.col("season_ratio")
        # the days the ratio was weighed over: the order's window, or the forecast's horizon
        # when that ends first
        window = (pl.col("lead_time_mean_days").round(0).cast(pl.Int64)
                  + pl.col("review_period_days").cast(pl.Int64))
        days = (pl.min_horizontal(window, pl.col("season_days")) if "season_days" in frame.columns
                else window)
        season = pl.when((lift - 1.0).abs() >= SEASON_NOTE).then(pl.concat_str([
            pl.lit("; last year's season puts demand over the next "), days.cast(pl.String),
            pl.lit(" days at "), lift.round(1).cast(pl.String), pl.lit("× the recent rate")])
        ).otherwise(pl.lit(""))
    return pl.concat_str([situation, quantity, extras, season]).alias("reason")


__all__ = [
    "DEFAULT_SERVICE_LEVELS",
    "LEAD_TIME_SOURCES",
    "REASON_CODES",
    "lead_time_stats",
    "po_line_lead_times",
    "policy_levels",
    "project_stock",
    "reason_codes",
    "reason_text",
    "season_ratio",
    "service_levels",
    "size_orders",
    "split_forecast",
    "stockout_dates",
    "validate_service_levels",
]
