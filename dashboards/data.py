"""The one way dashboards read data: a cached read-only connection to the serving snapshot.

The dashboards never open the warehouse (a pipeline step may hold its lock) and never import
``assets/``. They read ``<SHELFWISE_HOME>/serving/serving.duckdb``, which the publish step
replaces by renaming a new file over it, so the file's identity (inode, mtime, size) names one
published snapshot:

- one read-only DuckDB connection per snapshot identity (``st.cache_resource``), shared by
  every session; each query runs on its own cursor. Opening DuckDB costs 15-50 ms, so a page of
  15 queries no longer pays it 15 times. A publish changes the identity: the next query opens
  the new file and the old connection is dropped from the cache (a query still running on it
  keeps reading the old inode, which the OS frees when the last cursor closes). Nothing ever
  holds a lock on a file the pipeline writes: the publish step writes a temporary file.
- results are cached (``st.cache_data``) by SQL, parameters and the same identity: a new
  snapshot is a new key, so nobody sees stale numbers after a publish, and nobody waits for
  DuckDB twice for the same question.

The connection is an in-memory DuckDB that ``ATTACH``es the file read-only rather than
``duckdb.connect(path)``: DuckDB caches database instances by path inside one process, so after
a rename ``connect(path)`` would hand back the old, still-open file.
"""

from __future__ import annotations

import os
import re
import threading
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import streamlit as st

# the catalog name the snapshot is attached under; every cursor makes it the default, so page
# SQL reads ``marts.x`` exactly as in the warehouse
CATALOG = "serving"

SnapshotVersion = tuple[int, int, int]


def home() -> Path:
    """The shelfwise home the dashboards serve: ``$SHELFWISE_HOME``, default ``./data``."""
    return Path(os.environ.get("SHELFWISE_HOME") or "data").resolve()


def serving_path() -> Path:
    """``<home>/serving/serving.duckdb``; home is ``$SHELFWISE_HOME`` (default ``./data``)."""
    return home() / "serving" / "serving.duckdb"


def snapshot_version() -> SnapshotVersion | None:
    """The served file's identity (inode, mtime in ns, size in bytes), the cache key of every
    connection and result; None when no snapshot has been published yet."""
    try:
        stat = serving_path().stat()
    except FileNotFoundError:
        return None
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size)


# DuckDB connections are not safe to share between threads; creating a cursor from the shared
# one is, under this lock (Streamlit runs every session's script in its own thread)
_CURSOR_LOCK = threading.Lock()


@st.cache_resource(show_spinner=False, max_entries=1)
def _connection(path: str, version: SnapshotVersion) -> duckdb.DuckDBPyConnection:
    # ``version`` is only the cache key: one entry, so a new snapshot evicts the old connection
    con = duckdb.connect()
    con.execute(f"ATTACH $path AS {CATALOG} (READ_ONLY)", {"path": path})
    return con


def _freeze(value: object) -> object:
    # st.cache_data hashes arguments: lists become tuples so equal filters share an entry
    return tuple(value) if isinstance(value, list) else value


@st.cache_data(show_spinner=False, max_entries=1024)
def _cached_query(path: str, version: SnapshotVersion, sql: str, params: tuple,
                  named: bool) -> pl.DataFrame:
    def thaw(value: object) -> object:
        return list(value) if isinstance(value, tuple) else value

    bound = {k: thaw(v) for k, v in params} if named else [thaw(v) for v in params]
    with _CURSOR_LOCK:
        cursor = _connection(path, version).cursor()
    try:
        cursor.execute(f"USE {CATALOG}")  # a cursor starts in the in-memory catalog
        return cursor.sql(sql, params=bound or None).pl()
    finally:
        cursor.close()


def query(sql: str, params: dict | list | tuple | None = None) -> pl.DataFrame:
    """Run ``sql`` on the serving snapshot with ``params`` (``$name`` dict or ``?`` list).

    Raises FileNotFoundError when no snapshot has been published yet.
    """
    version = snapshot_version()
    if version is None:
        raise FileNotFoundError(serving_path())
    if isinstance(params, dict):
        # DuckDB rejects named values the statement does not use: a page can pass its whole
        # filter set to every query
        used = set(re.findall(r"\$(\w+)", sql))
        frozen = tuple((k, _freeze(v)) for k, v in sorted(params.items()) if k in used)
    else:
        frozen = tuple(_freeze(v) for v in (params or ()))
    return _cached_query(str(serving_path()), version, sql, frozen, isinstance(params, dict))


def tables() -> set[str]:
    """``schema.table`` names present in the snapshot."""
    frame = query("SELECT table_schema || '.' || table_name AS name FROM information_schema.tables "
                  "WHERE table_catalog = current_database()")
    return set(frame["name"].to_list())


def has_table(name: str) -> bool:
    """Whether ``schema.table`` was published (marts of other steps may not exist yet)."""
    return name in tables()


def columns(name: str) -> list[str]:
    schema, table = name.split(".", 1)
    frame = query(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ? "
        "ORDER BY ordinal_position",
        [schema, table],
    )
    return frame["column_name"].to_list()


def date_bounds(table: str, column: str) -> tuple[date, date] | None:
    """The first and last date of ``column`` in ``table`` (identifiers are the caller's
    constants, never user input), or None when the table is empty."""
    frame = query(f"SELECT min({column})::DATE AS lo, max({column})::DATE AS hi FROM {table}")
    bounds = frame.row(0, named=True)
    return None if bounds["lo"] is None else (bounds["lo"], bounds["hi"])


def dimension(table: str, id_column: str, name_column: str = "name") -> dict[str, str]:
    """id -> label for a published core dimension (``core.channels`` ...), empty if absent."""
    if not has_table(table):
        return {}
    frame = query(f"SELECT {id_column} AS id, coalesce({name_column}, {id_column}) AS label "
                  f"FROM {table} ORDER BY {id_column}")
    return dict(zip(frame["id"].to_list(), frame["label"].to_list()))


def one_of(param: str, column: str) -> str:
    """SQL that keeps rows whose ``column`` is in the list parameter ``$param``, or every row
    when the list is empty ("nothing picked" means all). Both names are the caller's
    constants; the values stay parameters."""
    return f"(len(${param}::VARCHAR[]) = 0 OR list_contains(${param}::VARCHAR[], {column}))"


def has_columns(name: str, needed: set[str] | list[str] | tuple[str, ...]) -> bool:
    """Whether ``schema.table`` was published with (at least) the ``needed`` columns."""
    return has_table(name) and set(needed) <= set(columns(name))


def feature_needs(feature: str) -> str | None:
    """What this home lacks for ``feature``, in words ('stock snapshots (daily stock-on-hand
    files in inbox/stock_snapshots/)'); None when it has it or the snapshot does not say."""
    if not has_columns("marts.feature_availability", ["feature_key", "available", "how_to_enable"]):
        return None
    rows = query("SELECT how_to_enable FROM marts.feature_availability "
                 "WHERE feature_key = ? AND NOT available", [feature])
    if rows.is_empty():
        return None
    return rows.item().removeprefix("add ").replace("; add ", " and ")


def feature_name(feature: str) -> str:
    """The feature's name in the business's words (its key when the snapshot does not say)."""
    if not has_columns("marts.feature_availability", ["feature_key", "feature"]):
        return feature
    rows = query("SELECT feature FROM marts.feature_availability WHERE feature_key = ?", [feature])
    return feature if rows.is_empty() else rows.item()
