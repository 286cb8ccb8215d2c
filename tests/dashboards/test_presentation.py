"""The pages read as a manager reads: headers in words, numbers formatted, the base currency
named by its code, a heading over every table, percent axes whose ticks differ, and empty
data said in words instead of an empty chart. Under AppTest on ``full_home`` (every page's
marts); what only a browser can see (legends against axis titles, tick labels as drawn) is
in test_dashboard_browser.py."""

from __future__ import annotations

import json
import math
import re
import shutil

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest
from test_dashboard_pages import APP
from test_forecast_accuracy_page import values

PAGES = ["kpis", "inventory", "forecast_quality", "alerts", "data_quality"]


@pytest.fixture()
def full_env(full_home, monkeypatch):
    monkeypatch.setenv("SHELFWISE_HOME", str(full_home))
    return full_home


@pytest.fixture()
def own_copy(full_home, tmp_path, monkeypatch):
    """A copy of ``full_home``'s snapshot that the test may change."""
    home = tmp_path / "home"
    shutil.copytree(full_home / "serving", home / "serving")
    shutil.copy(full_home / "shelfwise.toml", home / "shelfwise.toml")
    monkeypatch.setenv("SHELFWISE_HOME", str(home))
    return home


def run(page: str, *, open_expanders: bool = True) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    if page != "kpis":
        at.switch_page(f"views/{page}.py")
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def elements(node, parent=None):
    """Every element in page order as (element, the element just before it, its block)."""
    children = getattr(node, "children", None)
    if not isinstance(children, dict):
        return
    before = None
    for child in children.values():
        yield child, before, node
        yield from elements(child, node)
        before = child


def execute(home, sql: str, params=None) -> None:
    con = duckdb.connect(str(home / "serving" / "serving.duckdb"))
    try:
        con.execute(sql, params or [])
    finally:
        con.close()


@pytest.mark.parametrize("page", PAGES)
def test_every_table_has_a_heading_words_for_headers_and_formatted_numbers(full_env, page):
    at = run(page)
    tables = [(el, before, block) for el, before, block in elements(at.main)
              if el.type == "dataframe"]
    assert tables, f"{page}: the full home should fill at least one table"
    for table, before, block in tables:
        frame: pd.DataFrame = table.value
        headers = list(frame.columns)
        where = f"{page}: {headers}"
        # a heading right above it: a bold line, a subheader, or the expander it opens
        heading = (before is not None and (before.type == "subheader" or (
            before.type == "markdown" and before.value.startswith("**")))) or (
            before is None and block.type == "expander")
        assert heading, f"{where}: no heading above the table"
        for header in headers:
            assert "_" not in header and (header[:1].isupper() or header[:1].isdigit()), (
                f"{where}: raw column name {header!r}")
            assert not re.search(r"\bbase\b", header, re.I), f"{where}: {header!r}"
        assert table.proto.placeholder == "–", f"{where}: missing values would show 'None'"
        config = json.loads(table.proto.columns or "{}")
        for header in headers:
            values = frame[header]
            if pd.api.types.is_float_dtype(values):
                fmt = config.get(header, {}).get("type_config", {}).get("format")
                # decimals said, or a whole number that is a name (an HTTP status)
                assert fmt and (re.search(r"\.\df", fmt) or fmt == "%d"), (
                    f"{where}: {header!r} has no number format (shows 4 decimals)")
            if pd.api.types.is_datetime64_any_dtype(values):
                # AppTest reads dates back as midnight timestamps: the column's type says
                # whether the browser prints "2026-03-30" or "2026-03-30 00:00:00"
                shown = values.dropna()
                kind = config.get(header, {}).get("type_config", {})
                if len(shown) and (shown == shown.dt.normalize()).all():
                    assert kind.get("type") == "date" or (
                        kind.get("format") and "H" not in kind["format"]), (
                        f"{where}: {header!r} is a date shown with 00:00:00")
                else:
                    assert kind.get("format"), f"{where}: {header!r} prints seconds"
            if pd.api.types.is_integer_dtype(values) and values.abs().max() >= 1000:
                fmt = config.get(header, {}).get("type_config", {}).get("format", "")
                assert "," in fmt or fmt == "%d", f"{where}: {header!r} has no thousands separator"


def page_texts(at: AppTest) -> list[str]:
    """What a reader reads: metric labels and values, text, chart titles and axis titles."""
    texts = []
    for el, _, _ in elements(at.main):
        if el.type == "metric":
            texts += [el.label, str(el.value)]
        elif el.type in ("markdown", "caption", "subheader", "title", "info", "warning",
                         "error", "success"):
            texts.append(str(el.value))
        elif el.type == "plotly_chart":
            layout = json.loads(el.proto.spec)["layout"]
            texts.append(layout.get("title", {}).get("text", ""))
            for axis in ("xaxis", "yaxis"):
                texts.append(str(layout.get(axis, {}).get("title", {}).get("text", "")))
    return texts


@pytest.mark.parametrize("page", PAGES)
def test_the_base_currency_is_named_by_its_code(full_env, page):
    at = run(page)
    texts = page_texts(at)
    said = [t for t in texts if re.search(r"\(base\)|base currency|value \(base", t, re.I)]
    assert not said, said
    assert not [t for t in texts if t.strip() in ("None", "nan")], texts


def test_money_metrics_name_eur(full_env):
    labels = {m.label for m in run("inventory").metric}
    assert {"Dead stock value (EUR)", "Overstock value (EUR)",
            "Absolute difference value (EUR)"} <= labels, labels


def nice_step(span: float, target: int = 6) -> float:
    """Plotly's automatic tick step: the 1/2/5 × 10^k step nearest span ÷ ~6 ticks."""
    raw = span / target
    magnitude = 10 ** math.floor(math.log10(raw))
    return min((m * magnitude for m in (1, 2, 2.5, 5, 10)), key=lambda s: abs(s - raw))


def tick_labels(axis: dict, data: list[float]) -> list[str]:
    """The tick labels a percent axis prints over its range (or the data's, when autoranged)."""
    lo, hi = axis.get("range") or (min(data), max(data))
    if hi == lo:
        return [format_percent(lo, axis.get("tickformat", ""))]
    step = nice_step(hi - lo)
    first = math.ceil(lo / step - 1e-9)
    ticks = [k * step for k in range(first, math.floor(hi / step + 1e-9) + 1)]
    return [format_percent(t, axis.get("tickformat", "")) for t in ticks]


def format_percent(value: float, tickformat: str) -> str:
    digits = int(re.fullmatch(r"\.(\d+)%", tickformat).group(1)) if tickformat else 0
    return f"{value:.{digits}%}"


def test_record_accuracy_ticks_differ_when_every_week_is_near_100_percent(own_copy):
    # a healthy catalogue: every week 99.5-100 % of counts matched (the demo's case)
    execute(own_copy, """
        UPDATE marts.kpi_inventory_record_accuracy_weekly
        SET sku_locations_reconciled = 200,
            sku_locations_within_tolerance = 199 + (hash(snapshot_week) % 2)""")
    at = run("kpis")
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    chart = next(c for c in specs if "record accuracy by week" in c["layout"]["title"]["text"])
    data = values(chart["data"][0]["y"])
    assert min(data) < 1.0 and min(data) >= 0.99
    labels = tick_labels(chart["layout"]["yaxis"], data)
    assert len(labels) >= 2 and len(set(labels)) == len(labels), labels


def test_top_products_by_return_rate_never_lists_a_product_without_returns(own_copy):
    # a snapshot whose mart ranked every product that met the volume (as published before the
    # returns linked to their order lines): the page must not trust the rank alone
    execute(own_copy, """
        UPDATE marts.kpi_return_rate_by_sku
        SET units_returned = 0, value_returned_base = 0, return_rate_units = 0,
            return_rate_value = 0, return_rate_rank = 1000
        WHERE sku = (SELECT min(sku) FROM marts.kpi_return_rate_by_sku)""")
    at = run("kpis")
    top = next(d.value for d in at.dataframe if "Rank" in d.value.columns)
    assert len(top) and (top["Units returned"] > 0).all(), top


def test_empty_marts_say_what_would_fill_them_instead_of_drawing_nothing(own_copy):
    # every mart published but empty (a new home whose files have not come in yet), except
    # the orders that give the KPI page its period
    con = duckdb.connect(str(own_copy / "serving" / "serving.duckdb"))
    try:
        names = [t for (t,) in con.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_schema IN ('marts', 'ops') AND table_type = 'BASE TABLE'").fetchall()]
        keep = {"marts.kpi_sales_daily", "marts.kpi_reporting_settings", "ops.snapshot_info",
                "ops.snapshot_tables"}
        for name in set(names) - keep:
            con.execute(f"DELETE FROM {name}")
    finally:
        con.close()
    for page in PAGES:
        at = run(page)
        for chart in at.get("plotly_chart"):
            spec = json.loads(chart.proto.spec)
            points = sum(len(t.get("x") or []) + len(t.get("y") or [])
                         if not isinstance(t.get("x"), dict) else 1 for t in spec["data"])
            assert spec["data"] and points, (
                f"{page}: empty chart {spec['layout'].get('title', {}).get('text')!r}")
        for table in at.dataframe:
            assert len(table.value), f"{page}: empty table {list(table.value.columns)}"
        assert at.info or at.success, f"{page}: says nothing about the missing data"


ZERO_CHANGE_APP = """
import streamlit as st
from dashboards import ui
ui.metric(st, "Average order value (EUR)", "73.34", ui.change(73.3399, 73.3421))
ui.metric(st, "Fill rate", "98.8%", ui.change(0.98801, 0.98804, relative=False))
ui.metric(st, "Orders", "292", ui.change(292, 296))
ui.metric(st, "Time to ship, median", "44.0 h", ui.change(44.0, 30.0), delta_color="inverse")
"""


def test_a_change_that_rounds_to_zero_is_grey_without_an_arrow():
    from streamlit.proto.Metric_pb2 import Metric

    at = AppTest.from_string(ZERO_CHANGE_APP)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    shown = {m.label: m for m in at.metric}
    for label, delta in (("Average order value (EUR)", "0.0%"), ("Fill rate", "0.0 pt")):
        assert shown[label].delta == delta  # was "-0.0%" / "-0.0 pt", red under a down arrow
        assert shown[label].proto.color == Metric.MetricColor.GRAY
        assert shown[label].proto.direction == Metric.MetricDirection.NONE
    # a real change keeps its sign, arrow and colour (an increase of time shows red)
    assert shown["Orders"].delta == "-1.4%"
    assert shown["Orders"].proto.direction == Metric.MetricDirection.DOWN
    assert shown["Orders"].proto.color == Metric.MetricColor.RED
    assert shown["Time to ship, median"].proto.color == Metric.MetricColor.RED
    assert shown["Time to ship, median"].proto.direction == Metric.MetricDirection.UP
