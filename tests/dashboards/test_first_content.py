"""The KPIs page puts its headline numbers out before it loads Plotly.

plotly.express imports pandas: 1-3 s on this machine for the first visitor after a server
start (bench/dashboards.py, docs/dashboards.md "Benchmark"). The headline must not wait for
it. Run in a fresh interpreter, because this test session may have imported Plotly already.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"

# what was loaded when each metric of the first script run was drawn, in drawing order
PROBE = """
import json, sys
from streamlit.elements.metric import MetricMixin
from streamlit.testing.v1 import AppTest

drawn = []
original = MetricMixin.metric


def metric(self, label, *args, **kwargs):
    drawn.append({"label": label, "plotly_express": "plotly.express" in sys.modules,
                  "pandas": "pandas" in sys.modules})
    return original(self, label, *args, **kwargs)


MetricMixin.metric = metric
at = AppTest.from_file(sys.argv[1], default_timeout=120)
at.run()
assert not at.exception, [e.value for e in at.exception]
print(json.dumps({"drawn": drawn, "charts": len(at.get("plotly_chart"))}))
"""


def test_kpi_headline_is_drawn_before_plotly_is_imported(serving_env):
    done = subprocess.run([sys.executable, "-c", PROBE, str(APP)], capture_output=True,
                          text=True, timeout=300, check=True)
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    headline = seen["drawn"][:12]  # the three rows of headline numbers
    assert headline[0]["label"] == "Orders", headline
    assert not any(m["plotly_express"] or m["pandas"] for m in headline), headline
    # and the charts are still drawn, after it
    assert seen["charts"] > 0
    assert seen["drawn"][-1]["plotly_express"], "the stock metrics come after the first chart"
