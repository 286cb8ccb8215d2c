"""`shelfwise simulate` on a demand file and on a small hand-built warehouse."""

import json
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest
from click.testing import CliRunner

from assets.forecast import sql
from assets.settings import load_settings
from assets.warehouse import ensure_schema
from forecasting.synthetic import synthetic_demand
from pipelines.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "forecast_assets"))
from forecast_builder import day, insert, order_line, product  # noqa: E402
from test_cli import demand_csv  # noqa: E402, F401 - the shared 6 SKUs × 150 days demand file

FAST = ["--eval-days", "35", "--warmup-days", "7", "--refit-days", "21", "--n-sims", "200",
        "--fill-rates", "0.8,0.95", "--service-levels", "0.8,0.95", "--safety-days", "0,7,21"]


def test_simulate_file_prints_curves_and_writes_table_json_png(demand_csv, tmp_path):
    items = tmp_path / "items.csv"
    items.write_text("sku,unit_cost,case_pack,category\nSKU-00000,2.5,6,mugs\n")
    out = tmp_path / "sim"
    result = CliRunner().invoke(
        main, ["simulate", "--demand", str(demand_csv), "--items", str(items),
               "--lead-time-mean", "5", "--lead-time-sd", "1", "--cycle-stock-reviews", "0.5",
               "--out", str(out), *FAST])
    assert result.exit_code == 0, result.output
    assert "6 SKUs" in result.output and "average stock at 95% fill rate" in result.output
    curves = pl.read_csv(out / "simulation_curves.csv")
    assert curves.group_by("policy").len().sort("policy").rows() == [
        ("minmax", 3), ("shelfwise", 2)]
    report = json.loads((out / "simulation.json").read_text())
    assert report["config"]["lead_time_mean"] == 5 and len(report["curves"]) == 5
    assert report["config"]["cycle_stock_reviews"] == 0.5
    assert (out / "simulation.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("kind, rates", [("fill_rate", [0.5, 0.9, 0.99]), ("pooled", [0.8, 0.95])])
def test_simulate_target_kind_sweeps_its_fill_rates(demand_csv, tmp_path, kind, rates):
    """``--target-kind fill_rate`` (β per SKU) and ``pooled`` (one pooled target) sweep
    ``--fill-rates``."""
    out = tmp_path / "sim"
    result = CliRunner().invoke(
        main, ["simulate", "--demand", str(demand_csv), "--out", str(out), *FAST,
               "--target-kind", kind, "--fill-rates", ",".join(map(str, rates))])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "simulation.json").read_text())
    assert report["config"]["target_kind"] == kind
    assert sorted(c["parameter"] for c in report["curves"] if c["policy"] == "shelfwise") == rates


def test_simulate_bad_items_name_file_and_line(demand_csv, tmp_path):
    items = tmp_path / "items.csv"
    items.write_text("sku,unit_cost\nSKU-00000,2.5\nSKU-00001,cheap\n")
    result = CliRunner().invoke(
        main, ["simulate", "--demand", str(demand_csv), "--items", str(items), *FAST])
    assert result.exit_code != 0
    assert f"{items}: line 3: unit_cost 'cheap' is not a number" in result.output


def test_simulate_too_short_history_names_the_file(demand_csv, tmp_path):
    result = CliRunner().invoke(
        main, ["simulate", "--demand", str(demand_csv), "--eval-days", "140",
               "--out", str(tmp_path / "x")])
    assert result.exit_code != 0
    assert str(demand_csv) in result.output and "too short" in result.output


def test_simulate_reads_the_warehouse_with_master_lead_times(tmp_path):
    settings = load_settings(tmp_path)
    settings.warehouse_path.parent.mkdir(parents=True)
    con = duckdb.connect(str(settings.warehouse_path))
    ensure_schema(con)
    demand = synthetic_demand(3, 120, seed=4, end=day(119))
    skus = sorted(demand["sku"].unique())
    insert(con, "order_lines", [order_line(r["sku"], int(r["units"]), (r["date"] - day(0)).days)
                                for r in demand.iter_rows(named=True)])
    insert(con, "products", [{**product(s, cost=4.0), "supplier_id": "SUP-A"} for s in skus])
    insert(con, "suppliers", [{"supplier_id": "SUP-A", "name": "A", "currency": "EUR",
                               "lead_time_days_mean": 6.0, "lead_time_days_sd": 2.0,
                               "order_weekdays": "Mon", "review_period_days": 7}])
    sql.build_daily_demand(con)
    con.close()
    out = tmp_path / "sim"
    result = CliRunner().invoke(
        main, ["--home", str(tmp_path), "simulate", "--out", str(out), *FAST])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "simulation.json").read_text())
    assert report["skus"] == 3 and report["currency"] == "EUR"
    assert report["source"].startswith("warehouse")
    shelfwise = [c for c in report["curves"] if c["policy"] == "shelfwise"]
    # unit cost 4 EUR: the value is 4 × the units on hand
    assert shelfwise[0]["avg_on_hand_value"] == pytest.approx(4 * shelfwise[0]["avg_on_hand_units"])

    # with marts.lead_times (the replenishment domain's learned lead times) it reads those
    con = duckdb.connect(str(settings.warehouse_path))
    con.execute("""CREATE TABLE marts.lead_times AS SELECT 'SUP-A' AS supplier_id,
                   NULL::VARCHAR AS sku, 9 AS po_lines, 3.0 AS lead_time_mean_days,
                   1.0 AS lead_time_sd_days, 1.0 AS on_time_rate, 0.0 AS short_shipped_share,
                   'learned_supplier' AS source""")
    con.close()
    again = CliRunner().invoke(
        main, ["--home", str(tmp_path), "simulate", "--out", str(out), *FAST])
    assert again.exit_code == 0, again.output
    assert json.loads((out / "simulation.json").read_text())["curves"] != report["curves"]


def test_simulate_without_warehouse_says_what_to_do(tmp_path):
    result = CliRunner().invoke(main, ["--home", str(tmp_path), "simulate"])
    assert result.exit_code != 0 and "--demand FILE" in result.output
