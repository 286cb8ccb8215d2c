"""Every dashboard page under streamlit.testing.v1.AppTest, on the small generated snapshot."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "dashboards" / "app.py")
PAGES = ["kpis", "replenishment", "inventory", "forecast_quality", "alerts", "data_quality"]


def run_page(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    if page != "kpis":  # KPIs is the default page
        at.switch_page(f"views/{page}.py")
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def serving_sql(home: Path, sql: str, params=None):
    con = duckdb.connect(str(home / "serving" / "serving.duckdb"), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()[0][0]
    finally:
        con.close()


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_errors(serving_env, page):
    at = run_page(page)
    assert at.title[0].value.replace(" ", "_").lower() == page


def test_kpi_headline_orders_match_the_mart(serving_env):
    at = run_page("kpis")
    metrics = {m.label: m for m in at.metric}
    last = serving_sql(serving_env, "SELECT max(order_date) FROM marts.kpi_sales_daily")
    expected = serving_sql(
        serving_env,
        "SELECT sum(orders) FROM marts.kpi_sales_daily WHERE order_date BETWEEN ? AND ?",
        [last - timedelta(days=27), last],
    )
    assert metrics["Orders"].value == f"{expected:,}"
    previous = serving_sql(
        serving_env,
        "SELECT sum(orders) FROM marts.kpi_sales_daily WHERE order_date BETWEEN ? AND ?",
        [last - timedelta(days=55), last - timedelta(days=28)],
    )
    assert metrics["Orders"].delta == f"{(expected - previous) / previous:+.1%}"
    assert len(at.get("plotly_chart")) >= 5
    assert {"Time to ship, median", "Time to ship, p90", "On-time ship rate", "Fill rate",
            "Return rate (units)", "Revenue (EUR)", "Revenue incl. shipping (EUR)",
            "In-store sales (orders)", "Delivered late (after promise)"} <= set(metrics)


def test_channel_filter_changes_the_numbers(serving_env):
    at = run_page("kpis")
    at.sidebar.multiselect[0].select("ebay_uk").run()
    assert not at.exception
    last = serving_sql(serving_env, "SELECT max(order_date) FROM marts.kpi_sales_daily")
    expected = serving_sql(
        serving_env,
        "SELECT sum(orders) FROM marts.kpi_sales_daily "
        "WHERE order_date BETWEEN ? AND ? AND channel_id = 'ebay_uk'",
        [last - timedelta(days=27), last],
    )
    assert {m.label: m.value for m in at.metric}["Orders"] == f"{expected:,}"


def test_inventory_page_shows_dead_stock_value_and_notes_missing_marts(serving_env):
    at = run_page("inventory")
    metrics = {m.label: m.value for m in at.metric}
    dead = serving_sql(serving_env,
                       "SELECT sum(dead_stock_value_base) FROM marts.kpi_dead_stock_by_sku_location")
    assert dead > 0  # SKU-011 never sells in the generated core
    assert metrics["Dead stock value (EUR)"] == f"{dead:,.2f}"
    # the inventory domain's marts are not in this snapshot: said so, no numbers invented
    if not serving_sql(serving_env, "SELECT count(*) FROM information_schema.tables "
                                    "WHERE table_name = 'ats_by_sku_location'"):
        assert any("not computed yet" in i.value for i in at.info)


@pytest.mark.parametrize("page,what", [("forecast_quality", "forecasting"), ("alerts", "alerts")])
def test_pages_without_their_marts_say_so(serving_env, page, what):
    at = run_page(page)
    assert any(f"once the {what} step runs" in i.value for i in at.info)
    assert not at.metric and not at.get("plotly_chart")


def test_data_quality_counts_quarantine_and_freshness(serving_env):
    at = run_page("data_quality")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Rows quarantined"] == "7" and metrics["Files affected"] == "2"
    assert len(at.get("plotly_chart")) == 2  # quarantine by rule, freshness by channel


def test_no_snapshot_gives_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setenv("SHELFWISE_HOME", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    assert not at.exception
    assert "No serving snapshot" in at.warning[0].value
