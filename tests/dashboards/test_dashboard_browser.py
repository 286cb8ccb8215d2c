"""The real thing: `streamlit run` on a free port, Debian's Chromium driven by Playwright.

Needs /usr/bin/chromium (CI: `apt-get install -y chromium`); skipped, with that reason, when
it is absent. Screenshots of every page go to the test's tmp dir.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from assets.decisions.store import DecisionStore
from bench.dashboards import CHROMIUM, CONTENT_HEIGHT, LAUNCH_ARGS, whole_page
from bench.dashboards import streamlit_server as app_server
from pipelines.commands.dashboards import APP

# url path (st.Page default: the file name) -> text that proves the page rendered, whether a
# Plotly chart must be drawn, and the text of its last section (the page is whole once it is
# there), on the full test home (every page's marts)
PAGES = {
    "": ("Time to ship, median", True, "Forecast accuracy"),
    "replenishment": ("Order value by supplier", True, "Sent purchase orders"),
    "inventory": ("Overstock and dead stock", True, "Overstock"),
    "forecast_quality": ("Forecast accuracy (backtest)", True, "Published forecasts"),
    "alerts": ("Open alerts", True, "Delivery log"),
    "data_quality": ("Freshness by channel", True, "Expectations"),
}
# the pages of the presentation pass (docs/dashboards.md): their text is checked word by word
READ_BY_MANAGERS = {"", "inventory", "forecast_quality", "alerts", "data_quality"}
# where a reviewer wants one set of screenshots to look at (`SHELFWISE_SCREENS=/tmp/x pytest`)
SCREENS = os.environ.get("SHELFWISE_SCREENS")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason=f"{CHROMIUM} not installed (apt-get install -y chromium)"),
]


def streamlit_server(home: Path):
    """`streamlit run` of the dashboards on ``home`` (the flags of `shelfwise dashboards`), on
    a free port; yields its URL."""
    return app_server(home, APP)


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


@pytest.fixture()
def full_server(full_home):
    with streamlit_server(full_home) as url:
        yield url


# per Plotly chart: its title, each axis's tick labels as drawn, and the boxes of its legend and
# of its titles and tick labels (in page pixels)
CHART_LAYOUT = """(plot) => {
    const box = (el) => { const r = el.getBoundingClientRect();
                          return [r.left, r.top, r.right, r.bottom]; };
    const boxes = (sel) => [...plot.querySelectorAll(sel)]
        .filter((el) => el.getBoundingClientRect().width > 0).map(box);
    const ticks = {};
    for (const layer of plot.querySelectorAll('.xaxislayer-above, .yaxislayer-above')) {
        const axis = [...layer.classList].find((c) => c.endsWith('layer-above'))
            + (layer.closest('.subplot')?.getAttribute('class') || '');
        ticks[axis] = [...layer.querySelectorAll('.xtick text, .ytick text')]
            .map((t) => t.textContent);
    }
    const title = plot.querySelector('.gtitle');
    return {title: title ? title.textContent : '', ticks: ticks,
            legend: boxes('.legend .bg'),
            titles: [...boxes('.g-xtitle text'), ...boxes('.g-ytitle text'),
                     ...boxes('.gtitle')],
            tickboxes: boxes('.xtick text, .ytick text')};
}"""


def overlaps(a, b) -> bool:
    return a[0] < b[2] - 1 and b[0] < a[2] - 1 and a[1] < b[3] - 1 and b[1] < a[3] - 1


def check_charts(page, path: str) -> None:
    """Every chart's axis ticks differ (no "100%, 100%, 100%") and its legend collides with
    neither its titles nor its tick labels."""
    for plot in page.locator(".js-plotly-plot").element_handles():
        layout = plot.evaluate(CHART_LAYOUT)
        where = f"{path or 'kpis'}: {layout['title']!r}"
        for axis, labels in layout["ticks"].items():
            labels = [t for t in labels if t]
            assert len(set(labels)) == len(labels), f"{where} {axis}: ticks repeat {labels}"
        for legend in layout["legend"]:
            hit = [b for b in layout["titles"] + layout["tickboxes"] if overlaps(legend, b)]
            assert not hit, f"{where}: the legend covers an axis or chart title or tick labels"


def test_every_page_whole_in_a_real_browser(full_server, full_home, tmp_path):
    from playwright.sync_api import sync_playwright

    shots = Path(SCREENS) if SCREENS else tmp_path / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            for path, (text, has_chart, last) in PAGES.items():
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(f"{full_server}/{path}")
                page.get_by_text(text).first.wait_for(timeout=60_000)
                page.get_by_text(last).first.wait_for(timeout=60_000)
                if has_chart:
                    page.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=30_000)
                shot = shots / f"{path or 'kpis'}.png"
                whole_page(page, shot)
                assert page.locator("[data-testid='stException']").count() == 0, path
                # the screenshot holds the whole page, not only its first screen
                assert page.viewport_size["height"] >= page.evaluate(CONTENT_HEIGHT) - 40
                if path in READ_BY_MANAGERS:
                    text_shown = page.locator("[data-testid='stMain']").inner_text()
                    assert not re.findall(r"\b(None|nan|NaN|NaT)\b", text_shown), path
                    check_charts(page, path)
                page.close()

            # the KPI page's order count is the mart's, as the browser shows it
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(full_server)
            orders = page.locator("[data-testid='stMetric']", has_text="Orders").first
            orders.wait_for(timeout=30_000)
            value = orders.locator("[data-testid='stMetricValue']").inner_text().strip()
            assert value == f"{expected_orders(full_home):,}"

            # phone width: columns wrap, nothing forces a horizontal scroll
            phone = browser.new_page(viewport={"width": 390, "height": 844})
            phone.goto(full_server)
            phone.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=30_000)
            overflow = phone.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth")
            phone.screenshot(path=str(shots / "kpis_phone.png"), full_page=True)
            assert overflow <= 1, overflow
        finally:
            browser.close()
    assert len(list(shots.glob("*.png"))) >= len(PAGES) + 1


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
