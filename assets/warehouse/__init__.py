"""The DuckDB warehouse of record: its layers, its tables, and how a step opens it.

Layers (DuckDB schemas): ``raw`` (every accepted row as landed, with lineage), ``quarantine``
(rejected rows, whole, with the rule), ``core`` (the canonical model, current state),
``marts`` (everything computed), ``ops`` (manifests and logs).

DuckDB admits one writing process per file. Pipeline steps that write are in the Dagster pool
``warehouse`` (see dagster.yaml), and :func:`connect` waits out a lock held by another process
instead of failing at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg
import duckdb

from assets.model import BASE_AMOUNTS, ENTITIES, LINEAGE, Entity
from assets.warehouse.sql_files import quote_identifier

if TYPE_CHECKING:
    import polars as pl

SCHEMAS = ("raw", "quarantine", "core", "marts", "ops")
WAREHOUSE_POOL = "warehouse"


def core(entity: str) -> dg.AssetKey:
    """The Dagster asset key of ``core.<entity>`` (the key the ingestion engine materializes)."""
    return dg.AssetKey(["core", entity])


def mart(name: str) -> dg.AssetKey:
    """The Dagster asset key of ``marts.<name>``."""
    return dg.AssetKey(["marts", name])


def row_count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """Rows in ``table``: a fixed ``schema.name`` written in the code, never a user's value
    (it is spliced into the SQL, since DuckDB takes no table name as a parameter)."""
    return con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    """Whether ``schema.table`` exists (a table, not a view)."""
    return con.execute(
        "SELECT count(*) > 0 FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
        [schema, table]).fetchall()[0][0]


def replace_table(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> int:
    """``CREATE OR REPLACE`` ``table`` (a fixed ``schema.name`` from the code) with ``frame``'s
    rows, as they are; the rows written."""
    con.register("_replace_frame", frame.to_arrow())
    try:
        con.execute(f"CREATE OR REPLACE TABLE {quote_identifier(table)} AS "
                    "SELECT * FROM _replace_frame")
    finally:
        con.unregister("_replace_frame")
    return frame.height


def drop_table(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Drop ``table`` (a fixed ``schema.name`` from the code) if it exists: a mart whose
    inputs are missing this run, so nobody reads yesterday's rows as today's."""
    con.execute(f"DROP TABLE IF EXISTS {quote_identifier(table)}")


def _columns_sql(entity: Entity, *, with_base: bool) -> list[str]:
    cols = [f"{c.name} {c.sql_type}" for c in entity.columns]
    if with_base:
        cols += [f"{name}_base DOUBLE" for name in BASE_AMOUNTS.get(entity.name, {})]
    cols += [f"{c.name} {c.sql_type}" for c in LINEAGE]
    return cols


def entity_ddl(entity: Entity) -> list[str]:
    """CREATE statements for ``raw.<entity>`` and ``core.<entity>``.

    ``raw`` keeps the canonical columns plus lineage; ``core`` adds base-currency twins of the
    money columns (``<column>_base``).

    ``core`` has no PRIMARY KEY constraint: the merge writes one row per key by construction
    (it deletes the touched keys, then inserts one winner each), and the ``key_unique`` asset
    checks verify it. A DuckDB primary key is an in-memory index that every insert probes:
    on a first load of 20M+ snapshot rows it cost more memory than the load itself.
    """
    raw_cols = ",\n  ".join(_columns_sql(entity, with_base=False))
    core_cols = ",\n  ".join(_columns_sql(entity, with_base=True))
    return [
        f"CREATE TABLE IF NOT EXISTS raw.{entity.name} (\n  {raw_cols}\n)",
        f"CREATE TABLE IF NOT EXISTS core.{entity.name} (\n  {core_cols}\n)",
    ]


OPS_DDL = [
    # one row per file version seen; a re-landed identical file is recognised by its sha256
    """CREATE TABLE IF NOT EXISTS ops.ingested_files (
  source_file VARCHAR,      -- path relative to the inbox
  sha256 VARCHAR,
  adapter VARCHAR,
  entity VARCHAR,
  batch_id VARCHAR,
  size_bytes BIGINT,
  mtime_ns BIGINT,          -- modification time seen at ingest: unchanged files are not re-read
  rows_read BIGINT,
  rows_loaded BIGINT,
  rows_quarantined BIGINT,
  rows_skipped BIGINT,      -- records the format carries that are not data (eBay summary rows)
  status VARCHAR,           -- loaded | replaced (a corrected version came later) | failed
  message VARCHAR,
  ingested_at TIMESTAMP,
  PRIMARY KEY (source_file, sha256)
)""",
    """CREATE TABLE IF NOT EXISTS ops.ingest_batches (
  batch_id VARCHAR PRIMARY KEY,
  started_at TIMESTAMP,
  finished_at TIMESTAMP,
  files BIGINT,
  rows_read BIGINT,
  rows_loaded BIGINT,
  rows_quarantined BIGINT
)""",
    # an entity whose first load is landing: its files land chunk by chunk into raw and core
    # is derived from raw once, when the last chunk has landed (see engine._derive_core). A
    # row left here by a crash makes the next ingest derive that core table again.
    """CREATE TABLE IF NOT EXISTS ops.first_loads (
  entity VARCHAR,
  batch_id VARCHAR,
  started_at TIMESTAMP
)""",
    # the base currency core's `*_base` columns were computed with: the latest row is in
    # force; a different base_currency in the settings recomputes them (merge.sync_base_currency)
    """CREATE TABLE IF NOT EXISTS ops.base_currency (
  base_currency VARCHAR,
  set_at TIMESTAMP,
  rows_recomputed BIGINT    -- core rows whose base amounts were recomputed for it
)""",
    # file-level findings that are not a rejected row (encoding fallback, unknown file, ...)
    """CREATE TABLE IF NOT EXISTS ops.ingest_messages (
  batch_id VARCHAR,
  source_file VARCHAR,
  source_line BIGINT,
  severity VARCHAR,         -- warning | error
  rule VARCHAR,
  message VARCHAR,
  logged_at TIMESTAMP
)""",
]

QUARANTINE_DDL = [
    # a rejected row, whole (customer identity columns blanked), and every rule it broke
    """CREATE TABLE IF NOT EXISTS quarantine.rows (
  batch_id VARCHAR,
  source_file VARCHAR,
  source_line BIGINT,
  adapter VARCHAR,
  entity VARCHAR,
  rule VARCHAR,
  message VARCHAR,
  row_json VARCHAR,
  quarantined_at TIMESTAMP
)""",
]


# columns added after a warehouse may already exist (CREATE TABLE IF NOT EXISTS leaves it as is)
MIGRATIONS = [
    "ALTER TABLE ops.ingested_files ADD COLUMN IF NOT EXISTS mtime_ns BIGINT",
    "ALTER TABLE ops.ingested_files ADD COLUMN IF NOT EXISTS rows_skipped BIGINT DEFAULT 0",
]


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every schema and table that does not exist yet (idempotent), and record the
    schema's fingerprint (see :func:`_schema_is_current`)."""
    for schema in SCHEMAS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    for entity in ENTITIES.values():
        for stmt in entity_ddl(entity):
            con.execute(stmt)
    for stmt in OPS_DDL + QUARANTINE_DDL + MIGRATIONS:
        con.execute(stmt)
    _add_new_columns(con)
    _drop_core_primary_keys(con)
    con.execute("CREATE TABLE IF NOT EXISTS ops.schema_version (fingerprint VARCHAR NOT NULL)")
    con.execute("DELETE FROM ops.schema_version")
    con.execute("INSERT INTO ops.schema_version VALUES (?)", [SCHEMA_FINGERPRINT])


def _schema_statements() -> list[str]:
    return [stmt for entity in ENTITIES.values() for stmt in entity_ddl(entity)] + (
        OPS_DDL + QUARANTINE_DDL + MIGRATIONS)


# What ensure_schema builds, as one hash and a list of tables. A warehouse whose recorded
# fingerprint matches and which still has every table needs none of its ~60 statements: a
# pipeline run opens the warehouse about 200 times, and the full setup on each cost about 14 %
# of a small run's time.
_SCHEMA_TEXT = "\n".join(_schema_statements())
SCHEMA_FINGERPRINT = hashlib.sha256(_SCHEMA_TEXT.encode()).hexdigest()
SCHEMA_TABLES = sorted(set(re.findall(r"CREATE TABLE IF NOT EXISTS (\w+\.\w+)", _SCHEMA_TEXT)))


def ensure_current_schema(con: duckdb.DuckDBPyConnection) -> None:
    """:func:`ensure_schema`, only when the warehouse's schema is not current already (what
    every read-write :func:`connect` does)."""
    if not _schema_is_current(con):
        ensure_schema(con)


def _schema_is_current(con: duckdb.DuckDBPyConnection) -> bool:
    """True when ensure_schema ran on this warehouse with today's model and none of its tables
    has been dropped since (a catalog query and a one-row read)."""
    present = {f"{schema}.{table}" for schema, table in con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() "
        "WHERE database_name = current_database()").fetchall()}
    if not present.issuperset([*SCHEMA_TABLES, "ops.schema_version"]):
        return False
    # fetchall, not fetchone: a result left unfinished would refuse the caller's next
    # con.register() ("connection has an unfinished result")
    return con.execute("SELECT max(fingerprint) FROM ops.schema_version").fetchall() == [
        (SCHEMA_FINGERPRINT,)]


def _add_new_columns(con: duckdb.DuckDBPyConnection) -> None:
    """Add to ``raw``/``core`` tables of an existing warehouse the (optional) columns the
    model gained since they were created (NULL in the rows already there)."""
    have = {(s, t, c) for s, t, c in con.execute(
        "SELECT table_schema, table_name, column_name FROM information_schema.columns "
        "WHERE table_catalog = current_database() AND table_schema IN ('raw', 'core')"
    ).fetchall()}
    for entity in ENTITIES.values():
        for schema, with_base in (("raw", False), ("core", True)):
            for column in _columns_sql(entity, with_base=with_base):
                name, sql_type = column.split(" ", 1)
                if (schema, entity.name, name) not in have:
                    con.execute(f"ALTER TABLE {schema}.{entity.name} ADD COLUMN {name} {sql_type}")


def _drop_core_primary_keys(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild core tables created with a PRIMARY KEY (warehouses from before it was
    dropped, see :func:`entity_ddl`) without it. DuckDB cannot drop a constraint in place:
    the table is copied, dropped and the copy renamed, in one transaction."""
    tables = [t for (t,) in con.execute(
        "SELECT DISTINCT table_name FROM duckdb_constraints() "
        "WHERE schema_name = 'core' AND constraint_type = 'PRIMARY KEY' ORDER BY 1"
    ).fetchall() if t in ENTITIES]
    if not tables:
        return
    con.execute("BEGIN")
    try:
        for table in tables:
            con.execute(f"CREATE TABLE core._rebuild_{table} AS SELECT * FROM core.{table}")
            con.execute(f"DROP TABLE core.{table}")
            con.execute(f"ALTER TABLE core._rebuild_{table} RENAME TO {table}")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc)
    return "Could not set lock" in text or "Conflicting lock" in text


# DuckDB's own default memory limit is 80 % of the machine's RAM and it starts one thread per
# core: on a laptop that also runs a browser and the dashboards, one large join of a pipeline
# step could take the machine down. Every connection shelfwise opens is bounded instead
# (shelfwise.toml `duckdb_memory_limit`, `duckdb_threads` override it) and spills what does not
# fit to a folder of its own (see spill_folder), which the next run removes if a kill left it.
# 2.5 GiB, not 4: DuckDB runs about 1 GiB above its limit in the largest marts and Python adds
# 0.5 GiB, so a 4 GiB cap peaked at 5.19 GiB on the medium set; 2.5 GiB peaked at 3.42 GiB in
# the same wall time (bench/pipeline.py --skus 10000, README)
MEMORY_LIMIT_CAP = 2560 * 1024**2  # bytes
MEMORY_LIMIT_SHARE = 0.40  # of the machine's (or its cgroup's) memory
THREADS_CAP = 4
SPILL_FOLDER = "tmp"  # beside the database file: <home>/warehouse/tmp/duckdb-<pid>


def machine_memory_bytes() -> int:
    """RAM of the machine, or the memory cap of the container (cgroup v2/v1) if smaller."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for cap_file in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        with contextlib.suppress(OSError, ValueError):
            total = min(total, int(Path(cap_file).read_text().strip()))
    return total


def default_memory_limit() -> str:
    """min(2.5 GiB, 40 % of the machine's memory), in DuckDB syntax ("1638MiB")."""
    limit = min(MEMORY_LIMIT_CAP, int(machine_memory_bytes() * MEMORY_LIMIT_SHARE))
    return f"{max(limit // 1024**2, 256)}MiB"


def default_threads() -> int:
    """One thread per core, at most 4: more threads mean more memory per query, rarely time
    on the data sizes of one retailer."""
    return max(1, min(os.cpu_count() or 1, THREADS_CAP))


def resolve_memory_limit(configured: str | None) -> str | None:
    """The memory limit a connection gets: ``configured`` (DuckDB syntax) when set, "none" for
    DuckDB's own default (80 % of RAM, no cap from shelfwise), else :func:`default_memory_limit`."""
    text = (configured or "").strip()
    if text.lower() == "none":
        return None
    return text or default_memory_limit()


def spill_folder(database: str | Path, pid: int | None = None) -> Path:
    """Where the connections of process ``pid`` (default: this one) spill to disk: one folder
    per process beside the database, so a killed process's folder is recognised as such."""
    return Path(database).parent / SPILL_FOLDER / f"duckdb-{pid or os.getpid()}"


@contextlib.contextmanager
def connect(
    path: str | Path, *, read_only: bool = False, wait_seconds: float = 120.0,
    memory_limit: str | None = "", threads: int | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse, waiting (with back-off) while another process holds its lock.

    Read-write opens make sure the schema exists. The connection is closed on exit, so the
    lock is held only as long as the ``with`` block. ``memory_limit`` (DuckDB syntax, e.g.
    ``"2GB"``; "" or None: :func:`default_memory_limit`; ``"none"``: DuckDB's own default)
    bounds DuckDB's memory; larger work spills to :func:`spill_folder`. ``threads`` (None or
    0: :func:`default_threads`) caps DuckDB's worker threads.
    """
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_seconds
    delay = 0.05
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            if not _is_lock_error(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
    try:
        _bound(con, path, memory_limit, threads)
        if not read_only:
            ensure_current_schema(con)
        # traced from here: what the step's own code runs, not the schema check every open does
        _trace_queries(con)
        yield con
    finally:
        _write_trace(con)
        con.close()


def _bound(con: duckdb.DuckDBPyConnection, path: Path, memory_limit: str | None,
           threads: int | None) -> None:
    # SET, not connect(config=...): a second connection to the same file in one process must
    # have the first one's configuration, SET changes it for both
    limit = resolve_memory_limit(memory_limit)
    if limit:
        con.execute("SET memory_limit = ?", [limit])
    con.execute("SET threads = ?", [int(threads or default_threads())])
    spill = spill_folder(path)
    with contextlib.suppress(OSError):  # DuckDB creates the folder itself, not its parent
        spill.parent.mkdir(parents=True, exist_ok=True)
    con.execute("SET temp_directory = ?", [str(spill)])


# Set SHELFWISE_SQL_TRACE to a file path and every warehouse connection appends the statements
# it ran, with the Dagster step that ran them, to that file (JSON lines). The graph test uses
# it to compare the tables each asset reads with the deps it declares. Off (no cost) otherwise.
SQL_TRACE_ENV = "SHELFWISE_SQL_TRACE"


def _trace_queries(con: duckdb.DuckDBPyConnection) -> None:
    if os.environ.get(SQL_TRACE_ENV):
        con.execute("CALL enable_logging('QueryLog')")


def _write_trace(con: duckdb.DuckDBPyConnection) -> None:
    target = os.environ.get(SQL_TRACE_ENV)
    if not target:
        return
    step = None
    with contextlib.suppress(Exception):  # outside a step (a CLI command): no context
        step = dg.OpExecutionContext.get().op.name
    with contextlib.suppress(duckdb.Error):
        queries = [q for (q,) in con.execute(
            "SELECT message FROM duckdb_logs() WHERE type = 'QueryLog'").fetchall()]
        with open(target, "a", encoding="utf-8") as out:
            out.writelines(json.dumps({"pid": os.getpid(), "step": step, "sql": query}) + "\n"
                           for query in queries)


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse file. Steps open it with ``with warehouse.connect() as con``."""

    path: str
    memory_limit: str = ""  # "": default_memory_limit(); "none": DuckDB's own (80 % of RAM)
    threads: int = 0  # 0: default_threads()

    @contextlib.contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        with connect(self.path, read_only=read_only, memory_limit=self.memory_limit,
                     threads=self.threads) as con:
            yield con
