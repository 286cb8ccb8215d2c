"""Build the serving snapshot: a separate DuckDB file the dashboards open read-only.

DuckDB admits one process per file while a writer holds it (STACK-NOTES: every other
process's open fails, read-only too), so the dashboards never open the warehouse. Instead the
publish step copies what they read into a NEW file and ``os.replace``s it over
``<home>/serving/serving.duckdb``. A reader that opened the old file keeps reading the old
inode; a reader that opens after the rename gets the new one; nobody ever sees a half-written
file or a lock.

What the snapshot holds (same schema-qualified names as the warehouse, so dashboard SQL reads
like warehouse SQL):

- ``marts.*``: every table and view of the warehouse's ``marts`` schema, as tables;
- ``core.<dimension>``: the small dimension tables the dashboards filter by;
- ``ops.quarantine_summary``: quarantined rows per entity, file and rule (never the rows);
- ``ops.channel_freshness``: the newest order per channel;
- ``ops.ingested_files``: the ingested-file manifest;
- ``ops.snapshot_tables`` / ``ops.snapshot_info``: what was published, when, from where.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb

ALIAS = "serving_snapshot"

# small core tables the dashboards filter and label by
SERVED_CORE = (
    "products",
    "locations",
    "channels",
    "suppliers",
    "channel_locations",
    "bundle_components",
)

# summaries computed at publish time: target table -> SELECT over the warehouse
SERVED_SUMMARIES: dict[str, str] = {
    "ops.quarantine_summary": """
        SELECT
            entity, adapter, source_file, rule,
            count(*) AS rows_quarantined,
            min(source_line) AS first_line,
            any_value(message) AS example_message,
            max(quarantined_at) AS last_quarantined_at
        FROM quarantine.rows
        GROUP BY ALL
    """,
    "ops.channel_freshness": """
        WITH latest_orders AS (
            SELECT channel_id, max(ordered_at) AS latest_ordered_at,
                   max(updated_at) AS latest_updated_at, count(*) AS order_lines
            FROM core.order_lines
            GROUP BY channel_id
        )
        SELECT
            coalesce(c.channel_id, o.channel_id) AS channel_id,
            c.name AS channel_name,
            o.latest_ordered_at, o.latest_updated_at,
            coalesce(o.order_lines, 0) AS order_lines
        FROM core.channels AS c
        FULL OUTER JOIN latest_orders AS o USING (channel_id)
    """,
    "ops.ingested_files": "SELECT * FROM ops.ingested_files",
}


@dataclass
class PublishSummary:
    path: Path
    tables: dict[str, int] = field(default_factory=dict)  # "schema.table" -> rows
    size_bytes: int = 0
    seconds: float = 0.0


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_string(value: str) -> str:
    # ATTACH takes no prepared parameters: quote the path as a SQL string literal
    return "'" + value.replace("'", "''") + "'"


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _warehouse_tables(con: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    return [
        name
        for (name,) in con.execute(
            """
            SELECT table_name FROM information_schema.tables
            WHERE table_catalog = current_database() AND table_schema = ?
            ORDER BY table_name
            """,
            [schema],
        ).fetchall()
    ]


def publish_snapshot(con: duckdb.DuckDBPyConnection, serving_path: str | Path) -> PublishSummary:
    """Copy the served tables from the warehouse behind ``con`` into a new file, then swap it
    in at ``serving_path`` atomically. Returns what was published.

    ``con`` must be a read-write connection to the warehouse (ATTACH writes a new database).
    """
    started = time.perf_counter()
    serving_path = Path(serving_path)
    serving_path.parent.mkdir(parents=True, exist_ok=True)
    # same folder as the target, so os.replace is a rename within one file system
    tmp = serving_path.parent / f".{serving_path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp"
    summary = PublishSummary(path=serving_path)
    copies: list[tuple[str, str]] = []  # (target "schema.table", SELECT)
    for table in _warehouse_tables(con, "marts"):
        copies.append((f"marts.{table}", f"SELECT * FROM marts.{_ident(table)}"))
    present_core = set(_warehouse_tables(con, "core"))
    for table in SERVED_CORE:
        if table in present_core:
            copies.append((f"core.{table}", f"SELECT * FROM core.{_ident(table)}"))
    copies += list(SERVED_SUMMARIES.items())

    con.execute(f"ATTACH {_sql_string(str(tmp))} AS {ALIAS}")
    try:
        for schema in ("marts", "core", "ops"):
            con.execute(f"CREATE SCHEMA {ALIAS}.{schema}")
        for target, select in copies:
            schema, table = target.split(".", 1)
            con.execute(f"CREATE TABLE {ALIAS}.{schema}.{_ident(table)} AS {select}")
            summary.tables[target] = con.execute(
                f"SELECT count(*) FROM {ALIAS}.{schema}.{_ident(table)}"
            ).fetchall()[0][0]
        con.execute(
            f"CREATE TABLE {ALIAS}.ops.snapshot_tables (table_name VARCHAR, row_count BIGINT)"
        )
        if summary.tables:
            con.executemany(
                f"INSERT INTO {ALIAS}.ops.snapshot_tables VALUES (?, ?)",
                list(summary.tables.items()),
            )
        con.execute(
            f"CREATE TABLE {ALIAS}.ops.snapshot_info AS "
            "SELECT ?::TIMESTAMP AS published_at, ? AS warehouse, ?::BIGINT AS tables",
            [
                datetime.now(timezone.utc).replace(tzinfo=None),
                con.execute(
                    "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
                ).fetchall()[0][0],
                len(summary.tables),
            ],
        )
        con.execute(f"CHECKPOINT {ALIAS}")
    except BaseException:
        with contextlib.suppress(Exception):
            con.execute(f"DETACH {ALIAS}")
        tmp.unlink(missing_ok=True)
        raise
    con.execute(f"DETACH {ALIAS}")
    # durable before visible: the new file's bytes, then the rename, then the directory entry
    _fsync(tmp)
    # a WAL beside the served file would be replayed into the NEW file by the next reader
    Path(f"{serving_path}.wal").unlink(missing_ok=True)
    os.replace(tmp, serving_path)
    _fsync(serving_path.parent)
    summary.size_bytes = serving_path.stat().st_size
    summary.seconds = time.perf_counter() - started
    return summary
