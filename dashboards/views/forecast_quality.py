"""Forecast quality (planner): how wrong the forecasts were, by model and demand class.

Shows what the forecasting step has published; nothing is estimated here.
"""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from dashboards import data, ui

st.title("Forecast quality")
ui.snapshot_caption()

forecast_tables = sorted(
    t for t in data.tables()
    if t.startswith("marts.") and ("forecast" in t or "demand_class" in t)
)
if not forecast_tables:
    ui.not_computed("Forecasts and forecast accuracy", "forecasting")
    st.stop()

MEASURES = ["wape", "bias", "rmsse", "mae"]
if data.has_table("marts.forecast_accuracy"):
    present = data.columns("marts.forecast_accuracy")
    measures = [m for m in MEASURES if m in present]
    group = next((g for g in ("model", "demand_class", "horizon") if g in present), None)
    if measures and group:
        summary = data.query(
            # column names come from the fixed lists above, matched against the catalog
            f"SELECT {group}, count(*) AS series, "
            + ", ".join(f"avg({m}) AS mean_{m}" for m in measures)
            + f" FROM marts.forecast_accuracy GROUP BY ALL ORDER BY {group}"
        )
        cols = st.columns(len(measures))
        for col, m in zip(cols, measures):
            col.metric(f"Mean {m.upper()}", ui.number(
                data.query(f"SELECT avg({m}) AS v FROM marts.forecast_accuracy").item(), 3))
        ui.chart(px.bar(summary, x=group, y=f"mean_{measures[0]}",
                        title=f"Mean {measures[0].upper()} by {group.replace('_', ' ')}"))
        ui.table(summary, name="forecast_accuracy_summary", key="dl_fa_summary")
else:
    ui.not_computed("Forecast accuracy (backtests)", "forecast evaluation")

# Last year's season, as the published forecasts carry it (forecasting/seasonality.py): each
# SKU's point forecast is its recent rate times its category's yearly ratio for that day.
SEASON_SHOWN = 0.1  # the suggestion reasons name the season from a 10 % move, too
if data.has_columns("marts.demand_forecast", ["yearly_ratio"]):
    st.subheader("Last year's season in the forecasts")
    by_sku = data.query(
        "SELECT sku, avg(yearly_ratio) AS mean_yearly_ratio FROM marts.demand_forecast GROUP BY sku"
    )
    lifted = by_sku.filter(by_sku["mean_yearly_ratio"] >= 1 + SEASON_SHOWN).height
    lowered = by_sku.filter(by_sku["mean_yearly_ratio"] <= 1 - SEASON_SHOWN).height
    left, right = st.columns(2)
    left.metric(f"SKUs lifted by {SEASON_SHOWN:.0%} or more", f"{lifted:,} of {by_sku.height:,}")
    right.metric(f"SKUs lowered by {SEASON_SHOWN:.0%} or more", f"{lowered:,} of {by_sku.height:,}")
    has_category = data.has_columns("core.products", ["category"])
    category = "coalesce(p.category, '(no category)')" if has_category else "'all SKUs'"
    join = "LEFT JOIN core.products p USING (sku)" if has_category else ""
    season = data.query(
        f"SELECT {category} AS category, f.date, avg(f.yearly_ratio) AS mean_yearly_ratio "
        f"FROM marts.demand_forecast f {join} GROUP BY ALL ORDER BY category, f.date"
    )
    ui.chart(px.line(season, x="date", y="mean_yearly_ratio", color="category",
                     title="Yearly ratio by forecast day (mean over the category's SKUs)"))
    st.caption(
        "A forecast is the recent rate times the category's yearly ratio of that day: above 1, "
        "last year's demand rose from the same point of the year; 1 when the category has no "
        "year of history (docs/forecasting.md, Yearly seasonality)."
    )

for name in forecast_tables:
    if name == "marts.kpi_forecast_accuracy_summary":
        continue
    rows = data.query(f"SELECT count(*) AS n FROM {name}").item()
    with st.expander(f"{name} ({rows:,} rows)"):
        ui.table(data.query(f"SELECT * FROM {name} LIMIT 1000"), name=name.split(".", 1)[1],
                 key=f"dl_{name}")
        if rows > 1000:
            st.caption("First 1,000 rows shown.")
