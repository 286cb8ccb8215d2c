"""`shelfwise forecast` and `shelfwise backtest` on small files."""

import json

import polars as pl
import pytest
from click.testing import CliRunner

from forecasting.synthetic import synthetic_demand
from pipelines.commands.forecast import backtest, forecast


@pytest.fixture(scope="module")
def demand_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "demand.csv"
    synthetic_demand(6, 150, seed=5).write_csv(path)
    return path


def test_forecast_writes_quantile_columns_and_model(demand_csv, tmp_path):
    out = tmp_path / "fc.csv"
    result = CliRunner().invoke(
        forecast, ["--demand", str(demand_csv), "--horizon", "7", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    frame = pl.read_csv(out)
    assert frame.columns[:7] == ["sku", "date", "forecast", "q0.8", "q0.9", "q0.95", "q0.99"]
    assert "model" in frame.columns
    assert (frame["yearly_ratio"] == 1.0).all()  # no categories, no year of history: none
    assert frame.height == 6 * 7
    assert "wrote 42 rows" in result.output


def test_forecast_parquet_and_custom_quantiles(demand_csv, tmp_path):
    out = tmp_path / "fc.parquet"
    result = CliRunner().invoke(
        forecast,
        [
            "--demand",
            str(demand_csv),
            "--horizon",
            "3",
            "--out",
            str(out),
            "--quantiles",
            "0.5,0.75",
        ],
    )
    assert result.exit_code == 0, result.output
    assert pl.read_parquet(out).columns[:4] == ["sku", "date", "forecast", "q0.75"]


@pytest.mark.parametrize(
    "body, message",
    [
        ("sku,day,units\na,2026-01-01,1\n", "missing column(s) date"),
        (
            "sku,date,units\na,2026-01-01,1\na,01/02/2026,2\n",
            "line 3: date '01/02/2026' is not a date",
        ),
        ("sku,date,units\na,2026-01-01,1\na,2026-01-02,-2\n", "line 3: units -2 is negative"),
        ("sku,date,units\na,2026-01-01,lots\n", "line 2: units 'lots' is not a number"),
    ],
)
def test_forecast_bad_input_names_file_line_and_problem(tmp_path, body, message):
    path = tmp_path / "bad.csv"
    path.write_text(body)
    result = CliRunner().invoke(forecast, ["--demand", str(path), "--out", str(tmp_path / "x.csv")])
    assert result.exit_code != 0
    assert str(path) in result.output and message in result.output


def test_backtest_prints_table_and_writes_json(demand_csv, tmp_path):
    out = tmp_path / "report.json"
    result = CliRunner().invoke(
        backtest,
        [
            "--demand",
            str(demand_csv),
            "--horizon",
            "7",
            "--cutoffs",
            "2",
            "--baselines",
            "SeasonalNaive7",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert (
        "shelfwise" in result.output
        and "SeasonalNaive7" in result.output
        and "rmsse" in result.output
    )
    report = json.loads(out.read_text())
    assert {r["model"] for r in report["by_model"]} == {"shelfwise", "SeasonalNaive7"}
