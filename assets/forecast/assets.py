"""Demand forecasting as Dagster assets: demand history, segments, forecasts, accuracy.

Thin on purpose: the demand model is one SQL statement (``sql/daily_demand_by_sku.sql``, run by
:mod:`assets.forecast.sql` with the other reads and writes, one model file each); everything
numeric is the library's (:mod:`forecasting`); these assets read the warehouse, call it, write
``marts`` tables and report what a planner wants to see. Every asset depends on
``core.order_lines`` directly, so a failing blocking quality check on it stops the forecast.
See docs/forecasting.md, "In the warehouse".
"""

from __future__ import annotations

import datetime as dt
import time

import dagster as dg
import polars as pl

from assets.forecast import sql
from assets.forecast.config import ForecastSettings, forecast_settings
from assets.metadata import frame_md
from assets.resources import SettingsResource
from assets.warehouse import (
    WAREHOUSE_POOL, WarehouseResource, core, drop_table, mart, replace_table,
)
from assets.warehouse.sql_files import read_model

GROUP = "forecast"
SQL_KINDS = {"duckdb"}
FRAME_KINDS = {"duckdb", "polars"}
MODEL_KINDS = {"duckdb", "polars", "statsforecast"}


ORDER_LINES = core("order_lines")
DAILY_DEMAND = mart("daily_demand_by_sku")
DEMAND_SEGMENTS = mart("demand_segments")
DEMAND_FORECAST = mart("demand_forecast")
FORECAST_SELECTION = mart("forecast_selection")
FORECAST_ACCURACY = mart("forecast_accuracy")
# what every model reads besides the demand mart; order_lines keeps the blocking check in front
MODEL_DEPS = [DAILY_DEMAND, ORDER_LINES, core("products"), core("fx_rates")]



def _history(con, fs: ForecastSettings, extra_days: int = 0):
    """``(as_of, grid)``: the demand grid the library fits, ``history_days`` (+ extra) long,
    or longer when the yearly ratio needs a year of history (:meth:`ForecastSettings.grid_days`)."""
    as_of = sql.demand_as_of(con)
    if as_of is None:
        return None, None
    return as_of, sql.demand_grid(con, as_of, fs.grid_days() + extra_days)


def _no_demand(table: str) -> dict:
    return {"dagster/row_count": 0,
            "note": f"no demand in marts.daily_demand_by_sku: marts.{table} not built"}


@dg.asset(key=DAILY_DEMAND, deps=[ORDER_LINES, core("bundle_components"), core("stock_snapshots")],
          group_name=GROUP, kinds=SQL_KINDS, pool=WAREHOUSE_POOL)
def daily_demand_by_sku(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Units ordered per SKU-day (no cancellations, bundles as components) and stockout flags."""
    with warehouse.connect() as con:
        rows = sql.build_daily_demand(con)
        summary = con.sql(read_model(sql.SQL_DIR, "daily_demand_summary")).pl().row(0, named=True)
        latest = con.sql(read_model(sql.SQL_DIR, "daily_demand_latest_day")).pl()
    return dg.MaterializeResult(metadata={
        "dagster/row_count": rows,
        "skus_with_demand": summary["skus_with_demand"],
        "first_day": str(summary["first_day"]), "last_day": str(summary["last_day"]),
        "units": int(summary["units"]), "units_from_bundles": int(summary["units_from_bundles"]),
        "stockout_sku_days": summary["stockout_sku_days"],
        "stockout_days_with_sales": summary["stockout_days_with_sales"],
        "latest_day": frame_md(latest),
    })


@dg.asset(key=DEMAND_SEGMENTS, deps=MODEL_DEPS, group_name=GROUP, kinds=FRAME_KINDS,
          pool=WAREHOUSE_POOL)
def demand_segments(warehouse: WarehouseResource, shelfwise: SettingsResource) -> dg.MaterializeResult:
    """Per SKU: Syntetos–Boylan class, ABC by value, XYZ, new/dead, over the forecast window."""
    from forecasting import segment

    settings = shelfwise.settings
    fs = forecast_settings(settings)
    with warehouse.connect() as con:
        as_of, grid = _history(con, fs)
        if grid is None or grid.is_empty():
            drop_table(con, "marts.demand_segments")
            return dg.MaterializeResult(metadata=_no_demand("demand_segments"))
        values = sql.unit_values(con, settings.base_currency, as_of)
        censored = grid.group_by("sku").agg(pl.col("censored").sum().cast(pl.Int64).alias("censored_days"))
        table = (
            segment(grid, values.select("sku", "unit_value"),
                    new_days=fs.config().new_days, dead_days=fs.config().dead_days)
            .join(censored, on="sku", how="left")
            .join(values, on="sku", how="left")
            .with_columns(pl.lit(as_of).alias("as_of"))
        )
        front = ["sku", "segment", "demand_class", "abc", "xyz", "lifecycle"]
        table = table.select(front + [c for c in table.columns if c not in front])
        rows = replace_table(con, "marts.demand_segments", table)
    counts = (table.group_by("segment", "abc").agg(pl.len().alias("skus"), pl.col("value").sum())
              .sort("segment", "abc"))
    return dg.MaterializeResult(metadata={
        "dagster/row_count": rows, "as_of": str(as_of),
        "by_segment_and_abc": frame_md(counts, limit=50),
        "skus_without_unit_value": table.filter(pl.col("unit_value").is_null()).height,
    })


@dg.multi_asset(
    specs=[
        dg.AssetSpec(DEMAND_FORECAST, deps=MODEL_DEPS, group_name=GROUP, kinds=MODEL_KINDS,
                     description="Daily demand forecast per SKU with quantiles and planner "
                                 "overrides applied (is_override, override_source)."),
        dg.AssetSpec(FORECAST_SELECTION, deps=MODEL_DEPS, group_name=GROUP, kinds=MODEL_KINDS,
                     description="The model chosen per SKU, its CV score, the runner-up and why."),
    ],
    pool=WAREHOUSE_POOL,
)
def demand_forecast(context, warehouse: WarehouseResource,
                    shelfwise: SettingsResource):
    """Forecast every SKU with demand history `horizon` days ahead; apply planner overrides."""
    from forecasting import apply_overrides, forecast_demand

    settings = shelfwise.settings
    fs = forecast_settings(settings)
    with warehouse.connect() as con:
        as_of, grid = _history(con, fs)
        if grid is None or grid.is_empty():
            for table in ("demand_forecast", "forecast_selection"):
                drop_table(con, f"marts.{table}")
            yield dg.MaterializeResult(asset_key=DEMAND_FORECAST, metadata=_no_demand("demand_forecast"))
            yield dg.MaterializeResult(asset_key=FORECAST_SELECTION,
                                       metadata=_no_demand("forecast_selection"))
            return
        categories = sql.unit_values(con, settings.base_currency, as_of).select("sku", "category")
        overrides = sql.read_overrides(con)
        started = time.perf_counter()
        result = forecast_demand(grid, horizon=fs.horizon, config=fs.config(),
                                 categories=categories.drop_nulls())
        seconds = time.perf_counter() - started
        planned = apply_overrides(result.forecast, overrides)
        qcols = [c for c in result.forecast.columns if c.startswith("q")]
        forecast = planned.select(
            "sku", "date",
            ((pl.col("date") - pl.lit(as_of)).dt.total_days()).cast(pl.Int32).alias("horizon_day"),
            "mean", *qcols, "is_override", "override_source", "model", "segment", "vmr",
            "level_cv", "yearly_ratio", "statistical_mean", *[f"statistical_{c}" for c in qcols],
            pl.lit(as_of).alias("as_of"),
        )
        selection = result.selection.with_columns(pl.lit(as_of).alias("as_of"))
        rows = replace_table(con, "marts.demand_forecast", forecast)
        replace_table(con, "marts.forecast_selection", selection)
    context.log.info(f"forecast {selection.height} SKUs × {fs.horizon} days in {seconds:.1f} s")
    totals = (forecast.group_by("sku", "segment", "model")
              .agg(pl.col("mean").sum().alias(f"units_{fs.horizon}d"),
                   pl.col("q0.9").sum().alias("sum_daily_q0.9"), pl.col("is_override").any())
              .sort(f"units_{fs.horizon}d", descending=True))
    by_model = selection.group_by("segment", "model").agg(pl.len().alias("skus")).sort("segment", "skus", descending=[False, True])
    yield dg.MaterializeResult(asset_key=DEMAND_FORECAST, metadata={
        "dagster/row_count": rows, "skus": selection.height, "horizon_days": fs.horizon,
        "as_of": str(as_of), "first_day": str(as_of + dt.timedelta(days=1)),
        "override_rows": forecast.filter(pl.col("is_override")).height,
        "overrides_on_file": overrides.height, "fit_seconds": round(seconds, 2),
        "largest": frame_md(totals),
    })
    yield dg.MaterializeResult(asset_key=FORECAST_SELECTION, metadata={
        "dagster/row_count": selection.height, "by_segment_and_model": frame_md(by_model, limit=50),
        "sample": frame_md(selection.select("sku", "segment", "model", "reason")),
    })


def backtest_cutoffs(grid: pl.DataFrame, fs: ForecastSettings) -> int:
    """Cut-offs that fit the history: each leaves at least ``new_days`` days to train on."""
    days = (grid["date"].max() - grid["date"].min()).days + 1
    return max(0, min(fs.backtest_cutoffs, (days - fs.config().new_days) // fs.backtest_horizon))


def accuracy_table(scores: pl.DataFrame, selection: pl.DataFrame, horizon: int) -> pl.DataFrame:
    """Backtest scores per sku × cutoff in the shape the KPI and dashboard read: ``model`` is
    the model the selection chose at that cut-off, ``method`` the pipeline (``shelfwise``),
    ``demand_class`` the SKU's segment then; plus ``mae`` and ``horizon``."""
    chosen = selection.select("sku", "cutoff", pl.col("model").alias("chosen_model"))
    table = (
        scores.rename({"model": "method", "segment": "demand_class"})
        .join(chosen, on=["sku", "cutoff"], how="left")
        .with_columns(
            pl.col("chosen_model").fill_null(pl.col("method")).alias("model"),
            (pl.col("abs_error") / pl.col("n_days")).alias("mae"),
            pl.lit(horizon, pl.Int32).alias("horizon"),
        )
        .drop("chosen_model")
    )
    front = ["sku", "cutoff", "horizon", "model", "method", "demand_class", "n_days",
             "wape", "bias", "rmsse", "mae"]
    return table.select(front + [c for c in table.columns if c not in front]).sort("cutoff", "sku")


@dg.asset(key=FORECAST_ACCURACY, deps=MODEL_DEPS, group_name=GROUP, kinds=MODEL_KINDS,
          pool=WAREHOUSE_POOL)
def forecast_accuracy(context, warehouse: WarehouseResource,
                      shelfwise: SettingsResource) -> dg.MaterializeResult:
    """Rolling-origin backtest: WAPE, bias, RMSSE, MAE, coverage per SKU, model and cut-off."""
    from forecasting import backtest, summarize_backtest
    from forecasting.evaluation import SHELFWISE

    settings = shelfwise.settings
    fs = forecast_settings(settings)
    with warehouse.connect() as con:
        as_of, grid = _history(con, fs, extra_days=fs.backtest_horizon * fs.backtest_cutoffs)
        n = backtest_cutoffs(grid, fs) if grid is not None and not grid.is_empty() else 0
        if n == 0:
            drop_table(con, "marts.forecast_accuracy")
            note = ("no demand history" if grid is None or grid.is_empty() else
                    f"history too short for a {fs.backtest_horizon}-day backtest"
                    if fs.backtest_cutoffs else "backtest_cutoffs = 0 in shelfwise.toml")
            context.log.info(f"forecast accuracy not computed: {note}")
            return dg.MaterializeResult(metadata={"dagster/row_count": 0, "note": note})
        categories = sql.unit_values(con, settings.base_currency, as_of).select("sku", "category")
        started = time.perf_counter()
        result = backtest(grid, horizon=fs.backtest_horizon, cutoffs=n, config=fs.config(),
                          categories=categories.drop_nulls())
        seconds = time.perf_counter() - started
        table = accuracy_table(result.scores, result.selection, fs.backtest_horizon)
        rows = replace_table(con, "marts.forecast_accuracy", table)
    pooled = summarize_backtest(result.scores, by=("segment",)).rename({"segment": "demand_class"})
    # the asset backtests the shelfwise pipeline alone: its pooled row, read by name
    overall = (summarize_backtest(result.scores, by=("model",))
               .filter(pl.col("model") == SHELFWISE).row(0, named=True))
    return dg.MaterializeResult(metadata={
        "dagster/row_count": rows, "cutoffs": n,
        "cutoff_dates": ", ".join(str(c) for c in sorted(table["cutoff"].unique())),
        "horizon_days": fs.backtest_horizon, "backtest_seconds": round(seconds, 2),
        "wape": float(overall["wape"]), "total_wape": float(overall["total_wape"]),
        "bias": float(overall["bias"]), "mean_rmsse": float(overall["rmsse"] or 0.0),
        "coverage_q0.9": float(overall["coverage_q0.9"]),
        "by_demand_class": frame_md(
            pooled.select("demand_class", "skus", "wape", "total_wape", "bias", "rmsse",
                          "coverage_q0.9"), limit=20),
    })


ASSETS = [daily_demand_by_sku, demand_segments, demand_forecast, forecast_accuracy]
