"""The generic canonical CSV format ("bring your own data"), as the demo writes it.

Header: the entity's column names from :mod:`assets.model` (optional ones may be left out),
in model order. Values: timestamps ISO 8601 UTC with ``Z`` (``2026-03-01T10:15:00Z``), dates
``YYYY-MM-DD``, booleans ``true``/``false``, ``.`` as decimal separator, empty cell = null.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

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
