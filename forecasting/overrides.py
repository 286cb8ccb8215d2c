"""Planner overrides: visible adjustments on top of the statistical forecast."""

from __future__ import annotations

import polars as pl

OVERRIDE_SCHEMA = {
    "sku": pl.String,
    "start_date": pl.Date,
    "end_date": pl.Date,
    "multiplier": pl.Float64,
    "quantity": pl.Float64,
    "note": pl.String,
}


def apply_overrides(forecast: pl.DataFrame, overrides: pl.DataFrame) -> pl.DataFrame:
    """Apply planner overrides to a forecast (``sku, date, mean, q…`` per day).

    ``overrides``: ``sku, start_date, end_date`` (inclusive) and exactly one of
    ``multiplier`` (× the statistical forecast) or ``quantity`` (units/day the planner
    expects), plus an optional ``note``. When several rows cover the same SKU-day, the
    last row wins (planners append corrections).

    ``mean`` and every quantile column are scaled by the same factor (multiplier, or
    quantity ÷ statistical mean), so the distribution keeps its shape; a quantity override
    on a day the statistics say 0 sets every quantile to that quantity. The result keeps
    the statistical numbers in ``statistical_mean`` and ``statistical_q…``, and marks rows
    with ``is_override`` and ``override_source`` (``"planner: <note>"`` or ``"statistical"``).
    """
    if overrides.is_empty():
        return _mark(forecast, None)
    missing = [c for c in ("sku", "start_date", "end_date") if c not in overrides.columns]
    if missing:
        raise ValueError(f"overrides lack column(s) {missing}")
    ov = (
        overrides.with_columns(
            [
                pl.lit(None, dtype).alias(c)
                for c, dtype in OVERRIDE_SCHEMA.items()
                if c not in overrides.columns
            ]
        )
        .select([pl.col(c).cast(t) for c, t in OVERRIDE_SCHEMA.items()])
        .with_row_index("_row")
    )
    bad = ov.filter(
        (pl.col("multiplier").is_null() == pl.col("quantity").is_null())
        | (pl.col("multiplier") < 0)
        | (pl.col("quantity") < 0)
        | (pl.col("start_date") > pl.col("end_date"))
    )
    if len(bad):
        row = bad.row(0, named=True)
        raise ValueError(
            f"override row {row['_row'] + 1} ({row['sku']}): give exactly one of multiplier or "
            "quantity, both ≥ 0, and start_date ≤ end_date"
        )
    qcols = [c for c in forecast.columns if c.startswith("q") and c[1:].replace(".", "").isdigit()]
    hits = (
        forecast.select("sku", "date", "mean")
        .join(ov, on="sku", how="inner")
        .filter(pl.col("date").is_between(pl.col("start_date"), pl.col("end_date")))
        .sort("_row")
        .group_by("sku", "date")
        .agg(pl.all().last())
        .with_columns(
            pl.when(pl.col("multiplier").is_not_null())
            .then("multiplier")
            .when(pl.col("mean") > 0)
            .then(pl.col("quantity") / pl.col("mean"))
            .alias("_factor"),
            pl.format("planner: {}", pl.col("note").fill_null("(no note)")).alias(
                "override_source"
            ),
        )
        .select("sku", "date", "_factor", "quantity", "override_source")
    )
    out = forecast.with_columns(
        [pl.col(c).alias(f"statistical_{c}") for c in ["mean", *qcols]]
    ).join(hits, on=["sku", "date"], how="left")
    adjusted = [
        pl.when(pl.col("override_source").is_null())
        .then(pl.col(c))
        .when(pl.col("_factor").is_not_null())
        .then(pl.col(c) * pl.col("_factor"))
        .otherwise(pl.col("quantity"))
        .alias(c)
        for c in ["mean", *qcols]
    ]
    return _mark(out.with_columns(adjusted).drop("_factor", "quantity"), "override_source")


def _mark(frame: pl.DataFrame, source: str | None) -> pl.DataFrame:
    if source is None:
        qcols = [c for c in frame.columns if c.startswith("q") and c[1:].replace(".", "").isdigit()]
        frame = frame.with_columns(
            [pl.col(c).alias(f"statistical_{c}") for c in ["mean", *qcols]]
        ).with_columns(pl.lit(None, pl.String).alias("override_source"))
    return frame.with_columns(
        pl.col("override_source").is_not_null().alias("is_override"),
        pl.col("override_source").fill_null("statistical"),
    )
