"""Where each series' target service level comes from: the ABC × XYZ matrix, a per-SKU
override, or a pooled fill-rate target. Pure polars; the replenishment policy asset calls it
around :func:`forecasting.policy.policy_levels`.

The rule: a fill-rate target (β in (0, 1); ``None`` or 0 means none) replaces the matrix, and
a per-SKU override keeps its level whatever the target. So with a target the levels of the
matrix rows are left for :func:`~forecasting.policy.policy_levels` to choose (null), and those
rows are labelled ``fill_rate_target``; override rows keep level and label. Without a target
nothing changes (``matrix`` and ``override`` as :func:`forecasting.policy.service_levels`
gave them).
"""

from __future__ import annotations

import polars as pl

_OVERRIDE = pl.col("service_level_source") == "override"


def levels_to_choose(params: pl.DataFrame, fill_rate_target: float | None) -> pl.DataFrame:
    """``params`` (``service_level`` 0..1, ``service_level_source`` matrix | override) with
    ``service_level`` null on every row the fill-rate target chooses; unchanged without a
    target."""
    if not fill_rate_target:
        return params
    return params.with_columns(pl.when(_OVERRIDE).then("service_level").alias("service_level"))


def service_level_sources(params: pl.DataFrame, fill_rate_target: float | None) -> pl.DataFrame:
    """``params`` with ``service_level_source`` as the policy used it: ``override`` stays,
    every other row is ``fill_rate_target`` when there is a target; unchanged without one."""
    if not fill_rate_target:
        return params
    return params.with_columns(
        pl.when(_OVERRIDE).then(pl.lit("override")).otherwise(pl.lit("fill_rate_target"))
        .alias("service_level_source"))
