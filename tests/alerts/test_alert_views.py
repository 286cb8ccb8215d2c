"""What people see: the `shelfwise alerts` command and the dashboard's Alerts page, after a
run in which the webhook was down (so the log has failures to show)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from local_servers import WebhookReceiver
from streamlit.testing.v1 import AppTest

from alerts_builder import make_home, materialize
from assets.serving.snapshot import publish_snapshot
from pipelines.cli import main

APP = str(Path(__file__).resolve().parents[2] / "dashboards" / "app.py")


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """Alerts evaluated once with the webhook answering 503, then the snapshot published."""
    receiver = WebhookReceiver()
    receiver.answer(503)
    try:
        settings = make_home(tmp_path_factory.mktemp("alerts_home"), receiver)
        materialize(settings)
    finally:
        receiver.close()
    with duckdb.connect(str(settings.warehouse_path)) as con:
        publish_snapshot(con, settings.serving_path)
    return settings


def cli(home, *args):
    out = CliRunner().invoke(main, ["--home", str(home.home), "alerts", *args])
    assert out.exit_code == 0, out.output
    return out.output


def test_the_command_lists_open_alerts_most_severe_first_with_pending_deliveries(home):
    out = cli(home)
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["severity", "type", "subject", "opened"]
    assert all(line.startswith("WARNING") for line in lines[2:-2])
    assert "late_po" in out and "PO-1 A from SUP" in out
    assert lines[-1] == ("6 open (0 critical, 6 warning, 0 info); "
                         "pending deliveries: webhook 6")
    assert "dead_stock" not in cli(home, "--type", "overstock")


def test_the_command_shows_the_delivery_log_with_failures_marked(home):
    out = cli(home, "--deliveries", "--failed")
    assert out.count("FAILED") == 18  # 6 events × (1 try + 2 retries)
    assert "503" in out and "SECRET" not in out
    assert "delivered" in cli(home, "--deliveries") and "jsonl" in cli(home, "--deliveries")


def test_the_command_explains_alerts_that_never_ran(tmp_path):
    (tmp_path / "warehouse").mkdir()
    duckdb.connect(str(tmp_path / "warehouse" / "shelfwise.duckdb")).close()
    out = CliRunner().invoke(main, ["--home", str(tmp_path), "alerts"])
    assert out.exit_code != 0 and "shelfwise alerts --run" in out.output


def alerts_page(home, monkeypatch) -> AppTest:
    monkeypatch.setenv("SHELFWISE_HOME", str(home.home))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("views/alerts.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_alerts_page_shows_open_alerts_and_the_failing_sink(home, monkeypatch):
    at = alerts_page(home, monkeypatch)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Open alerts"] == "6" and metrics["Warning"] == "6"
    assert metrics["Not yet delivered"] == "6" and metrics["Failed delivery attempts"] == "18"
    assert any("Sink **webhook** is failing" in e.value and "last success never" in e.value
               for e in at.error)
    assert len(at.get("plotly_chart")) == 1
    # the policy mart is hand-made here, so every rule ran: no "not evaluated" note
    assert not [i for i in at.info if "not evaluated" in i.value]


def test_the_alerts_page_groups_open_alerts_by_supplier_and_ranks_by_money(home, monkeypatch):
    at = alerts_page(home, monkeypatch)
    grouped = at.dataframe[0].value
    assert list(grouped.columns[:3]) == ["Supplier", "Open alerts", "Critical"]
    assert grouped["Open alerts"].sum() == 6
    open_alerts = at.dataframe[1].value
    (money_column,) = [c for c in open_alerts.columns if c.startswith("Money at risk (")]
    money = open_alerts[money_column].abs().fillna(-1).tolist()
    assert money == sorted(money, reverse=True)  # one severity: most money (either sign) first
    assert open_alerts["Subject"].tolist()[0] == "B at WH1"  # 4,400.00 tied up
    at.radio(key="alerts_group").set_value("SKU").run()
    by_sku = at.dataframe[0].value
    assert by_sku.loc[by_sku["SKU"] == "A", "Open alerts"].item() == 3  # low stock, oversell, PO
