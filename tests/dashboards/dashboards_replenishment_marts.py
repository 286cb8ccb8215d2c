"""Replenishment marts shaped like the shared contract, for the dashboard tests.

The real tables come from ``assets/replenishment`` (built in parallel with the Replenishment
page); here they are derived from the small test core with simple, deterministic arithmetic so
the page has policy numbers, a projected-stock line and suggestions to decide on. The columns
are the contract's (names and types); the numbers only need to be plausible and consistent:
suggestion = order-up-to − inventory position, rounded up to the case pack, at least the MOQ.
``marts.inbound_purchase_orders`` is built by the real SQL (``assets/replenishment/sql/``).
"""

from __future__ import annotations

from datetime import date

import duckdb

from assets.replenishment.tables import build_inbound_purchase_orders

HORIZON_DAYS = 21

POLICY_SQL = """
CREATE OR REPLACE TABLE marts.replenishment_policy AS
WITH items AS (
    SELECT p.sku, l.location_id, p.supplier_id,
           CAST(regexp_extract(p.sku, '(\\d+)$') AS INTEGER) AS n,
           s.lead_time_days_mean AS lead_time_mean_days,
           s.review_period_days,
           -- the store sells half what the main warehouse does
           CASE WHEN l.location_type = 'store' THEN 0.5 ELSE 1.0 END AS location_share,
           p.unit_cost * CASE WHEN p.cost_currency = 'GBP' THEN 1.17 ELSE 1.0 END
               AS unit_cost_base
    FROM core.products AS p
    JOIN core.suppliers AS s USING (supplier_id)
    CROSS JOIN core.locations AS l
    WHERE NOT p.is_bundle
),
stock AS (
    SELECT sku, location_id, on_hand::BIGINT AS on_hand_units
    FROM core.stock_snapshots WHERE snapshot_date = $as_of
),
on_order AS (
    SELECT sku, location_id, sum(quantity_ordered)::BIGINT AS on_order_units
    FROM core.purchase_orders WHERE status = 'open' GROUP BY ALL
),
sized AS (
    SELECT i.*, ['A', 'B', 'C'][n % 3 + 1] AS abc_class, ['X', 'Y', 'Z'][n % 3 + 1] AS xyz_class,
           CAST([0.98, 0.95, 0.9] AS DOUBLE[])[n % 3 + 1] AS service_level,
           round((1.0 + 0.6 * n) * location_share, 2) AS mean_daily_demand_units,
           coalesce(st.on_hand_units, 0) AS on_hand_units,
           coalesce(o.on_order_units, 0) AS on_order_units
    FROM items AS i
    LEFT JOIN stock AS st USING (sku, location_id)
    LEFT JOIN on_order AS o USING (sku, location_id)
),
levels AS (
    SELECT *, ceil(1.65 * mean_daily_demand_units * sqrt(lead_time_mean_days))::BIGINT
               AS safety_stock_units
    FROM sized
)
SELECT $as_of::DATE AS as_of, sku, location_id, supplier_id, abc_class, xyz_class,
       service_level, 'matrix' AS service_level_source, lead_time_mean_days,
       2.0 AS lead_time_sd_days, 'master_supplier' AS lead_time_source, review_period_days,
       mean_daily_demand_units, safety_stock_units,
       safety_stock_units + ceil(mean_daily_demand_units * lead_time_mean_days)::BIGINT
           AS reorder_point_units,
       safety_stock_units
           + ceil(mean_daily_demand_units * (lead_time_mean_days + review_period_days))::BIGINT
           AS order_up_to_units,
       on_hand_units, on_order_units, 0 AS allocated_units, 0 AS backorder_units,
       on_hand_units + on_order_units AS inventory_position_units, unit_cost_base,
       on_hand_units / nullif(mean_daily_demand_units, 0) AS days_of_cover,
       CASE WHEN on_hand_units / mean_daily_demand_units < $horizon
            THEN $as_of::DATE + floor(on_hand_units / mean_daily_demand_units)::INTEGER
       END AS projected_stockout_date,
       CASE WHEN on_hand_units / mean_daily_demand_units < $horizon
            THEN $as_of::DATE + floor(on_hand_units / mean_daily_demand_units)::INTEGER
                 - ceil(lead_time_mean_days)::INTEGER
       END AS last_order_date
FROM levels
"""

PROJECTED_SQL = """
CREATE OR REPLACE TABLE marts.projected_stock AS
SELECT p.as_of, p.sku, p.location_id, p.as_of + d.day::INTEGER AS date,
       p.mean_daily_demand_units AS demand_units,
       0.0 AS inbound_units,
       greatest(p.on_hand_units - p.mean_daily_demand_units * d.day, 0)
           AS projected_on_hand_units
FROM marts.replenishment_policy AS p
CROSS JOIN range(1, $horizon + 1) AS d(day)
"""

SUGGESTIONS_SQL = """
CREATE OR REPLACE TABLE marts.replenishment_suggestions AS
WITH needed AS (
    SELECT p.*, pr.name AS product_name, pr.supplier_sku, pr.case_pack, pr.moq,
           pr.unit_cost, pr.cost_currency AS currency, s.name AS supplier_name,
           -- order-up-to − inventory position, up to whole cases, at least the MOQ
           greatest(ceil((p.order_up_to_units - p.inventory_position_units) / pr.case_pack)
                        * pr.case_pack, pr.moq)::BIGINT AS suggested_units
    FROM marts.replenishment_policy AS p
    JOIN core.products AS pr USING (sku)
    JOIN core.suppliers AS s ON s.supplier_id = p.supplier_id
    WHERE p.inventory_position_units < p.reorder_point_units
),
ranked AS (
    SELECT *, $as_of::DATE + ceil(lead_time_mean_days)::INTEGER AS expected_arrival_date,
           row_number() OVER (ORDER BY projected_stockout_date NULLS LAST, days_of_cover,
                                       sku, location_id)::INTEGER AS urgency_rank
    FROM needed
)
SELECT md5(as_of::VARCHAR || '|' || sku || '|' || location_id) AS suggestion_id, as_of, sku,
       product_name, location_id, supplier_id, supplier_name, supplier_sku,
       as_of AS order_date, expected_arrival_date, suggested_units, case_pack,
       (suggested_units // case_pack)::BIGINT AS cases, moq, unit_cost, currency,
       unit_cost_base, suggested_units * unit_cost AS line_value,
       suggested_units * unit_cost_base AS line_value_base, service_level,
       reorder_point_units, order_up_to_units, safety_stock_units, inventory_position_units,
       projected_stockout_date, days_of_cover, last_order_date, urgency_rank,
       CASE WHEN projected_stockout_date < expected_arrival_date
            THEN format('Runs out on {} before an order placed today arrives on {}: order {} units '
                        '({} cases) to reach {} units.', projected_stockout_date,
                        expected_arrival_date, suggested_units, suggested_units // case_pack,
                        order_up_to_units)
            ELSE format('Inventory position {} is below the reorder point {}: order {} units '
                        '({} cases) to reach {} units.', inventory_position_units,
                        reorder_point_units, suggested_units, suggested_units // case_pack,
                        order_up_to_units)
       END AS reason,
       concat_ws(',', 'below_reorder_point',
                 CASE WHEN projected_stockout_date < expected_arrival_date
                      THEN 'stockout_before_arrival' END,
                 'case_pack') AS reason_codes,
       CASE WHEN projected_stockout_date < expected_arrival_date THEN 'critical'
            WHEN projected_stockout_date IS NOT NULL THEN 'high'
            ELSE 'normal' END AS urgency
FROM ranked
"""


def build_replenishment_marts(con: duckdb.DuckDBPyConnection, as_of: date) -> int:
    """Create the three contract marts in ``con``'s warehouse from its core, as of ``as_of``,
    and the inbound purchase order lines with the real SQL; returns the number of
    suggestions."""
    params = {"as_of": as_of, "horizon": HORIZON_DAYS}
    for sql in (POLICY_SQL, PROJECTED_SQL, SUGGESTIONS_SQL):
        used = {k: v for k, v in params.items() if f"${k}" in sql}
        con.execute(sql, used)
    # the real SQL reads learned lead times only for lines without an expected day (the test
    # core has none): an empty table for the build, gone afterwards
    con.execute("CREATE TABLE marts.lead_times "
                "(supplier_id VARCHAR, sku VARCHAR, lead_time_mean_days DOUBLE)")
    build_inbound_purchase_orders(con, as_of)
    con.execute("DROP TABLE marts.lead_times")
    return con.execute("SELECT count(*) FROM marts.replenishment_suggestions").fetchall()[0][0]
