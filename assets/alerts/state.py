"""The alerts' open/escalate/resolve state machine, the sinks and the delivery log, as
set-based DuckDB SQL. Callable without Dagster (``tests/alerts`` runs it on hand-made tables).

1. :func:`advance_alert_state` compares ``marts.alerts_current`` (:mod:`assets.alerts.rules`)
   with ``ops.alert_state`` and records each change as one row of ``ops.alert_events``:
   ``opened`` (new, or back after being resolved), ``escalated`` (severity above the highest
   already announced), ``resolved`` (its rule ran and the condition is gone). A re-run on the
   same data changes nothing.
2. :func:`pending_deliveries` lists the (event, sink) pairs not yet delivered;
   :func:`record_attempts` appends every attempt to ``ops.alert_deliveries``.
3. :func:`build_alert_reports` writes what the dashboards read (the serving snapshot copies
   marts only).

Every statement is one file of ``sql/``; values are ``$parameters``. ``*_at`` times are
wall-clock UTC (naive).
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import polars as pl

from assets.alerts.config import SEVERITY_RANK, SinkSettings
from assets.warehouse import row_count
from assets.warehouse.sql_files import read_model, sql_dir

SQL_DIR = sql_dir(__file__)

# the ops tables, each created when missing (sql/<name>.sql)
OPS_TABLES = ("ops_alert_state", "ops_alert_events", "ops_alert_sinks", "ops_alert_deliveries")


def ensure_alert_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the ``ops`` alert tables that do not exist yet (idempotent)."""
    con.execute("CREATE SCHEMA IF NOT EXISTS ops")
    for model in OPS_TABLES:
        con.execute(read_model(SQL_DIR, model))


def advance_alert_state(con: duckdb.DuckDBPyConnection, now: datetime) -> dict[str, int]:
    """Move ``ops.alert_state`` to what ``marts.alerts_current`` says, in one transaction, and
    append each announced change to ``ops.alert_events``; counts per transition.

    ``now`` (UTC, naive) stamps opened/escalated/resolved times and events. An alert whose
    rule did not run this time (``marts.alert_rules.evaluated`` false) is left as it was.
    """
    ensure_alert_tables(con)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(read_model(SQL_DIR, "alert_next_state"), {"now": now})
        con.execute(read_model(SQL_DIR, "alert_events_new"), {"now": now})
        con.execute("DELETE FROM ops.alert_state")
        con.execute(read_model(SQL_DIR, "alert_state_from_next"))
        counts = con.sql("SELECT transition, count(*) AS n FROM alert_next_state "
                         "GROUP BY transition").pl()
        con.execute("DROP TABLE alert_next_state")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    counted = dict(zip(counts["transition"], counts["n"]))
    return {t: counted.get(t, 0) for t in ("opened", "escalated", "ongoing", "resolved")}


# ---------------------------------------------------------------------------------------------
# sinks and deliveries
# ---------------------------------------------------------------------------------------------

SINK_FRAME_SCHEMA = {"sink": pl.String, "target": pl.String, "min_severity": pl.String,
                     "min_rank": pl.Int32}


def register_sinks(con: duckdb.DuckDBPyConnection, sinks: list[dict], now: datetime) -> None:
    """Record the enabled sinks (``sink``, ``target``, ``min_severity``) in ``ops.alert_sinks``;
    a sink seen for the first time (or turned back on) owes events from ``now`` on."""
    ensure_alert_tables(con)
    frame = pl.DataFrame([{**s, "min_rank": SEVERITY_RANK[s["min_severity"]]} for s in sinks],
                         schema=SINK_FRAME_SCHEMA)
    con.register("configured_sinks", frame.to_arrow())
    try:
        con.execute(read_model(SQL_DIR, "alert_sinks_register"), {"now": now})
    finally:
        con.unregister("configured_sinks")


def sink_row(sink: SinkSettings, target: str) -> dict:
    return {"sink": sink.kind, "target": target, "min_severity": sink.min_severity}


def pending_deliveries(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every (event, enabled sink) pair not delivered yet: the sink's name, then the event's
    columns (``ops.alert_events``). Events below a sink's ``min_severity`` are not owed.
    Reads only (the tables must exist: :func:`ensure_alert_tables`)."""
    return con.sql(read_model(SQL_DIR, "alert_deliveries_pending")).pl()


ATTEMPT_SCHEMA = {"event_id": pl.String, "alert_key": pl.String, "sink": pl.String,
                  "run_attempt": pl.Int32, "status": pl.String, "http_status": pl.Int32,
                  "error": pl.String, "target": pl.String, "attempted_at": pl.Datetime("us"),
                  "duration_ms": pl.Float64}


def record_attempts(con: duckdb.DuckDBPyConnection, attempts: pl.DataFrame, run_id: str) -> int:
    """Append ``attempts`` (:data:`ATTEMPT_SCHEMA`; ``run_attempt`` 1, 2, ... within this run)
    to ``ops.alert_deliveries``, numbering ``attempt`` on from earlier runs; rows added."""
    ensure_alert_tables(con)
    if attempts.is_empty():
        return 0
    con.register("new_attempts", attempts.to_arrow())
    try:
        con.execute(read_model(SQL_DIR, "alert_deliveries_record"), {"run_id": run_id})
    finally:
        con.unregister("new_attempts")
    return attempts.height


# ---------------------------------------------------------------------------------------------
# what the dashboards read (the serving snapshot copies marts only)
# ---------------------------------------------------------------------------------------------

REPORTS = ("alert_status", "alert_delivery_log")  # sql/<name>.sql writes marts.<name>


def build_alert_reports(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """``marts.alert_status`` (every alert key: state, times, numbers, the sinks its latest
    event reached and the ones still owed it) and ``marts.alert_delivery_log`` (every
    attempt, newest first); rows per table."""
    ensure_alert_tables(con)
    for model in REPORTS:
        con.execute(read_model(SQL_DIR, model))
    return {model: row_count(con, f"marts.{model}") for model in REPORTS}
