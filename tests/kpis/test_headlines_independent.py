"""Every headline figure of the KPIs and Inventory pages, recomputed independently.

A small generated home (the demo's own generator: 40 SKUs, 2 warehouses, 6 channels, 150
days) is run through the real Dagster job (``shelfwise_all`` of the real definitions, its
ingest, inventory, KPI and serving assets: what a manager's figures come from; forecasting,
replenishment and alerts feed none of these headlines, and the data-quality checks judge
the data without changing a figure). About 50 s to build on a quiet machine, 80 s in all.
Then each headline is recomputed here from ``core`` with plain SQL written in this file
(never shelfwise's SQL), and the real pages (Streamlit AppTest of ``dashboards/app.py``
reading the real serving snapshot) must show the same, to the precision they display. The
return rate is also recomputed from the inbox files alone (polars over the generated
returns and shipment exports).

The definitions do not depend on the size of the home, so a small one checks the same
arithmetic as the 500-SKU demo in a fraction of the time. The home reports in
Europe/Berlin (local days differ from UTC days around midnight) with a 30-day dead-stock
threshold (so a 150-day home has dead stock), no reconciliation tolerance (so record
accuracy is a share, not 100 %), and GBP (eBay UK) orders converted to EUR.

The pages' labels and formats may change: a metric is found by its label's start
(case-insensitive) and its text is parsed (thousands separators, %, units, k/M).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from assets.settings import load_settings
from pipelines.definitions import build_definitions

APP = str(Path(__file__).resolve().parents[2] / "dashboards" / "app.py")
TIMEZONE = "Europe/Berlin"
BASE = "EUR"
DEAD_STOCK_DAYS = 30
SETTLE_DAYS = 2  # [kpis] settle_days default: an undated line is due 2 days after ordering
# [reconciliation]: no tolerance, so the generated counts (off by a unit or two) show as
# misses and record accuracy is a real share, not 100 %
TOLERANCE_UNITS, TOLERANCE_PCT = 0, 0.0
BLOCK_SHARE = 0.90  # [kpis] returns_linked_block_share default
PAGE_DAYS = 28  # the pages' default period: the last 28 days of orders
OVERSTOCK_DAYS = 180  # the Inventory page's default "days of supply above"


# --------------------------------------------------------------------------- the home


@pytest.fixture(scope="session")
def home(tmp_path_factory) -> Path:
    """A generated home after the real job's ingest, inventory, KPI and serving assets."""
    from pipelines.generate import generate_demo

    home = tmp_path_factory.mktemp("headlines_home")
    (home / "shelfwise.toml").write_text(
        f'base_currency = "{BASE}"\n\n[kpis]\ntimezone = "{TIMEZONE}"\n'
        f"dead_stock_days = {DEAD_STOCK_DAYS}\n\n[reconciliation]\n"
        f"tolerance_units = {TOLERANCE_UNITS}\ntolerance_pct = {TOLERANCE_PCT}\n")
    generate_demo(load_settings(home).inbox, seed=11, skus=40, warehouses=2, channels=6,
                  days=150)
    defs = build_definitions(str(home))
    selection = dg.AssetSelection.groups("ingest", "inventory", "kpis", "serving")
    # the real job's assets the headlines come from, without the data-quality checks (they
    # judge the data and change no figure; the daily-volume check alone costs ~50 s here)
    job = defs.resolve_job_def("shelfwise_all").get_subset(
        asset_selection=selection.resolve(defs.resolve_asset_graph()),
        asset_check_selection=set())
    result = job.execute_in_process(raise_on_error=False)
    assert result.success, [e.message for e in result.all_events if e.is_step_failure]
    return home


def core(home: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(home / "warehouse" / "shelfwise.duckdb"), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    return con


# ------------------------------------------------------------ independent SQL over core

# which order line a shipment or return names: the same line id; else, within the order's
# lines of that SKU, the n-th line id the shipments / returns print (numeric ids in number
# order) is the n-th order line (line numbers in number order); a reference beyond the
# order's lines of the SKU goes to its first line
LINKS_SQL = """
CREATE OR REPLACE TEMP TABLE t_links AS
WITH refs AS (
    SELECT DISTINCT channel_id, order_id, line_id, sku FROM core.fulfillment_events
    UNION
    SELECT DISTINCT channel_id, order_id, line_id, sku FROM core.returns
),
unmatched AS (
    SELECT r.*, dense_rank() OVER (PARTITION BY r.channel_id, r.order_id, r.sku
                                   ORDER BY try_cast(r.line_id AS BIGINT) NULLS LAST,
                                            r.line_id) AS n
    FROM refs AS r
    WHERE NOT EXISTS (SELECT 1 FROM core.order_lines AS o WHERE o.channel_id = r.channel_id
                      AND o.order_id = r.order_id AND o.line_id = r.line_id)
),
sku_lines AS (
    SELECT channel_id, order_id, sku, line_id,
           row_number() OVER (PARTITION BY channel_id, order_id, sku
                              ORDER BY try_cast(line_id AS BIGINT) NULLS LAST, line_id) AS n
    FROM core.order_lines
)
SELECT r.channel_id, r.order_id, r.line_id AS printed_line_id, r.sku, r.line_id
FROM refs AS r
WHERE EXISTS (SELECT 1 FROM core.order_lines AS o WHERE o.channel_id = r.channel_id
              AND o.order_id = r.order_id AND o.line_id = r.line_id)
UNION ALL
SELECT u.channel_id, u.order_id, u.line_id, u.sku, coalesce(nth.line_id, first.line_id)
FROM unmatched AS u
LEFT JOIN sku_lines AS nth USING (channel_id, order_id, sku, n)
LEFT JOIN sku_lines AS first
       ON first.channel_id = u.channel_id AND first.order_id = u.order_id
      AND first.sku = u.sku AND first.n = 1
"""

# one line per core order line, with what this test understands by its shipment, written
# from the definitions (docs/kpis.md), not from shelfwise's SQL
LINES_SQL = """
CREATE OR REPLACE TEMP TABLE t_lines AS
WITH
shipped_events AS (
    SELECT e.event_at, e.quantity, e.channel_id, e.order_id, k.line_id
    FROM core.fulfillment_events AS e
    LEFT JOIN t_links AS k
           ON k.channel_id = e.channel_id AND k.order_id = e.order_id
          AND k.printed_line_id = e.line_id AND k.sku = e.sku
    WHERE e.event_type = 'shipped'
),
per_line_shipments AS (
    SELECT channel_id, order_id, line_id, max(event_at) AS last_parcel_at,
           sum(quantity) AS parcel_units
    FROM shipped_events WHERE line_id IS NOT NULL GROUP BY ALL
),
-- FX: the latest rate on or before the order's UTC day, else the currency's first rate
rates AS (
    SELECT o.channel_id, o.order_id, o.line_id,
           CASE WHEN o.currency = $base THEN 1.0
                ELSE coalesce(
                    (SELECT max_by(r.rate_to_base, r.rate_date) FROM core.fx_rates AS r
                     WHERE r.currency = o.currency AND r.rate_date <= o.ordered_at::DATE),
                    (SELECT min_by(r.rate_to_base, r.rate_date) FROM core.fx_rates AS r
                     WHERE r.currency = o.currency)) END AS rate
    FROM core.order_lines AS o
)
SELECT o.channel_id, o.order_id, o.line_id, o.sku, o.quantity, o.ordered_at, o.updated_at,
       o.promised_ship_by, o.status = 'cancelled' AS cancelled,
       coalesce(o.fulfilled_by, CASE WHEN c.channel_type = 'pos' THEN 'store'
                                     ELSE 'merchant' END) AS handed_over_by,
       o.line_amount * r.rate AS amount_eur,
       o.order_discount_amount * r.rate AS order_discount_eur,
       o.order_shipping_amount * r.rate AS order_shipping_eur,
       coalesce(s.last_parcel_at, o.shipped_at) AS shipped_at,
       CASE WHEN s.parcel_units IS NOT NULL THEN least(s.parcel_units, o.quantity)
            WHEN o.shipped_at IS NOT NULL OR o.status IN ('shipped', 'delivered') THEN o.quantity
            ELSE 0 END AS units_shipped,
       timezone($tz, timezone('UTC', o.ordered_at))::DATE AS order_day,
       timezone($tz, timezone('UTC', coalesce(s.last_parcel_at, o.shipped_at)))::DATE
           AS ship_day,
       timezone($tz, timezone('UTC', o.promised_ship_by))::DATE AS promise_day
FROM core.order_lines AS o
JOIN rates AS r USING (channel_id, order_id, line_id)
LEFT JOIN core.channels AS c USING (channel_id)
LEFT JOIN per_line_shipments AS s USING (channel_id, order_id, line_id)
"""

ORDERS_SQL = """
CREATE OR REPLACE TEMP TABLE t_orders AS
WITH discounts AS (  -- an order-level discount counts once: the latest line's that has one
    SELECT channel_id, order_id, max_by(order_discount_eur, updated_at) AS discount_eur
    FROM t_lines WHERE order_discount_eur IS NOT NULL GROUP BY ALL
),
shipping AS (  -- so does the shipping charge
    SELECT channel_id, order_id, max_by(order_shipping_eur, updated_at) AS shipping_eur
    FROM t_lines WHERE order_shipping_eur IS NOT NULL GROUP BY ALL
)
SELECT channel_id, order_id,
       timezone($tz, timezone('UTC', min(ordered_at)))::DATE AS order_day,
       bool_and(cancelled) AS cancelled,
       CASE WHEN bool_or(handed_over_by = 'marketplace') THEN 'marketplace'
            WHEN bool_or(handed_over_by = 'merchant') THEN 'merchant' ELSE 'store' END
           AS handed_over_by,
       sum(amount_eur) FILTER (WHERE NOT cancelled)
           - coalesce(any_value(d.discount_eur), 0) AS revenue_eur,
       coalesce(any_value(sh.shipping_eur), 0) AS shipping_eur,
       count(*) FILTER (WHERE NOT cancelled AND amount_eur IS NULL) = 0 AS converted,
       date_diff('second', min(ordered_at), min(shipped_at) FILTER (WHERE NOT cancelled))
           / 3600.0 AS hours_to_first,
       -- placed -> the last live line shipped, once every live line has a ship time
       CASE WHEN count(*) FILTER (WHERE NOT cancelled)
                 = count(shipped_at) FILTER (WHERE NOT cancelled)
            THEN date_diff('second', min(ordered_at), max(shipped_at) FILTER (WHERE NOT cancelled))
                 / 3600.0 END AS hours
FROM t_lines LEFT JOIN discounts AS d USING (channel_id, order_id)
LEFT JOIN shipping AS sh USING (channel_id, order_id)
GROUP BY ALL
"""


def page_period(con: duckdb.DuckDBPyConnection) -> tuple[date, date]:
    """The pages' default period: the last 28 local order days up to the latest order."""
    last = con.execute("SELECT max(order_day) FROM t_orders").fetchall()[0][0]
    return last - timedelta(days=PAGE_DAYS - 1), last


def as_of(con: duckdb.DuckDBPyConnection):
    """The order side's 'now': the latest line update or fulfillment event."""
    return con.execute("SELECT greatest((SELECT max(updated_at) FROM core.order_lines), "
                       "(SELECT max(event_at) FROM core.fulfillment_events))").fetchall()[0][0]


SALES_SQL = """
SELECT count(*) AS orders,
       sum(revenue_eur) FILTER (WHERE converted) AS revenue,
       sum(revenue_eur) FILTER (WHERE converted) / count(*) FILTER (WHERE converted) AS aov,
       quantile_cont(hours, 0.5) FILTER (WHERE handed_over_by = 'merchant' AND hours >= 0)
           AS median_ship,
       quantile_cont(hours, 0.9) FILTER (WHERE handed_over_by = 'merchant' AND hours >= 0)
           AS p90_ship,
       sum(revenue_eur + shipping_eur) FILTER (WHERE converted) AS revenue_incl_shipping,
       quantile_cont(hours_to_first, 0.5) FILTER (
           WHERE handed_over_by = 'merchant' AND hours_to_first >= 0) AS median_first_ship,
       count(*) FILTER (WHERE handed_over_by = 'store') AS store_orders
FROM t_orders WHERE NOT cancelled AND order_day BETWEEN $start AND $end
"""

FILL_SQL = """
SELECT sum(units_shipped) / sum(quantity) FROM t_lines
WHERE NOT cancelled AND order_day BETWEEN $start AND $end
  AND coalesce(promised_ship_by, ordered_at + to_days($settle)) <= $as_of
"""

ON_TIME_SQL = """
WITH judged AS (
    SELECT CASE WHEN shipped_at IS NOT NULL THEN shipped_at <= promised_ship_by
                WHEN promised_ship_by <= $as_of THEN false END AS on_time
    FROM t_lines
    WHERE NOT cancelled AND promised_ship_by IS NOT NULL AND promise_day BETWEEN $start AND $end
)
SELECT count(*) FILTER (WHERE on_time) / count(on_time) FROM judged
"""

# returns linked to their order line (t_links);
# units per channel of the lines shipped in the period and of their returns
RETURNS_SQL = """
WITH linked AS (
    SELECT r.channel_id, r.order_id, k.line_id, r.quantity
    FROM core.returns AS r
    LEFT JOIN t_links AS k
           ON k.channel_id = r.channel_id AND k.order_id = r.order_id
          AND k.printed_line_id = r.line_id AND k.sku = r.sku
),
link_share AS (
    SELECT channel_id, sum(quantity) FILTER (WHERE line_id IS NOT NULL) / sum(quantity) AS share
    FROM linked GROUP BY ALL
),
returned AS (
    SELECT channel_id, order_id, line_id, sum(quantity) AS units
    FROM linked WHERE line_id IS NOT NULL GROUP BY ALL
)
SELECT l.channel_id, sum(l.units_shipped) AS shipped, coalesce(sum(r.units), 0) AS returned,
       coalesce(any_value(s.share), 1.0) AS linked_share
FROM t_lines AS l
LEFT JOIN returned AS r USING (channel_id, order_id, line_id)
LEFT JOIN link_share AS s USING (channel_id)
WHERE l.ship_day BETWEEN $start AND $end AND l.units_shipped > 0
GROUP BY ALL ORDER BY l.channel_id
"""

# cost per unit in EUR: master-data cost at the latest rate of its currency, else the
# latest purchase order line's cost (converted at that PO's order-day rate in core)
UNIT_COST_SQL = """
CREATE OR REPLACE TEMP TABLE t_unit_cost AS
SELECT p.sku,
       coalesce(
           p.unit_cost * CASE WHEN coalesce(p.cost_currency, $base) = $base THEN 1.0 ELSE
               (SELECT max_by(rate_to_base, rate_date) FROM core.fx_rates
                WHERE currency = p.cost_currency) END,
           (SELECT max_by(po.unit_cost_base, po.ordered_at) FROM core.purchase_orders AS po
            WHERE po.sku = p.sku)) AS eur
FROM core.products AS p
"""

DEAD_STOCK_SQL = """
WITH latest AS (SELECT max(snapshot_date) AS day FROM core.stock_snapshots),
sold AS (  -- a bundle sale is a sale of each of its components
    SELECT sku, max(order_day) AS last_sale FROM (
        SELECT sku, order_day FROM t_lines WHERE NOT cancelled
        UNION ALL
        SELECT b.component_sku, l.order_day FROM t_lines AS l
        JOIN core.bundle_components AS b ON b.bundle_sku = l.sku WHERE NOT l.cancelled
    ) GROUP BY ALL
),
first_seen AS (SELECT sku, min(snapshot_date) AS day FROM core.stock_snapshots GROUP BY ALL),
stock_now AS (
    SELECT location_id, sku, max_by(on_hand, snapshot_date) AS on_hand
    FROM core.stock_snapshots GROUP BY ALL
)
SELECT sum(n.on_hand * c.eur)
FROM stock_now AS n
JOIN first_seen AS f USING (sku)
LEFT JOIN sold AS s USING (sku)
LEFT JOIN t_unit_cost AS c USING (sku), latest
WHERE n.on_hand > 0 AND coalesce(s.last_sale, f.day) <= latest.day - $dead_days
"""

STOCKOUT_SQL = """
SELECT count(*) FILTER (WHERE on_hand = 0), count(*) FILTER (WHERE on_hand = 0) / count(*)
FROM core.stock_snapshots WHERE snapshot_date BETWEEN $start AND $end
"""

# the trailing window (90 days to the latest snapshot, shorter when snapshots start later):
# units shipped (local ship day; a bundle ships its components), average stock over the
# window's snapshot days, latest stock per location
TURNOVER_SQL = """
WITH bounds AS (
    SELECT max(snapshot_date) AS last,
           greatest(max(snapshot_date) - 89, min(snapshot_date)) AS first
    FROM core.stock_snapshots
),
shipped AS (
    SELECT coalesce(b.component_sku, l.sku) AS sku,
           sum(l.units_shipped * coalesce(b.units_per_bundle, 1)) AS units
    FROM t_lines AS l LEFT JOIN core.bundle_components AS b ON b.bundle_sku = l.sku, bounds
    WHERE l.ship_day BETWEEN bounds.first AND bounds.last GROUP BY ALL
),
stock AS (
    SELECT sku, sum(on_hand) / (SELECT count(DISTINCT snapshot_date) FROM core.stock_snapshots,
                                bounds WHERE snapshot_date BETWEEN first AND last) AS average
    FROM core.stock_snapshots, bounds WHERE snapshot_date BETWEEN first AND last GROUP BY ALL
),
now AS (
    SELECT sku, sum(on_hand) AS on_hand FROM (
        SELECT location_id, sku, max_by(on_hand, snapshot_date) AS on_hand
        FROM core.stock_snapshots GROUP BY ALL) GROUP BY ALL
),
per_sku AS (
    SELECT n.sku, n.on_hand, coalesce(s.units, 0) AS units, coalesce(a.average, 0) AS average,
           c.eur, (SELECT last - first + 1 FROM bounds) AS days
    FROM now AS n LEFT JOIN shipped AS s USING (sku) LEFT JOIN stock AS a USING (sku)
    JOIN t_unit_cost AS c USING (sku)
)
SELECT sum(units * eur) * 365.0 / any_value(days) / sum(average * eur) AS turnover,
       sum((on_hand - $overstock_days * units / days) * eur)
           FILTER (WHERE units > 0 AND on_hand / (units / days) > $overstock_days)
           AS overstock_value
FROM per_sku
"""

# PO lines expected from the period's first month to its end, not cancelled, due by the
# supplier side's as-of day or already received; on time = first receipt (local day) on or
# before the expected date
SUPPLIER_SQL = """
WITH as_of AS (
    SELECT greatest(
        (SELECT max(timezone($tz, timezone('UTC', received_at)))::DATE FROM core.receipts),
        (SELECT max(updated_at)::DATE FROM core.purchase_orders)) AS day
),
first_receipt AS (
    SELECT po_number, sku, min(timezone($tz, timezone('UTC', received_at)))::DATE AS day
    FROM core.receipts GROUP BY ALL
)
SELECT count(*) FILTER (WHERE r.day <= p.expected_at) / count(*)
FROM core.purchase_orders AS p LEFT JOIN first_receipt AS r USING (po_number, sku), as_of
WHERE p.status <> 'cancelled' AND p.expected_at IS NOT NULL
  AND p.expected_at BETWEEN date_trunc('month', $start::DATE) AND $end
  AND (p.expected_at <= as_of.day OR r.day IS NOT NULL)
"""

# the latest snapshot day's reconciliation: previous snapshot + movements after it up to and
# including the day (UTC days; bundles move their components), against the day's count
RECONCILE_SQL = """
WITH day AS (SELECT max(snapshot_date) AS d FROM core.stock_snapshots),
counted AS (
    SELECT s.location_id, s.sku, s.on_hand,
           (SELECT max(p.snapshot_date) FROM core.stock_snapshots AS p
            WHERE p.location_id = s.location_id AND p.sku = s.sku
              AND p.snapshot_date < s.snapshot_date) AS previous_day
    FROM core.stock_snapshots AS s, day WHERE s.snapshot_date = day.d
),
first_location AS (
    SELECT channel_id, first(location_id ORDER BY priority, location_id) AS location_id
    FROM core.channel_locations GROUP BY ALL
),
moves AS (
    SELECT location_id, sku, received_at::DATE AS day, quantity_received AS units
    FROM core.receipts
    UNION ALL
    SELECT location_id, sku, event_at::DATE, -quantity FROM core.fulfillment_events
    WHERE event_type = 'shipped'
    UNION ALL
    SELECT coalesce(r.location_id, o.location_id, f.location_id), r.sku, r.received_at::DATE,
           r.quantity
    FROM core.returns AS r
    LEFT JOIN core.order_lines AS o USING (channel_id, order_id, line_id)
    LEFT JOIN first_location AS f ON f.channel_id = r.channel_id
    WHERE r.resellable AND r.received_at IS NOT NULL
    UNION ALL
    SELECT location_id, sku, adjusted_at::DATE, quantity FROM core.stock_adjustments
),
stock_moves AS (  -- stock is held as components
    SELECT m.location_id, coalesce(b.component_sku, m.sku) AS sku, m.day,
           m.units * coalesce(b.units_per_bundle, 1) AS units
    FROM moves AS m LEFT JOIN core.bundle_components AS b ON b.bundle_sku = m.sku
),
expected AS (
    SELECT c.location_id, c.sku, c.on_hand,
           p.on_hand + coalesce((SELECT sum(m.units) FROM stock_moves AS m
                                 WHERE m.location_id = c.location_id AND m.sku = c.sku
                                   AND m.day > c.previous_day AND m.day <= day.d), 0)
               AS expected,
           (SELECT max_by(rate_to_base, rate_date) FROM core.fx_rates AS x, core.products AS pr
            WHERE pr.sku = c.sku AND x.currency = pr.cost_currency AND x.rate_date <= day.d)
               AS rate
    FROM counted AS c
    JOIN core.stock_snapshots AS p
      ON p.location_id = c.location_id AND p.sku = c.sku AND p.snapshot_date = c.previous_day,
         day
)
SELECT count(*) AS reconciled,
       avg((abs(e.on_hand - e.expected)
            <= greatest($tol_units, $tol_pct * abs(e.expected)))::INT) AS within_tolerance,
       sum(abs(e.on_hand - e.expected) * pr.unit_cost
           * CASE WHEN coalesce(pr.cost_currency, $base) = $base THEN 1.0 ELSE e.rate END)
           AS abs_difference_value
FROM expected AS e JOIN core.products AS pr USING (sku)
"""


def headlines(home: Path, period: tuple[date, date] | None = None) -> dict:
    """Every headline, computed here from core, for the local days ``period`` (default: the
    pages' default period): {name: value}, plus start, end and as_of."""
    with core(home) as con:
        params = {"tz": TIMEZONE, "base": BASE}
        con.execute(LINKS_SQL)
        con.execute(LINES_SQL, params)
        con.execute(ORDERS_SQL, {"tz": TIMEZONE})
        start, end = period or page_period(con)
        now = as_of(con)
        period = {"start": start, "end": end}
        sales = con.execute(SALES_SQL, period).fetchall()[0]
        fill = con.execute(FILL_SQL, {**period, "settle": SETTLE_DAYS, "as_of": now}).fetchall()[0]
        on_time = con.execute(ON_TIME_SQL, {**period, "as_of": now}).fetchall()[0]
        per_channel = con.sql(RETURNS_SQL, params=period).pl()
        con.execute(UNIT_COST_SQL, {"base": BASE})
        dead = con.execute(DEAD_STOCK_SQL, {"dead_days": DEAD_STOCK_DAYS}).fetchall()[0]
        stockouts = con.execute(STOCKOUT_SQL, period).fetchall()[0]
        promised = con.execute("SELECT count(DISTINCT (channel_id, order_id)) "
                               "FROM core.order_lines "
                               "WHERE promised_delivery_date IS NOT NULL").fetchall()[0]
        turnover = con.execute(TURNOVER_SQL, {"overstock_days": OVERSTOCK_DAYS}).fetchall()[0]
        supplier = con.execute(SUPPLIER_SQL, {**period, "tz": TIMEZONE}).fetchall()[0]
        reconciled = con.execute(RECONCILE_SQL, {
            "tol_units": TOLERANCE_UNITS, "tol_pct": TOLERANCE_PCT, "base": BASE}).fetchall()[0]
    kept = per_channel.filter(pl.col("linked_share") >= BLOCK_SHARE)
    return {
        "start": start, "end": end, "as_of": now,
        "orders": sales[0], "revenue": sales[1], "aov": sales[2],
        "median_ship": sales[3], "p90_ship": sales[4],
        "revenue_incl_shipping": sales[5], "median_first_ship": sales[6],
        "store_orders": sales[7], "orders_with_delivery_promise": promised[0],
        "stockout_days": stockouts[0], "stockout_share": stockouts[1],
        "turnover": turnover[0], "overstock_value": turnover[1],
        "supplier_on_time": supplier[0],
        "fill_rate": fill[0], "on_time": on_time[0],
        "return_rate": kept["returned"].sum() / kept["shipped"].sum(),
        "return_rate_by_channel": {c: r / s for c, s, r in
                                   kept.select("channel_id", "shipped", "returned").iter_rows()},
        "blocked": per_channel.filter(pl.col("linked_share") < BLOCK_SHARE)["channel_id"].to_list(),
        "dead_stock": dead[0] or 0.0,
        "reconciled": reconciled[0], "within_tolerance": reconciled[1],
        "abs_difference_value": reconciled[2],
    }


@pytest.fixture(scope="session")
def independent(home: Path) -> dict:
    return headlines(home)


# ----------------------------------------------------------------------- the real pages


def run_page(home: Path, monkeypatch, page: str | None = None) -> AppTest:
    monkeypatch.setenv("SHELFWISE_HOME", str(home))
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    if page:
        at.switch_page(f"views/{page}.py")
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture(scope="session")
def pages(home) -> dict[str, AppTest]:
    """The KPIs (landing) and Inventory pages, run once on the home's serving snapshot."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        return {"kpis": run_page(home, monkeypatch),
                "inventory": run_page(home, monkeypatch, "inventory")}


@pytest.fixture()
def kpis_page(pages) -> AppTest:
    return pages["kpis"]


def shown(at: AppTest, *label_starts: str) -> str:
    """The text of the one metric whose label starts with one of ``label_starts``
    (case-insensitive)."""
    starts = tuple(s.lower() for s in label_starts)
    found = [m for m in at.metric if m.label.strip().lower().startswith(starts)]
    assert len(found) == 1, (label_starts, [m.label for m in at.metric])
    return found[0].value


NUMBER = re.compile(r"[-+−]?\d[\d,\u202f\u00a0 ]*(?:\.\d+)?")
SCALE = {"k": 1e3, "m": 1e6, "bn": 1e9}


def parse(text: str) -> tuple[float, float]:
    """(value, half the last shown digit) of a formatted figure: '1,234', '12.3 %',
    '32.4 h', '€ 1.2k', '-0.5 pt'. A percentage is returned as a share (12.3 % -> 0.123)."""
    match = NUMBER.search(text)
    assert match, f"no number in {text!r}"
    digits = re.sub(r"[,\u202f\u00a0 ]", "", match.group()).replace("−", "-")
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    value, half = float(digits), 0.5 * 10 ** -decimals
    rest = text[match.end():].strip().lower()
    unit = re.match(r"(bn|k|m)\b", rest)
    if unit:
        value, half = value * SCALE[unit.group(1)], half * SCALE[unit.group(1)]
    if "%" in text:
        value, half = value / 100, half / 100
    return value, half


def assert_shows(text: str, expected: float, what: str) -> None:
    """The page's ``text`` is ``expected`` rounded to the digits it shows."""
    value, half = parse(text)
    # (1e-9: a float that sits exactly on the rounding boundary)
    assert abs(value - float(expected)) <= half + 1e-9, \
        f"{what}: page shows {text!r}, independent computation gives {expected!r}"


# -------------------------------------------------------------------------------- tests


def test_the_home_has_every_kind_of_figure(independent):
    """The checks below compare real numbers, not zeros or blanks."""
    figures = {k: v for k, v in independent.items() if k not in ("blocked",)}
    figures.pop("revenue_incl_shipping")  # the generator charges no order-level shipping
    figures.pop("orders_with_delivery_promise")  # ... and promises no delivery dates
    assert all(v not in (None, 0) for v in figures.values()), figures
    assert independent["orders"] > 100
    assert 0 < independent["dead_stock"]
    assert 0 < independent["within_tolerance"] < 1


# (page, the metric's label starts with, independent figure): every number-valued headline
HEADLINES = [
    ("kpis", "Orders", "orders"),
    ("kpis", "Revenue (", "revenue"),
    ("kpis", "Average order value", "aov"),
    ("kpis", "Fill rate", "fill_rate"),
    ("kpis", "Time to ship, median", "median_ship"),
    ("kpis", "Time to ship, p90", "p90_ship"),
    ("kpis", "On-time", "on_time"),
    ("kpis", "Return rate", "return_rate"),
    ("kpis", "Revenue incl. shipping", "revenue_incl_shipping"),
    ("kpis", "Time to first shipment", "median_first_ship"),
    ("kpis", "In-store sales", "store_orders"),
    ("kpis", "Stockout SKU-location days", "stockout_days"),
    ("kpis", "Stockout share", "stockout_share"),
    ("kpis", "Inventory turnover", "turnover"),
    ("kpis", "Supplier on-time", "supplier_on_time"),
    ("inventory", "Dead stock value", "dead_stock"),
    ("inventory", "Overstock value", "overstock_value"),
    ("inventory", "SKU-locations reconciled", "reconciled"),
    ("inventory", "Within tolerance", "within_tolerance"),  # inventory record accuracy
    ("inventory", "Absolute difference value", "abs_difference_value"),
]


@pytest.mark.parametrize(("page", "label", "figure"), HEADLINES,
                         ids=[f for _, _, f in HEADLINES])
def test_page_shows_the_independent_figure(pages, independent, page, label, figure):
    assert_shows(shown(pages[page], label), independent[figure], figure)


def test_kpis_page_shows_return_rate_per_channel(kpis_page, independent):
    table = return_rate_table(kpis_page)
    page = dict(zip(table[column(table, "channel")], table[column(table, "return rate (units)")]))
    assert set(page) == set(independent["return_rate_by_channel"])
    for channel, rate in independent["return_rate_by_channel"].items():
        # the table holds percent (0..100) and shows one decimal
        assert_shows(f"{page[channel]:.1f} %", rate, f"return rate of {channel}")


def test_no_delivery_promise_shows_no_late_share(kpis_page, independent):
    # the generator promises no delivery dates: no share to show, and none made up
    assert independent["orders_with_delivery_promise"] == 0
    assert not re.search(r"\d", shown(kpis_page, "Delivered late"))


# ------------------------------------------------------------- return rate from the inbox


def inbox_cohort(home: Path, start: date, end: date) -> pl.DataFrame:
    """Per channel: units shipped (local ship day of the line's last parcel) in
    ``start..end`` and the units of those lines returned, from the generated shipment and
    returns files alone. A row corrected or updated in a later file replaces its earlier
    version (same key); shipments and returns name a line by the same id."""
    inbox = home / "inbox"
    events = pl.concat([pl.read_csv(f, infer_schema=False)
                        for f in sorted((inbox / "fulfillment_events").glob("*/*.csv"))],
                       how="diagonal")
    returns = pl.concat([pl.read_csv(f, infer_schema=False)
                         for f in sorted((inbox / "returns").glob("*.csv"))], how="diagonal")
    line = ["channel_id", "order_id", "line_id"]
    shipped = (
        events.filter(pl.col("event_type") == "shipped")
        .with_columns(pl.col("quantity").cast(pl.Int64),
                      pl.col("event_at").str.to_datetime(time_zone="UTC"))
        .sort("event_at")
        .unique(["shipment_id", *line], keep="last")
        .group_by(line).agg(pl.col("quantity").sum().alias("shipped"),
                            pl.col("event_at").max())
        .with_columns(ship_day=pl.col("event_at").dt.convert_time_zone(TIMEZONE).dt.date())
    )
    returned = (
        returns.with_columns(pl.col("quantity").cast(pl.Int64),
                             pl.col("updated_at").str.to_datetime(time_zone="UTC"))
        .sort("updated_at")
        .unique(["rma_id", *line], keep="last")
        .group_by(line).agg(pl.col("quantity").sum().alias("returned"))
    )
    return (shipped.filter(pl.col("ship_day").is_between(start, end))
            .join(returned, on=line, how="left")
            .group_by("channel_id")
            .agg(pl.col("shipped").sum(), pl.col("returned").fill_null(0).sum())
            .sort("channel_id"))


def column(frame, start: str) -> str:
    """The one column of a page table whose header starts with ``start`` (any case)."""
    found = [c for c in frame.columns if c.strip().lower().startswith(start.lower())]
    assert len(found) == 1, (start, list(frame.columns))
    return found[0]


def return_rate_table(at: AppTest):
    """The KPIs page's return rate by channel (channel, units shipped, units returned...)."""
    tables = [d.value for d in at.dataframe
              if any(c.lower().startswith("channel") for c in d.value.columns)
              and any(c.lower().startswith("units returned") for c in d.value.columns)]
    assert len(tables) == 1, [list(d.value.columns) for d in at.dataframe]
    return tables[0]


def test_units_shipped_and_returned_per_channel_equal_the_inbox(home, kpis_page, independent):
    """Every shipped unit counts, including a second line of the same SKU in one order (the
    web shop and Amazon name lines on shipments by an item id their order export lacks)."""
    inbox = inbox_cohort(home, independent["start"], independent["end"])
    table = return_rate_table(kpis_page)
    page = {c: [int(s), int(r)] for c, s, r in zip(
        table[column(table, "channel")], table[column(table, "units shipped")],
        table[column(table, "units returned")])}
    assert page == {c: [s, r] for c, s, r in inbox.iter_rows()
                    if c not in independent["blocked"]}


def test_headline_return_rate_equals_returned_over_shipped_units_in_the_inbox(
        home, kpis_page, independent):
    cohort = inbox_cohort(home, independent["start"], independent["end"]).filter(
        ~pl.col("channel_id").is_in(independent["blocked"]))
    rate = cohort["returned"].sum() / cohort["shipped"].sum()
    assert_shows(shown(kpis_page, "Return rate"), rate, "return rate from the inbox")
