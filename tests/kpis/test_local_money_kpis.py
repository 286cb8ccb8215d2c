"""KPIs of an orders-only home in BRL, reported in America/Sao_Paulo, against an independent
computation over the input files (tests/fixtures/home_brl, its README says what is in them).

The real ingest and KPI assets are materialized with Dagster in a temporary home; the
expected figures are computed here from the CSV files with the csv module, zoneinfo and
numpy (never with shelfwise's SQL).
"""

from __future__ import annotations

import csv
import shutil
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import numpy as np
import pytest

from assets.ingest import defs as ingest_defs
from assets.kpis import defs as kpi_defs
from assets.settings import load_settings
from pipelines.resources import build_resources

FIXTURE = Path(__file__).parents[1] / "fixtures" / "home_brl" / "inbox"
ZONE = ZoneInfo("America/Sao_Paulo")

pytestmark = pytest.mark.integration


def utc(text: str) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def input_orders() -> dict[tuple[str, str], dict]:
    """Per (channel, order), straight from the files: what a merchant would compute."""
    lines = defaultdict(list)
    for path in sorted(FIXTURE.glob("orders/*/*.canonical.csv")):
        with path.open(newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                lines[(path.parent.name, row["order_id"])].append(row)
    orders = {}
    for key, rows in lines.items():
        live = [r for r in rows if r["status"] != "cancelled"]
        if not live:
            continue
        placed = min(utc(r["ordered_at"]) for r in rows)
        shipping = {float(r["order_shipping_amount"]) for r in rows if r["order_shipping_amount"]}
        discount = {float(r["order_discount_amount"]) for r in rows if r["order_discount_amount"]}
        assert len(shipping) <= 1 and len(discount) <= 1  # repeated or given once
        shipped = [utc(r["shipped_at"]) for r in live]
        delivered = [utc(r["delivered_at"]) for r in live]
        promised = {r["promised_delivery_date"] for r in rows if r["promised_delivery_date"]}
        fulfilled_by = live[0]["fulfilled_by"] or "merchant"
        all_shipped = all(shipped)
        all_delivered = all(delivered)
        orders[key] = dict(
            month=placed.astimezone(ZONE).date().replace(day=1),
            fulfilled_by=fulfilled_by,
            revenue=sum(float(r["line_amount"]) for r in live) - sum(discount),
            shipping=sum(shipping),
            hours_to_ship=((max(shipped) - placed).total_seconds() / 3600
                           if all_shipped and fulfilled_by != "store" else None),
            hours_to_first_ship=((min(s for s in shipped if s) - placed).total_seconds() / 3600
                                 if any(shipped) and fulfilled_by != "store" else None),
            delivered_on=(max(delivered).astimezone(ZONE).date()
                          if all_delivered and fulfilled_by != "store" else None),
            promised=date.fromisoformat(promised.pop()) if promised else None,
        )
    return orders


def materialize(home: Path, *, serve: bool = False) -> None:
    from pipelines.domains import serving_defs

    assets = [*ingest_defs.assets, *kpi_defs.assets, *(serving_defs.assets if serve else ())]
    assert dg.materialize(assets, resources=build_resources(str(home))).success


def kpi_page(home: Path, monkeypatch):
    """The KPIs page on ``home``'s serving snapshot, its period the whole fixture quarter."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("SHELFWISE_HOME", str(home))
    app = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"
    at = AppTest.from_file(str(app), default_timeout=60)
    at.run()
    at.date_input[0].set_value((date(2025, 12, 31), date(2026, 3, 31))).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def new_home(tmp_path: Path, toml: str) -> Path:
    home = tmp_path / "home"
    shutil.copytree(FIXTURE, home / "inbox")
    (home / "shelfwise.toml").write_text(toml, encoding="utf-8")
    return home


def warehouse(home: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(load_settings(home).warehouse_path), read_only=True)


@pytest.fixture(scope="module")
def brl_home(tmp_path_factory) -> Path:
    """Issue #19's acceptance home: `shelfwise init` in BRL reporting in America/Sao_Paulo,
    the files dropped into the inbox, `shelfwise run`, no other edit."""
    from click.testing import CliRunner

    from pipelines.cli import main

    home = tmp_path_factory.mktemp("brl") / "home"
    init = CliRunner().invoke(main, ["--home", str(home), "init", "--base-currency", "BRL",
                                     "--timezone", "America/Sao_Paulo"])
    assert init.exit_code == 0, init.output
    shutil.copytree(FIXTURE, home / "inbox", dirs_exist_ok=True)
    run = CliRunner().invoke(main, ["--home", str(home), "run"])
    assert run.exit_code == 0, run.output
    assert (home / "serving" / "serving.duckdb").exists()  # the dashboards have their snapshot
    return home


def served(home: Path) -> duckdb.DuckDBPyConnection:
    """The serving snapshot: what the dashboards read."""
    return duckdb.connect(str(home / "serving" / "serving.duckdb"), read_only=True)


def test_revenue_orders_and_ship_time_per_local_month_match_the_input(brl_home):
    expected = defaultdict(lambda: dict(orders=0, revenue=0.0, incl_shipping=0.0, ship=[]))
    for o in input_orders().values():
        m = expected[o["month"]]
        m["orders"] += 1
        m["revenue"] += o["revenue"]
        m["incl_shipping"] += o["revenue"] + o["shipping"]
        if o["fulfilled_by"] == "merchant" and o["hours_to_ship"] is not None:
            m["ship"].append(o["hours_to_ship"])
    # the fixture puts orders on the previous local day across month ends
    assert set(expected) == {date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1),
                             date(2026, 3, 1)}

    with served(brl_home) as con:
        sales = {m: (orders, revenue, incl) for m, orders, revenue, incl in con.execute(
            """SELECT date_trunc('month', order_date)::DATE, sum(orders)::BIGINT,
                      sum(revenue_base), sum(revenue_incl_shipping_base)
               FROM marts.kpi_sales_daily GROUP BY 1""").fetchall()}
        ship = {m: (n, med, p90) for m, n, med, p90 in con.execute(
            """SELECT order_month, orders_shipped, median_hours_to_ship, p90_hours_to_ship
               FROM marts.kpi_fulfillment_time_monthly
               WHERE channel_id = 'loja' AND fulfilled_by = 'merchant'""").fetchall()}
    assert set(sales) == set(expected)
    for month, m in expected.items():
        orders, revenue, incl = sales[month]
        assert orders == m["orders"], month
        assert revenue == pytest.approx(m["revenue"]), month
        assert incl == pytest.approx(m["incl_shipping"]), month
        if m["ship"]:
            n, med, p90 = ship[month]
            assert n == len(m["ship"]), month
            assert med == pytest.approx(float(np.quantile(m["ship"], 0.5))), month
            assert p90 == pytest.approx(float(np.quantile(m["ship"], 0.9))), month


def test_first_ship_store_sales_marketplace_and_late_deliveries(brl_home):
    orders = input_orders().values()
    merchant = [o for o in orders if o["fulfilled_by"] == "merchant"]
    first = [o["hours_to_first_ship"] for o in merchant if o["hours_to_first_ship"] is not None]
    promised = [o for o in merchant if o["promised"] and o["delivered_on"]]
    late = [o for o in promised if o["delivered_on"] > o["promised"]]
    assert late and len(late) < len(promised)
    with warehouse(brl_home) as con:
        by_kind = {k: dict(zip(("orders", "shipped", "with_promise", "late"), v)) for k, *v in
                   con.execute(
                       """SELECT fulfilled_by, sum(orders)::BIGINT, sum(orders_shipped)::BIGINT,
                                 sum(orders_delivered_with_promise)::BIGINT,
                                 sum(orders_delivered_late)::BIGINT
                          FROM marts.kpi_fulfillment_time_monthly GROUP BY 1""").fetchall()}
        first_ship = con.execute(
            """SELECT count(hours_to_first_ship), median(hours_to_first_ship)
               FROM marts.kpi_order_facts WHERE fulfilled_by = 'merchant'
                 AND NOT is_cancelled""").fetchall()[0]
    # in-store sales are counted, never shipped; marketplace orders are there, labelled
    assert by_kind["store"]["orders"] == sum(o["fulfilled_by"] == "store" for o in orders)
    assert by_kind["store"]["shipped"] == 0
    assert by_kind["marketplace"]["orders"] == sum(o["fulfilled_by"] == "marketplace"
                                                   for o in orders)
    assert by_kind["merchant"]["with_promise"] == len(promised)
    assert by_kind["merchant"]["late"] == len(late)
    assert first_ship[0] == len(first)
    assert first_ship[1] == pytest.approx(float(np.median(first)))


def test_brl_in_an_eur_home_is_unconverted_not_zero_and_recomputed_with_the_base(
        tmp_path, monkeypatch):
    home = new_home(tmp_path, '[kpis]\ntimezone = "America/Sao_Paulo"\n')  # base: EUR default
    materialize(home, serve=True)
    expected = sum(o["revenue"] for o in input_orders().values())
    with warehouse(home) as con:
        base = con.execute("SELECT count(*), count(line_amount_base) "
                           "FROM core.order_lines").fetchall()[0]
        revenue = con.execute("SELECT sum(orders)::BIGINT, sum(revenue_base) "
                              "FROM marts.kpi_sales_daily").fetchall()[0]
        unconverted = con.execute(
            "SELECT currency, sum(orders)::BIGINT, sum(revenue) "
            "FROM marts.kpi_unconverted_revenue GROUP BY 1").fetchall()
        files = con.execute("SELECT count(*) FROM ops.ingested_files").fetchall()[0][0]
    assert base[0] > 0 and base[1] == 0  # no FX rate BRL -> EUR: NULL, never 0
    assert revenue[0] == len(input_orders()) and revenue[1] is None
    assert len(unconverted) == 1 and unconverted[0][0] == "BRL"
    assert unconverted[0][1] == len(input_orders())
    assert unconverted[0][2] == pytest.approx(expected)
    # the KPI page says so: how much, in which currency, and the fix
    page = kpi_page(home, monkeypatch)
    metrics = {m.label: m.value for m in page.metric}
    assert metrics["Revenue (EUR)"] == "–" and metrics["Orders"] == f"{revenue[0]:,}"
    warning = page.warning[0].value
    assert f"{expected:,.2f} BRL" in warning and "fx_rates/" in warning
    assert 'base_currency = "BRL"' in warning
    # and so does the run's summary
    from pipelines.summary import warehouse_summary

    summary = warehouse_summary(load_settings(home).warehouse_path)
    assert f"BRL: {expected:,.2f} in {len(input_orders())} orders" in summary
    assert "inbox/fx_rates/" in summary

    # the merchant sets the right base currency and runs again: the files are not re-landed,
    # every base amount is recomputed
    (home / "shelfwise.toml").write_text(
        'base_currency = "BRL"\n[kpis]\ntimezone = "America/Sao_Paulo"\n', encoding="utf-8")
    materialize(home, serve=True)
    page = kpi_page(home, monkeypatch)
    assert {m.label: m.value for m in page.metric}["Revenue (BRL)"] == f"{expected:,.0f}"
    assert not page.warning
    with warehouse(home) as con:
        base = con.execute("SELECT count(*) FILTER (WHERE line_amount_base = line_amount), "
                           "count(*) FROM core.order_lines").fetchall()[0]
        revenue = con.execute("SELECT sum(revenue_base) FROM marts.kpi_sales_daily"
                              ).fetchall()[0][0]
        left = con.execute("SELECT count(*) FROM marts.kpi_unconverted_revenue").fetchall()[0][0]
        files_after = con.execute("SELECT count(*) FROM ops.ingested_files").fetchall()[0][0]
        landed = con.execute("SELECT count(DISTINCT batch_id) FROM raw.order_lines"
                             ).fetchall()[0][0]
    assert base[0] == base[1]
    assert revenue == pytest.approx(expected)
    assert left == 0
    assert files_after == files and landed == 1
