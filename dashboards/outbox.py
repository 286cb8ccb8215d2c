"""Supplier restock files the restock run wrote, read from ``<home>/outbox`` for download.

Not the warehouse and not the snapshot: these are files shelfwise wrote for others
(``<outbox>/suppliers/<supplier_id>/<po_number>.csv|.xlsx``, written atomically and listed in
``<outbox>/manifest.jsonl`` by ``assets/outbox.py``), safe to read at any time. Dashboards
never import ``assets/``, so the manifest's JSON lines are read here. Reading never creates
a folder or a file.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import polars as pl
import streamlit as st

from dashboards import data

MANIFEST_NAME = "manifest.jsonl"
SUPPLIER_FILE_KIND = "supplier_file"
MIME = {"csv": "text/csv",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
SCHEMA = {"supplier_id": pl.String, "po_number": pl.String, "format": pl.String,
          "file": pl.String, "sha256": pl.String, "rows": pl.Int64, "recorded_at": pl.String}


def folder() -> Path:
    """``<home>/outbox`` of the home the dashboards serve."""
    return data.home() / "outbox"


@st.cache_data(show_spinner=False, max_entries=4)
def _supplier_entries(path: str, version: tuple[int, int, int]) -> list[dict]:
    # ``version`` (inode, mtime, size) is only the cache key: an appended entry is a new key
    latest: dict[str, dict] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            try:
                entry = json.loads(line)
            except ValueError:  # a torn last line after a crash: skip it, keep the rest
                continue
            if isinstance(entry, dict) and entry.get("kind") == SUPPLIER_FILE_KIND:
                latest[entry["path"]] = entry  # a rewritten file: its newest entry counts
    return [{k: e.get(k) for k in ("supplier_id", "po_number", "format", "sha256", "rows",
                                   "recorded_at")} | {"file": p} for p, e in latest.items()]


def supplier_files() -> pl.DataFrame:
    """Every supplier restock file in the manifest, newest first: ``supplier_id``,
    ``po_number``, ``format`` (csv, xlsx), ``file`` (relative to the outbox), ``sha256``,
    ``rows``, ``recorded_at`` (UTC, ISO); empty when nothing was sent yet."""
    manifest = folder() / MANIFEST_NAME
    try:
        stat = manifest.stat()
    except FileNotFoundError:
        return pl.DataFrame(schema=SCHEMA)
    rows = _supplier_entries(str(manifest), (stat.st_ino, stat.st_mtime_ns, stat.st_size))
    return (pl.DataFrame(rows, schema=SCHEMA)
            .sort("recorded_at", "po_number", "format", descending=[True, False, False]))


def reader(relative: str) -> Callable[[], bytes] | None:
    """A callable reading one outbox file's bytes when a download is clicked, or None when
    the file is gone or the path would leave the outbox."""
    root = folder().resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path.read_bytes


def restock(*, suppliers: list[str], dry_run: bool, force: bool, user: str | None):
    """Preview (``dry_run``) or send the approved lines of this home as purchase orders:
    :func:`pipelines.commands.restock.restock_orders`, the function `shelfwise restock` runs,
    so the minimum-order hold, ``force`` and the audit (``user`` as the sender) are the same.

    The one place the dashboards reach past the snapshot: sending is a pipeline run (it writes
    the outbox, the decision store and ``ops.supplier_restock_lines``), started only by the
    planner's click; Dagster is imported then, not when a page loads. Raises what the
    function raises (``RestockError`` naming an unknown supplier, a busy warehouse)."""
    from assets.settings import load_settings
    from pipelines.commands.restock import restock_orders

    return restock_orders(load_settings(data.home()), suppliers=suppliers, dry_run=dry_run,
                          force=force, user=user)
