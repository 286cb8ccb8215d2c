"""shelfwise forecasting: a plain library (polars, numpy, statsforecast). No Dagster, no DuckDB,
no files: frames in, frames out, long format (``sku``, ``date``, values).

    grid = daily_grid(demand, stockouts)                 # complete daily grid, stockouts censored
    segments = segment(grid, unit_value)                 # SB class, ABC, XYZ, new/dead
    result = forecast_demand(grid, horizon=56)           # .forecast (mean + quantiles), .selection
    ltd = lead_time_demand_quantiles(result.forecast, 14, 4, review_days=7)
    bt = backtest(grid, horizon=28, cutoffs=4)           # .scores per sku, model, cutoff

See docs/forecasting.md for the method.
"""

from forecasting.engine import (
    ForecastConfig,
    ForecastResult,
    forecast_chunk,
    forecast_demand,
    impute_censored,
)
from forecasting.evaluation import (
    BacktestResult,
    backtest,
    cutoffs_for,
    score_forecast,
    summarize_backtest,
)
from forecasting.history import daily_grid, explode_bundles
from forecasting.models import (
    BASE_MODELS,
    CANDIDATES,
    Candidate,
    single,
    single_model_candidates,
    weekday_profile,
)
from forecasting.overrides import apply_overrides
from forecasting.quantiles import (
    DEFAULT_QUANTILES,
    add_quantiles,
    lead_time_demand_quantiles,
    nb_quantiles,
    quantile_name,
)
from forecasting.segmentation import abc_classes, demand_classes, lifecycle, segment, xyz_classes

__all__ = [
    "BASE_MODELS",
    "CANDIDATES",
    "DEFAULT_QUANTILES",
    "BacktestResult",
    "Candidate",
    "ForecastConfig",
    "ForecastResult",
    "abc_classes",
    "add_quantiles",
    "apply_overrides",
    "backtest",
    "cutoffs_for",
    "daily_grid",
    "demand_classes",
    "explode_bundles",
    "forecast_chunk",
    "forecast_demand",
    "impute_censored",
    "lead_time_demand_quantiles",
    "lifecycle",
    "nb_quantiles",
    "quantile_name",
    "score_forecast",
    "segment",
    "single",
    "single_model_candidates",
    "summarize_backtest",
    "weekday_profile",
    "xyz_classes",
]
