"""Lead times: per PO line, then per supplier and supplier × SKU, learned where possible.

Part of :mod:`forecasting.policy` (frames in, frames out; days as floats).
"""

from __future__ import annotations

import polars as pl

LEAD_TIME_SOURCES = ("learned_sku", "learned_supplier", "master_sku", "master_supplier")


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
