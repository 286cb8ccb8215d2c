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

The module is split by topic; this package re-exports the public names, so
``from forecasting.policy import policy_levels`` keeps working:

- :mod:`~forecasting.policy.lead_times`: lead time per PO line, per supplier and SKU;
- :mod:`~forecasting.policy.service_levels`: the ABC × XYZ matrix and per-SKU overrides;
- :mod:`~forecasting.policy.location_forecast`: the forecast per location, the season ratio;
- :mod:`~forecasting.policy.levels`: safety stock, reorder point, order-up-to level;
- :mod:`~forecasting.policy.projection`: projected stock and stockout dates;
- :mod:`~forecasting.policy.sizing`: packs, MOQ, coverage cap, minimum order value;
- :mod:`~forecasting.policy.reasons`: reason codes and the planner's sentence.
"""

from __future__ import annotations

from forecasting.policy.lead_times import LEAD_TIME_SOURCES, lead_time_stats, po_line_lead_times
from forecasting.policy.levels import policy_levels
from forecasting.policy.location_forecast import season_ratio, split_forecast
from forecasting.policy.projection import project_stock, stockout_dates
from forecasting.policy.reasons import REASON_CODES, reason_codes, reason_text
from forecasting.policy.service_levels import (
    DEFAULT_SERVICE_LEVELS,
    service_levels,
    validate_service_levels,
)
from forecasting.policy.sizing import size_orders

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
