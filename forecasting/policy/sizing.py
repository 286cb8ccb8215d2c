"""Sizing the suggestions: whole cases, the MOQ, the coverage cap, the minimum order value.

Part of :mod:`forecasting.policy` (units; money in the order's currency).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from forecasting.ordering import floor_to_case_pack, round_to_case_pack, top_up_to_value


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
