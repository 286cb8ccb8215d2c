"""The one way dashboards read data: short-lived read-only connections to the serving snapshot.

The dashboards never open the warehouse (a pipeline step may hold its lock) and never import
``assets/``. They open ``<SHELFWISE_HOME>/serving/serving.duckdb`` read-only, run one query,
and close it again, so a publish (which renames a new file over it) is never blocked and never
breaks a page: a query in flight keeps reading the old file.

Results are cached with ``st.cache_data`` keyed by the SQL, its parameters and the snapshot
file's modification time: a new snapshot is a new key, so nobody sees stale numbers after a
publish, and nobody waits for DuckDB twice for the same question.
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import streamlit as st


def serving_path() -> Path:
    """``<home>/serving/serving.duckdb``; home is ``$SHELFWISE_HOME`` (default ``./data``)."""
    home = os.environ.get("SHELFWISE_HOME") or "data"
    return Path(home).resolve() / "serving" / "serving.duckdb"


def snapshot_version() -> int | None:
    """The snapshot file's mtime in ns (the cache key), or None when there is no snapshot."""
    try:
        return serving_path().stat().st_mtime_ns
    except FileNotFoundError:
        return None


def _freeze(value: object) -> object:
    # st.cache_data hashes arguments: lists become tuples so equal filters share an entry
    return tuple(value) if isinstance(value, list) else value


@st.cache_data(show_spinner=False, max_entries=1024)
def _cached_query(path: str, version: int, sql: str, params: tuple, named: bool) -> pl.DataFrame:
    def thaw(value: object) -> object:
        return list(value) if isinstance(value, tuple) else value

    bound = {k: thaw(v) for k, v in params} if named else [thaw(v) for v in params]
    con = duckdb.connect(path, read_only=True)
    try:
        return con.sql(sql, params=bound or None).pl()
    finally:
        con.close()


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
    frame = query("SELECT table_schema || '.' || table_name AS name FROM information_schema.tables")
    return set(frame["name"].to_list())


def has_table(name: str) -> bool:
    """Whether ``schema.table`` was published (marts of other steps may not exist yet)."""
    return name in tables()


def columns(name: str) -> list[str]:
    schema, table = name.split(".", 1)
    frame = query(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, table],
    )
    return frame["column_name"].to_list()


def date_bounds(table: str, column: str) -> tuple[date, date] | None:
    """The first and last date of ``column`` in ``table`` (identifiers are the caller's
    constants, never user input), or None when the table is empty."""
    frame = query(f"SELECT min({column})::DATE AS lo, max({column})::DATE AS hi FROM {table}")
    lo, hi = frame.row(0)
    return None if lo is None else (lo, hi)


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
