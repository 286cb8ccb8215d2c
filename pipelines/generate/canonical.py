"""The generic canonical CSV format ("bring your own data"), as the demo writes it.

Header: the entity's column names from :mod:`assets.model` (optional ones may be left out),
in model order. Values: timestamps ISO 8601 UTC with ``Z`` (``2026-03-01T10:15:00Z``), dates
``YYYY-MM-DD``, booleans ``true``/``false``, ``.`` as decimal separator, empty cell = null.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

from assets.ingest.adapters._orders import csv_parts
from assets.ingest.adapters.base import FILE
from assets.model import ENTITIES


def canonical_frame(frame: pl.DataFrame, entity: str) -> pl.DataFrame:
    """``frame`` restricted to the entity's columns, in model order, as CSV-ready text.

    Raises ``ValueError`` naming the missing columns when a required one is absent.
    """
    spec = ENTITIES[entity]
    missing = [c.name for c in spec.columns if c.required and c.name not in frame.columns]
    if missing:
        raise ValueError(f"{entity}: required columns missing: {', '.join(missing)}")
    exprs = []
    for col in spec.columns:
        if col.name not in frame.columns:
            continue
        e = pl.col(col.name)
        if col.sql_type == "TIMESTAMP":
            e = e.dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        elif col.sql_type == "DATE":
            e = e.dt.strftime("%Y-%m-%d")
        elif col.sql_type == "BOOLEAN":
            e = pl.when(e).then(pl.lit("true")).when(e.not_()).then(pl.lit("false"))
        elif col.sql_type == "DOUBLE":
            e = e.round(6)
        exprs.append(e.alias(col.name))
    return frame.select(exprs)


def write_atomic(path: Path, writer) -> None:
    """Write through ``writer(tmp_path)`` to a hidden temporary name, then rename, so a
    watcher of the inbox never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    writer(tmp)
    os.replace(tmp, path)


def write_canonical(frame: pl.DataFrame, entity: str, path: Path) -> int:
    """Write ``frame`` as a generic canonical CSV of ``entity``; returns the rows written."""
    out = canonical_frame(frame, entity)
    write_atomic(Path(path), lambda p: out.write_csv(p, line_terminator="\n"))
    return out.height


def write_canonical_files(frame: pl.DataFrame, entity: str) -> dict[str, int]:
    """:func:`write_canonical` for many files at once: each row goes to the file named in
    its ``source_file`` column (rows keep their order within a file; files come in order of
    first appearance). One format pass and one ``write_csv`` for all of them, the same bytes
    as file by file. Returns the rows written per file."""
    frame = frame.sort(pl.int_range(pl.len()).first().over(FILE), maintain_order=True)
    out = canonical_frame(frame, entity).with_columns(frame.get_column(FILE))
    header, parts = csv_parts(out)
    counts = dict(out.group_by(FILE, maintain_order=True).len().iter_rows())
    for name in counts:
        data = (header + "\n" + parts[name]).encode("utf-8")
        write_atomic(Path(name), lambda p, data=data: p.write_bytes(data))
    return counts
