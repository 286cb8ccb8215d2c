"""Projected stock per SKU × location, day by day, and the day it runs out.

Part of :mod:`forecasting.policy` (units; the projection may go below 0: unmet demand).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from forecasting.quantiles import nb_quantiles


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
