"""The forecasting knobs a retailer sets in ``shelfwise.toml``, with their defaults.

::

    [forecast]
    horizon = 56               # days forecast after the last day with order lines
    history_days = 364         # days of history each fit sees (a year: weekly pattern, level)
    backtest_horizon = 28      # days scored after each backtest cut-off
    backtest_cutoffs = 3       # cut-offs, backtest_horizon days apart (fewer: faster; 0: none)
    backend = "local"          # "local" (statsforecast processes) or "dask"
    dask_address = ""          # tcp://scheduler:8786; empty: the current default Dask client
    n_jobs = 1                 # statsforecast processes with the local backend
    level_shock = false        # widen lead-time demand by a per-SKU level error (docs/forecasting.md)
    yearly_seasonality = true  # scale forecasts by last year's season of the category (needs
                               # 392 days of order history; docs/forecasting.md)
"""

from __future__ import annotations

from dataclasses import dataclass

from assets.settings import Settings, SettingsError, read_section

BACKENDS = ("local", "dask")


class ForecastSettingsError(SettingsError):
    """A value in shelfwise.toml ``[forecast]`` that the forecast domain cannot use."""


@dataclass(frozen=True)
class ForecastSettings:
    horizon: int = 56
    history_days: int = 364
    backtest_horizon: int = 28
    backtest_cutoffs: int = 3
    backend: str = "local"
    dask_address: str = ""
    n_jobs: int = 1
    level_shock: bool = False
    yearly_seasonality: bool = True

    def grid_days(self) -> int:
        """Days of demand history a forecast reads (:meth:`forecasting.ForecastConfig.grid_days`)."""
        return self.config().grid_days()

    def config(self):
        """The library's :class:`forecasting.ForecastConfig` for these settings."""
        from forecasting import ForecastConfig

        return ForecastConfig(
            history_days=self.history_days,
            n_jobs=self.n_jobs,
            backend=self.backend,
            dask_address=self.dask_address or None,
            level_shock=self.level_shock,
            yearly_seasonality=self.yearly_seasonality,
        )


def forecast_settings(settings: Settings) -> ForecastSettings:
    """The ``[forecast]`` table with defaults, validated (the message names the key)."""
    out = read_section(settings, "forecast", ForecastSettings, error=ForecastSettingsError)
    for key in ("horizon", "history_days", "backtest_horizon", "n_jobs"):
        if getattr(out, key) < 1:
            raise ForecastSettingsError(f"shelfwise.toml [forecast] {key} must be ≥ 1")
    if out.backtest_cutoffs < 0:
        raise ForecastSettingsError("shelfwise.toml [forecast] backtest_cutoffs must be ≥ 0")
    if out.backend not in BACKENDS:
        raise ForecastSettingsError(
            f"shelfwise.toml [forecast] backend = {out.backend!r}: choose {' or '.join(BACKENDS)}"
        )
    return out
