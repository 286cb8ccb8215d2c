"""`shelfwise demo`, the README's first command, end to end on a tiny scale."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from assets.decisions.store import DecisionStore
from pipelines.cli import main

pytestmark = pytest.mark.integration

TINY = ["--skus", "30", "--warehouses", "2", "--channels", "3", "--days", "90"]
# the second demo only has to start over: the orchestration tests' tiny scale (a run costs
# less on fewer SKUs, days and locations)
SMALLER = ["--skus", "12", "--warehouses", "1", "--channels", "2", "--days", "60"]


def test_demo_runs_every_asset_and_fresh_starts_over(tmp_path):
    home = tmp_path / "home"
    result = CliRunner().invoke(main, ["--home", str(home), "demo", *TINY])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Quarantined rows by rule" in out and "demo finished in" in out
    for table in ("order_lines", "ats_by_sku_channel", "demand_forecast",
                  "replenishment_suggestions", "alerts_current"):
        assert table in out
    assert f"shelfwise --home {home} dashboards" in out
    assert (home / "serving" / "serving.duckdb").exists()
    # a fresh demo passes every one of its own checks (freshness failed: fixed end date)
    assert "Checks that failed" not in out, out
    import duckdb

    with duckdb.connect(str(home / "warehouse" / "shelfwise.duckdb"), read_only=True) as con:
        failed = con.execute(
            "SELECT check_name, message FROM marts.quality_results WHERE NOT success").fetchall()
    assert failed == []

    # a decision made on this data must not survive a fresh demo
    store = DecisionStore(home)
    store.decide("some-suggestion", "reject", user="tester")
    assert store.path.exists()
    again = CliRunner().invoke(main, ["--home", str(home), "demo", *SMALLER])
    assert again.exit_code == 0, again.output
    assert DecisionStore(home).latest() == []
    # and nothing of the first demo's data is left: the catalogue is the new one alone
    with duckdb.connect(str(home / "warehouse" / "shelfwise.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM core.products").fetchone() == (12,)
