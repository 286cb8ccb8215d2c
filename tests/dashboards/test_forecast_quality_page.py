"""The Forecast quality page's season section under AppTest, on a copy of the served
snapshot with a small published forecast (``planner_env``: a home of this test's own)."""

from __future__ import annotations

import json

import duckdb
from test_dashboard_pages import run_page


def test_season_section_counts_lifted_skus_and_draws_each_category(planner_env):
    con = duckdb.connect(str(planner_env / "serving" / "serving.duckdb"))
    try:
        skus = [s for (s,) in con.execute("SELECT sku FROM core.products ORDER BY sku").fetchall()]
        categories = {c for (c,) in con.execute(
            "SELECT DISTINCT category FROM core.products").fetchall()}
        # the first SKU is lifted 1.5x over the horizon, the second lowered to 0.8x, the rest
        # move by under 10 %
        con.execute("""
            CREATE TABLE marts.demand_forecast AS
            SELECT sku, DATE '2026-11-22' + d::INTEGER AS date, 2.0 AS mean,
                   CASE WHEN sku = $lifted THEN 1.5 WHEN sku = $lowered THEN 0.8 ELSE 1.05 END
                       AS yearly_ratio
            FROM core.products, range(1, 29) AS t(d)
        """, {"lifted": skus[0], "lowered": skus[1]})
    finally:
        con.close()
    at = run_page("forecast_quality")
    assert not at.exception, [e.value for e in at.exception]
    assert "Last year's season in the forecasts" in [h.value for h in at.subheader]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["SKUs lifted by 10% or more"] == f"1 of {len(skus)}"
    assert metrics["SKUs lowered by 10% or more"] == f"1 of {len(skus)}"
    chart = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                 if "Yearly ratio" in json.loads(c.proto.spec)["layout"]["title"]["text"])
    assert {trace["name"] for trace in chart["data"]} == categories
