"""Alerts as set-based DuckDB SQL: the rules, the open/escalate/resolve state machine, the
delivery log. Callable without Dagster (``tests/alerts`` runs it on hand-made tables).

1. :func:`build_alerts_current` evaluates every rule whose input tables exist and writes
   ``marts.alerts_current`` (the conditions true now, one row per stable ``alert_key``) and
   ``marts.alert_rules`` (which rules ran, which were skipped and why).
2. :func:`advance_alert_state` compares them with ``ops.alert_state`` and records each change
   as one row of ``ops.alert_events``: ``opened`` (new, or back after being resolved),
   ``escalated`` (severity above the highest already announced), ``resolved`` (its rule ran
   and the condition is gone). A re-run on the same data changes nothing.
3. :func:`pending_deliveries` lists the (event, sink) pairs not yet delivered;
   :func:`record_attempts` appends every attempt to ``ops.alert_deliveries``.

Units: quantities in units, money in the base currency (``*_base``) and, where a document
has one (a PO line), in its own currency too; ``as_of`` is the data's business date (the
latest stock snapshot), ``*_at`` times are wall-clock UTC.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime

import duckdb
import polars as pl

from assets.alerts.config import SEVERITY_RANK, AlertThresholds, SinkSettings

# the columns every rule fills (a rule leaves out what it has not got: NULL)
ALERT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("alert_key", "VARCHAR"),      # stable across runs: <alert_type>:<subject ids>
    ("alert_type", "VARCHAR"),
    ("severity", "VARCHAR"),       # info | warning | critical
    ("severity_rank", "INTEGER"),  # 1 | 2 | 3
    ("as_of", "DATE"),
    ("subject", "VARCHAR"),        # what it is about, in words: "SKU-1 at WH1"
    ("sku", "VARCHAR"),
    ("location_id", "VARCHAR"),
    ("channel_id", "VARCHAR"),
    ("supplier_id", "VARCHAR"),
    ("po_number", "VARCHAR"),
    ("metric", "VARCHAR"),         # the number the rule tests ...
    ("metric_value", "DOUBLE"),
    ("threshold", "DOUBLE"),       # ... and the limit it was tested against
    ("units", "BIGINT"),           # the units at stake (short, excess, idle, off, outstanding)
    ("value", "DOUBLE"),           # their value in `currency`
    ("currency", "VARCHAR"),
    ("value_base", "DOUBLE"),      # their value in the base currency
    ("message", "VARCHAR"),        # one sentence operations read at a glance
)
ALERT_COLUMN_NAMES = tuple(name for name, _ in ALERT_COLUMNS)

_RANK_CASE = " ".join(f"WHEN '{name}' THEN {rank}" for name, rank in SEVERITY_RANK.items())

ALERT_DAY_CTE = """
alert_day AS (  -- data time, not wall-clock time: the same inputs give the same alerts
    SELECT coalesce((SELECT max(snapshot_date) FROM core.stock_snapshots),
                    (SELECT CAST(max(ordered_at) AS DATE) FROM core.order_lines)) AS as_of
),
selling_price AS (  -- what a unit sells for (base currency): the money a lost sale costs
    SELECT sku, avg(unit_price_base) AS unit_price_base
    FROM core.order_lines
    WHERE status <> 'cancelled' AND unit_price_base > 0
    GROUP BY sku
)"""


@dataclass(frozen=True)
class Rule:
    """One alert type: the tables (and their columns) it reads, and one SELECT over them."""

    alert_type: str
    doc: str
    needs: dict[str, tuple[str, ...]]
    sql: str


# value_base is the money at risk, what alerts are ranked by: the margin a stockout loses, the
# value overstock and dead stock tie up, the sales an oversold listing would have to cancel,
# the value of a count break, the value a late PO line still owes.

# Low stock alerts only what an ordinary order cannot fix any more: a stockout before an
# order placed today could arrive, or nothing left now. A SKU merely below its reorder point
# gets a replenishment suggestion, and a stockout more than a week away that another
# location's spare stock covers gets a transfer: neither is an alert.
LOW_STOCK_SQL = """
SELECT 'low_stock:' || p.sku || ':' || p.location_id AS alert_key,
       CASE WHEN ats = 0 OR days_to_stockout <= $low_stock_critical_days
            THEN 'critical' ELSE 'warning' END AS severity,
       p.sku || ' at ' || p.location_id AS subject, p.sku, p.location_id, p.supplier_id,
       'days_to_stockout' AS metric, days_to_stockout AS metric_value,
       ceil(coalesce(p.lead_time_mean_days, 0)) AS threshold,
       ceil(lost_units)::BIGINT AS units,
       lost_units * unit_margin AS value, $base_currency AS currency,
       lost_units * unit_margin AS value_base,
       format('{} at {}: ATS {} units, {} on order; ', p.sku, p.location_id, ats,
              coalesce(p.on_order_units, 0))
       || CASE WHEN ats = 0 THEN 'out of stock now'
               ELSE format('projected stockout {} (in {} days)', p.projected_stockout_date,
                           days_to_stockout) END
       || format(', before an order placed today could arrive (lead time {:.0f} days): about '
                 '{:.0f} units of sales lost, {:,.2f} {} of margin',
                 coalesce(p.lead_time_mean_days, 0), lost_units, lost_units * unit_margin,
                 $base_currency) AS message
FROM (
    SELECT p.*,
           -- demand between the stockout and the arrival of an order placed today
           p.mean_daily_demand_units
               * greatest(ceil(coalesce(p.lead_time_mean_days, 0)) - p.days_to_stockout, 0)
               AS lost_units,
           -- margin of a lost sale; without a selling price, at least its cost
           CASE WHEN sp.unit_price_base IS NOT NULL
                THEN greatest(sp.unit_price_base - coalesce(p.unit_cost_base, 0), 0)
                ELSE coalesce(p.unit_cost_base, 0) END AS unit_margin,
           -- units other locations hold above their own reorder points: what a transfer can
           -- bring (the replenishment step suggests transfers before purchases)
           sum(greatest(p.ats - ceil(coalesce(p.reorder_point_units, 0)), 0))
               OVER (PARTITION BY p.sku)
               - greatest(p.ats - ceil(coalesce(p.reorder_point_units, 0)), 0)
               AS spare_elsewhere
    FROM (
        SELECT p.*,
               coalesce(a.ats_units, greatest(p.on_hand_units - p.allocated_units, 0)) AS ats,
               -- NULL when no stockout is projected (greatest() would turn NULL into 0)
               CASE WHEN coalesce(a.ats_units,
                                  greatest(p.on_hand_units - p.allocated_units, 0)) = 0 THEN 0
                    WHEN p.projected_stockout_date IS NOT NULL
                    THEN greatest(p.projected_stockout_date - d.as_of, 0) END
                   AS days_to_stockout
        FROM marts.replenishment_policy AS p
        CROSS JOIN alert_day AS d
        LEFT JOIN marts.ats_by_sku_location AS a
          ON a.sku = p.sku AND a.location_id = p.location_id AND NOT a.is_bundle
    ) AS p
    LEFT JOIN selling_price AS sp ON sp.sku = p.sku
    WHERE p.mean_daily_demand_units > 0
) AS p
WHERE days_to_stockout < ceil(coalesce(p.lead_time_mean_days, 0))
  AND lost_units * unit_margin >= $low_stock_min_value  -- worth a person's time
  -- beyond a week away, stock spare at another location is the fix, by a routine transfer
  AND NOT (days_to_stockout > $low_stock_critical_days AND spare_elsewhere >= lost_units)
"""

OVERSTOCK_SQL = """
SELECT 'overstock:' || sku || ':' || location_id AS alert_key,
       'warning' AS severity,
       sku || ' at ' || location_id AS subject, sku, location_id, supplier_id,
       'days_of_cover' AS metric, days_of_cover AS metric_value,
       $overstock_warning_days_of_cover AS threshold,
       excess AS units, excess * unit_cost_base AS value, $base_currency AS currency,
       excess * unit_cost_base AS value_base,
       format('{} at {}: {:.0f} days of cover, {} units on hand; {} units beyond {:.0f} days of '
              'demand tie up {:,.2f} {}', sku, location_id, days_of_cover, on_hand_units, excess,
              $overstock_days_of_cover, excess * unit_cost_base, $base_currency) AS message
FROM (
    -- excess = on hand beyond what overstock_days_of_cover days of demand need
    SELECT *, greatest(on_hand_units
                       - ceil($overstock_days_of_cover * mean_daily_demand_units), 0)::BIGINT
                  AS excess
    FROM marts.replenishment_policy
    WHERE days_of_cover > $overstock_warning_days_of_cover AND on_hand_units > 0
)
WHERE excess * coalesce(unit_cost_base, 0) >= $overstock_min_value
"""

DEAD_STOCK_SQL = """
SELECT 'dead_stock:' || sku || ':' || location_id AS alert_key,
       'warning' AS severity,
       sku || ' at ' || location_id AS subject, sku, location_id, supplier_id,
       'days_without_sale' AS metric, days_without_sale AS metric_value,
       $no_sale_days AS threshold, on_hand_units AS units,
       dead_stock_value_base AS value, $base_currency AS currency,
       dead_stock_value_base AS value_base,
       format('{} at {}: no sale in {} days (last {}), {} units on hand worth {:,.2f} {}',
              sku, location_id, days_without_sale, coalesce(CAST(last_sold_on AS VARCHAR), 'never'),
              on_hand_units, coalesce(dead_stock_value_base, 0), $base_currency) AS message
FROM marts.kpi_dead_stock_by_sku_location
WHERE days_without_sale >= $no_sale_days
  AND coalesce(dead_stock_value_base, 0) >= $dead_stock_warning_value
"""

DISCREPANCY_SQL = """
SELECT 'discrepancy:' || sku || ':' || location_id AS alert_key,
       CASE WHEN abs(coalesce(difference_value_base, 0)) >= $discrepancy_critical_value
            THEN 'critical' ELSE 'warning' END AS severity,
       sku || ' at ' || location_id AS subject, sku, location_id,
       'difference_units' AS metric, difference_units AS metric_value,
       tolerance_units AS threshold, difference_units AS units,
       difference_value_base AS value, $base_currency AS currency,
       difference_value_base AS value_base,
       format('{} at {}: counted {}, expected {} on {} ({:+d} units, {:,.2f} {}); likely cause: {}',
              sku, location_id, counted_on_hand, expected_on_hand, snapshot_date, difference_units,
              coalesce(difference_value_base, 0), $base_currency, coalesce(likely_cause, 'unknown'))
           AS message
FROM (  -- each SKU-location's latest count: a later count within tolerance clears the alert
    SELECT * FROM marts.reconciliation
    QUALIFY row_number() OVER (PARTITION BY sku, location_id ORDER BY snapshot_date DESC) = 1
)
WHERE NOT within_tolerance
  AND (abs(difference_units) >= $discrepancy_units
       OR abs(coalesce(difference_value_base, 0)) >= $discrepancy_value)
"""

# one alert per SKU however many listings show too much: the listings go in the message
OVERSELL_SQL = """
SELECT 'oversell_risk:' || o.sku AS alert_key,
       CASE WHEN bool_or(o.ats_units = 0) THEN 'critical' ELSE 'warning' END AS severity,
       o.sku || ' on ' || string_agg(DISTINCT o.channel_id, ', ' ORDER BY o.channel_id)
           AS subject,
       o.sku, min(o.channel_id) AS channel_id, any_value(pr.supplier_id) AS supplier_id,
       'excess_share' AS metric,
       max(o.excess_units / greatest(o.ats_units, 1)) AS metric_value,
       $oversell_warning_share AS threshold,
       sum(o.excess_units)::BIGINT AS units,
       sum(o.excess_units) * any_value(sp.unit_price_base) AS value,
       $base_currency AS currency,
       sum(o.excess_units) * any_value(sp.unit_price_base) AS value_base,
       o.sku || ': listed beyond what is available to sell on '
           || string_agg(format('{} ({}: listed {}, available {})', o.channel_id, o.channel_sku,
                                o.listed_quantity, o.ats_units), '; '
                         ORDER BY o.channel_id, o.channel_sku) AS message
FROM marts.oversell_risk AS o
LEFT JOIN selling_price AS sp ON sp.sku = o.sku
LEFT JOIN core.products AS pr ON pr.sku = o.sku
WHERE coalesce(o.listing_status, 'active') <> 'inactive'  -- a hidden listing cannot oversell
  AND o.excess_units > 0
  -- nothing left to sell, or a gap too big for the next availability feed to be the fix
  AND (o.ats_units = 0 OR o.excess_units >= $oversell_warning_share * o.ats_units)
GROUP BY o.sku
"""

# one alert per SKU-location however many of its PO lines are late: the lines go in the
# message (the buyer calls the supplier once about all of them)
LATE_PO_SQL = """
SELECT 'late_po:' || sku || ':' || location_id AS alert_key,
       CASE WHEN max(days_late) >= $late_po_critical_days THEN 'critical' ELSE 'warning' END
           AS severity,
       sku || ' at ' || location_id || ' from ' || string_agg(DISTINCT supplier_id, ', ')
           AS subject,
       sku, location_id, min(supplier_id) AS supplier_id,
       string_agg(po_number, ', ' ORDER BY po_number) AS po_number,
       'days_late' AS metric, max(days_late) AS metric_value, $late_po_grace_days AS threshold,
       sum(outstanding)::BIGINT AS units,
       -- the amount in the PO currency only when every late line has the same one
       CASE WHEN count(DISTINCT currency) = 1 THEN sum(outstanding * unit_cost) END AS value,
       CASE WHEN count(DISTINCT currency) = 1 THEN any_value(currency) END AS currency,
       sum(outstanding * unit_cost_base) AS value_base,
       string_agg(format('{} {} from {}: {} of {} units still due, expected {} ({} days late)',
                         po_number, sku, supplier_id, outstanding, quantity_ordered, expected_at,
                         days_late), '; ' ORDER BY po_number) AS message
FROM (
    SELECT po.*, d.as_of - po.expected_at AS days_late,
           (po.quantity_ordered - coalesce(r.received, 0))::BIGINT AS outstanding
    FROM core.purchase_orders AS po
    CROSS JOIN alert_day AS d
    LEFT JOIN (SELECT po_number, sku, sum(quantity_received) AS received
               FROM core.receipts GROUP BY po_number, sku) AS r USING (po_number, sku)
    WHERE po.status = 'open' AND po.expected_at IS NOT NULL
)
WHERE days_late > $late_po_grace_days AND outstanding > 0
GROUP BY sku, location_id
"""

POLICY_COLUMNS = ("sku", "location_id", "supplier_id", "on_hand_units", "allocated_units",
                  "on_order_units", "reorder_point_units", "lead_time_mean_days", "projected_stockout_date",
                  "unit_cost_base", "mean_daily_demand_units")

# in the order a person reads them; choosing which run is data (which tables exist)
RULES: tuple[Rule, ...] = (
    Rule("low_stock",
         "A projected stockout before an order placed today could arrive (critical when ATS "
         "is 0 or the stockout is within low_stock_critical_days) losing at least "
         "low_stock_min_value of margin.",
         {"marts.replenishment_policy": POLICY_COLUMNS,
          "marts.ats_by_sku_location": ("sku", "location_id", "is_bundle", "ats_units")},
         LOW_STOCK_SQL),
    Rule("overstock",
         "Days of cover above overstock_warning_days_of_cover and at least overstock_min_value "
         "tied up beyond overstock_days_of_cover of demand.",
         {"marts.replenishment_policy": (*POLICY_COLUMNS, "days_of_cover",
                                         "mean_daily_demand_units")},
         OVERSTOCK_SQL),
    Rule("dead_stock",
         "Stock with no sale in no_sale_days worth at least dead_stock_warning_value.",
         {"marts.kpi_dead_stock_by_sku_location": (
             "sku", "location_id", "supplier_id", "on_hand_units", "dead_stock_value_base",
             "last_sold_on", "days_without_sale")},
         DEAD_STOCK_SQL),
    Rule("discrepancy",
         "The latest count outside reconciliation tolerance by discrepancy_units or "
         "discrepancy_value (critical from discrepancy_critical_value).",
         {"marts.reconciliation": (
             "snapshot_date", "sku", "location_id", "difference_units", "difference_value_base",
             "tolerance_units", "within_tolerance", "expected_on_hand", "counted_on_hand",
             "likely_cause")},
         DISCREPANCY_SQL),
    Rule("oversell_risk",
         "Live listings of a SKU show more than the channel's ATS by oversell_warning_share "
         "(critical when a channel has none left); one alert per SKU.",
         {"marts.oversell_risk": ("channel_id", "channel_sku", "sku", "listing_status",
                                  "listed_quantity", "ats_units", "excess_units"),
          "core.products": ("sku", "supplier_id")},
         OVERSELL_SQL),
    Rule("late_po",
         "Open PO lines of a SKU-location with units still due more than late_po_grace_days "
         "after their expected date (critical from late_po_critical_days); one alert each.",
         {"core.purchase_orders": ("po_number", "sku", "supplier_id", "status", "expected_at"),
          "core.receipts": ("po_number", "sku", "quantity_received")},
         LATE_PO_SQL),
)
RULES_BY_TYPE = {rule.alert_type: rule for rule in RULES}


def _catalog(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    """``schema.table`` -> its columns, for every table and view of the open database."""
    rows = con.execute(
        "SELECT table_schema || '.' || table_name, column_name FROM information_schema.columns "
        "WHERE table_catalog = current_database()").fetchall()
    out: dict[str, set[str]] = {}
    for table, column in rows:
        out.setdefault(table, set()).add(column)
    return out


def skipped_reason(rule: Rule, catalog: dict[str, set[str]]) -> str | None:
    """Why ``rule`` cannot run on this warehouse (None: it can)."""
    for table, columns in rule.needs.items():
        if table not in catalog:
            return f"{table} not built yet"
        missing = sorted(set(columns) - catalog[table])
        if missing:
            return f"{table} lacks {', '.join(missing)}"
    return None


def _bind(sql: str, values: dict) -> dict:
    # DuckDB rejects named values a statement does not use: pass exactly the ones it uses
    return {name: values[name] for name in set(re.findall(r"\$(\w+)", sql))}


def alerts_current_sql(rules: list[Rule]) -> str:
    """The one statement that writes ``marts.alerts_current`` from ``rules`` (identifiers and
    SQL text are this module's constants; values stay ``$parameters``)."""
    typed_nulls = ", ".join(f"NULL::{t} AS {n}" for n, t in ALERT_COLUMNS)
    members = [f"SELECT {typed_nulls} WHERE false"]
    members += [f"SELECT '{r.alert_type}' AS alert_type, * FROM (\n{r.sql.strip()}\n)"
                for r in rules]
    raised = "\n    UNION ALL BY NAME\n    ".join(members)
    columns = ",\n       ".join(
        f"CASE severity {_RANK_CASE} END::INTEGER AS severity_rank" if n == "severity_rank"
        else "(SELECT as_of FROM alert_day) AS as_of" if n == "as_of" else n
        for n in ALERT_COLUMN_NAMES)
    return (f"CREATE OR REPLACE TABLE marts.alerts_current AS\nWITH {ALERT_DAY_CTE.strip()},\n"
            f"raised AS (\n    {raised}\n)\nSELECT {columns}\nFROM raised\n"
            "ORDER BY severity_rank DESC, abs(value_base) DESC NULLS LAST, alert_type, alert_key")


def build_alerts_current(
    con: duckdb.DuckDBPyConnection, thresholds: AlertThresholds, base_currency: str = "EUR"
) -> dict[str, int | str]:
    """Write ``marts.alerts_current`` and ``marts.alert_rules``; per alert type the number of
    alerts raised, or the reason the rule was skipped (an input table or column is missing).

    A rule with a missing input is skipped, not failed: its alerts stay as they were in
    ``ops.alert_state`` (never resolved by a rule that did not run).
    """
    catalog = _catalog(con)
    reasons = {rule.alert_type: skipped_reason(rule, catalog) for rule in RULES}
    runnable = [rule for rule in RULES if reasons[rule.alert_type] is None]
    sql = alerts_current_sql(runnable)
    con.execute(sql, _bind(sql, {**asdict(thresholds), "base_currency": base_currency}))
    rules = pl.DataFrame(
        [{"position": n, "alert_type": r.alert_type, "evaluated": reasons[r.alert_type] is None,
          "skipped_reason": reasons[r.alert_type], "rule": r.doc,
          "reads": ", ".join(r.needs)} for n, r in enumerate(RULES)],
        schema={"position": pl.Int32, "alert_type": pl.String, "evaluated": pl.Boolean,
                "skipped_reason": pl.String, "rule": pl.String, "reads": pl.String})
    con.register("alert_rule_frame", rules.to_arrow())
    try:
        con.execute("""
            CREATE OR REPLACE TABLE marts.alert_rules AS
            SELECT r.alert_type, r.evaluated, r.skipped_reason,
                   count(a.alert_key) AS alerts,
                   count(a.alert_key) FILTER (WHERE a.severity = 'critical') AS critical,
                   count(a.alert_key) FILTER (WHERE a.severity = 'warning') AS warning,
                   count(a.alert_key) FILTER (WHERE a.severity = 'info') AS info,
                   r.rule, r.reads
            FROM alert_rule_frame AS r
            LEFT JOIN marts.alerts_current AS a ON a.alert_type = r.alert_type
            GROUP BY r.position, r.alert_type, r.evaluated, r.skipped_reason, r.rule, r.reads
            ORDER BY r.position""")
    finally:
        con.unregister("alert_rule_frame")
    counts = dict(con.execute("SELECT alert_type, alerts FROM marts.alert_rules").fetchall())
    return {t: counts[t] if reasons[t] is None else f"skipped: {reasons[t]}" for t in counts}


# ---------------------------------------------------------------------------------------------
# state: open, escalated, resolved
# ---------------------------------------------------------------------------------------------

_ALERT_DDL = ",\n  ".join(f"{n} {t}" for n, t in ALERT_COLUMNS if n not in ("severity",
                                                                           "severity_rank"))

OPS_DDL = [
    # one row per alert key ever raised: its current episode (a resolved key that comes back
    # opens a new episode in the same row; ops.alert_events keeps the history)
    f"""CREATE TABLE IF NOT EXISTS ops.alert_state (
  {_ALERT_DDL.replace("alert_key VARCHAR", "alert_key VARCHAR PRIMARY KEY")},
  status VARCHAR,               -- open | resolved
  last_severity VARCHAR,        -- as last seen
  last_severity_rank INTEGER,
  notified_severity VARCHAR,    -- the highest announced in this episode
  notified_rank INTEGER,
  opened_at TIMESTAMP,          -- UTC, wall clock
  escalated_at TIMESTAMP,
  last_seen_at TIMESTAMP,
  resolved_at TIMESTAMP,
  times_opened INTEGER
)""",
    # every change that is announced: what the sinks deliver
    f"""CREATE TABLE IF NOT EXISTS ops.alert_events (
  event_id VARCHAR PRIMARY KEY, -- md5 of key, transition, episode, severity
  transition VARCHAR,           -- opened | escalated | resolved
  happened_at TIMESTAMP,
  severity VARCHAR,             -- resolved: the severity it was announced at
  severity_rank INTEGER,
  {_ALERT_DDL}
)""",
    # the sinks configured over time: a sink owes only events from when it was turned on
    """CREATE TABLE IF NOT EXISTS ops.alert_sinks (
  sink VARCHAR PRIMARY KEY,
  target VARCHAR,               -- where it delivers (no secrets: host or folder only)
  min_severity VARCHAR,
  min_rank INTEGER,
  enabled BOOLEAN,
  enabled_at TIMESTAMP,
  updated_at TIMESTAMP
)""",
    # the delivery log: every attempt, successful or not
    """CREATE TABLE IF NOT EXISTS ops.alert_deliveries (
  event_id VARCHAR,
  alert_key VARCHAR,
  sink VARCHAR,
  attempt INTEGER,              -- 1, 2, ... per event and sink, across runs
  status VARCHAR,               -- delivered | failed
  http_status INTEGER,
  error VARCHAR,
  target VARCHAR,               -- file written, host posted to, recipients
  attempted_at TIMESTAMP,
  duration_ms DOUBLE,
  run_id VARCHAR
)""",
]


def ensure_alert_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the ``ops`` alert tables that do not exist yet (idempotent)."""
    con.execute("CREATE SCHEMA IF NOT EXISTS ops")
    for stmt in OPS_DDL:
        con.execute(stmt)


_ALERT_FIELDS = ", ".join(f"c.{n}" for n in ALERT_COLUMN_NAMES
                          if n not in ("severity", "severity_rank"))

NEXT_STATE_SQL = f"""
CREATE OR REPLACE TEMP TABLE alert_next_state AS
WITH evaluated AS (SELECT alert_type FROM marts.alert_rules WHERE evaluated),
changes AS (
    SELECT coalesce(c.alert_key, p.alert_key) AS alert_key,
           CASE WHEN c.alert_key IS NOT NULL AND coalesce(p.status, 'resolved') = 'resolved'
                    THEN 'opened'
                WHEN c.alert_key IS NOT NULL AND c.severity_rank > p.notified_rank
                    THEN 'escalated'
                WHEN c.alert_key IS NOT NULL THEN 'ongoing'
                WHEN p.status = 'open' AND p.alert_type IN (SELECT alert_type FROM evaluated)
                    THEN 'resolved'
                ELSE 'unchanged' END AS transition
    FROM marts.alerts_current AS c
    FULL JOIN ops.alert_state AS p USING (alert_key)
),
seen AS (  -- raised now: the numbers and message are today's
    SELECT t.transition, {_ALERT_FIELDS},
           'open' AS status, c.severity AS last_severity, c.severity_rank AS last_severity_rank,
           CASE WHEN t.transition = 'ongoing' THEN p.notified_severity ELSE c.severity END
               AS notified_severity,
           CASE WHEN t.transition = 'ongoing' THEN p.notified_rank ELSE c.severity_rank END
               AS notified_rank,
           CASE WHEN t.transition = 'opened' THEN $now ELSE p.opened_at END AS opened_at,
           CASE WHEN t.transition = 'escalated' THEN $now
                WHEN t.transition = 'ongoing' THEN p.escalated_at END AS escalated_at,
           $now AS last_seen_at,
           NULL::TIMESTAMP AS resolved_at,
           coalesce(p.times_opened, 0) + (t.transition = 'opened')::INTEGER AS times_opened
    FROM changes AS t
    JOIN marts.alerts_current AS c USING (alert_key)
    LEFT JOIN ops.alert_state AS p USING (alert_key)
),
not_seen AS (  -- resolved now, or left as it was (already resolved; rule did not run)
    SELECT t.transition,
           p.* REPLACE (CASE WHEN t.transition = 'resolved' THEN 'resolved' ELSE p.status END
                            AS status,
                        CASE WHEN t.transition = 'resolved' THEN $now ELSE p.resolved_at END
                            AS resolved_at)
    FROM changes AS t
    JOIN ops.alert_state AS p USING (alert_key)
    WHERE t.transition IN ('resolved', 'unchanged')
)
SELECT * FROM seen UNION ALL BY NAME SELECT * FROM not_seen
"""

INSERT_EVENTS_SQL = f"""
INSERT INTO ops.alert_events BY NAME
SELECT md5(alert_key || '|' || transition || '|' || CAST(opened_at AS VARCHAR) || '|'
           || CASE WHEN transition = 'resolved' THEN CAST(resolved_at AS VARCHAR)
                   ELSE last_severity END) AS event_id,
       transition, $now AS happened_at,
       CASE WHEN transition = 'resolved' THEN notified_severity ELSE last_severity END
           AS severity,
       CASE WHEN transition = 'resolved' THEN notified_rank ELSE last_severity_rank END
           AS severity_rank,
       {", ".join(n for n in ALERT_COLUMN_NAMES if n not in ("severity", "severity_rank"))}
FROM alert_next_state
WHERE transition IN ('opened', 'escalated', 'resolved')
ON CONFLICT DO NOTHING
"""


def advance_alert_state(con: duckdb.DuckDBPyConnection, now: datetime) -> dict[str, int]:
    """Move ``ops.alert_state`` to what ``marts.alerts_current`` says, in one transaction, and
    append each announced change to ``ops.alert_events``; counts per transition.

    ``now`` (UTC, naive) stamps opened/escalated/resolved times and events. An alert whose
    rule did not run this time (``marts.alert_rules.evaluated`` false) is left as it was.
    """
    ensure_alert_tables(con)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(NEXT_STATE_SQL, {"now": now})
        con.execute(INSERT_EVENTS_SQL, {"now": now})
        con.execute("DELETE FROM ops.alert_state")
        con.execute("INSERT INTO ops.alert_state BY NAME "
                    "SELECT * EXCLUDE (transition) FROM alert_next_state")
        counts = dict(con.execute(
            "SELECT transition, count(*) FROM alert_next_state GROUP BY ALL").fetchall())
        con.execute("DROP TABLE alert_next_state")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return {t: counts.get(t, 0) for t in ("opened", "escalated", "ongoing", "resolved")}


# ---------------------------------------------------------------------------------------------
# sinks and deliveries
# ---------------------------------------------------------------------------------------------

SINK_FRAME_SCHEMA = {"sink": pl.String, "target": pl.String, "min_severity": pl.String,
                     "min_rank": pl.Int32}

REGISTER_SINKS_SQL = """
MERGE INTO ops.alert_sinks AS s
USING (SELECT c.*, true AS enabled FROM configured_sinks AS c
       UNION ALL BY NAME
       SELECT s.sink, false AS enabled FROM ops.alert_sinks AS s
       ANTI JOIN configured_sinks AS c USING (sink)) AS c
ON s.sink = c.sink
WHEN MATCHED AND c.enabled THEN UPDATE SET
    target = c.target, min_severity = c.min_severity, min_rank = c.min_rank,
    -- turned back on: it owes what happens from now, not the backlog of its time off
    enabled_at = CASE WHEN s.enabled THEN s.enabled_at ELSE $now END,
    enabled = true, updated_at = $now
WHEN MATCHED THEN UPDATE SET enabled = false, updated_at = $now
WHEN NOT MATCHED THEN INSERT (sink, target, min_severity, min_rank, enabled, enabled_at, updated_at)
    VALUES (c.sink, c.target, c.min_severity, c.min_rank, true, $now, $now)
"""


def register_sinks(con: duckdb.DuckDBPyConnection, sinks: list[dict], now: datetime) -> None:
    """Record the enabled sinks (``sink``, ``target``, ``min_severity``) in ``ops.alert_sinks``;
    a sink seen for the first time (or turned back on) owes events from ``now`` on."""
    ensure_alert_tables(con)
    frame = pl.DataFrame([{**s, "min_rank": SEVERITY_RANK[s["min_severity"]]} for s in sinks],
                         schema=SINK_FRAME_SCHEMA)
    con.register("configured_sinks", frame.to_arrow())
    try:
        con.execute(REGISTER_SINKS_SQL, {"now": now})
    finally:
        con.unregister("configured_sinks")


def sink_row(sink: SinkSettings, target: str) -> dict:
    return {"sink": sink.kind, "target": target, "min_severity": sink.min_severity}


PENDING_SQL = """
SELECT s.sink, e.*
FROM ops.alert_events AS e
JOIN ops.alert_sinks AS s
  ON s.enabled AND e.severity_rank >= s.min_rank AND e.happened_at >= s.enabled_at
ANTI JOIN (SELECT DISTINCT event_id, sink FROM ops.alert_deliveries WHERE status = 'delivered')
    AS d ON d.event_id = e.event_id AND d.sink = s.sink
ORDER BY s.sink, e.happened_at, e.severity_rank DESC, e.alert_key, e.transition
"""


def pending_deliveries(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every (event, enabled sink) pair not delivered yet: the sink's name, then the event's
    columns (``ops.alert_events``). Events below a sink's ``min_severity`` are not owed.
    Reads only (the tables must exist: :func:`ensure_alert_tables`)."""
    return con.sql(PENDING_SQL).pl()


ATTEMPT_SCHEMA = {"event_id": pl.String, "alert_key": pl.String, "sink": pl.String,
                  "run_attempt": pl.Int32, "status": pl.String, "http_status": pl.Int32,
                  "error": pl.String, "target": pl.String, "attempted_at": pl.Datetime("us"),
                  "duration_ms": pl.Float64}

RECORD_ATTEMPTS_SQL = """
INSERT INTO ops.alert_deliveries BY NAME
SELECT n.event_id, n.alert_key, n.sink,
       (coalesce(prior.attempts, 0) + n.run_attempt)::INTEGER AS attempt,
       n.status, n.http_status, n.error, n.target, n.attempted_at, n.duration_ms,
       $run_id AS run_id
FROM new_attempts AS n
LEFT JOIN (SELECT event_id, sink, max(attempt) AS attempts FROM ops.alert_deliveries
           GROUP BY ALL) AS prior USING (event_id, sink)
"""


def record_attempts(con: duckdb.DuckDBPyConnection, attempts: pl.DataFrame, run_id: str) -> int:
    """Append ``attempts`` (:data:`ATTEMPT_SCHEMA`; ``run_attempt`` 1, 2, ... within this run)
    to ``ops.alert_deliveries``, numbering ``attempt`` on from earlier runs; rows added."""
    ensure_alert_tables(con)
    if attempts.is_empty():
        return 0
    con.register("new_attempts", attempts.to_arrow())
    try:
        con.execute(RECORD_ATTEMPTS_SQL, {"run_id": run_id})
    finally:
        con.unregister("new_attempts")
    return attempts.height


# ---------------------------------------------------------------------------------------------
# what the dashboards read (the serving snapshot copies marts only)
# ---------------------------------------------------------------------------------------------

ALERT_STATUS_SQL = f"""
CREATE OR REPLACE TABLE marts.alert_status AS
WITH owed AS (  -- the latest event of each alert, per sink that owes it
    SELECT e.alert_key, s.sink,
           EXISTS (SELECT 1 FROM ops.alert_deliveries AS d
                   WHERE d.event_id = e.event_id AND d.sink = s.sink
                     AND d.status = 'delivered') AS delivered
    FROM (SELECT * FROM ops.alert_events
          QUALIFY row_number() OVER (PARTITION BY alert_key ORDER BY happened_at DESC,
                                                                    severity_rank DESC) = 1) AS e
    JOIN ops.alert_sinks AS s
      ON s.enabled AND e.severity_rank >= s.min_rank AND e.happened_at >= s.enabled_at
),
by_alert AS (
    SELECT alert_key,
           string_agg(sink, ', ' ORDER BY sink) FILTER (WHERE delivered) AS delivered_to,
           string_agg(sink, ', ' ORDER BY sink) FILTER (WHERE NOT delivered) AS pending_to
    FROM owed GROUP BY alert_key
)
SELECT c.alert_key, c.alert_type, c.status,
       c.last_severity AS severity, c.last_severity_rank AS severity_rank,
       c.opened_at, c.escalated_at, c.resolved_at, c.last_seen_at, c.times_opened,
       {", ".join(f"c.{n}" for n in ALERT_COLUMN_NAMES
                  if n not in ("alert_key", "alert_type", "severity", "severity_rank"))},
       b.delivered_to, b.pending_to
FROM ops.alert_state AS c
LEFT JOIN by_alert AS b USING (alert_key)
ORDER BY c.status = 'open' DESC, c.last_severity_rank DESC, c.opened_at DESC, c.alert_key
"""

DELIVERY_LOG_SQL = """
CREATE OR REPLACE TABLE marts.alert_delivery_log AS
SELECT d.attempted_at, d.sink, d.status, d.attempt, d.http_status, d.error, d.target,
       e.transition, e.severity, e.alert_type, d.alert_key, e.subject, e.message,
       d.duration_ms, d.event_id, d.run_id
FROM ops.alert_deliveries AS d
LEFT JOIN ops.alert_events AS e USING (event_id)
ORDER BY d.attempted_at DESC, d.sink, d.alert_key
"""


def build_alert_reports(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """``marts.alert_status`` (every alert key: state, times, numbers, the sinks its latest
    event reached and the ones still owed it) and ``marts.alert_delivery_log`` (every
    attempt, newest first); rows per table."""
    ensure_alert_tables(con)
    con.execute(ALERT_STATUS_SQL)
    con.execute(DELIVERY_LOG_SQL)
    return {t: con.execute(f"SELECT count(*) FROM marts.{t}").fetchall()[0][0]
            for t in ("alert_status", "alert_delivery_log")}
