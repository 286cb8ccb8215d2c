"""kpi_channel_mix_monthly against plain SQL over core, written here (no shelfwise SQL).

The tiny core of conftest.py (every order in January 2026: web 180.80 over four orders, one of
them cancelled; amz 50.00) plus orders in other months: amz in December 2025, web in March
2026 (so web has no February: its March has no prior month), and a web order in a currency
without FX rate (no base amount: counted as unconverted, never as 0 revenue).
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from assets.kpis.marts import KpiSettings, build_all
from tests.kpis.conftest import insert as insert_core
from tests.kpis.conftest import line as order_line

MART = "kpi_channel_mix_monthly"

# the mart's definition, from core alone: an order is (channel, order id); it counts when not
# every line is cancelled; its revenue is the base amount of its non-cancelled lines, unknown
# when one of them has none; months are calendar months of the order's first line (UTC here)
INDEPENDENT = """
WITH orders AS (
    SELECT channel_id, order_id,
           date_trunc('month', min(ordered_at))::DATE AS order_month,
           bool_and(status = 'cancelled') AS cancelled,
           sum(quantity) FILTER (WHERE status <> 'cancelled') AS units,
           CASE WHEN count(*) FILTER (WHERE status <> 'cancelled' AND line_amount_base IS NULL) = 0
                THEN sum(line_amount_base) FILTER (WHERE status <> 'cancelled') END AS revenue
    FROM core.order_lines
    GROUP BY channel_id, order_id
), per_channel AS (
    SELECT order_month, channel_id, count(*) AS orders, sum(units) AS units,
           sum(revenue) AS revenue_base, count(*) - count(revenue) AS orders_unconverted
    FROM orders WHERE NOT cancelled
    GROUP BY order_month, channel_id
)
SELECT c.order_month, c.channel_id, c.orders, c.units, c.revenue_base, c.orders_unconverted,
       c.revenue_base / sum(c.revenue_base) OVER (PARTITION BY c.order_month) AS revenue_share,
       c.orders / sum(c.orders) OVER (PARTITION BY c.order_month) AS order_share,
       p.revenue_base AS revenue_base_prior_month
FROM per_channel AS c
LEFT JOIN per_channel AS p
    ON p.channel_id = c.channel_id AND p.order_month = c.order_month - INTERVAL 1 MONTH
ORDER BY c.order_month, c.channel_id
"""


@pytest.fixture()
def mix(tiny_core):
    dec, mar = datetime(2025, 12, 30, 18), datetime(2026, 3, 2, 9)
    insert_core(tiny_core, "order_lines", [
        {**order_line("A1", "1", "A", 2, 30.0, channel="amz"), "ordered_at": dec,
         "updated_at": dec},
        {**order_line("W7", "1", "B", 1, 15.0), "ordered_at": mar, "updated_at": mar},
        {**order_line("W7", "2", "A", 1, 25.0, status="cancelled"), "ordered_at": mar,
         "updated_at": mar},
        # a currency without FX rate: no base amount
        {**order_line("W8", "1", "A", 1, 99.0), "ordered_at": mar, "updated_at": mar,
         "currency": "CHF", "line_amount_base": None, "unit_price_base": None},
    ])
    build_all(tiny_core, KpiSettings())
    return tiny_core


def test_channel_mix_equals_plain_sql_over_core(mix):
    got = mix.sql(f"SELECT * FROM marts.{MART} ORDER BY order_month, channel_id").pl()
    want = mix.sql(INDEPENDENT).pl()
    assert got.height == want.height == 4
    for g, w in zip(got.to_dicts(), want.to_dicts()):
        for column, value in w.items():
            assert g[column] == pytest.approx(value), (column, g, w)


def test_channel_mix_by_hand(mix):
    rows = {(r["order_month"], r["channel_id"]): r
            for r in mix.sql(f"FROM marts.{MART}").pl().to_dicts()}
    jan_web, jan_amz = rows[(date(2026, 1, 1), "web")], rows[(date(2026, 1, 1), "amz")]
    # web: O1 60 + O2 72 + O3 20 + O5 28.80 (paid: a sale) = 180.80; O4 is cancelled
    assert (jan_web["orders"], jan_web["revenue_base"]) == (4, pytest.approx(180.8))
    assert jan_web["revenue_share"] == pytest.approx(180.8 / 230.8)
    assert jan_amz["order_share"] == pytest.approx(1 / 5)
    assert jan_amz["revenue_base_prior_month"] == pytest.approx(30.0)  # December
    assert jan_amz["revenue_change"] == pytest.approx(50.0 / 30.0 - 1)
    mar_web = rows[(date(2026, 3, 1), "web")]
    # W7 counts with its one live line; W8 has no base amount: unconverted, not 0
    assert (mar_web["orders"], mar_web["orders_unconverted"]) == (2, 1)
    assert mar_web["revenue_base"] == pytest.approx(15.0)
    assert mar_web["revenue_share"] == pytest.approx(1.0)
    # no web order in February: no prior month to compare with (not a 100 % rise)
    assert mar_web["revenue_base_prior_month"] is None and mar_web["revenue_change"] is None
    assert rows[(date(2025, 12, 1), "amz")]["revenue_share"] == pytest.approx(1.0)
