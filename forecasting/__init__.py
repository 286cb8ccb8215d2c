"""shelfwise forecasting: a plain library (polars, numpy, statsforecast). No Dagster, no DuckDB,
no files: frames in, frames out, long format (``sku``, ``date``, values).

    grid = daily_grid(demand, stockouts)                 # complete daily grid, stockouts censored
    segments = segment(grid, unit_value)                 # SB class, ABC, XYZ, new/dead
    result = forecast_demand(grid, horizon=56)           # .forecast (mean + quantiles), .selection
    ltd = lead_time_demand_quantiles(result.forecast, 14, 4, review_days=7)
    bt = backtest(grid, horizon=28, cutoffs=4)           # .scores per sku, model, cutoff

See docs/forecasting.md for the method.

Imports are lazy (PEP 562): ``import forecasting`` costs nothing until a name is used, so the
replenishment policy does not pay for statsforecast and Dask (several seconds) when all it
needs is the lead-time demand arithmetic.
"""

from __future__ import annotations

import importlib

_EXPORTS = {  # public name -> the module that defines it
    "BASE_MODELS": "forecasting.models",
    "BacktestResult": "forecasting.evaluation",
    "CANDIDATES": "forecasting.models",
    "Candidate": "forecasting.models",
    "DEFAULT_QUANTILES": "forecasting.quantiles",
    "ForecastConfig": "forecasting.engine",
    "ForecastResult": "forecasting.engine",
    "abc_classes": "forecasting.segmentation",
    "add_quantiles": "forecasting.quantiles",
    "apply_overrides": "forecasting.overrides",
    "backtest": "forecasting.evaluation",
    "cutoffs_for": "forecasting.evaluation",
    "daily_grid": "forecasting.history",
    "demand_classes": "forecasting.segmentation",
    "explode_bundles": "forecasting.history",
    "forecast_chunk": "forecasting.engine",
    "forecast_demand": "forecasting.engine",
    "impute_censored": "forecasting.history",
    "lead_time_demand_draws": "forecasting.quantiles",
    "level_dispersion": "forecasting.quantiles",
    "lead_time_demand_quantiles": "forecasting.quantiles",
    "lifecycle": "forecasting.segmentation",
    "nb_quantiles": "forecasting.quantiles",
    "quantile_name": "forecasting.quantiles",
    "score_forecast": "forecasting.evaluation",
    "segment": "forecasting.segmentation",
    "single": "forecasting.models",
    "single_model_candidates": "forecasting.models",
    "summarize_backtest": "forecasting.evaluation",
    "weekday_profile": "forecasting.models",
    "xyz_classes": "forecasting.segmentation",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'forecasting' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next access skips this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
