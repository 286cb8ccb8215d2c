"""Channel availability feeds: one CSV per channel in the outbox, all from one ATS table."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from assets.inventory.models import channel_feed_rows
from assets.outbox import csv_bytes, record_manifest, write_atomic

FEED_COLUMNS = ["channel_sku", "sku", "quantity"]
FEED_KIND = "channel_feed"
_SAFE_ID = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class FeedFile:
    channel_id: str
    as_of: str
    path: Path
    rows: int
    sha256: str
    new_in_manifest: bool


def channel_folder(channel_id: str) -> str:
    """A folder name for a channel id: the id when it is path-safe, else with ``_`` for the
    unsafe characters (a channel id never escapes ``channel_feeds/``)."""
    name = _SAFE_ID.sub("_", channel_id)
    return name if name.strip(".") else "_"


def feed_path(outbox: Path, channel_id: str, as_of: str) -> Path:
    """``<outbox>/channel_feeds/<channel_id>/availability_<as_of>.csv``."""
    return outbox / "channel_feeds" / channel_folder(channel_id) / f"availability_{as_of}.csv"


def write_channel_feeds(con: duckdb.DuckDBPyConnection, outbox: str | Path) -> list[FeedFile]:
    """Write every channel's feed (columns channel_sku, sku, quantity in units, sorted by
    channel SKU) atomically and list each in the outbox manifest with its sha256.

    Idempotent: the same ATS gives byte-identical files, which are neither rewritten nor listed
    twice. ``as_of`` in the file name is the ATS's as-of date (the latest snapshot date).
    """
    outbox = Path(outbox)
    rows = channel_feed_rows(con)
    if rows.is_empty():
        return []
    as_of = str(rows["as_of"][0])
    written = []
    for (channel_id,), frame in rows.partition_by("channel_id", as_dict=True, maintain_order=True).items():
        path = feed_path(outbox, channel_id, as_of)
        body = frame.select(FEED_COLUMNS).sort(["channel_sku", "sku"])
        digest = write_atomic(path, csv_bytes(body))
        new = record_manifest(
            outbox, path, digest, kind=FEED_KIND, rows=body.height,
            channel_id=channel_id, as_of=as_of,
        )
        written.append(FeedFile(channel_id, as_of, path, body.height, digest, new))
    return written


def feed_files_frame(feeds: list[FeedFile], outbox: Path) -> pl.DataFrame:
    """The written feeds as a small frame for metadata and the CLI."""
    return pl.DataFrame(
        {
            "channel_id": [f.channel_id for f in feeds],
            "file": [f.path.relative_to(outbox).as_posix() for f in feeds],
            "rows": [f.rows for f in feeds],
            "sha256": [f.sha256 for f in feeds],
        },
        schema={"channel_id": pl.String(), "file": pl.String(), "rows": pl.Int64(),
                "sha256": pl.String()},
    )
