"""Planner decisions in the pipeline: auto-approve rules, then the import into the warehouse.

The decision store (``<home>/decisions.sqlite``, :mod:`assets.decisions.store`) is where
planners decide; the warehouse gets a copy (``ops.suggestion_decisions``, replaced on every
run) so SQL, KPIs and the serving snapshot can join decisions to suggestions.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg
import duckdb
import polars as pl

from assets.decisions.config import AutoApproveRule, approval_rules
from assets.decisions.store import DecisionStore
from assets.resources import SettingsResource
from assets.warehouse import WAREHOUSE_POOL, WarehouseResource

GROUP = "approvals"
SUGGESTIONS = dg.AssetKey(["marts", "replenishment_suggestions"])
POLICY = dg.AssetKey(["marts", "replenishment_policy"])
SUGGESTION_DECISIONS = dg.AssetKey(["ops", "suggestion_decisions"])
AUTO_APPROVE_USER = "auto-approve"

DECISION_SCHEMA = {
    "suggestion_id": pl.String(), "status": pl.String(), "quantity": pl.Int64(),
    "decided_at": pl.String(), "user": pl.String(), "note": pl.String(), "sku": pl.String(),
    "location_id": pl.String(), "supplier_id": pl.String(), "as_of": pl.String(),
    "suggested_units": pl.Int64(), "po_number": pl.String(), "sent_at": pl.String(),
    "revision": pl.Int64(),
}
RULE_SCHEMA = {
    "rule_no": pl.Int64(), "abc_class": pl.String(), "xyz_class": pl.String(),
    "supplier_id": pl.String(), "location_id": pl.String(),
    "max_line_value_base": pl.Float64(), "max_units": pl.Int64(),
}

# The first rule (by number) each current suggestion matches; a class rule needs the policy
# mart (a suggestion without a class matches no class rule).
MATCH_SQL = """
SELECT s.*, min(r.rule_no) AS rule_no
FROM marts.replenishment_suggestions s
LEFT JOIN _policy_classes p USING (as_of, sku, location_id)
JOIN _approval_rules r
  ON (r.abc_class IS NULL OR p.abc_class = r.abc_class)
 AND (r.xyz_class IS NULL OR p.xyz_class = r.xyz_class)
 AND (r.supplier_id IS NULL OR s.supplier_id = r.supplier_id)
 AND (r.location_id IS NULL OR s.location_id = r.location_id)
 AND (r.max_line_value_base IS NULL OR s.line_value_base <= r.max_line_value_base)
 AND (r.max_units IS NULL OR s.suggested_units <= r.max_units)
GROUP BY ALL
ORDER BY s.suggestion_id
"""


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema, table],
    ).fetchall()[0][0])


def auto_approvals(con: duckdb.DuckDBPyConnection, rules: list[AutoApproveRule]) -> pl.DataFrame:
    """Current suggestions matching an auto-approve rule (all suggestion columns + ``rule_no``,
    1-based). Empty without rules or without ``marts.replenishment_suggestions``."""
    if not rules or not _has_table(con, "marts", "replenishment_suggestions"):
        return pl.DataFrame()
    frame = pl.DataFrame(
        [{"rule_no": n, **vars(rule)} for n, rule in enumerate(rules, start=1)], schema=RULE_SCHEMA
    )
    if _has_table(con, "marts", "replenishment_policy"):
        con.execute("CREATE OR REPLACE TEMP VIEW _policy_classes AS"
                    " SELECT as_of, sku, location_id, abc_class, xyz_class FROM marts.replenishment_policy")
    else:
        con.execute("CREATE OR REPLACE TEMP VIEW _policy_classes AS SELECT NULL::DATE as_of,"
                    " NULL::VARCHAR sku, NULL::VARCHAR location_id, NULL::VARCHAR abc_class,"
                    " NULL::VARCHAR xyz_class WHERE false")
    con.register("_approval_rules", frame.to_arrow())
    try:
        return con.sql(MATCH_SQL).pl()
    finally:
        con.unregister("_approval_rules")
        con.execute("DROP VIEW IF EXISTS _policy_classes")


def apply_auto_approve(
    con: duckdb.DuckDBPyConnection, store: DecisionStore, rules: list[AutoApproveRule]
) -> pl.DataFrame:
    """Approve the suggestions that match a rule and nobody has touched (a planner's
    decision, a rejection or a saved quantity included, is never overridden). One store
    transaction.
    Returns the approved suggestions with their ``rule_no``."""
    matched = auto_approvals(con, rules)
    if matched.is_empty():
        return matched
    decided = {row["suggestion_id"] for row in store.latest()}
    todo = matched.filter(~pl.col("suggestion_id").is_in(list(decided)))
    store.decide_many(
        [{"suggestion_id": row["suggestion_id"], "action": "approve",
          "note": f"auto-approve rule {row['rule_no']}: {rules[row['rule_no'] - 1].describe()}",
          "suggestion": {k: v for k, v in row.items() if k != "rule_no"}}
         for row in todo.iter_rows(named=True)],
        user=AUTO_APPROVE_USER,
    )
    return todo


def decisions_frame(store: DecisionStore) -> pl.DataFrame:
    """The store's current decisions as a typed frame (``decided_at``/``sent_at`` UTC,
    ``as_of`` a date, ``quantity_units`` in units)."""
    rows = [{k: row[k] for k in DECISION_SCHEMA} for row in store.latest()]
    return (
        pl.DataFrame(rows, schema=DECISION_SCHEMA)
        .with_columns(
            pl.col("decided_at", "sent_at").str.to_datetime(time_zone="UTC", time_unit="us"),
            pl.col("as_of").str.to_date(strict=False),
        )
        .rename({"quantity": "quantity_units", "user": "decided_by"})
    )


@dg.asset(
    key=SUGGESTION_DECISIONS,
    deps=[SUGGESTIONS, POLICY],
    group_name=GROUP,
    kinds={"duckdb", "sqlite"},
    pool=WAREHOUSE_POOL,
)
def suggestion_decisions(
    warehouse: WarehouseResource, shelfwise: SettingsResource
) -> dg.MaterializeResult:
    """Planner decisions (from decisions.sqlite) after the auto-approve rules, as imported."""
    settings = shelfwise.settings
    rules = approval_rules(settings)
    store = DecisionStore(settings.home)
    with warehouse.connect() as con:
        auto = apply_auto_approve(con, store, rules)
        frame = decisions_frame(store).with_columns(
            pl.lit(dt.datetime.now(dt.timezone.utc)).alias("imported_at"))
        con.register("_decisions", frame.to_arrow())
        try:
            con.execute("CREATE OR REPLACE TABLE ops.suggestion_decisions AS SELECT * FROM _decisions")
        finally:
            con.unregister("_decisions")
    by_status = frame.group_by("status").len().sort("status")
    return dg.MaterializeResult(metadata={
        "dagster/row_count": frame.height,
        "auto_approved_now": auto.height,
        "auto_approve_rules": len(rules),
        **{f"status_{s}": n for s, n in by_status.iter_rows()},
        "decision_store": dg.MetadataValue.path(str(store.path)),
    })


ASSETS = [suggestion_decisions]
defs = dg.Definitions(assets=ASSETS)
