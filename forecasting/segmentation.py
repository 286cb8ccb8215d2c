"""Segmentation of SKUs: demand class, ABC by value, XYZ by variability, lifecycle.

All functions take the daily grid of :func:`forecasting.history.daily_grid`
(``sku, date, units, censored``; ``units`` null on censored days) and return one row per SKU.
Censored days are left out of every statistic: their demand is unknown.
"""

from __future__ import annotations

import polars as pl

ADI_CUT = 1.32
CV2_CUT = 0.49


def demand_classes(
    grid: pl.DataFrame, *, adi_cut: float = ADI_CUT, cv2_cut: float = CV2_CUT
) -> pl.DataFrame:
    """Syntetos–Boylan class per SKU.

    - ``adi`` (days): average inter-demand interval = uncensored days ÷ days with demand > 0.
      On a history that starts with a sale (our grid does) this equals the mean gap between
      non-zero demands, and it stays defined for a SKU with a single sale.
    - ``cv2``: squared coefficient of variation of the non-zero daily sizes (population
      standard deviation, so one sale gives 0).
    - ``demand_class``: ``smooth`` (adi ≤ 1.32, cv2 ≤ 0.49), ``erratic`` (adi ≤ 1.32,
      cv2 > 0.49), ``intermittent`` (adi > 1.32, cv2 ≤ 0.49), ``lumpy`` (both above);
      null when the SKU has no uncensored sale at all.

    Returns ``sku, n_days, n_nonzero, adi, cv2, demand_class``.
    """
    nonzero = pl.col("units").filter(pl.col("units") > 0)
    stats = grid.group_by("sku").agg(
        pl.col("units").count().alias("n_days"),  # count() skips nulls: uncensored days
        nonzero.len().alias("n_nonzero"),
        (nonzero.std(ddof=0) / nonzero.mean()).pow(2).alias("cv2"),
    )
    adi = pl.when(pl.col("n_nonzero") > 0).then(pl.col("n_days") / pl.col("n_nonzero"))
    stats = stats.with_columns(adi.alias("adi"))
    cls = (
        pl.when(pl.col("n_nonzero") == 0)
        .then(None)
        .when((pl.col("adi") <= adi_cut) & (pl.col("cv2") <= cv2_cut))
        .then(pl.lit("smooth"))
        .when(pl.col("adi") <= adi_cut)
        .then(pl.lit("erratic"))
        .when(pl.col("cv2") <= cv2_cut)
        .then(pl.lit("intermittent"))
        .otherwise(pl.lit("lumpy"))
    )
    return (
        stats.with_columns(cls.alias("demand_class"))
        .select("sku", "n_days", "n_nonzero", "adi", "cv2", "demand_class")
        .sort("sku")
    )


def abc_classes(
    grid: pl.DataFrame, unit_value: pl.DataFrame, *, a_share: float = 0.80, b_share: float = 0.95
) -> pl.DataFrame:
    """ABC by demand value: units × unit value (``unit_value``: ``sku, unit_value``).

    SKUs are ranked by value; those whose preceding cumulative share is below ``a_share``
    are A (so the SKU that crosses 80 % is still A), below ``b_share`` B, the rest C. A SKU
    without a unit value counts as value 0 (class C). Returns ``sku, value, value_share, abc``.
    """
    values = (
        grid.group_by("sku")
        .agg(pl.col("units").sum().alias("units"))
        .join(unit_value.select(pl.col("sku").cast(pl.String), "unit_value"), on="sku", how="left")
        .with_columns((pl.col("units") * pl.col("unit_value").fill_null(0.0)).alias("value"))
        .sort(["value", "sku"], descending=[True, False])
    )
    total = values["value"].sum()
    share = pl.col("value") / total if total > 0 else pl.lit(0.0)
    before = share.cum_sum() - share
    return (
        values.with_columns(
            share.alias("value_share"),
            pl.when(before < a_share)
            .then(pl.lit("A"))
            .when(before < b_share)
            .then(pl.lit("B"))
            .otherwise(pl.lit("C"))
            .alias("abc"),
        )
        .with_columns(
            # with no value at all nothing is A
            pl.when(pl.col("value") > 0).then("abc").otherwise(pl.lit("C")).alias("abc")
        )
        .select("sku", "value", "value_share", "abc")
        .sort("sku")
    )


def xyz_classes(grid: pl.DataFrame, *, x_cut: float = 0.5, y_cut: float = 1.0) -> pl.DataFrame:
    """XYZ by variability: coefficient of variation of weekly demand.

    Weeks are 7-day blocks counted back from each SKU's last grid day (so the newest week
    is complete); a partial oldest block and any week with a censored day are left out.
    X: cv ≤ 0.5 (steady), Y: cv ≤ 1.0 (variable), Z: above, or fewer than 2 usable weeks,
    or no demand. Returns ``sku, n_weeks, weekly_cv, xyz``.
    """
    weekly = (
        grid.with_columns(
            ((pl.col("date").max().over("sku") - pl.col("date")).dt.total_days() // 7).alias("week")
        )
        .group_by("sku", "week")
        .agg(
            pl.col("units").sum().alias("units"),
            pl.len().alias("days"),
            pl.col("censored").any().alias("censored"),
        )
        .filter((pl.col("days") == 7) & ~pl.col("censored"))
    )
    stats = weekly.group_by("sku").agg(
        pl.len().alias("n_weeks"),
        (pl.col("units").std(ddof=1) / pl.col("units").mean()).alias("weekly_cv"),
    )
    stats = (
        grid.select("sku")
        .unique()
        .join(stats, on="sku", how="left")
        .with_columns(pl.col("n_weeks").fill_null(0))
    )
    cv = pl.col("weekly_cv")
    return (
        stats.with_columns(
            pl.when((pl.col("n_weeks") < 2) | cv.is_null() | cv.is_nan())
            .then(pl.lit("Z"))
            .when(cv <= x_cut)
            .then(pl.lit("X"))
            .when(cv <= y_cut)
            .then(pl.lit("Y"))
            .otherwise(pl.lit("Z"))
            .alias("xyz")
        )
        .select("sku", "n_weeks", "weekly_cv", "xyz")
        .sort("sku")
    )


def lifecycle(grid: pl.DataFrame, *, new_days: int = 56, dead_days: int = 91) -> pl.DataFrame:
    """New, dead or active.

    - ``new``: the SKU's history (first demand row to the grid end) is shorter than
      ``new_days`` days: too short to fit or cross-validate a model.
    - ``dead``: not new, and no unit sold in the last ``dead_days`` days, of which at least
      half were uncensored (a SKU out of stock for the whole window is not dead, its demand
      is unknown).
    - ``active``: the rest.

    Returns ``sku, history_days, last_sale, lifecycle``.
    """
    recent = pl.col("date") > pl.col("date").max() - pl.duration(days=dead_days)
    stats = grid.group_by("sku").agg(
        pl.len().alias("history_days"),
        pl.col("date").filter(pl.col("units") > 0).max().alias("last_sale"),
        (pl.col("units").filter(recent) > 0).any().alias("recent_sale"),
        pl.col("units").filter(recent).count().alias("recent_uncensored"),
    )
    return (
        stats.with_columns(
            pl.when(pl.col("history_days") < new_days)
            .then(pl.lit("new"))
            .when(
                ~pl.col("recent_sale").fill_null(False)
                & (pl.col("recent_uncensored") >= dead_days / 2)
            )
            .then(pl.lit("dead"))
            .otherwise(pl.lit("active"))
            .alias("lifecycle")
        )
        .select("sku", "history_days", "last_sale", "lifecycle")
        .sort("sku")
    )


def segment(
    grid: pl.DataFrame,
    unit_value: pl.DataFrame | None = None,
    *,
    new_days: int = 56,
    dead_days: int = 91,
) -> pl.DataFrame:
    """All segments in one frame, one row per SKU.

    ``segment`` is what the forecaster keys its candidate models on: ``new`` or ``dead``
    from :func:`lifecycle`, else the Syntetos–Boylan class (a SKU with history but no
    uncensored sale is treated as ``dead``). ABC is included when ``unit_value`` is given.
    """
    seg = (
        lifecycle(grid, new_days=new_days, dead_days=dead_days)
        .join(demand_classes(grid), on="sku")
        .join(xyz_classes(grid), on="sku")
    )
    if unit_value is not None:
        seg = seg.join(abc_classes(grid, unit_value), on="sku")
    return seg.with_columns(
        pl.when(pl.col("lifecycle") != "active")
        .then("lifecycle")
        .otherwise(pl.col("demand_class").fill_null("dead"))
        .alias("segment")
    ).sort("sku")
