"""How urgent an order suggestion is: its rank among the lines needing an order, and the
label a planner filters by. Pure polars; the replenishment assets call it to write
``marts.replenishment_suggestions`` (``urgency_rank``, ``urgency``), and the Replenishment
page reads the label from there, so there is one definition.

- **rank**: the earliest projected stockout first (lines without one last); among the same
  day, the inventory position furthest below the reorder point relative to it
  (position ÷ reorder point, the reorder point taken as at least 1 unit); then SKU and
  location, so the order is total and the same inputs give the same ranks.
- **label**: ``critical`` when the projected stockout comes before an order placed on the
  order day can arrive; ``high`` when a stockout is projected within the forecast horizon,
  after such an order would arrive; ``normal`` when the line is below its reorder point with
  no stockout projected.
"""

from __future__ import annotations

import polars as pl

URGENCY_LABELS = ("critical", "high", "normal")  # most urgent first


def rank_by_urgency(lines: pl.DataFrame) -> pl.DataFrame:
    """``lines`` most urgent first, with ``urgency_rank`` 1, 2, … as the first column.

    Reads ``projected_stockout_date`` (date, null: none projected), ``inventory_position_units``,
    ``reorder_point_units``, ``sku``, ``location_id``; keeps every other column. The helper
    column ``_cover_ratio`` (position ÷ max(reorder point, 1)) stays on the frame."""
    return (
        lines.with_columns(
            (pl.col("inventory_position_units") / pl.col("reorder_point_units").clip(lower_bound=1))
            .alias("_cover_ratio"))
        .sort(["projected_stockout_date", "_cover_ratio", "sku", "location_id"], nulls_last=True)
        .with_row_index("urgency_rank", offset=1)
    )


def stockout_before_arrival() -> pl.Expr:
    """True when ``projected_stockout_date`` is before ``expected_arrival_date`` (the day an
    order placed on the order day arrives); false when either is null."""
    return ((pl.col("projected_stockout_date") < pl.col("expected_arrival_date"))
            .fill_null(False).alias("stockout_before_arrival"))


def urgency_label() -> pl.Expr:
    """``urgency``: ``critical`` (stockout before an order can arrive), ``high`` (a stockout
    projected, after an order would arrive) or ``normal`` (no stockout projected)."""
    return (pl.when(stockout_before_arrival()).then(pl.lit("critical"))
            .when(pl.col("projected_stockout_date").is_not_null()).then(pl.lit("high"))
            .otherwise(pl.lit("normal")).alias("urgency"))
