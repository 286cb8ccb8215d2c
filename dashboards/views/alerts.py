"""Alerts (operations): what shelfwise flagged, by kind and severity.

Shows the alerts the alerts step has published; nothing is estimated here.
"""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from dashboards import data, ui

st.title("Alerts")
ui.snapshot_caption()

alert_tables = sorted(t for t in data.tables() if t.startswith("marts.") and "alert" in t)
if not alert_tables:
    ui.not_computed("Alerts", "alerts")
    st.stop()

for name in alert_tables:
    present = data.columns(name)
    rows = data.query(f"SELECT count(*) AS n FROM {name}").item()
    st.subheader(f"{name.split('.', 1)[1].replace('_', ' ').capitalize()} ({rows:,})")
    by = [c for c in ("severity", "alert_type", "kind", "rule", "channel_id", "location_id")
          if c in present]
    if by and rows:
        counts = data.query(f"SELECT {by[0]}, count(*) AS alerts FROM {name} "
                            f"GROUP BY ALL ORDER BY alerts DESC")
        ui.chart(px.bar(counts, x=by[0], y="alerts", title=f"Alerts by {by[0].replace('_', ' ')}"))
    ui.table(data.query(f"SELECT * FROM {name} LIMIT 2000"), name=name.split(".", 1)[1],
             key=f"dl_{name}")
