"""Forecast accuracy: rolling-origin backtest and its summary.

For each cut-off c (the last day the forecaster may see) the grid is cut at c, forecast for
days c+1 … c+h, and compared with what happened. Censored actual days are left out of every
score. Point scores use the ``mean`` forecast (the expected units/day; the median of an
intermittent item is 0 on most days and would reward forecasting nothing).

Scores per ``sku, model, cutoff``:

- ``wape`` = Σ|a − f| ÷ Σa over the days (null when nothing sold);
- ``bias`` = (Σf − Σa) ÷ Σa (positive: over-forecast);
- ``rmsse`` = √(mean (a − f)² ÷ mean squared one-day change of the training history);
- ``pinball_q…`` mean pinball loss per quantile (units/day);
- ``coverage_q…`` share of days with actual ≤ the quantile (q0.9 should cover ~90 %).
Sums (``actual``, ``abs_error``, ``total_abs_error`` = |Σa − Σf|) are kept so that
:func:`summarize_backtest` can pool them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import polars as pl

from forecasting.engine import ForecastConfig, forecast_demand
from forecasting.models import Candidate
from forecasting.quantiles import DEFAULT_QUANTILES, quantile_name

SHELFWISE = "shelfwise"


@dataclass(frozen=True)
class BacktestResult:
    """``scores``: one row per sku, model, cutoff (see module doc).
    ``selection``: shelfwise's chosen model per sku and cutoff with its reason."""

    scores: pl.DataFrame
    selection: pl.DataFrame


def cutoffs_for(
    grid: pl.DataFrame, horizon: int, n_cutoffs: int, step: int | None = None
) -> list[dt.date]:
    """The last ``n_cutoffs`` cut-offs, ``step`` days apart (default ``horizon``), the newest
    leaving exactly ``horizon`` days of actuals after it; oldest first."""
    end = grid["date"].max()
    step = step or horizon
    return [end - dt.timedelta(days=horizon + step * i) for i in reversed(range(n_cutoffs))]


def score_forecast(
    forecast: pl.DataFrame,
    grid: pl.DataFrame,
    cutoff: dt.date,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
) -> pl.DataFrame:
    """Score one forecast (``sku, date, mean, q…``) against the grid's actuals after ``cutoff``.

    Returns one row per SKU; SKUs whose forecast days are all censored are dropped.
    """
    qcols = [quantile_name(q) for q in quantiles]
    scale = (
        grid.filter(pl.col("date") <= cutoff)
        .group_by("sku")
        .agg(pl.col("units").diff().pow(2).mean().alias("scale"))
    )
    joined = forecast.join(
        grid.select("sku", "date", pl.col("units").alias("actual")), on=["sku", "date"], how="inner"
    ).filter(pl.col("actual").is_not_null())
    a, f = pl.col("actual"), pl.col("mean")
    aggs = [
        pl.len().alias("n_days"),
        a.sum().alias("actual"),
        f.sum().alias("forecast"),
        (a - f).abs().sum().alias("abs_error"),
        (a - f).pow(2).mean().alias("mse"),
    ]
    for q, c in zip(quantiles, qcols):
        diff = a - pl.col(c)
        aggs.append(pl.max_horizontal(q * diff, (q - 1) * diff).mean().alias(f"pinball_{c}"))
        aggs.append((a <= pl.col(c)).mean().alias(f"coverage_{c}"))
    out = joined.group_by("sku").agg(aggs).join(scale, on="sku", how="left")
    pos = pl.col("actual") > 0
    return out.with_columns(
        pl.when(pos).then(pl.col("abs_error") / pl.col("actual")).alias("wape"),
        pl.when(pos).then((pl.col("forecast") - pl.col("actual")) / pl.col("actual")).alias("bias"),
        (pl.col("actual") - pl.col("forecast")).abs().alias("total_abs_error"),
        pl.when(pl.col("scale") > 0).then((pl.col("mse") / pl.col("scale")).sqrt()).alias("rmsse"),
        pl.lit(cutoff).alias("cutoff"),
    ).drop("mse", "scale")


def backtest(
    grid: pl.DataFrame,
    *,
    horizon: int = 28,
    cutoffs: int | Sequence[dt.date] = 4,
    step: int | None = None,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    config: ForecastConfig | None = None,
    baselines: Mapping[str, Mapping[str, tuple[Candidate, ...]]] | None = None,
    categories: pl.DataFrame | None = None,
    progress: bool = False,
) -> BacktestResult:
    """Rolling-origin evaluation of shelfwise's selection (model ``"shelfwise"``) and, when
    given, of baselines: name → candidate table (e.g.
    ``{"SeasonalNaive7": single_model_candidates("SeasonalNaive7")}``), each run through the
    same pipeline (segments, new/dead rules, quantile calibration) with its own table.

    Returns a :class:`BacktestResult`; scores carry the SKU's ``segment`` at that cut-off.
    """
    config = config or ForecastConfig()
    quantiles = sorted({float(q) for q in quantiles} | {0.5})
    if isinstance(cutoffs, int):
        cutoffs = cutoffs_for(grid, horizon, cutoffs, step)
    runs: dict[str, ForecastConfig] = {SHELFWISE: config}
    for name, table in (baselines or {}).items():
        runs[name] = replace(config, candidates=dict(table))
    jobs = [(c, name) for c in cutoffs for name in runs]
    if progress:
        import sys

        from tqdm import tqdm

        jobs = tqdm(jobs, desc="backtest", unit="fit", file=sys.stderr)
    scores, selections = [], []
    for cutoff, name in jobs:
        train = grid.filter(pl.col("date") <= cutoff)
        result = forecast_demand(
            train, horizon=horizon, quantiles=quantiles, config=runs[name], categories=categories
        )
        segs = result.selection.select("sku", "segment")
        scores.append(
            score_forecast(result.forecast, grid, cutoff, quantiles)
            .join(segs, on="sku", how="left")
            .with_columns(pl.lit(name).alias("model"))
        )
        if name == SHELFWISE:
            selections.append(result.selection.with_columns(pl.lit(cutoff).alias("cutoff")))
    front = ["sku", "model", "cutoff", "segment", "n_days", "wape", "bias", "rmsse"]
    all_scores = pl.concat(scores, how="diagonal_relaxed")
    all_scores = all_scores.select(front + [c for c in all_scores.columns if c not in front])
    return BacktestResult(
        scores=all_scores.sort("model", "cutoff", "sku"),
        selection=pl.concat(selections).sort("cutoff", "sku"),
    )


def summarize_backtest(scores: pl.DataFrame, by: Sequence[str] = ("model",)) -> pl.DataFrame:
    """Pool backtest scores by ``by`` (e.g. ``("model", "segment")``).

    ``wape`` = Σ|a − f| ÷ Σa over all days; ``total_wape`` = Σ|Σa − Σf| ÷ Σa over the horizon
    totals per SKU and cut-off (what a reorder point cares about); ``bias`` = Σf ÷ Σa − 1;
    ``rmsse`` = mean of per-SKU RMSSE (SKUs with a flat history have none); ``coverage_q…`` =
    day-weighted share of days at or below the quantile.
    """
    cov = [c for c in scores.columns if c.startswith("coverage_")]
    pin = [c for c in scores.columns if c.startswith("pinball_")]
    return (
        scores.group_by(list(by))
        .agg(
            pl.col("sku").n_unique().alias("skus"),
            (pl.col("abs_error").sum() / pl.col("actual").sum()).alias("wape"),
            (pl.col("total_abs_error").sum() / pl.col("actual").sum()).alias("total_wape"),
            (pl.col("forecast").sum() / pl.col("actual").sum() - 1).alias("bias"),
            pl.col("rmsse").mean().alias("rmsse"),
            *[
                ((pl.col(c) * pl.col("n_days")).sum() / pl.col("n_days").sum()).alias(c)
                for c in cov
            ],
            *[
                ((pl.col(c) * pl.col("n_days")).sum() / pl.col("n_days").sum()).alias(c)
                for c in pin
            ],
        )
        .sort(list(by))
    )
