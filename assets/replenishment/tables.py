"""The replenishment domain's warehouse side: what the policy reads, and the tables it writes.

Callable without Dagster: every function takes an open warehouse connection. Values (the
as-of day, windows, horizons) are parameters, never formatted into the SQL; only the fixed CTE
texts of this module are composed.

Which SKU × locations the policy covers (:data:`POLICY_SCOPE_CTE`): every row of
``marts.inventory_position`` whose SKU is a product that is not a bundle and has a supplier in
``core.suppliers`` (bundles are not ordered, their components are).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from assets.warehouse import row_count

# the rows the policy covers; reused by every statement so they agree
POLICY_SCOPE_CTE = """
scope AS (
    SELECT ip.sku, ip.location_id
    FROM marts.inventory_position AS ip
    JOIN core.products AS p USING (sku)
    JOIN core.suppliers AS s ON s.supplier_id = p.supplier_id
    WHERE NOT coalesce(p.is_bundle, false)
)"""

# the latest FX rate on or before the as-of day per currency; the base currency is 1
RATES_CTE = """
rates AS (
    SELECT currency, arg_max(rate_to_base, rate_date) AS rate
    FROM core.fx_rates
    WHERE rate_date <= $as_of AND currency <> $base_currency
    GROUP BY currency
    UNION ALL SELECT $base_currency, 1.0
)"""

# a supplier's order weekdays ('Mon,Thu') as a list of lower-case three-letter names; an
# empty or unreadable list means "any day" (the next order day is then the as-of day)
ORDER_DAYS_CTE = """
order_days AS (
    SELECT supplier_id,
           list_filter(list_transform(string_split(coalesce(order_weekdays, ''), ','),
                                      lambda x: lower(left(trim(x), 3))),
                       lambda x: x IN ('mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'))
               AS weekdays
    FROM core.suppliers
)"""


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
        [schema, table],
    ).fetchall()[0][0] > 0


def policy_as_of(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The policy's "today": the inventory position's as-of day (the latest stock snapshot)."""
    if not table_exists(con, "marts", "inventory_position"):
        return None
    return con.execute("SELECT max(as_of) FROM marts.inventory_position").fetchall()[0][0]


def replace_table(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame,
                  select: str = "SELECT * FROM _frame", params: dict | None = None) -> int:
    """``CREATE OR REPLACE`` ``table`` (a fixed name of this package) as ``select`` over
    ``frame`` registered as ``_frame`` (``select`` may join warehouse tables)."""
    con.register("_frame", frame.to_arrow())
    try:
        con.execute(f"CREATE OR REPLACE TABLE {table} AS {select}", params or {})
    finally:
        con.unregister("_frame")
    return row_count(con, table)


# ---------------------------------------------------------------------------------------------
# lead times
# ---------------------------------------------------------------------------------------------

def lead_time_inputs(con: duckdb.DuckDBPyConnection, since: dt.date | None):
    """``(purchase_orders, receipts, products, suppliers)`` frames for
    :func:`forecasting.policy.lead_time_stats`: PO lines ordered on or after ``since`` (all
    when None), their receipts, the non-bundle products with a supplier, the suppliers."""
    params = {"since": since or dt.date.min}
    po = con.sql(
        """SELECT po_number, supplier_id, sku, quantity_ordered, ordered_at, expected_at, status
           FROM core.purchase_orders WHERE CAST(ordered_at AS DATE) >= $since""",
        params=params,
    ).pl()
    receipts = con.sql(
        """SELECT r.po_number, r.sku, r.quantity_received, r.received_at
           FROM core.receipts AS r
           SEMI JOIN (SELECT po_number, sku FROM core.purchase_orders
                      WHERE CAST(ordered_at AS DATE) >= $since) USING (po_number, sku)""",
        params=params,
    ).pl()
    products = con.sql(
        """SELECT sku, supplier_id, lead_time_days FROM core.products
           WHERE NOT coalesce(is_bundle, false) AND supplier_id IS NOT NULL"""
    ).pl()
    suppliers = con.sql(
        "SELECT supplier_id, lead_time_days_mean, lead_time_days_sd FROM core.suppliers"
    ).pl()
    return po, receipts, products, suppliers


# ---------------------------------------------------------------------------------------------
# demand per location, stock to start from, inbound purchase orders
# ---------------------------------------------------------------------------------------------

LOCATION_SHARES_SQL = f"""
WITH {POLICY_SCOPE_CTE},
shipped AS (  -- units shipped per SKU and location in the window; a bundle as its components
    SELECT coalesce(bc.component_sku, f.sku) AS sku, f.location_id,
           sum(f.quantity * coalesce(bc.units_per_bundle, 1)) AS units
    FROM core.fulfillment_events AS f
    LEFT JOIN core.bundle_components AS bc ON bc.bundle_sku = f.sku
    WHERE f.event_type = 'shipped'
      AND CAST(f.event_at AS DATE) > $as_of - CAST($days AS INTEGER)
      AND CAST(f.event_at AS DATE) <= $as_of
    GROUP BY ALL
),
by_location AS (
    SELECT s.sku, s.location_id, coalesce(sh.units, 0)::BIGINT AS shipped_units,
           sum(coalesce(sh.units, 0)) OVER (PARTITION BY s.sku) AS sku_units,
           count(*) OVER (PARTITION BY s.sku) AS locations
    FROM scope AS s
    LEFT JOIN shipped AS sh USING (sku, location_id)
)
SELECT sku, location_id, shipped_units,
       CASE WHEN sku_units > 0 THEN shipped_units / sku_units ELSE 1.0 / locations END AS share,
       CASE WHEN sku_units > 0 THEN 'shipped' ELSE 'equal_split' END AS share_source
FROM by_location
ORDER BY sku, location_id
"""


def location_shares(con: duckdb.DuckDBPyConnection, as_of: dt.date, days: int) -> pl.DataFrame:
    """``sku, location_id, shipped_units, share, share_source`` for every SKU × location in the
    policy's scope: the location's share of the SKU's units shipped in the ``days`` days up to
    ``as_of`` (bundles counted as components); an equal split over the SKU's locations when
    none of them shipped any (``share_source`` = ``equal_split``). Shares of a SKU sum to 1."""
    return con.sql(LOCATION_SHARES_SQL, params={"as_of": as_of, "days": days}).pl()


def read_forecast(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> pl.DataFrame:
    """``sku, date, mean, vmr, level_cv, yearly_ratio``: the demand forecast for the days after
    ``as_of`` (``level_cv`` 0 and ``yearly_ratio`` 1 in a forecast table written before they
    existed)."""
    columns = {r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = 'marts' AND table_name = 'demand_forecast'").fetchall()}
    level_cv = "level_cv" if "level_cv" in columns else "0.0::DOUBLE AS level_cv"
    yearly = "yearly_ratio" if "yearly_ratio" in columns else "1.0::DOUBLE AS yearly_ratio"
    return con.sql(
        f"""SELECT sku, date, mean, vmr, {level_cv}, {yearly} FROM marts.demand_forecast
           WHERE date > $as_of ORDER BY sku, date""",
        params={"as_of": as_of},
    ).pl()


START_SQL = f"""
WITH {POLICY_SCOPE_CTE}
SELECT ip.sku, ip.location_id,
       ip.on_hand_units - ip.allocated_units - ip.backorder_units AS start_units
FROM marts.inventory_position AS ip
SEMI JOIN scope USING (sku, location_id)
ORDER BY sku, location_id
"""


def start_units(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """``sku, location_id, start_units``: what the projection starts from, in units: on hand
    − allocated (will ship) − backorders (paid, waiting for stock); may be below 0."""
    return con.sql(START_SQL).pl()


# open PO lines, what was received of them and the day the rest should come: shared by the
# projection's inbound units and the inbound purchase order table, so the two always agree
OPEN_LINES_CTE = """
received AS (
    SELECT po_number, sku, sum(quantity_received) AS units FROM core.receipts GROUP BY ALL
),
open_lines AS (  -- what inventory_position counts as on order, with the day it should come
    SELECT po.po_number, po.supplier_id, po.sku, po.location_id, po.ordered_at,
           po.expected_at, po.quantity_ordered, coalesce(r.units, 0) AS received_units,
           greatest(po.quantity_ordered - coalesce(r.units, 0), 0) AS units,
           coalesce(po.expected_at,
                    CAST(po.ordered_at AS DATE)
                        + CAST(round(coalesce(lt.lead_time_mean_days, 0)) AS INTEGER)) AS due
    FROM core.purchase_orders AS po
    LEFT JOIN received AS r USING (po_number, sku)
    LEFT JOIN marts.lead_times AS lt ON lt.supplier_id = po.supplier_id AND lt.sku = po.sku
    WHERE po.status = 'open'
)"""

INBOUND_SQL = f"""
WITH {POLICY_SCOPE_CTE},
{OPEN_LINES_CTE}
SELECT sku, location_id,
       greatest(due, $as_of + 1) AS date,  -- overdue: expected tomorrow
       sum(units)::BIGINT AS inbound_units
FROM open_lines
SEMI JOIN scope USING (sku, location_id)
WHERE units > 0
GROUP BY ALL
ORDER BY sku, location_id, date
"""


def inbound(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> pl.DataFrame:
    """``sku, location_id, date, inbound_units``: open PO lines less what was received, by the
    day they are expected (``expected_at``; without one, order day + the learned lead time;
    overdue lines are expected the day after ``as_of``)."""
    return con.sql(INBOUND_SQL, params={"as_of": as_of}).pl()


INBOUND_PURCHASE_ORDERS_SQL = f"""
CREATE OR REPLACE TABLE marts.inbound_purchase_orders AS
WITH {OPEN_LINES_CTE}
SELECT CAST($as_of AS DATE) AS as_of, o.po_number, o.supplier_id, s.name AS supplier_name,
       o.sku, o.location_id, CAST(o.ordered_at AS DATE) AS ordered_date,
       o.due AS expected_date,
       CASE WHEN o.expected_at IS NULL THEN 'lead_time' ELSE 'purchase_order' END
           AS expected_date_source,
       CAST(o.quantity_ordered AS BIGINT) AS units_ordered,
       CAST(o.received_units AS BIGINT) AS units_received,
       CAST(o.units AS BIGINT) AS units_inbound,
       coalesce(o.due < $as_of, false) AS is_late,
       greatest($as_of - o.due, 0) AS days_late
FROM open_lines AS o
LEFT JOIN core.suppliers AS s ON s.supplier_id = o.supplier_id
WHERE o.units > 0
ORDER BY o.sku, o.location_id, o.due, o.po_number
"""


def build_inbound_purchase_orders(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> int:
    """``marts.inbound_purchase_orders``: one row per open PO line with units still to come
    (the lines behind the projection's ``inbound_units``), late when expected before
    ``as_of``."""
    con.execute(INBOUND_PURCHASE_ORDERS_SQL, {"as_of": as_of})
    return row_count(con, "marts.inbound_purchase_orders")


# ---------------------------------------------------------------------------------------------
# the policy's inputs per SKU × location, and the policy table
# ---------------------------------------------------------------------------------------------

POLICY_PARAMS_SQL = f"""
WITH {POLICY_SCOPE_CTE}
SELECT sc.sku, sc.location_id, p.supplier_id,
       lt.lead_time_mean_days, lt.lead_time_sd_days, lt.source AS lead_time_source,
       s.review_period_days
FROM scope AS sc
JOIN core.products AS p USING (sku)
JOIN core.suppliers AS s ON s.supplier_id = p.supplier_id
LEFT JOIN marts.lead_times AS lt ON lt.supplier_id = p.supplier_id AND lt.sku = sc.sku
ORDER BY sku, location_id
"""


def policy_params(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """``sku, location_id, supplier_id, lead_time_mean_days, lead_time_sd_days,
    lead_time_source, review_period_days`` for the policy's scope (lead times from
    ``marts.lead_times``' SKU rows)."""
    return con.sql(POLICY_PARAMS_SQL).pl()


POLICY_COSTS_SQL = """
SELECT p.sku, p.case_pack, p.moq, uc.unit_cost_base AS unit_cost
FROM core.products AS p
LEFT JOIN marts.kpi_unit_cost_by_sku AS uc USING (sku)
"""


def policy_costs(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """``sku, case_pack, moq, unit_cost`` (base currency per unit, null when unknown): what a
    fill-rate target needs to value the stock it allocates and to size a SKU's cycle."""
    return con.sql(POLICY_COSTS_SQL).pl()


def segments(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """``sku, abc, xyz`` from ``marts.demand_segments`` (empty when it was not built)."""
    if not table_exists(con, "marts", "demand_segments"):
        return pl.DataFrame(schema={"sku": pl.String, "abc": pl.String, "xyz": pl.String})
    return con.sql("SELECT sku, abc, xyz FROM marts.demand_segments").pl()


POLICY_SQL = f"""
WITH {RATES_CTE},
{ORDER_DAYS_CTE},
week AS (SELECT CAST(range AS INTEGER) AS d FROM range(0, 7)),
stockouts AS (  -- the first projected day at or below 0 after some demand
    SELECT sku, location_id,
           min(date) FILTER (WHERE projected_on_hand_units <= 0 AND cum_demand > 0)
               AS projected_stockout_date
    FROM (SELECT *, sum(demand_units) OVER (PARTITION BY sku, location_id ORDER BY date)
                        AS cum_demand
          FROM marts.projected_stock)
    GROUP BY sku, location_id
),
rows AS (
    SELECT l.*, ip.on_hand_units, ip.on_order_units, ip.allocated_units, ip.backorder_units,
           ip.inventory_position_units,
           p.name AS product_name, p.supplier_sku, p.case_pack, p.moq, p.discontinued_on,
           s.name AS supplier_name, s.currency, s.min_order_value, od.weekdays,
           uc.unit_cost_base,
           -- the cost in the supplier's currency: master data when it is in that currency,
           -- else the base-currency cost converted at the as-of rate
           CASE WHEN p.cost_currency = s.currency AND p.unit_cost IS NOT NULL THEN p.unit_cost
                ELSE uc.unit_cost_base / rs.rate END AS unit_cost,
           so.projected_stockout_date,
           CAST(round(l.lead_time_mean_days) AS INTEGER) AS lead_days
    FROM _frame AS l
    JOIN marts.inventory_position AS ip USING (sku, location_id)
    JOIN core.products AS p USING (sku)
    JOIN core.suppliers AS s ON s.supplier_id = l.supplier_id
    LEFT JOIN order_days AS od ON od.supplier_id = l.supplier_id
    LEFT JOIN marts.kpi_unit_cost_by_sku AS uc USING (sku)
    LEFT JOIN rates AS rs ON rs.currency = s.currency
    LEFT JOIN stockouts AS so USING (sku, location_id)
),
next_order AS (  -- the supplier's next order day on or after the as-of day
    SELECT r.sku, r.location_id, min(CAST($as_of AS DATE) + d) AS order_date
    FROM rows AS r, week
    WHERE len(r.weekdays) = 0
       OR list_contains(r.weekdays, lower(strftime(CAST($as_of AS DATE) + d, '%a')))
    GROUP BY ALL
),
last_order AS (  -- the last order day whose delivery still arrives by the stockout date
    SELECT r.sku, r.location_id, max(target - d) AS last_order_date
    FROM (SELECT *, projected_stockout_date - lead_days AS target FROM rows
          WHERE projected_stockout_date IS NOT NULL) AS r, week
    WHERE len(r.weekdays) = 0
       OR list_contains(r.weekdays, lower(strftime(target - d, '%a')))
    GROUP BY ALL
),
policy AS (
SELECT CAST($as_of AS DATE) AS as_of, r.sku, r.location_id, r.supplier_id,
       r.abc_class, r.xyz_class, r.service_level, r.service_level_source,
       r.lead_time_mean_days, r.lead_time_sd_days, r.lead_time_source,
       r.review_period_days, r.mean_daily_demand_units, r.safety_stock_units,
       r.reorder_point_units, r.order_up_to_units,
       r.on_hand_units, r.on_order_units, r.allocated_units, r.backorder_units,
       r.inventory_position_units, r.unit_cost_base,
       CASE WHEN r.mean_daily_demand_units > 0
            THEN greatest(r.on_hand_units - r.allocated_units - r.backorder_units, 0)
                 / r.mean_daily_demand_units END AS days_of_cover,
       r.projected_stockout_date, lo.last_order_date,
       -- beyond the contract: what the suggestions and the CLI need
       r.product_name, r.supplier_name, r.supplier_sku, r.case_pack, r.moq,
       r.unit_cost, r.currency, r.min_order_value,
       r.demand_share, r.share_source, r.lead_time_demand_units, r.season_ratio,
       r.season_days,
       coalesce(no.order_date, CAST($as_of AS DATE)) AS order_date,
       coalesce(no.order_date, CAST($as_of AS DATE)) + r.lead_days AS expected_arrival_date,
       coalesce(r.discontinued_on <= coalesce(no.order_date, CAST($as_of AS DATE)) + r.lead_days,
                false) AS is_discontinued,
       r.inventory_position_units <= r.reorder_point_units AS below_reorder_point
FROM rows AS r
LEFT JOIN next_order AS no USING (sku, location_id)
LEFT JOIN last_order AS lo USING (sku, location_id)
)
-- needs an order now: at or below the reorder point, the order-up-to level above the
-- position, and not discontinued by the time an order placed on the order day arrives
SELECT *, below_reorder_point AND order_up_to_units > inventory_position_units
          AND NOT is_discontinued AS needs_order
FROM policy
ORDER BY sku, location_id
"""


def build_policy(con: duckdb.DuckDBPyConnection, levels: pl.DataFrame, as_of: dt.date,
                 base_currency: str) -> int:
    """``marts.replenishment_policy`` from the computed ``levels`` (one row per SKU ×
    location: service level, lead time, demand and the three levels) joined with the position,
    master data, unit cost, projected stockout date and the supplier's order days."""
    return replace_table(con, "marts.replenishment_policy", levels, POLICY_SQL,
                         {"as_of": as_of, "base_currency": base_currency})


SUGGESTION_LINES_SQL = """
SELECT *, order_up_to_units - inventory_position_units AS need_units
FROM marts.replenishment_policy
WHERE needs_order
ORDER BY sku, location_id
"""


def suggestion_lines(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The policy rows that need an order now: at or below the reorder point, order-up-to
    above the position, not discontinued by the time an order would arrive."""
    return con.sql(SUGGESTION_LINES_SQL).pl()


SUGGESTIONS_SELECT = """
WITH lines AS (
    SELECT *, greatest(coalesce(case_pack, 1), 1) AS _pack FROM _frame WHERE suggested_units > 0
),
moq AS (  -- what the MOQ alone adds: the need in whole cases against the need lifted to the MOQ
    SELECT *,
           CAST(greatest(
               least(suggested_units,
                     ceil(greatest(ceil(greatest(need_units, 0) - 1e-9), coalesce(moq, 0))
                          / _pack) * _pack)
               - ceil(ceil(greatest(need_units, 0) - 1e-9) / _pack) * _pack, 0) AS BIGINT)
               AS moq_excess_units
    FROM lines
)
SELECT md5(concat_ws('|', CAST(as_of AS VARCHAR), sku, location_id)) AS suggestion_id,
       as_of, sku, product_name, location_id, supplier_id, supplier_name, supplier_sku,
       order_date, expected_arrival_date,
       CAST(suggested_units AS BIGINT) AS suggested_units, CAST(case_pack AS INTEGER) AS case_pack,
       CAST(cases AS BIGINT) AS cases, CAST(moq AS INTEGER) AS moq,
       unit_cost, currency, unit_cost_base, line_value,
       suggested_units * unit_cost_base AS line_value_base,
       service_level, reorder_point_units, order_up_to_units, safety_stock_units,
       inventory_position_units, projected_stockout_date, days_of_cover, last_order_date,
       CAST(urgency_rank AS INTEGER) AS urgency_rank, reason, reason_codes,
       -- beyond the contract
       need_units, topup_units, coverage_cap_units, order_value, min_order_value,
       order_below_min_value, mean_daily_demand_units, season_ratio, season_days,
       -- the position once this order (and the open purchase orders) are in, in days of mean
       -- demand from today; null without demand
       CASE WHEN mean_daily_demand_units > 0
            THEN (inventory_position_units + suggested_units) / mean_daily_demand_units
            END AS days_of_cover_after_order,
       moq_excess_units,
       CASE WHEN mean_daily_demand_units > 0
            THEN moq_excess_units / mean_daily_demand_units END AS moq_excess_days,
       -- an MOQ-driven overbuy: the MOQ adds more than $moq_overbuy_days days of demand beyond
       -- the need in whole cases (any excess at all when the line has no demand)
       moq_excess_units > 0
         AND coalesce(moq_excess_units / nullif(mean_daily_demand_units, 0)
                      > $moq_overbuy_days, true) AS moq_overbuy
FROM moq
ORDER BY urgency_rank
"""


def build_suggestions(con: duckdb.DuckDBPyConnection, lines: pl.DataFrame, *,
                      moq_overbuy_days: float = 30.0) -> int:
    """``marts.replenishment_suggestions`` from the sized lines (``suggestion_id`` = md5 of
    ``as_of|sku|location_id``: the same day's re-run keeps the ids).

    Beyond the sizing it adds ``days_of_cover_after_order`` ((inventory position + suggested
    units) ÷ mean daily demand, days from today; null without demand), ``moq_excess_units``
    (units the MOQ adds beyond the need rounded up to whole cases; 0 when the MOQ does not
    bind), ``moq_excess_days`` (the same in days of mean demand) and ``moq_overbuy`` (the
    excess is more than ``moq_overbuy_days`` days of demand, or any excess without demand)."""
    return replace_table(con, "marts.replenishment_suggestions", lines, SUGGESTIONS_SELECT,
                         {"moq_overbuy_days": float(moq_overbuy_days)})
