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

for name in forecast_tables:
    if name == "marts.kpi_forecast_accuracy_summary":
        continue
    rows = data.query(f"SELECT count(*) AS n FROM {name}").item()
    with st.expander(f"{name} ({rows:,} rows)"):
        ui.table(data.query(f"SELECT * FROM {name} LIMIT 1000"), name=name.split(".", 1)[1],
                 key=f"dl_{name}")
        if rows > 1000:
            st.caption("First 1,000 rows shown.")
