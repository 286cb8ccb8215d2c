"""Transfer files: the approved transfers of one source location as one file, like a PO.

``shelfwise transfers send`` turns the transfer decision store's approved-but-unsent lines
(:class:`assets.decisions.transfer_store.TransferDecisionStore`) into one CSV per source
location, ``<outbox>/transfers/<source>/<TR-number>.csv``, listed in the outbox manifest
(kind ``transfer_file``, sha256, rows, total units), then marks the lines sent. The same
conventions as the supplier files (:mod:`assets.restock.files`): lines only, every row with
the transfer number, source and ship date so it stands alone, text cells neutralised against
formula injection, written atomically.

Safe to re-run: the lines come from the decisions as the planner saw them (the snapshot in
the store, no warehouse read), so the same lines give the same transfer number
(``TR-<source>-<first 10 hex of the sha256 of the sorted lines>``, :func:`po_numbers`) and
byte-identical files; a file already written is not rewritten nor listed twice, and a line
marked sent never goes out again. A crash after the file and before the marking leaves the
lines approved: the next run writes the same file (nothing new) and marks them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from assets.decisions.transfer_store import TransferDecisionStore
from assets.outbox import csv_bytes, record_manifest, write_atomic
from assets.restock.files import po_numbers, supplier_folder

TRANSFER_FILE_KIND = "transfer_file"
# what the two warehouses read, in this order
CSV_COLUMNS = [
    "transfer_number", "from_location_id", "ship_date", "line_no", "sku", "description",
    "to_location_id", "quantity_units", "case_pack", "cases", "expected_arrival_date",
    "transfer_id",
]
_LINE_SCHEMA = {
    "transfer_id": pl.String, "revision": pl.Int64, "sku": pl.String,
    "description": pl.String, "from_location_id": pl.String, "to_location_id": pl.String,
    "quantity_units": pl.Int64, "case_pack": pl.Int64, "as_of": pl.String,
    "ship_date": pl.String, "expected_arrival_date": pl.String,
}


@dataclass(frozen=True)
class TransferOrder:
    """One source location's approved transfers of one run: what its file holds."""

    transfer_number: str
    from_location_id: str
    lines: pl.DataFrame  # CSV_COLUMNS + revision

    @property
    def total_units(self) -> int:
        return int(self.lines["quantity_units"].sum())


def transfer_lines(pending: list[dict]) -> pl.DataFrame:
    """The pending transfer decisions (rows of :meth:`TransferDecisionStore.pending`) as file
    lines: quantity = the decided units, ``cases`` = whole cases (rounded up), dates as the
    transfer suggestion had them (ship on its day, arrive after the lane's lead time)."""
    rows = []
    for d in pending:
        snap = d.get("suggestion") or {}
        rows.append({
            "transfer_id": d["suggestion_id"], "revision": d["revision"], "sku": d["sku"],
            "description": snap.get("product_name"),
            "from_location_id": snap.get("from_location_id", d["supplier_id"]),
            "to_location_id": snap.get("to_location_id", d["location_id"]),
            "quantity_units": d["quantity"], "case_pack": snap.get("case_pack"),
            "as_of": d["as_of"], "ship_date": snap.get("ship_date") or d["as_of"],
            "expected_arrival_date": snap.get("expected_arrival_date"),
        })
    return pl.DataFrame(rows, schema=_LINE_SCHEMA).with_columns(
        pl.col("case_pack").fill_null(1).clip(lower_bound=1),
        pl.col("ship_date", "expected_arrival_date").str.slice(0, 10).str.to_date(strict=False),
    ).with_columns(
        (-(-pl.col("quantity_units") // pl.col("case_pack"))).alias("cases"))


def transfer_orders(lines: pl.DataFrame) -> list[TransferOrder]:
    """One :class:`TransferOrder` per source location, lines numbered 1.. in (sku,
    destination) order; sources in id order."""
    if lines.is_empty():
        return []
    keyed = lines.with_columns(pl.col("from_location_id").alias("supplier_id"),
                               pl.col("to_location_id").alias("deliver_to"))
    numbers = po_numbers(keyed, prefix="TR-").rename(
        {"supplier_id": "from_location_id", "po_number": "transfer_number"})
    numbered = (
        lines.join(numbers, on="from_location_id")
        .sort("from_location_id", "sku", "to_location_id", "transfer_id")
        .with_columns(pl.int_range(1, pl.len() + 1).over("from_location_id").alias("line_no"))
    )
    return [TransferOrder(frame["transfer_number"][0], source, frame)
            for (source,), frame in numbered.partition_by(
                "from_location_id", as_dict=True, maintain_order=True).items()]


def csv_bytes_for(order: TransferOrder) -> bytes:
    """The transfer file: UTF-8 CSV, one row per line and nothing else."""
    return csv_bytes(order.lines.select(CSV_COLUMNS))


def transfer_path(outbox: Path, order: TransferOrder) -> Path:
    """``<outbox>/transfers/<source>/<transfer number>.csv`` (the source id path-safe)."""
    return (outbox / "transfers" / supplier_folder(order.from_location_id)
            / f"{order.transfer_number}.csv")


@dataclass
class TransferRun:
    """What one ``transfers send`` did (or, with ``dry_run``, would do)."""

    orders: list[TransferOrder]
    files: dict[str, tuple[Path, str, bool]] = field(default_factory=dict)  # number -> (path, sha256, new)
    late_changes: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def lines(self) -> int:
        return sum(o.lines.height for o in self.orders)


def send_transfers(
    outbox: Path,
    store: TransferDecisionStore,
    *,
    from_locations: list[str] | None = None,
    dry_run: bool = False,
    user: str | None = None,
) -> TransferRun:
    """Write one file per source location for the approved, unsent transfers and mark them
    sent (see the module doc). ``from_locations``: only these sources' lines. ``dry_run``:
    the files as they would go out; nothing written or marked. ``user``: who sends (the audit
    rows' user; default ``pipeline``)."""
    pending = store.pending()
    if from_locations is not None:
        pending = [p for p in pending if p["supplier_id"] in from_locations]
    run = TransferRun(orders=transfer_orders(transfer_lines(pending)), dry_run=dry_run)
    if dry_run:
        return run
    for order in run.orders:
        path = transfer_path(outbox, order)
        digest = write_atomic(path, csv_bytes_for(order))
        new = record_manifest(
            outbox, path, digest, kind=TRANSFER_FILE_KIND, rows=order.lines.height,
            from_location_id=order.from_location_id, transfer_number=order.transfer_number,
            format="csv", total_units=order.total_units)
        run.files[order.transfer_number] = (path, digest, new)
        marked = store.mark_sent(
            order.lines.select(pl.col("transfer_id").alias("suggestion_id"),
                               pl.col("quantity_units").alias("quantity"), "revision").to_dicts(),
            po_number=order.transfer_number, user=user or "pipeline")
        run.late_changes += marked["late_changes"]
    return run
