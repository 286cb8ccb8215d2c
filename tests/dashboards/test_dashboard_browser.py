"""The real thing: `streamlit run` on a free port, Debian's Chromium driven by Playwright.

Needs /usr/bin/chromium (CI: `apt-get install -y chromium`); skipped, with that reason, when
it is absent. Screenshots of every page go to the test's tmp dir.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from assets.decisions.store import DecisionStore
from pipelines.commands.dashboards import streamlit_command

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# url path (st.Page default: the file name) -> text that proves the page rendered, and
# whether a Plotly chart must be drawn on the generated warehouse
PAGES = {
    "": ("Time to ship, median", True),
    "replenishment": ("Order value by supplier", True),
    "inventory": ("Overstock and dead stock", True),
    "forecast_quality": ("Available once the forecasting step runs", False),
    "alerts": ("Available once the alerts step runs", False),
    "data_quality": ("Freshness by channel", True),
}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason=f"{CHROMIUM} not installed (apt-get install -y chromium)"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(home: Path):
    """`streamlit run` of the dashboards on ``home``, on a free port; yields its URL."""
    port = free_port()
    env = {**os.environ, "SHELFWISE_HOME": str(home)}
    proc = subprocess.Popen(streamlit_command(port, "127.0.0.1"), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"streamlit did not start: {proc.stdout.read().decode()[-2000:]}")
            time.sleep(0.2)
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture()
def server(served_home):
    with streamlit_server(served_home) as url:
        yield url


@pytest.fixture()
def planner_server(planner_env):
    """A server on a home of its own, so the approvals below stay out of other tests."""
    with streamlit_server(planner_env) as url:
        yield url


def expected_orders(home: Path) -> int:
    con = duckdb.connect(str(home / "serving" / "serving.duckdb"), read_only=True)
    try:
        last = con.execute("SELECT max(order_date) FROM marts.kpi_sales_daily").fetchall()[0][0]
        return con.execute(
            "SELECT sum(orders) FROM marts.kpi_sales_daily WHERE order_date BETWEEN ? AND ?",
            [last - timedelta(days=27), last]).fetchall()[0][0]
    finally:
        con.close()


def test_every_page_in_a_real_browser(server, served_home, tmp_path):
    from playwright.sync_api import sync_playwright

    shots = tmp_path / "screenshots"
    shots.mkdir()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            for path, (text, has_chart) in PAGES.items():
                page.goto(f"{server}/{path}")
                page.get_by_text(text).first.wait_for(timeout=30_000)
                if has_chart:
                    page.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=30_000)
                assert page.locator("[data-testid='stException']").count() == 0, path
                page.screenshot(path=str(shots / f"{path or 'kpis'}.png"), full_page=True)

            # the KPI page's order count is the mart's, as the browser shows it
            page.goto(server)
            orders = page.locator("[data-testid='stMetric']", has_text="Orders").first
            orders.wait_for(timeout=30_000)
            value = orders.locator("[data-testid='stMetricValue']").inner_text().strip()
            assert value == f"{expected_orders(served_home):,}"

            # phone width: columns wrap, nothing forces a horizontal scroll
            phone = browser.new_page(viewport={"width": 390, "height": 844})
            phone.goto(server)
            phone.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=30_000)
            overflow = phone.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth")
            phone.screenshot(path=str(shots / "kpis_phone.png"), full_page=True)
            assert overflow <= 1, overflow
        finally:
            browser.close()
    assert len(list(shots.glob("*.png"))) == len(PAGES) + 1


def test_planner_approves_a_suggestion_in_a_real_browser(planner_server, planner_env, tmp_path):
    from playwright.sync_api import sync_playwright

    con = duckdb.connect(str(planner_env / "serving" / "serving.duckdb"), read_only=True)
    try:
        suggestion_id, sku, units = con.execute(
            "SELECT suggestion_id, sku, suggested_units FROM marts.replenishment_suggestions "
            "WHERE urgency_rank = 1").fetchall()[0]
    finally:
        con.close()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{planner_server}/replenishment")
            # the detail opens on the most urgent line
            page.get_by_text("Decide on this line").wait_for(timeout=30_000)
            page.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=30_000)
            name = page.get_by_label("Your name (required to decide; kept for this session)")
            name.fill("browser planner")
            name.press("Enter")
            page.get_by_role("button", name="Approve", exact=True).click()
            page.get_by_text("Saved 1 decision(s) by browser planner").wait_for(timeout=30_000)
            page.screenshot(path=str(tmp_path / "replenishment_approved.png"), full_page=True)
            assert page.locator("[data-testid='stException']").count() == 0
        finally:
            browser.close()
    saved = DecisionStore(planner_env).get(suggestion_id)
    assert (saved["status"], saved["quantity"], saved["user"], saved["sku"]) == (
        "approved", units, "browser planner", sku)
