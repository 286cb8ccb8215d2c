"""`shelfwise --help` and every command's --help answer without importing the heavy libraries.

Every command used to take ~2.5 s (12 s on a loaded machine) before doing anything, because
the command modules pulled in Dagster (through the alert and KPI packages) and DuckDB at import.
The libraries load inside the commands that need them. Checked by which modules are loaded
after the help pages are printed, in a fresh interpreter: deterministic, unlike a stopwatch
(``bench/cli.py`` measures the time).
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ["dagster", "duckdb", "polars", "pandas", "statsforecast", "streamlit",
         "great_expectations", "plotly", "pandera"]

SCRIPT = f"""
import json, sys
from click.testing import CliRunner
from pipelines.cli import main
runner = CliRunner()
codes = {{"--help": runner.invoke(main, ["--help"]).exit_code}}
for name in main.list_commands(None):
    codes[name] = runner.invoke(main, [name, "--help"]).exit_code
print(json.dumps({{"codes": codes,
                  "heavy": [m for m in {HEAVY!r} if m in sys.modules]}}))
"""


def test_help_pages_import_no_heavy_library():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(result["codes"].values()) == {0}, result["codes"]
    assert {"suggestions", "restock", "approve", "alerts"} <= set(result["codes"])
    assert result["heavy"] == [], f"imported just to print help: {result['heavy']}"
