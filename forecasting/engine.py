"""Forecast demand per SKU: segment, select a model by rolling-origin CV, add quantiles.

Flow (``forecast_demand``):

1. keep the last ``history_days`` of the grid (default 364: a year of weekly pattern and
   recent level; older data mostly costs time and drags level estimates);
2. segment the SKUs (new, dead, smooth, erratic, intermittent, lumpy);
3. impute censored days for fitting (statsforecast needs a complete grid): a censored day gets
   the SKU's mean of its uncensored days over the trailing 28 days (else over the window);
   censored days are never scored;
4. per segment, rolling-origin CV of every candidate in ``config.candidates[segment]``
   (``cv_windows`` windows × ``cv_horizon`` days); each SKU keeps the candidate with the
   lowest RMSSE; its held-out errors set the SKU's variance-to-mean ratio ``vmr``, and the
   errors summed per window its ``level_cv``, the sd of a level error shared by all days of a
   forecast (:func:`forecasting.quantiles.level_dispersion`, shrunk towards the segment's pool
   after all chunks are done);
5. refit on the whole window and forecast ``horizon`` days; new SKUs borrow their category's
   rate, dead SKUs get 0;
6. quantiles from NB1(mean, vmr) (:mod:`forecasting.quantiles`).

Steps 4–5 are independent per SKU; they run per chunk of ``chunk_size`` SKUs, one chunk after
the other in this process (``backend="local"``, statsforecast ``n_jobs``; memory bounded by a
chunk, not by the catalogue) or spread over a Dask cluster (``backend="dask"``), with the same
result whatever the backend or chunk size. Both backends are one small interface
(:class:`forecasting.backends.Backend`), chosen once per run.
Everything pooled across SKUs (weekday profile, category rates) is computed before chunking,
the level-shock pool after it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from forecasting.backends import backend_for
from forecasting.history import impute_censored
from forecasting.models import BASE_MODELS, CANDIDATES, Candidate, weekday_profile
from forecasting.quantiles import (
    DEFAULT_QUANTILES,
    add_quantiles,
    level_dispersion,
    quantile_name,
)
from forecasting.seasonality import history_days_needed, yearly_ratio
from forecasting.segmentation import segment as segment_skus

MIN_TRAIN_DAYS = 28  # the shortest training stretch before the first CV cut-off


@dataclass(frozen=True)
class ForecastConfig:
    """Knobs of :func:`forecast_demand`. Days are calendar days.

    ``candidates``: segment → candidate list (see :mod:`forecasting.models`); a segment not in
    the table and not ``new``/``dead`` falls back to the ``intermittent`` list.
    ``base_models``: base name → statsforecast model factory that candidates refer to.
    ``selection_margin``: another candidate replaces the segment's default (its first) only
    when its CV RMSSE is lower by more than this share (0.02 = 2 %); guards against choosing
    noise between near-equal candidates.
    ``weekday_prior_days``: shrinkage of a SKU's weekday profile towards the pooled one
    (see :func:`forecasting.models.weekday_profile`). A SKU needs this many days with demand
    before its own weekday shares count half; per-SKU shares are noisy (measured on Online
    Retail: 20 gave a worse RMSSE than a nearly pooled profile).
    ``backend``: ``"local"`` (statsforecast with ``n_jobs`` processes) or ``"dask"``
    (``dask_address`` of a running scheduler, or the current default client when None).
    ``chunk_size``: SKUs fitted together (both backends); memory grows with it, results do not
    change.
    ``level_shock``: estimate ``level_cv`` per SKU (off, the default: 0, days independent in
    the lead-time Monte Carlo); ``level_cv_max`` caps it (unitless sd). Opt-in: it brings a
    promised cycle service level closer to what is served, but bench/policy.py measured more
    stock for the same fill rate with it (docs/simulation.md).
    ``yearly_seasonality``: multiply the point forecast by last year's seasonal change of the
    SKU's category (:func:`forecasting.seasonality.yearly_ratio`, ``yearly_reference_days``
    the stretch the models' level is compared with). Needs ``categories`` and a grid of at least
    :func:`forecasting.seasonality.history_days_needed` days; otherwise no correction.
    """

    history_days: int = 364
    cv_windows: int = 3
    cv_horizon: int = 28
    new_days: int = 56
    dead_days: int = 91
    vmr_max: float = 200.0
    level_shock: bool = False
    level_cv_max: float = 1.0
    yearly_seasonality: bool = True
    yearly_reference_days: int = 28
    selection_margin: float = 0.0
    weekday_prior_days: float = 365.0
    candidates: Mapping[str, tuple[Candidate, ...]] = field(
        default_factory=lambda: dict(CANDIDATES)
    )
    base_models: Mapping[str, Callable[[], Any]] = field(default_factory=lambda: dict(BASE_MODELS))
    n_jobs: int = 1
    backend: str = "local"
    dask_address: str | None = None
    chunk_size: int = 1000
    progress: bool = False

    def grid_days(self) -> int:
        """Days of demand history a caller should pass: ``history_days``, or a year plus the
        yearly ratio's reference stretch when that is longer and the ratio is on."""
        if not self.yearly_seasonality:
            return self.history_days
        return max(self.history_days, history_days_needed(self.yearly_reference_days))


@dataclass(frozen=True)
class ForecastResult:
    """``forecast``: ``sku, date, mean, q0.5 …, model, segment, vmr, level_cv, yearly_ratio``
    (units/day; ``level_cv`` unitless, the sd of a level error shared by a forecast's days;
    ``yearly_ratio`` the factor last year's season put on ``mean``, 1 for none).
    ``selection``: one row per SKU: ``sku, segment, model, cv_rmsse, runner_up,
    runner_up_rmsse, vmr, level_cv, reason``."""

    forecast: pl.DataFrame
    selection: pl.DataFrame


def _with_weekday(frame: pl.DataFrame, profile: pl.DataFrame, date_col: str) -> pl.DataFrame:
    return (
        frame.with_columns(pl.col(date_col).dt.weekday().cast(pl.Int8).alias("weekday"))
        .join(profile, on=["sku", "weekday"], how="left")
        .with_columns(pl.col("weekday_index").fill_null(1.0))
        .drop("weekday")
    )


def _history_vmr(data: pl.DataFrame, vmr_max: float) -> pl.DataFrame:
    """Variance-to-mean ratio of each SKU's uncensored history (fallback when CV is impossible)."""
    return data.group_by("sku").agg(
        (pl.col("units").var() / pl.col("units").mean())
        .fill_nan(1.0)
        .fill_null(1.0)
        .clip(1.0, vmr_max)
        .alias("vmr")
    )


def _statsforecast(models: list, n_jobs: int):
    from statsforecast import StatsForecast
    from statsforecast.models import HistoricAverage

    # fallback: a model that fails on a very short or constant series gives the historic mean
    return StatsForecast(models=models, freq="1d", n_jobs=n_jobs, fallback_model=HistoricAverage())


# what a segment's selection holds per SKU (forecast_demand adds the segment)
SELECTION_SCHEMA = {
    "sku": pl.String,
    "model": pl.String,
    "cv_rmsse": pl.Float64,
    "runner_up": pl.String,
    "runner_up_rmsse": pl.Float64,
    "vmr": pl.Float64,
    # the chosen model's held-out windows: Σ (actual − forecast) and Σ forecast per
    # window (units), for the level shock (pooled over all chunks in forecast_demand)
    "window_error": pl.List(pl.Float64),
    "window_forecast": pl.List(pl.Float64),
}


def _select_segment(
    data: pl.DataFrame,
    candidates: tuple[Candidate, ...],
    profile_cv: pl.DataFrame,
    profile: pl.DataFrame,
    horizon: int,
    config: ForecastConfig,
    n_jobs: int,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Select and forecast for the SKUs of one segment: (points, selection)."""
    bases = sorted({b for c in candidates for b in c.bases})
    models = [config.base_models[b]() for b in bases]
    sf_input = data.select(pl.col("sku").alias("unique_id"), pl.col("date").alias("ds"), "y")
    need = config.cv_windows * config.cv_horizon + MIN_TRAIN_DAYS
    lengths = data.group_by("sku").len()
    cv_skus = lengths.filter(pl.col("len") >= need)["sku"]
    names = [c.name for c in candidates]

    selection = pl.DataFrame(schema=SELECTION_SCHEMA)
    if len(cv_skus):
        cv = _statsforecast([config.base_models[b]() for b in bases], n_jobs).cross_validation(
            df=sf_input.filter(pl.col("unique_id").is_in(cv_skus.implode())),
            h=config.cv_horizon,
            n_windows=config.cv_windows,
            step_size=config.cv_horizon,
        )
        scored = _cv_scores(data, cv, candidates, profile_cv, config)
        selection = _select_by_cv(scored, data, config).select(selection.columns)
    short = lengths.filter(~pl.col("sku").is_in(cv_skus.implode())).select("sku")
    if len(short):
        selection = pl.concat(
            [
                selection,
                short.join(_history_vmr(data, config.vmr_max), on="sku", how="left").select(
                    "sku",
                    pl.lit(names[0]).alias("model"),
                    pl.lit(None, pl.Float64).alias("cv_rmsse"),
                    pl.lit(None, pl.String).alias("runner_up"),
                    pl.lit(None, pl.Float64).alias("runner_up_rmsse"),
                    "vmr",
                    pl.lit(None, pl.List(pl.Float64)).alias("window_error"),
                    pl.lit(None, pl.List(pl.Float64)).alias("window_forecast"),
                ),
            ]
        )

    fc = _statsforecast(models, n_jobs).forecast(df=sf_input, h=horizon)
    points = (
        _with_weekday(fc.rename({"unique_id": "sku", "ds": "date"}), profile, "date")
        .with_columns([c.expr() for c in candidates])
        .unpivot(index=["sku", "date"], on=names, variable_name="model", value_name="mean")
        .join(selection.select("sku", "model"), on=["sku", "model"], how="semi")
    )
    return points, selection


def _cv_scores(
    data: pl.DataFrame,
    cv: pl.DataFrame,
    candidates: tuple[Candidate, ...],
    profile_cv: pl.DataFrame,
    config: ForecastConfig,
) -> pl.DataFrame:
    """Per SKU × candidate, from statsforecast's cross-validation frame ``cv``: its RMSSE
    over the uncensored held-out days, the SSE and forecast sum behind the vmr, the per-window
    errors and forecasts, and ``rank_score`` (the default candidate's RMSSE shrunk by
    ``selection_margin``); sorted best first per SKU."""
    names = [c.name for c in candidates]
    first_cutoff = cv["cutoff"].min()
    # RMSSE scale: mean squared one-day change of the uncensored history before the
    # first cut-off (M5 definition); a flat history gets scale 1 (ranking is unaffected)
    scale = (
        data.filter(pl.col("date") <= first_cutoff)
        .group_by("sku")
        .agg(pl.col("units").diff().pow(2).mean().alias("scale"))
        .with_columns(
            pl.when(pl.col("scale") > 0).then("scale").otherwise(pl.lit(1.0)).alias("scale")
        )
    )
    return (
        _with_weekday(cv.rename({"unique_id": "sku", "ds": "date"}), profile_cv, "date")
        .join(data.select("sku", "date", "units"), on=["sku", "date"], how="left")
        .filter(pl.col("units").is_not_null())  # censored days are not scored
        .with_columns([c.expr() for c in candidates])
        .unpivot(index=["sku", "cutoff", "units"], on=names, variable_name="model",
                 value_name="fc")
        .group_by("sku", "model", "cutoff")
        .agg(
            (pl.col("units") - pl.col("fc")).pow(2).sum().alias("sse"),
            (pl.col("units") - pl.col("fc")).sum().alias("window_error"),
            pl.col("fc").sum().alias("fc_sum"),
            pl.len().alias("days"),
        )
        .sort("sku", "model", "cutoff")
        .group_by("sku", "model")
        .agg(
            (pl.col("sse").sum() / pl.col("days").sum()).alias("mse"),
            pl.col("sse").sum(),
            pl.col("fc_sum").sum(),
            pl.col("window_error"),
            pl.col("fc_sum").alias("window_forecast"),
        )
        .join(scale, on="sku", how="left")
        .with_columns(
            (pl.col("mse") / pl.col("scale")).sqrt().alias("rmsse"),
            pl.col("model")
            .replace_strict(names, list(range(len(names))), return_dtype=pl.Int32)
            .alias("order"),
        )
        .with_columns(
            # the default candidate competes with its score shrunk by the margin
            pl.when(pl.col("order") == 0)
            .then(pl.col("rmsse") * (1 - config.selection_margin))
            .otherwise("rmsse")
            .alias("rank_score")
        )
        .sort("sku", "rank_score", "order")
    )


def _select_by_cv(scored: pl.DataFrame, data: pl.DataFrame,
                  config: ForecastConfig) -> pl.DataFrame:
    """Per SKU the best-scored candidate, the runner-up, and the vmr its held-out errors give
    (the history's vmr when it forecast nothing)."""
    hist_vmr = _history_vmr(data, config.vmr_max)
    return (
        scored.group_by("sku", maintain_order=True)
        .agg(
            pl.col("model").first(),
            pl.col("rmsse").first().alias("cv_rmsse"),
            pl.col("model").get(1, null_on_oob=True).alias("runner_up"),
            pl.col("rmsse").get(1, null_on_oob=True).alias("runner_up_rmsse"),
            pl.col("sse").first(),
            pl.col("fc_sum").first(),
            pl.col("window_error").first(),
            pl.col("window_forecast").first(),
        )
        .join(hist_vmr, on="sku", how="left")
        .with_columns(
            # E[(y - f)^2] = vmr * f under NB1: the held-out errors give vmr directly
            pl.when(pl.col("fc_sum") > 1e-9)
            .then((pl.col("sse") / pl.col("fc_sum")).clip(1.0, config.vmr_max))
            .otherwise("vmr")
            .alias("vmr")
        )
    )


def forecast_chunk(
    data: pl.DataFrame,
    profile_cv: pl.DataFrame,
    profile: pl.DataFrame,
    horizon: int,
    config: ForecastConfig,
    n_jobs: int = 1,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The per-chunk unit of work: select and forecast the SKUs in ``data``.

    ``data``: ``sku, date, units, y, segment`` for the statistical segments. Pure function
    of its arguments, so it can run in any process or Dask worker.
    """
    points, selections = [], []
    for seg_name in data["segment"].unique().sort():
        candidates = config.candidates.get(seg_name, config.candidates["intermittent"])
        part = data.filter(pl.col("segment") == seg_name)
        p, s = _select_segment(part, candidates, profile_cv, profile, horizon, config, n_jobs)
        points.append(p)
        selections.append(s.with_columns(pl.lit(seg_name).alias("segment")))
    return pl.concat(points), pl.concat(selections)


def _chunks(data: pl.DataFrame, size: int) -> Iterator[pl.DataFrame]:
    """``data`` in consecutive slices of at most ``size`` SKUs (sorted), one at a time."""
    skus = data["sku"].unique().sort()
    for i in range(0, len(skus), size):
        yield data.filter(pl.col("sku").is_in(skus[i : i + size].implode()))


def _run(data, profile_cv, profile, horizon, config) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every chunk of ``data`` through :func:`forecast_chunk` on the configured backend."""
    if data.is_empty():
        return pl.DataFrame(), pl.DataFrame()
    backend = backend_for(config.backend, n_jobs=config.n_jobs, progress=config.progress,
                          dask_address=config.dask_address)
    # a chunk of SKUs at a time, never all at once: statsforecast's CV frame and the
    # scoring frames grow with the SKUs fitted together (10k SKUs × 3 windows × 28 days
    # × every candidate), while a chunk's results are small; per-SKU work is independent,
    # so the result does not depend on chunk_size (nor on the backend)
    parts = backend.map(forecast_chunk, _chunks(data, config.chunk_size),
                        total=-(-data["sku"].n_unique() // config.chunk_size),
                        profile_cv=profile_cv, profile=profile, horizon=horizon, config=config)
    return pl.concat([p for p, _ in parts]), pl.concat([s for _, s in parts])


def forecast_demand(
    grid: pl.DataFrame,
    *,
    horizon: int = 56,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    config: ForecastConfig | None = None,
    categories: pl.DataFrame | None = None,
) -> ForecastResult:
    """Forecast daily demand for days 1 … ``horizon`` after the grid's last date.

    ``grid``: :func:`forecasting.daily_grid` output (``sku, date, units, censored``).
    ``categories``: optional ``sku, category``; new SKUs borrow the mean forecast rate of the
    statistically forecast SKUs of their category (all SKUs when the category has none), and
    with ``config.yearly_seasonality`` every SKU's point forecast is scaled by its category's
    ``yearly_ratio`` (1 without one). That ratio reads the whole ``grid``, not only the last
    ``history_days``: pass at least :func:`forecasting.seasonality.history_days_needed` days.

    Returns a :class:`ForecastResult`; quantile columns are NB1 quantiles (integers ≥ 0,
    non-decreasing in the level); ``mean`` is the point forecast in units/day.
    """
    config = config or ForecastConfig()
    if horizon < 1:
        raise ValueError("horizon must be ≥ 1 day")
    quantiles = sorted({float(q) for q in quantiles} | {0.5})
    end: dt.date = grid["date"].max()
    window = grid.filter(pl.col("date") > end - dt.timedelta(days=config.history_days))
    segs = segment_skus(window, new_days=config.new_days, dead_days=config.dead_days)
    fitted = impute_censored(window).join(segs.select("sku", "segment"), on="sku")

    stat_segments = set(config.candidates) | {"smooth", "erratic", "intermittent", "lumpy"}
    stat = fitted.filter(pl.col("segment").is_in(list(stat_segments)))
    first_cv_cutoff = end - dt.timedelta(days=config.cv_windows * config.cv_horizon)
    profile = weekday_profile(window, prior_days=config.weekday_prior_days)
    profile_cv = weekday_profile(
        window.filter(pl.col("date") <= first_cv_cutoff), prior_days=config.weekday_prior_days
    )
    points, selection = _run(stat, profile_cv, profile, horizon, config)
    if points.is_empty():
        points = pl.DataFrame(
            schema={"sku": pl.String, "date": pl.Date, "model": pl.String, "mean": pl.Float64}
        )
        selection = pl.DataFrame(schema={**SELECTION_SCHEMA, "segment": pl.String})
    # a fixed row order makes pooled sums (category rates) bit-identical whatever the backend
    points = points.sort("sku", "date").join(
        selection.select("sku", "segment", "vmr"), on="sku", how="left"
    )
    selection = selection.sort("sku")

    dates = pl.date_range(
        end + dt.timedelta(days=1), end + dt.timedelta(days=horizon), "1d", eager=True
    )
    other = segs.filter(~pl.col("sku").is_in(stat["sku"].unique().implode())).select(
        "sku", "segment"
    )
    borrowed = _borrowed(other, fitted, points, selection, profile, dates, categories, config)
    shock = _level_shock(selection, borrowed, config)
    forecast = pl.concat(
        [
            points.select("sku", "date", "mean", "model", "segment", "vmr"),
            borrowed.select("sku", "date", "mean", "model", "segment", "vmr"),
        ]
    ).sort("sku", "date").join(shock, on="sku", how="left")
    forecast = _with_yearly_ratio(forecast, grid, categories, dates, config)
    forecast = add_quantiles(forecast, quantiles)
    forecast = forecast.select(
        "sku", "date", "mean", *[quantile_name(q) for q in quantiles], "model", "segment", "vmr",
        pl.col("level_cv").fill_null(0.0), "yearly_ratio",
    )
    selection = _selection_table(selection, borrowed, shock, config)
    return ForecastResult(forecast=forecast, selection=selection)


def _selection_table(selection: pl.DataFrame, borrowed: pl.DataFrame, shock: pl.DataFrame,
                     config: ForecastConfig) -> pl.DataFrame:
    """:attr:`ForecastResult.selection`: the statistically forecast SKUs' selection and one
    row per new or dead SKU (no CV), with ``level_cv`` and the reason in words."""
    columns = ["sku", "segment", "model", "cv_rmsse", "runner_up", "runner_up_rmsse", "vmr"]
    return (
        pl.concat(
            [
                selection.select(columns),
                borrowed.group_by("sku")
                .agg(pl.col("segment", "model", "vmr").first())
                .with_columns(
                    pl.lit(None, pl.Float64).alias("cv_rmsse"),
                    pl.lit(None, pl.String).alias("runner_up"),
                    pl.lit(None, pl.Float64).alias("runner_up_rmsse"),
                )
                .select(columns),
            ],
            how="vertical_relaxed",
        )
        .join(shock, on="sku", how="left")
        .with_columns(pl.col("level_cv").fill_null(0.0), _reason(config).alias("reason"))
        .sort("sku")
    )


def _with_yearly_ratio(forecast: pl.DataFrame, grid: pl.DataFrame,
                       categories: pl.DataFrame | None, dates: pl.Series,
                       config: ForecastConfig) -> pl.DataFrame:
    """``forecast`` with ``yearly_ratio`` (1 where there is none) and ``mean`` scaled by it."""
    if config.yearly_seasonality and categories is not None and not forecast.is_empty():
        cats = categories.select(pl.col("sku").cast(pl.String),
                                 pl.col("category").cast(pl.String)).unique("sku")
        ratio = yearly_ratio(grid, cats, dates, reference_days=config.yearly_reference_days)
        forecast = (
            forecast.join(cats, on="sku", how="left")
            .join(ratio, on=["category", "date"], how="left")
            .drop("category")
        )
    else:
        forecast = forecast.with_columns(pl.lit(None, pl.Float64).alias("yearly_ratio"))
    return forecast.with_columns(pl.col("yearly_ratio").fill_null(1.0)).with_columns(
        pl.col("mean") * pl.col("yearly_ratio")
    )


def _level_shock(selection: pl.DataFrame, borrowed: pl.DataFrame,
                 config: ForecastConfig) -> pl.DataFrame:
    """``sku, level_cv`` for every forecast SKU (:func:`forecasting.quantiles.level_dispersion`
    on the chosen models' CV windows, pooled per segment over all chunks); new SKUs get the
    pool of all SKUs, dead ones 0. All 0 when ``config.level_shock`` is off."""
    skus = pl.concat([selection.select("sku", "segment"),
                      borrowed.select("sku", "segment").unique("sku")])
    if not config.level_shock or skus.is_empty():
        return skus.select("sku", pl.lit(0.0).alias("level_cv"))
    windows = (
        selection.select("sku", "vmr", pl.col("window_error").alias("error"),
                         pl.col("window_forecast").alias("forecast"))
        .drop_nulls(["error"])
        .explode("error", "forecast")
    )
    shock = level_dispersion(windows, skus.rename({"segment": "group"}),
                             level_cv_max=config.level_cv_max)
    return shock.select(
        "sku", pl.when(pl.col("group") == "dead").then(0.0).otherwise("level_cv")
        .alias("level_cv"))


def _reason(config: ForecastConfig) -> pl.Expr:
    cv = f"{config.cv_windows} windows × {config.cv_horizon} days"
    return (
        pl.when(pl.col("segment") == "dead")
        .then(pl.lit(f"no sale in the last {config.dead_days} days: forecast 0"))
        .when(pl.col("segment") == "new")
        .then(pl.lit(f"history under {config.new_days} days: category rate blended with own rate"))
        .when(pl.col("cv_rmsse").is_null())
        .then(pl.lit("history too short for CV: the segment's default candidate"))
        .when(pl.col("runner_up").is_null())
        .then(
            pl.format("only candidate; CV RMSSE {} ({})", pl.col("cv_rmsse").round(3), pl.lit(cv))
        )
        .otherwise(
            pl.format(
                "CV RMSSE {} vs {} for {} ({})",
                pl.col("cv_rmsse").round(3),
                pl.col("runner_up_rmsse").round(3),
                pl.col("runner_up"),
                pl.lit(cv),
            )
        )
    )


def _borrowed(
    other: pl.DataFrame,
    fitted: pl.DataFrame,
    points: pl.DataFrame,
    selection: pl.DataFrame,
    profile: pl.DataFrame,
    dates: pl.Series,
    categories: pl.DataFrame | None,
    config: ForecastConfig,
) -> pl.DataFrame:
    """Forecasts for new SKUs (borrowed category rate) and dead SKUs (0)."""
    schema = {
        "sku": pl.String,
        "date": pl.Date,
        "mean": pl.Float64,
        "model": pl.String,
        "segment": pl.String,
        "vmr": pl.Float64,
    }
    if other.is_empty():
        return pl.DataFrame(schema=schema)
    cats = (
        categories.select(pl.col("sku").cast(pl.String), pl.col("category").cast(pl.String))
        if categories is not None
        else pl.DataFrame(schema={"sku": pl.String, "category": pl.String})
    )
    sibling_rate = (
        points.group_by("sku", maintain_order=True)
        .agg(pl.col("mean").mean().alias("rate"))
        .join(selection.select("sku", "vmr"), on="sku")
        .join(cats, on="sku", how="left")
    )
    overall = sibling_rate.select(pl.col("rate").mean(), pl.col("vmr").median())
    by_cat = sibling_rate.group_by("category", maintain_order=True).agg(
        pl.col("rate").mean().alias("cat_rate"), pl.col("vmr").median().alias("cat_vmr")
    )
    own = fitted.group_by("sku").agg(
        pl.col("units").mean().alias("own_rate"), pl.len().alias("days")
    )
    rows = (
        other.join(cats, on="sku", how="left")
        .join(by_cat, on="category", how="left")
        .join(own, on="sku", how="left")
        .with_columns(
            pl.col("cat_rate")
            .fill_null(pl.lit(overall["rate"][0], dtype=pl.Float64))
            .fill_null(pl.col("own_rate"))
            .fill_null(0.0),
            pl.col("cat_vmr").fill_null(pl.lit(overall["vmr"][0], dtype=pl.Float64)).fill_null(1.0),
            (pl.col("days") / config.new_days).clip(0.0, 1.0).alias("w"),
        )
        .with_columns(
            # credibility blend: the longer the new SKU's own history, the more it counts
            pl.when(pl.col("segment") == "new")
            .then(
                pl.col("w") * pl.col("own_rate").fill_null(0.0)
                + (1 - pl.col("w")) * pl.col("cat_rate")
            )
            .otherwise(0.0)
            .alias("rate"),
            pl.when(pl.col("segment") == "new")
            .then(pl.lit("new: category rate"))
            .otherwise(pl.lit("zero (dead)"))
            .alias("model"),
            pl.when(pl.col("segment") == "new").then("cat_vmr").otherwise(1.0).alias("vmr"),
        )
    )
    out = rows.join(pl.DataFrame({"date": dates}), how="cross")
    out = _with_weekday(out, profile, "date").with_columns(
        (pl.col("rate") * pl.col("weekday_index")).alias("mean")
    )
    return out.select(list(schema)).cast(schema)  # type: ignore[arg-type]
