"""The KPIs and Data quality pages put their headline numbers out first: before Plotly is
imported, before any element the browser loads on demand, and with a hold after them on a
browser's first visit.

plotly.express imports pandas: 1-3 s on this machine for the first visitor after a server
start. And in the browser, React reveals a loaded metric no sooner than 0.5 s after the newest
placeholder while any other element's script is still loading: a headline sent together with
the date picker, charts and tables stayed hidden until Plotly's 4.7 MB was compiled
(bench/dashboards.py, docs/dashboards.md "Speed"). Run in a fresh interpreter, because this
test session may have imported Plotly already.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from streamlit.testing.v1 import AppTest

from dashboards import ui

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "dashboards" / "app.py"

# every element of the first script run, in drawing order: a metric with what was imported
# when it was drawn, the hold, and each element the browser loads a script for on demand
PROBE = """
import json, sys
sys.path.insert(0, sys.argv[2])
import streamlit as st
from streamlit.delta_generator import DeltaGenerator
from streamlit.testing.v1 import AppTest
from dashboards import ui

drawn = []


def recorded(name, original):
    def element(self, *args, **kwargs):
        entry = {"element": name}
        if name == "metric":
            entry.update(label=args[0], plotly_express="plotly.express" in sys.modules,
                         pandas="pandas" in sys.modules)
        drawn.append(entry)
        return original(self, *args, **kwargs)
    return element


ON_DEMAND = ["date_input", "multiselect", "plotly_chart", "dataframe", "radio",
             "download_button", "selectbox", "altair_chart", "vega_lite_chart"]
for name in ["metric", *ON_DEMAND]:
    setattr(DeltaGenerator, name, recorded(name, getattr(DeltaGenerator, name)))
    # st.<name> is bound to the main area when streamlit is imported: bind it again
    setattr(st, name, getattr(st._main, name))
hold = ui.hold_for_headline
ui.hold_for_headline = lambda: (drawn.append({"element": "hold"}), hold())[1]
at = AppTest.from_file(sys.argv[1], default_timeout=120)
at.run()
if sys.argv[3] != "kpis":  # every session starts on the default page, KPIs
    at.switch_page(f"views/{sys.argv[3]}.py")
    drawn.clear()
    at.run()
assert not at.exception, [e.value for e in at.exception]
print(json.dumps(drawn))
"""


def first_run(page: str) -> list[dict]:
    """The elements of ``page``'s first run in a new session, in drawing order (PROBE)."""
    done = subprocess.run([sys.executable, "-c", PROBE, str(APP), str(ROOT), page],
                          capture_output=True, text=True, timeout=300, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_kpi_headline_goes_out_before_plotly_and_before_anything_loaded_on_demand(serving_env):
    drawn = first_run("kpis")
    kinds = [d["element"] for d in drawn]
    headline = drawn[:12]  # the three rows of headline numbers
    assert [d["element"] for d in headline] == ["metric"] * 12, kinds
    assert headline[0]["label"] == "Orders", headline
    assert not any(m["plotly_express"] or m["pandas"] for m in headline), headline
    # the hold comes right after them, and the sidebar filters, charts and tables after it
    assert kinds[12] == "hold", kinds
    assert kinds.count("hold") == 1
    assert kinds[13:15] == ["date_input", "multiselect"], kinds
    assert "plotly_chart" in kinds and "dataframe" in kinds
    stock = [d for d in drawn if d["element"] == "metric"][12:]
    assert stock and all(m["plotly_express"] for m in stock), "stock metrics come after a chart"


def test_data_quality_numbers_go_out_before_its_charts_and_tables(serving_env):
    kinds = [d["element"] for d in first_run("data_quality")]
    assert kinds[:4] == ["metric", "metric", "metric", "hold"], kinds
    assert "plotly_chart" in kinds and "dataframe" in kinds


HOLD_APP = """
import time
import streamlit as st
from dashboards import ui
st.metric("Orders", "1")
started = time.perf_counter()
held = ui.hold_for_headline()
st.session_state.setdefault("held", []).append((held, time.perf_counter() - started))
st.button("again")
"""


def test_the_hold_is_once_per_browser_session(monkeypatch):
    monkeypatch.setattr(ui, "_has_browser", lambda: True)
    monkeypatch.setattr(ui, "HEADLINE_HOLD_SECONDS", 0.2)
    at = AppTest.from_string(HOLD_APP)
    at.run()
    at.button[0].click().run()  # a rerun (a filter changed): the scripts are loaded, no hold
    (first, first_s), (again, again_s) = at.session_state["held"]
    assert first and first_s >= 0.2
    assert not again and again_s < 0.1


def test_no_hold_without_a_browser():
    at = AppTest.from_string(HOLD_APP)
    at.run()
    assert [held for held, _ in at.session_state["held"]] == [False]


def test_late_filters_keep_the_picked_period_and_channels(serving_env):
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    date_input = at.sidebar.date_input[0]
    start, end = date_input.value
    picked = (end - (end - start) // 2, end)  # the second half of the default period
    date_input.set_value(picked).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.sidebar.date_input[0].value == picked
    days = (picked[1] - picked[0]).days + 1
    assert any(f"({days} days," in c.value for c in at.caption), [c.value for c in at.caption]
    at.sidebar.multiselect[0].select("web").run()
    assert at.sidebar.multiselect[0].value == ["web"]
    assert at.sidebar.date_input[0].value == picked  # one filter does not reset the other
