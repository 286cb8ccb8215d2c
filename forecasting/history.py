"""Demand history: a complete daily grid per SKU, with stockout days censored.

Demand is *units ordered per SKU per day* (cancellations removed; returns are not negative
demand). A day on which the SKU was out of stock is **censored**: its demand is unknown, so
the grid carries ``units = null`` for it, never 0. A day with no order line and no stockout
is a real zero.

Frames in, frames out, long format:

- demand:    ``sku: str, date: date, units: number``  (several rows per sku and day are summed)
- stockouts: ``sku: str, date: date, stockout: bool``
- grid:      ``sku: str, date: date, units: f64 | null, censored: bool``
- imputed:   the grid plus ``y: f64``, censored days filled (:func:`impute_censored`), what
             the models fit and the yearly ratio reads
"""

from __future__ import annotations

import datetime as dt

import polars as pl

GRID_SCHEMA = {"sku": pl.String, "date": pl.Date, "units": pl.Float64, "censored": pl.Boolean}


def _check_columns(frame: pl.DataFrame, required: tuple[str, ...], name: str) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks column(s) {missing}; it has {frame.columns}")


def daily_grid(
    demand: pl.DataFrame,
    stockouts: pl.DataFrame | None = None,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> pl.DataFrame:
    """Build the complete daily demand grid per SKU.

    Each SKU's grid runs from its first demand row (or ``start`` if later: the history
    window) to ``end`` (default: the last date in ``demand`` or ``stockouts``, the same for
    every SKU, so a SKU that stopped selling shows trailing zeros, which is what marks it
    as dead). Days without a demand row are 0 units/day. Days flagged ``stockout = true``
    are censored: ``units`` becomes null whatever was sold that day, because a partial day
    of sales understates demand just as a zero does.

    Edge cases: a SKU with only stockout rows and no demand row has no grid (we cannot know
    when it was listed); negative units raise (returns are not negative demand); an empty
    ``demand`` gives an empty grid with the schema above.
    """
    _check_columns(demand, ("sku", "date", "units"), "demand")
    if demand.is_empty():
        return pl.DataFrame(schema=GRID_SCHEMA)
    demand = demand.select(
        pl.col("sku").cast(pl.String),
        pl.col("date").cast(pl.Date),
        pl.col("units").cast(pl.Float64),
    )
    if (demand["units"] < 0).any():
        raise ValueError("demand has negative units: returns are not negative demand")
    daily = demand.group_by("sku", "date").agg(pl.col("units").sum())

    last = daily["date"].max()
    if stockouts is not None and not stockouts.is_empty():
        _check_columns(stockouts, ("sku", "date", "stockout"), "stockouts")
        stockouts = (
            stockouts.select(
                pl.col("sku").cast(pl.String),
                pl.col("date").cast(pl.Date),
                pl.col("stockout").cast(pl.Boolean).fill_null(False),
            )
            .group_by("sku", "date")
            .agg(pl.col("stockout").any())
        )
        last = max(last, stockouts["date"].max())
    end = end or last

    spans = daily.group_by("sku").agg(pl.col("date").min().alias("first"))
    if start is not None:
        spans = spans.with_columns(pl.max_horizontal("first", pl.lit(start)).alias("first"))
    spans = spans.filter(pl.col("first") <= end)
    grid = (
        spans.select("sku", pl.date_ranges("first", pl.lit(end), interval="1d").alias("date"))
        .explode("date")
        .join(daily, on=["sku", "date"], how="left")
        .with_columns(pl.col("units").fill_null(0.0))
    )
    if stockouts is not None and not stockouts.is_empty():
        grid = grid.join(stockouts, on=["sku", "date"], how="left").with_columns(
            pl.col("stockout").fill_null(False).alias("censored")
        )
    else:
        grid = grid.with_columns(pl.lit(False).alias("censored"))
    return (
        grid.with_columns(
            pl.when(pl.col("censored")).then(None).otherwise(pl.col("units")).alias("units")
        )
        .select(list(GRID_SCHEMA))
        .sort("sku", "date")
    )


def impute_censored(grid: pl.DataFrame, *, window_days: int = 28) -> pl.DataFrame:
    """Add ``y``: ``units`` with censored days filled by the trailing uncensored mean.

    The trailing window (``window_days``, default 28) looks only backwards, so imputation
    never uses the future; when the window holds no uncensored day the SKU's overall mean
    over ``grid`` is used, and 0 when it has none.
    """
    trailing = pl.col("units").rolling_mean(window_size=window_days, min_samples=1).over("sku")
    return grid.sort("sku", "date").with_columns(
        pl.col("units")
        .fill_null(
            pl.coalesce(
                trailing.shift(1).over("sku"), pl.col("units").mean().over("sku"), pl.lit(0.0)
            )
        )
        .alias("y")
    )


def explode_bundles(demand: pl.DataFrame, components: pl.DataFrame) -> pl.DataFrame:
    """Turn bundle sales into component demand.

    ``components``: ``bundle: str, component: str, quantity: number`` (units of the
    component in one bundle). A sale of ``n`` bundles is ``n × quantity`` units of each
    component on the same day; rows whose SKU is not a bundle pass through unchanged.
    Component demand from bundles and from single sales on the same day is summed, so the
    result has one row per ``sku, date``. Extra columns of ``demand`` are dropped.
    """
    _check_columns(demand, ("sku", "date", "units"), "demand")
    _check_columns(components, ("bundle", "component", "quantity"), "components")
    comps = components.select(
        pl.col("bundle").cast(pl.String).alias("sku"),
        pl.col("component").cast(pl.String),
        pl.col("quantity").cast(pl.Float64),
    )
    demand = demand.select(pl.col("sku").cast(pl.String), "date", pl.col("units").cast(pl.Float64))
    exploded = demand.join(comps, on="sku", how="left").select(
        pl.coalesce("component", "sku").alias("sku"),
        "date",
        (pl.col("units") * pl.col("quantity").fill_null(1.0)).alias("units"),
    )
    return exploded.group_by("sku", "date").agg(pl.col("units").sum()).sort("sku", "date")
