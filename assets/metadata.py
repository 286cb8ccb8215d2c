"""Markdown tables for the Dagster asset page: the first rows of a frame or a query.

One formatter for every domain, so numbers read the same on every asset page.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import dagster as dg
import duckdb
import polars as pl

PREVIEW_ROWS = 10


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    return "" if value is None else str(value).replace("|", "\\|")


def md_table(columns: Sequence[str], rows: Iterable[Sequence[object]], empty: str = "_no rows_") -> str:
    """``rows`` under ``columns`` as a markdown table; ``empty`` when there are none.
    Floats: 3 decimals below 10, else 1; pipes in text are escaped."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) if len(lines) > 2 else empty


def frame_md(frame: pl.DataFrame, limit: int = PREVIEW_ROWS) -> dg.MetadataValue:
    """The first ``limit`` rows of ``frame`` as asset-page markdown."""
    head = frame.head(limit)
    return dg.MetadataValue.md(md_table(head.columns, head.iter_rows()))


def query_md(
    con: duckdb.DuckDBPyConnection, query: str, params: list | dict | None = None
) -> dg.MetadataValue:
    """Every row of ``query`` (give it a LIMIT) as asset-page markdown; values as parameters."""
    rel = con.execute(query, params or [])
    columns = [d[0] for d in rel.description]
    return dg.MetadataValue.md(md_table(columns, rel.fetchall()))
