"""The alert rules as set-based DuckDB SQL, and the marts they write. Callable without Dagster
(``tests/alerts`` runs it on hand-made tables).

:func:`build_alerts_current` evaluates every rule whose input tables exist and writes
``marts.alerts_current`` (the conditions true now, one row per stable ``alert_key``) and
``marts.alert_rules`` (which rules ran, which were skipped and why). The state machine that
turns them into events is :mod:`assets.alerts.state`.

Each rule is one statement, ``sql/rule_<alert_type>.sql``, that appends its alerts to the
connection's temporary ``alerts_raised`` table; values are ``$parameters``
(:class:`AlertThresholds` and ``base_currency``). ``sql/alerts_current.sql`` ranks and dates
them.

Units: quantities in units, money in the base currency (``*_base``) and, where a document
has one (a PO line), in its own currency too; ``as_of`` is the data's business date (the
latest stock snapshot).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

import duckdb
import polars as pl

from assets.alerts.config import SEVERITY_RANK, AlertThresholds
from assets.warehouse.sql_files import read_model, sql_dir

SQL_DIR = sql_dir(__file__)

# the columns every rule fills (a rule leaves out what it has not got: NULL); the tables of
# sql/alerts_raised.sql, sql/alerts_current.sql and the ops tables follow this list
# (tests/alerts/test_alert_sql_models.py holds them to it)
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


@dataclass(frozen=True)
class Rule:
    """One alert type: the tables (and their columns) it reads; its statement is
    ``sql/rule_<alert_type>.sql``."""

    alert_type: str
    doc: str
    needs: dict[str, tuple[str, ...]]

    @property
    def sql(self) -> str:
        return read_model(SQL_DIR, f"rule_{self.alert_type}")


POLICY_COLUMNS = ("sku", "location_id", "supplier_id", "on_hand_units", "allocated_units",
                  "on_order_units", "reorder_point_units", "lead_time_mean_days", "projected_stockout_date",
                  "unit_cost_base", "mean_daily_demand_units")

# value_base is the money at risk, what alerts are ranked by: the margin a stockout loses, the
# value overstock and dead stock tie up, the sales an oversold listing would have to cancel,
# the value of a count break, the value a late PO line still owes.
# In the order a person reads them; choosing which run is data (which tables exist).
RULES: tuple[Rule, ...] = (
    Rule("low_stock",
         "A projected stockout before an order placed today could arrive (critical when ATS "
         "is 0 or the stockout is within low_stock_critical_days) losing at least "
         "low_stock_min_value of margin.",
         {"marts.replenishment_policy": POLICY_COLUMNS,
          "marts.ats_by_sku_location": ("sku", "location_id", "is_bundle", "ats_units")}),
    Rule("overstock",
         "Days of cover above overstock_warning_days_of_cover and at least overstock_min_value "
         "tied up beyond overstock_days_of_cover of demand.",
         {"marts.replenishment_policy": (*POLICY_COLUMNS, "days_of_cover",
                                         "mean_daily_demand_units")}),
    Rule("dead_stock",
         "Stock with no sale in no_sale_days worth at least dead_stock_warning_value.",
         {"marts.kpi_dead_stock_by_sku_location": (
             "sku", "location_id", "supplier_id", "on_hand_units", "dead_stock_value_base",
             "last_sold_on", "days_without_sale")}),
    Rule("discrepancy",
         "The latest count outside reconciliation tolerance by discrepancy_units or "
         "discrepancy_value (critical from discrepancy_critical_value).",
         {"marts.reconciliation": (
             "snapshot_date", "sku", "location_id", "difference_units", "difference_value_base",
             "tolerance_units", "within_tolerance", "expected_on_hand", "counted_on_hand",
             "likely_cause")}),
    Rule("oversell_risk",
         "Live listings of a SKU show more than the channel's ATS by oversell_warning_share "
         "(critical when a channel has none left); one alert per SKU.",
         {"marts.oversell_risk": ("channel_id", "channel_sku", "sku", "listing_status",
                                  "listed_quantity", "ats_units", "excess_units"),
          "core.products": ("sku", "supplier_id")}),
    Rule("late_po",
         "Open PO lines of a SKU-location with units still due more than late_po_grace_days "
         "after their expected date (critical from late_po_critical_days); one alert each.",
         {"core.purchase_orders": ("po_number", "sku", "supplier_id", "status", "expected_at"),
          "core.receipts": ("po_number", "sku", "quantity_received")}),
)
RULES_BY_TYPE = {rule.alert_type: rule for rule in RULES}

RULE_FRAME_SCHEMA = {"position": pl.Int32, "alert_type": pl.String, "evaluated": pl.Boolean,
                     "skipped_reason": pl.String, "rule": pl.String, "reads": pl.String}


def _catalog(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    """``schema.table`` -> its columns, for every table and view of the open database."""
    columns = con.sql(read_model(SQL_DIR, "catalog_columns")).pl()
    return {table: set(group["column_name"])
            for (table,), group in columns.group_by("table_name", maintain_order=True)}


def skipped_reason(rule: Rule, catalog: dict[str, set[str]]) -> str | None:
    """Why ``rule`` cannot run on this warehouse (None: it can)."""
    for table, columns in rule.needs.items():
        if table not in catalog:
            return f"{table} not built yet"
        missing = sorted(set(columns) - catalog[table])
        if missing:
            return f"{table} lacks {', '.join(missing)}"
    return None


def bind(sql: str, values: dict) -> dict:
    """The ``$parameters`` ``sql`` uses, from ``values``: DuckDB rejects named values a
    statement does not use, so each statement gets exactly its own (a ``$name`` in a ``--``
    comment does not count)."""
    code = re.sub(r"--[^\n]*", "", sql)
    return {name: values[name] for name in set(re.findall(r"\$(\w+)", code))}


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
    values = {**asdict(thresholds), "base_currency": base_currency}
    for model in ("alert_day", "alert_selling_price", "alerts_raised"):
        con.execute(read_model(SQL_DIR, model))
    for rule in RULES:
        if reasons[rule.alert_type] is None:
            con.execute(rule.sql, bind(rule.sql, values))
    con.execute(read_model(SQL_DIR, "alerts_current"),
                {"severity_rank": {"key": list(SEVERITY_RANK), "value": list(SEVERITY_RANK.values())}})
    rules = pl.DataFrame(
        [{"position": n, "alert_type": r.alert_type, "evaluated": reasons[r.alert_type] is None,
          "skipped_reason": reasons[r.alert_type], "rule": r.doc,
          "reads": ", ".join(r.needs)} for n, r in enumerate(RULES)],
        schema=RULE_FRAME_SCHEMA)
    con.register("alert_rule_frame", rules.to_arrow())
    try:
        con.execute(read_model(SQL_DIR, "alert_rules"))
    finally:
        con.unregister("alert_rule_frame")
    counts = con.sql("SELECT alert_type, alerts FROM marts.alert_rules").pl()
    alerts = dict(zip(counts["alert_type"], counts["alerts"]))
    return {t: alerts[t] if reasons[t] is None else f"skipped: {reasons[t]}" for t in alerts}
