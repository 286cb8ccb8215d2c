"""The Forecast quality page reads accuracy as a manager does: error and bias weighted by
volume, by cut-off and ABC class, model names in words; per-series figures only in the
drill-down. Expected figures are worked out in this test from the rows it writes."""

from __future__ import annotations

import base64
import json

import duckdb
import numpy as np
from test_dashboard_pages import run_page

# sku, cutoff, model, actual, forecast: a big seller forecast well, two small ones badly
ROWS = [
    ("SKU-001", "2026-10-04", "TSB×wd", 1000.0, 1050.0),
    ("SKU-001", "2026-11-01", "TSB×wd", 900.0, 860.0),
    ("SKU-002", "2026-10-04", "Combo(ADIDA,IMAPA,TSB,WA56)×wd", 2.0, 9.0),
    ("SKU-002", "2026-11-01", "Combo(ADIDA,IMAPA,TSB,WA56)×wd", 1.0, 6.0),
    ("SKU-003", "2026-10-04", "SeasonalES7", 4.0, 1.0),
    ("SKU-003", "2026-11-01", "SeasonalES7", 5.0, 12.0),
]
ABC = {"SKU-001": "A", "SKU-002": "C", "SKU-003": "C"}


def publish(home) -> None:
    con = duckdb.connect(str(home / "serving" / "serving.duckdb"))
    try:
        con.execute("CREATE OR REPLACE TABLE marts.forecast_accuracy (sku VARCHAR, cutoff DATE, "
                    "horizon INTEGER, model VARCHAR, demand_class VARCHAR, actual DOUBLE, "
                    "forecast DOUBLE, abs_error DOUBLE, wape DOUBLE, bias DOUBLE)")
        # one day per row, so |Σa − Σf| is the day's absolute error
        con.executemany("INSERT INTO marts.forecast_accuracy VALUES "
                        "(?, ?, 28, ?, 'smooth', ?, ?, abs(? - ?), abs(? - ?) / ?, (? - ?) / ?)",
                        [(s, c, m, a, f, a, f, a, f, a, f, a, a) for s, c, m, a, f in ROWS])
        con.execute("CREATE OR REPLACE TABLE marts.demand_segments (sku VARCHAR, abc VARCHAR)")
        con.executemany("INSERT INTO marts.demand_segments VALUES (?, ?)", list(ABC.items()))
    finally:
        con.close()


def values(array) -> list[float]:
    """A Plotly JSON array: a list, or ``{"dtype", "bdata"}`` (base64 of typed values)."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return list(array)


def weighted(rows) -> tuple[float, float]:
    actual = sum(r[3] for r in rows)
    return (sum(abs(r[3] - r[4]) for r in rows) / actual,
            sum(r[4] for r in rows) / actual - 1)


def test_headline_error_and_bias_are_weighted_by_volume(planner_env):
    publish(planner_env)
    at = run_page("forecast_quality")
    wape, bias = weighted(ROWS)
    mean_wape = sum(abs(r[3] - r[4]) / r[3] for r in ROWS) / len(ROWS)
    assert mean_wape > 1.5 and wape < 0.1  # the unweighted mean is what misled
    metrics = {m.label: m for m in at.metric}
    assert metrics["Forecast error (WAPE)"].value == f"{wape:.1%}"
    assert metrics["Bias"].value == f"{bias:+.1%}"
    assert metrics["Units backtested"].value == f"{sum(r[3] for r in ROWS):,.0f}"
    assert metrics["Backtest cut-offs"].value == "2"
    assert not [m for m in at.metric if m.label.startswith("Mean ")]


def test_trend_by_cutoff_and_accuracy_by_abc_class(planner_env):
    publish(planner_env)
    at = run_page("forecast_quality")
    charts = {json.loads(c.proto.spec)["layout"]["title"]["text"]: json.loads(c.proto.spec)
              for c in at.get("plotly_chart")}
    trend = charts["Error and bias by backtest cut-off (weighted by volume)"]
    error = next(t for t in trend["data"] if t["name"] == "error (WAPE)")
    by_cutoff = [weighted([r for r in ROWS if r[1] == c])[0] for c in ("2026-10-04", "2026-11-01")]
    assert [round(v, 6) for v in values(error["y"])] == [round(v, 6) for v in by_cutoff]
    abc = next(d.value for d in at.dataframe if "ABC class" in d.value.columns)
    for cls in ("A", "C"):
        expected = weighted([r for r in ROWS if ABC[r[0]] == cls])
        row = abc[abc["ABC class"] == cls]
        assert round(row["Error (WAPE)"].item(), 6) == round(100 * expected[0], 6)
        assert round(row["Bias"].item(), 6) == round(100 * expected[1], 6)


def test_model_names_in_words_technical_name_on_hover_series_only_in_drill_down(planner_env):
    publish(planner_env)
    at = run_page("forecast_quality")
    chart = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                 if "by the model" in json.loads(c.proto.spec)["layout"]["title"]["text"])
    names = set(chart["data"][0]["y"])
    assert "Intermittent-demand model (TSB) with weekday profile" in names
    assert "TSB×wd" not in names
    assert "technical name: %{customdata[0]}" in chart["data"][0]["hovertemplate"]
    assert [c[0] for c in chart["data"][0]["customdata"]].count("TSB×wd") == 1
    # no expander is titled by a warehouse table name; per-series rows only in the drill-down
    labels = [e.label for e in at.expander]
    assert not [label for label in labels if "marts." in label or "forecast_accuracy" in label]
    drill = next(e for e in at.expander if e.label.startswith("One SKU's backtest"))
    detail = drill.dataframe[0].value
    assert list(detail["Forecast made on"].astype(str)) == ["2026-10-04", "2026-11-01"]
    assert set(detail["Model"]) == {"Intermittent-demand model (TSB) with weekday profile"}
