"""The forecast assets through Dagster on a small hand-built warehouse, and the override CLI."""

from __future__ import annotations

import dagster as dg
import duckdb
import polars as pl
import pytest
from click.testing import CliRunner

from assets.forecast import defs as forecast_defs
from assets.forecast.assets import (
    ASSETS,
    DAILY_DEMAND,
    DEMAND_FORECAST,
    FORECAST_SELECTION,
    ORDER_LINES,
)
from assets.kpis.accuracy import DERIVED, build_derived
from assets.resources import SettingsResource
from assets.settings import load_settings
from assets.warehouse import WarehouseResource, connect, ensure_schema
from forecast_builder import day, insert, order_line, product, snapshot
from forecasting import quantile_name
from forecasting.synthetic import synthetic_demand
from pipelines.cli import main

DAYS = 150
HORIZON = 14
QCOLS = [quantile_name(q) for q in (0.5, 0.8, 0.9, 0.95, 0.99)]


def build_home(path) -> object:
    """6 synthetic SKUs over 150 days, a bundle of two of them, a SKU out of stock for two
    weeks, a dead SKU (sold only in the first month) and a new one (the last three weeks)."""
    settings = load_settings(path)
    settings.warehouse_path.parent.mkdir(parents=True)
    (path / "shelfwise.toml").write_text(
        f"[forecast]\nhorizon = {HORIZON}\nbacktest_cutoffs = 2\n")
    con = duckdb.connect(str(settings.warehouse_path))
    ensure_schema(con)
    demand = synthetic_demand(6, DAYS, seed=3, end=day(DAYS - 1))
    skus = sorted(demand["sku"].unique())
    lines = [order_line(r["sku"], int(r["units"]), (r["date"] - day(0)).days)
             for r in demand.iter_rows(named=True)]
    lines += [order_line("DEAD", 2, n) for n in range(0, 30, 3)]
    lines += [order_line("NEW", 1, n) for n in range(DAYS - 21, DAYS)]
    lines += [order_line("KIT", 1, n) for n in range(0, DAYS, 5)]
    lines += [order_line(skus[0], 50, n, status="cancelled") for n in range(DAYS - 10, DAYS)]
    insert(con, "order_lines", lines)
    insert(con, "products", [product(s, category="home") for s in [*skus, "DEAD", "NEW"]]
           + [product("KIT", bundle=True)])
    insert(con, "bundle_components", [
        {"bundle_sku": "KIT", "component_sku": skus[1], "units_per_bundle": 2},
        {"bundle_sku": "KIT", "component_sku": skus[2], "units_per_bundle": 1}])
    # skus[3] is out of stock at both locations on days 100-113, in stock otherwise
    insert(con, "stock_snapshots", [
        snapshot(n, skus[3], loc, 0 if 100 <= n < 114 else 40) for n in range(DAYS)
        for loc in ("WH1", "ST1")])
    con.close()
    return settings, skus


def materialize(settings, selection=None) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        ASSETS,
        selection=selection,
        resources={"warehouse": WarehouseResource(path=str(settings.warehouse_path)),
                   "shelfwise": SettingsResource(home=str(settings.home))},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    settings, skus = build_home(tmp_path_factory.mktemp("forecast_home"))
    result = materialize(settings)
    assert result.success
    with connect(settings.warehouse_path) as con:  # the KPI writes its summary
        tables = {t: con.sql(f"FROM marts.{t}").pl() for t in (
            "daily_demand_by_sku", "demand_segments", "demand_forecast", "forecast_selection",
            "forecast_accuracy")}
        kpi = [build_derived(con, k) for k in DERIVED if k.source == "forecast_accuracy"]
    return settings, skus, result, tables, kpi


def test_every_forecast_asset_waits_for_the_order_lines_quality_gate():
    for asset in forecast_defs.assets:
        for key in asset.keys:
            deps = asset.asset_deps[key]
            assert ORDER_LINES in deps, key
            assert key == DAILY_DEMAND or DAILY_DEMAND in deps, key
        assert asset.group_names_by_key[next(iter(asset.keys))] == "forecast"


def test_forecast_for_every_sku_with_monotone_non_negative_quantiles(built):
    _, skus, result, tables, _ = built
    fc = tables["demand_forecast"]
    assert set(fc["sku"]) == {*skus, "DEAD", "NEW"}          # the bundle is its components
    assert fc.group_by("sku").len()["len"].unique().to_list() == [HORIZON]
    assert fc["date"].min() == day(DAYS) and fc["horizon_day"].max() == HORIZON
    cols = ["mean", *QCOLS]
    assert fc.select(pl.min_horizontal(cols) >= 0).to_series().all()
    for lo, hi in zip(QCOLS, QCOLS[1:]):
        assert (fc[lo] <= fc[hi]).all(), (lo, hi)
    dead = fc.filter(sku="DEAD")
    assert dead["segment"].unique().to_list() == ["dead"] and dead["q0.99"].max() == 0
    assert fc.filter(sku="NEW")["segment"].unique().to_list() == ["new"]
    assert not fc["is_override"].any() and fc["override_source"].unique().to_list() == ["statistical"]
    sel = tables["forecast_selection"]
    assert sel.height == len(skus) + 2 and sel["reason"].null_count() == 0
    meta = {m.asset_key: m.metadata for m in (e.event_specific_data.materialization
                                              for e in result.get_asset_materialization_events())}
    assert meta[DEMAND_FORECAST]["dagster/row_count"].value == fc.height
    assert "| sku |" in meta[DEMAND_FORECAST]["largest"].value
    assert meta[FORECAST_SELECTION]["dagster/row_count"].value == sel.height


def test_demand_mart_censors_stockouts_and_drops_cancellations(built):
    _, skus, _, tables, _ = built
    dd = tables["daily_demand_by_sku"]
    out = dd.filter(sku=skus[3], stockout=True)
    assert sorted(out["date"]) == [day(n) for n in range(100, 114)]
    assert dd.filter(sku=skus[0])["units"].max() < 50        # the cancelled 50s are not demand
    assert dd.filter(sku="KIT").is_empty()
    assert dd.filter(sku=skus[1])["units_from_bundles"].sum() == 2 * len(range(0, DAYS, 5))
    seg = tables["demand_segments"]
    assert seg.filter(sku=skus[3])["censored_days"].item() == 14
    assert set(seg["abc"]) <= {"A", "B", "C"} and seg["unit_value"].null_count() == 0


def test_accuracy_has_what_the_kpi_and_dashboard_read(built):
    _, _, _, tables, kpi = built
    acc = tables["forecast_accuracy"]
    assert {"sku", "cutoff", "model", "demand_class", "horizon", "wape", "bias", "rmsse",
            "mae", "coverage_q0.9"} <= set(acc.columns)
    assert acc["cutoff"].n_unique() == 2 and acc["method"].unique().to_list() == ["shelfwise"]
    assert acc["model"].null_count() == 0
    assert kpi[0][0] and kpi[0][1].startswith("computed")


def test_override_cli_writes_and_the_next_forecast_shows_it(tmp_path):
    settings, skus = build_home(tmp_path)
    sku = skus[4]
    runner = CliRunner()
    home = ["--home", str(tmp_path)]
    start, end = day(DAYS + 2), day(DAYS + 4)
    ok = runner.invoke(main, [*home, "override", "--sku", sku, "--from", str(start), "--to",
                              str(end), "--multiplier", "2", "--note", "campaign", "--by", "ann"])
    assert ok.exit_code == 0, ok.output
    assert "campaign" in ok.output and "× 2" in ok.output
    for args, message in (
        (["--sku", "NOPE", "--from", str(start), "--to", str(end), "--quantity", "3"], "unknown SKU"),
        (["--sku", "KIT", "--from", str(start), "--to", str(end), "--quantity", "3"], "is a bundle"),
        (["--sku", sku, "--from", str(start), "--to", str(end)], "exactly one of"),
        (["--sku", sku, "--from", str(end), "--to", str(start), "--quantity", "1"], "is after"),
    ):
        bad = runner.invoke(main, [*home, "override", *args])
        assert bad.exit_code != 0 and message in bad.output, bad.output
    listed = runner.invoke(main, [*home, "override", "--list"])
    assert listed.exit_code == 0 and sku in listed.output and "ann" in listed.output

    assert materialize(settings, selection=[DAILY_DEMAND, DEMAND_FORECAST, FORECAST_SELECTION]).success
    with connect(settings.warehouse_path, read_only=True) as con:
        fc = con.sql("FROM marts.demand_forecast").pl()
    hit = fc.filter(pl.col("is_override"))
    assert hit["sku"].unique().to_list() == [sku]
    assert sorted(hit["date"]) == [start, day(DAYS + 3), end]
    assert hit["override_source"].unique().to_list() == ["planner: campaign"]
    assert (hit["mean"] == 2 * hit["statistical_mean"]).all()
    assert (hit["q0.9"] == 2 * hit["statistical_q0.9"]).all()


def _metadata(result, key) -> dict:
    [mat] = [e.event_specific_data.materialization
             for e in result.get_asset_materialization_events() if e.asset_key == key]
    return {name: value.value for name, value in mat.metadata.items()}


def test_the_assets_report_figures_read_by_column_name(built):
    """Issue #18 item 3: the metadata a planner sees is read by column name; each figure here
    is recomputed by hand from the tables the assets wrote."""
    from assets.forecast.assets import FORECAST_ACCURACY

    _, _, result, tables, _ = built
    demand = tables["daily_demand_by_sku"]
    shown = _metadata(result, DAILY_DEMAND)
    assert shown["skus_with_demand"] == demand.filter(pl.col("units") > 0)["sku"].n_unique()
    assert shown["first_day"] == str(demand["date"].min())
    assert shown["last_day"] == str(demand["date"].max())
    assert shown["units"] == demand["units"].sum()
    assert shown["units_from_bundles"] == demand["units_from_bundles"].sum() > 0
    assert shown["stockout_sku_days"] == demand.filter(pl.col("stockout")).height > 0
    assert shown["stockout_days_with_sales"] == demand.filter(
        pl.col("stockout") & (pl.col("units") > 0)).height

    accuracy = tables["forecast_accuracy"]
    shown = _metadata(result, FORECAST_ACCURACY)
    assert shown["wape"] == pytest.approx(accuracy["abs_error"].sum() / accuracy["actual"].sum())
    assert shown["cutoffs"] == accuracy["cutoff"].n_unique() == 2
