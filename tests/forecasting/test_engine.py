"""forecast_demand, backtest and the Dask backend on small synthetic data."""

import datetime as dt
from dataclasses import replace

import numpy as np
import polars as pl
import pytest

from forecasting import (
    CANDIDATES,
    ForecastConfig,
    backtest,
    daily_grid,
    forecast_demand,
    single_model_candidates,
    summarize_backtest,
)
from forecasting.synthetic import synthetic_demand

QCOLS = ["q0.5", "q0.8", "q0.9", "q0.95", "q0.99"]


@pytest.fixture(scope="module")
def grid() -> pl.DataFrame:
    demand = synthetic_demand(16, 200, seed=3)
    end = demand["date"].max()
    # a new SKU (20 days), a dead SKU (no sale for 120 days) and stockouts on one SKU
    extra = pl.DataFrame(
        {
            "sku": ["NEW"] * 5 + ["DEAD"] * 3,
            "date": [end - dt.timedelta(days=d) for d in (19, 12, 7, 3, 0)]
            + [end - dt.timedelta(days=d) for d in (199, 150, 121)],
            "units": [2.0, 1.0, 3.0, 1.0, 2.0, 4.0, 4.0, 4.0],
        }
    )
    sku0 = demand["sku"].min()
    stockouts = pl.DataFrame(
        {
            "sku": [sku0] * 10,
            "date": [end - dt.timedelta(days=30 + d) for d in range(10)],
            "stockout": [True] * 10,
        }
    )
    return daily_grid(pl.concat([demand, extra]), stockouts)


CONFIG = ForecastConfig(cv_windows=2, cv_horizon=14)


def test_forecast_shape_quantiles_and_special_segments(grid):
    res = forecast_demand(
        grid,
        horizon=21,
        config=CONFIG,
        categories=pl.DataFrame({"sku": ["NEW"], "category": ["mugs"]}),
    )
    fc = res.forecast
    n = grid["sku"].n_unique()
    assert fc.height == n * 21
    assert fc.columns[: 2 + 1 + len(QCOLS)] == ["sku", "date", "mean", *QCOLS]
    values = fc.select(QCOLS).to_numpy()
    assert (values >= 0).all() and (np.diff(values, axis=1) >= 0).all()
    assert fc["date"].min() == grid["date"].max() + dt.timedelta(days=1)
    sel = res.selection
    assert sel.height == n and sel["reason"].null_count() == 0
    by_sku = {r["sku"]: r for r in sel.iter_rows(named=True)}
    assert by_sku["DEAD"]["segment"] == "dead"
    assert fc.filter(pl.col("sku") == "DEAD")["q0.99"].max() == 0
    assert by_sku["NEW"]["segment"] == "new" and fc.filter(pl.col("sku") == "NEW")["mean"].min() > 0
    # every statistical SKU got a model from its segment's candidate list
    for r in sel.filter(pl.col("segment").is_in(list(CANDIDATES))).iter_rows(named=True):
        assert r["model"] in [c.name for c in CANDIDATES[r["segment"]]]
        assert r["runner_up"] is None or r["cv_rmsse"] <= r["runner_up_rmsse"]


def test_censored_days_are_imputed_not_zero(grid):
    from forecasting import impute_censored

    imputed = impute_censored(grid).filter(pl.col("censored"))
    assert imputed.height == 10 and imputed["units"].null_count() == 10
    assert (imputed["y"] > 0).all()  # the SKU sells every day: filled with its recent rate


def test_backtest_long_frame_and_summary(grid):
    res = backtest(
        grid,
        horizon=14,
        cutoffs=2,
        config=CONFIG,
        baselines={"SeasonalNaive7": single_model_candidates("SeasonalNaive7")},
    )
    s = res.scores
    assert set(s["model"]) == {"shelfwise", "SeasonalNaive7"}
    assert s["cutoff"].n_unique() == 2
    for col in [
        "sku",
        "cutoff",
        "segment",
        "wape",
        "bias",
        "rmsse",
        "pinball_q0.9",
        "coverage_q0.9",
    ]:
        assert col in s.columns
    assert s["n_days"].max() <= 14
    # the censored SKU-days fall in the second window and are not scored
    assert {"model", "reason", "runner_up", "cutoff"} <= set(res.selection.columns)
    summary = summarize_backtest(s, by=("model", "segment"))
    assert {"wape", "total_wape", "bias", "rmsse", "coverage_q0.9"} <= set(summary.columns)


def test_dask_backend_equals_local(grid):
    distributed = pytest.importorskip("dask.distributed")
    local = forecast_demand(grid, horizon=14, config=CONFIG)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        remote = forecast_demand(
            grid,
            horizon=14,
            config=replace(
                CONFIG, backend="dask", dask_address=cluster.scheduler_address, chunk_size=5
            ),
        )
    assert remote.forecast.equals(local.forecast)
    assert remote.selection.equals(local.selection)


def test_a_home_whose_every_sku_is_new_gets_forecasts():
    """A first export of two days (an orders-only home's first run): every SKU is "new", none
    is forecast statistically, so there is no pooled rate to borrow. The engine must still
    forecast (from each SKU's own rate) instead of failing in ``fill_null(None)``."""
    from forecasting import daily_grid, forecast_demand

    demand = pl.DataFrame({
        "sku": ["A", "A", "B"],
        "date": [dt.date(2024, 3, 1), dt.date(2024, 3, 2), dt.date(2024, 3, 2)],
        "units": [2, 4, 1],
    })
    result = forecast_demand(daily_grid(demand), horizon=7)
    forecast = result.forecast
    assert set(forecast["sku"]) == {"A", "B"}
    assert forecast.height == 14
    # with nothing to borrow from, a new SKU's forecast is its own mean rate: A sold 6 in 2 days
    a_mean = forecast.filter(pl.col("sku") == "A")["mean"].mean()
    assert a_mean == pytest.approx(3.0, rel=0.5)


def test_the_local_backend_fits_bounded_batches_of_skus_with_the_unbatched_result(grid, monkeypatch):
    """Issue #20 item 11 (bounded memory): the local backend fits at most ``chunk_size`` SKUs
    at a time (statsforecast's frames and the CV scoring grow with the SKUs fitted together),
    and batching changes no figure: per-SKU work is independent."""
    from forecasting import engine

    whole = forecast_demand(grid, horizon=14, config=replace(CONFIG, chunk_size=1000))
    fitted_together = []
    real = engine.forecast_chunk

    def spy(data, *args, **kwargs):
        fitted_together.append(data["sku"].n_unique())
        return real(data, *args, **kwargs)

    monkeypatch.setattr(engine, "forecast_chunk", spy)
    batched = forecast_demand(grid, horizon=14, config=replace(CONFIG, chunk_size=5))
    statistical = whole.selection.filter(~pl.col("segment").is_in(["new", "dead"])).height
    assert max(fitted_together) <= 5 and sum(fitted_together) == statistical > 5
    assert batched.forecast.equals(whole.forecast)
    assert batched.selection.equals(whole.selection)


def test_the_engine_runs_chunks_only_through_the_backend_interface(grid, monkeypatch):
    """Issue #18 item 4: the local and Dask backends are one small interface
    (forecasting.backends.Backend) chosen once by name; any backend registered under a name
    gets every chunk through ``map`` and gives the local result."""
    from forecasting import backends

    seen = []

    class InOrder:  # a third backend: plain map, one process, recording what it was given
        def map(self, work, chunks, *, total, **shared):
            chunks = list(chunks)
            seen.append((len(chunks), total, sorted(shared)))
            return [work(chunk, **shared, n_jobs=1) for chunk in chunks]

    monkeypatch.setitem(backends.BACKENDS, "in_order", lambda **knobs: InOrder())
    local = forecast_demand(grid, horizon=14, config=replace(CONFIG, chunk_size=5))
    other = forecast_demand(grid, horizon=14,
                            config=replace(CONFIG, chunk_size=5, backend="in_order"))
    assert seen == [(4, 4, ["config", "horizon", "profile", "profile_cv"])]
    assert other.forecast.equals(local.forecast)
    assert other.selection.equals(local.selection)
    with pytest.raises(ValueError, match="backend must be 'local' or 'dask'"):
        backends.backend_for("spark")
