"""Return rate on a small generated demo home, against returned ÷ shipped units computed in
this test straight from the inbox files (plain DuckDB read_csv, not shelfwise's SQL).

The generator writes each channel's own line ids: the web shop and Amazon print a platform
order-item id on returns and shipments that their order exports never carry, so the return
rate is only right when returns are linked by order id + SKU there (docs/kpis.md).
"""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from assets.ingest import defs as ingest_defs
from assets.kpis import defs as kpi_defs
from assets.settings import load_settings
from pipelines.domains import serving_defs
from pipelines.resources import build_resources

END = date(2026, 11, 22)
APP = str(Path(__file__).resolve().parents[2] / "dashboards" / "app.py")

# per inbox line: the latest version of each shipped event and each RMA line (a corrected or
# updated row replaces its earlier version), then units per order line as the files key them
INBOX_UNITS_SQL = """
WITH shipped AS (
    SELECT channel_id, order_id, line_id, quantity, CAST(event_at AS DATE) AS ship_day
    FROM read_csv($events, union_by_name = true, all_varchar = true,
                  types = {'quantity': 'INTEGER', 'event_at': 'TIMESTAMPTZ'})
    WHERE event_type = 'shipped'
    QUALIFY row_number() OVER (PARTITION BY shipment_id, channel_id, order_id, line_id
                               ORDER BY event_at DESC) = 1
),
shipped_lines AS (
    SELECT channel_id, order_id, line_id, sum(quantity) AS shipped, max(ship_day) AS ship_day
    FROM shipped GROUP BY ALL
),
returned AS (
    SELECT channel_id, order_id, line_id, quantity
    FROM read_csv($returns, union_by_name = true, all_varchar = true,
                  types = {'quantity': 'INTEGER', 'updated_at': 'TIMESTAMPTZ'})
    QUALIFY row_number() OVER (PARTITION BY rma_id, channel_id, order_id, line_id
                               ORDER BY updated_at DESC) = 1
),
returned_lines AS (
    SELECT channel_id, order_id, line_id, sum(quantity) AS returned FROM returned GROUP BY ALL
)
SELECT s.channel_id, s.ship_day, sum(s.shipped) AS shipped,
       coalesce(sum(r.returned), 0) AS returned
FROM shipped_lines AS s LEFT JOIN returned_lines AS r USING (channel_id, order_id, line_id)
GROUP BY ALL
"""


@pytest.fixture(scope="module")
def generated_home(tmp_path_factory) -> Path:
    from pipelines.generate import generate_demo

    home = tmp_path_factory.mktemp("returns_home")
    settings = load_settings(home)
    generate_demo(settings.inbox, seed=5, skus=30, warehouses=1, channels=6, days=70)
    result = dg.materialize(
        [*ingest_defs.assets, *kpi_defs.assets, *kpi_defs.asset_checks, *serving_defs.assets],
        resources=build_resources(str(home)), raise_on_error=False)
    assert result.success
    return home


def inbox_units(home: Path) -> list[tuple[str, date, int, int]]:
    inbox = home / "inbox"
    with duckdb.connect() as con:
        return con.execute(INBOX_UNITS_SQL, {
            "events": str(inbox / "fulfillment_events" / "*" / "*.csv"),
            "returns": str(inbox / "returns" / "*.csv"),
        }).fetchall()


def warehouse(home: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(home / "warehouse" / "shelfwise.duckdb"), read_only=True)


def test_every_return_links_to_its_order_line_on_every_channel(generated_home):
    with warehouse(generated_home) as con:
        shares = dict(con.execute("SELECT channel_id, linked_share "
                                  "FROM marts.kpi_returns_linked_by_channel").fetchall())
        channels = {c for (c,) in con.execute("SELECT channel_id FROM core.channels").fetchall()}
        returned = con.execute("SELECT sum(quantity) FROM core.returns").fetchall()[0][0]
    assert returned > 0
    # every channel with returns (the demo's B2B may have none in 70 days)
    assert shares and set(shares) <= channels and {"webshop", "amazon_de"} <= set(shares)
    assert shares == {c: 1.0 for c in shares}


def by_channel(home: Path) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """(inbox, mart): [units shipped, units returned] per channel over the whole history."""
    expected: dict[str, list[int]] = {}
    for channel, _, shipped, returned in inbox_units(home):
        totals = expected.setdefault(channel, [0, 0])
        totals[0] += shipped
        totals[1] += returned
    with warehouse(home) as con:
        got = {c: [s, r] for c, s, r in con.execute(
            "SELECT channel_id, sum(units_shipped), sum(units_returned) "
            "FROM marts.kpi_return_rate_daily GROUP BY ALL").fetchall()}
    return expected, got


def test_return_rate_by_channel_equals_returned_over_shipped_units_from_the_inbox(generated_home):
    expected, got = by_channel(generated_home)
    others = set(expected) - {"amazon_de"}  # Amazon: see the next test
    assert {c: got.get(c) for c in others} == {c: expected[c] for c in others}
    web_shipped, web_returned = expected["webshop"]
    assert web_returned / web_shipped > 0.03  # the web shop's returns are not lost any more
    assert got["amazon_de"][1] == expected["amazon_de"][1]  # every Amazon return is counted


def test_amazon_shipped_units_equal_the_inbox(generated_home):
    # an order holding one SKU on two rows keeps both (the second is `<sku>#2`)
    expected, got = by_channel(generated_home)
    assert got["amazon_de"] == expected["amazon_de"]


def test_kpi_headline_return_rate_equals_inbox_returned_over_shipped(generated_home, monkeypatch):
    monkeypatch.setenv("SHELFWISE_HOME", str(generated_home))
    start = END - timedelta(days=27)  # the page's default period: the last 28 days of orders
    rows = [r for r in inbox_units(generated_home) if start <= r[1] <= END]
    rate = sum(r[3] for r in rows) / sum(r[2] for r in rows)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Return rate (units)"] == f"{rate:.1%}"


def test_top_products_by_return_rate_lists_only_returned_products(generated_home):
    with warehouse(generated_home) as con:
        ranked = con.execute("SELECT min(units_returned), count(*) "
                             "FROM marts.kpi_return_rate_by_sku "
                             "WHERE return_rate_rank IS NOT NULL").fetchall()[0]
    assert ranked[1] > 0 and ranked[0] > 0


def run_kpis_page(home: Path, monkeypatch) -> AppTest:
    monkeypatch.setenv("SHELFWISE_HOME", str(home))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def snapshot_copy(home: Path, tmp_path: Path, sql: str) -> Path:
    """A home of the test's own: a copy of the served snapshot with ``sql`` applied."""
    copy = tmp_path / "home"
    shutil.copytree(home / "serving", copy / "serving")
    with duckdb.connect(str(copy / "serving" / "serving.duckdb")) as con:
        con.execute(sql)
    return copy


def test_without_returns_the_page_says_no_returns_data_not_zero(generated_home, tmp_path,
                                                                 monkeypatch):
    home = snapshot_copy(generated_home, tmp_path, """
        DELETE FROM marts.kpi_return_line_links; DELETE FROM marts.kpi_returns_linked_by_channel;
        UPDATE marts.kpi_return_rate_daily SET units_returned = 0, value_returned_base = 0;""")
    at = run_kpis_page(home, monkeypatch)
    assert {m.label: m.value for m in at.metric}["Return rate (units)"] == "No returns data"
    assert any("No returns data" in i.value for i in at.info)


def test_a_channel_linking_under_90_percent_is_left_out_of_the_rate_and_named(
        generated_home, tmp_path, monkeypatch):
    home = snapshot_copy(generated_home, tmp_path, """
        UPDATE marts.kpi_returns_linked_by_channel
        SET units_linked = units_returned // 2, linked_share = 0.5, status = 'blocked'
        WHERE channel_id = 'amazon_de'""")
    start = END - timedelta(days=27)
    rows = [r for r in inbox_units(generated_home)
            if start <= r[1] <= END and r[0] != "amazon_de"]
    rate = sum(r[3] for r in rows) / sum(r[2] for r in rows)
    at = run_kpis_page(home, monkeypatch)
    assert {m.label: m.value for m in at.metric}["Return rate (units)"] == f"{rate:.1%}"
    assert any("amazon_de 50.0%" in e.value for e in at.error)
    by_channel = next(d.value for d in at.dataframe if "Channel" in d.value.columns
                      and any("returned" in c.lower() for c in d.value.columns))
    assert "amazon_de" not in set(by_channel["Channel"]) and "webshop" in set(by_channel["Channel"])


def test_every_channel_blocked_withholds_the_return_rate(generated_home, tmp_path, monkeypatch):
    # only channels with returns shipped anything, and every one of them links under 90 %
    home = snapshot_copy(generated_home, tmp_path, """
        UPDATE marts.kpi_returns_linked_by_channel SET linked_share = 0.5, status = 'blocked';
        DELETE FROM marts.kpi_return_rate_daily WHERE channel_id NOT IN
            (SELECT channel_id FROM marts.kpi_returns_linked_by_channel);""")
    at = run_kpis_page(home, monkeypatch)
    assert {m.label: m.value for m in at.metric}["Return rate (units)"] == "Withheld"


def test_returns_section_shows_rate_by_channel_and_reason_in_percent(generated_home, monkeypatch):
    at = run_kpis_page(generated_home, monkeypatch)
    frames = [d.value for d in at.dataframe]
    by_channel = next(f for f in frames if "Return rate (units)" in f.columns
                      and "Channel" in f.columns)
    assert set(by_channel["Channel"]) >= {"webshop", "amazon_de"}
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]
    assert any(t.startswith("Return rate by reason") for t in titles)
