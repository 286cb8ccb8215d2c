"""shelfwise dashboards: the entry point (`shelfwise dashboards` runs it with `streamlit run`).

One page per user job. Every page reads the serving snapshot only (dashboards/data.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

# `streamlit run dashboards/app.py` puts dashboards/ on sys.path, not the repository root
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dashboards import data  # noqa: E402

VIEWS = Path(__file__).resolve().parent / "views"

st.set_page_config(page_title="shelfwise", page_icon=":material/inventory_2:", layout="wide")

pages = {
    "Manage": [
        st.Page(VIEWS / "kpis.py", title="KPIs", icon=":material/monitoring:", default=True),
        st.Page(VIEWS / "inventory.py", title="Inventory", icon=":material/inventory:"),
    ],
    "Plan": [
        st.Page(VIEWS / "replenishment.py", title="Replenishment",
                icon=":material/shopping_cart:"),
        st.Page(VIEWS / "forecast_quality.py", title="Forecast quality",
                icon=":material/query_stats:"),
    ],
    "Operate": [
        st.Page(VIEWS / "alerts.py", title="Alerts", icon=":material/notifications:"),
        st.Page(VIEWS / "data_quality.py", title="Data quality", icon=":material/rule:"),
    ],
}
page = st.navigation(pages)

if data.snapshot_version() is None:
    st.title("shelfwise")
    st.warning(
        f"No serving snapshot at `{data.serving_path()}` yet. Run `shelfwise demo` (or "
        "materialize `publish_serving_snapshot`) and reload this page."
    )
    st.stop()

page.run()
