"""Sending supplier restock files: write, list in the manifest, deliver through a sink, mark sent.

The order of the steps is what makes a re-run safe:

1. the approved-but-unsent lines are read from the decision store (with their revision);
2. each supplier's purchase order is rendered (CSV + XLSX) and written atomically to
   ``<outbox>/suppliers/<supplier_id>/<po_number>.{csv,xlsx}``, listed in the outbox
   manifest with its sha256: the outbox is the record of every file that went out;
3. the sink delivers the two files (by default the supplier's outbox folder *is* the
   delivery: they pick it up there, e.g. as a shared or synced folder);
4. the lines are marked ``sent`` in the decision store with the PO number, and the lines
   are added to ``ops.supplier_restock_lines``.

A crash between 2 and 4 leaves the lines pending: the next run sees the same lines, so the
same PO number and byte-identical files (nothing rewritten, nothing listed twice), and a sink
that is itself idempotent by PO number never delivers a second order.

Adding a sink (SFTP, e-mail): write a class with ``name`` and ``deliver(order, files) -> str``
(see :class:`RestockSink` and docs/approvals.md, "Delivery"), register it in :data:`SINKS`
and select it with ``[restock] sink = "<name>"`` in shelfwise.toml.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import duckdb
import polars as pl

from assets.decisions.store import DecisionStore
from assets.outbox import record_manifest, write_atomic
from assets.restock.files import (
    PurchaseOrder,
    csv_bytes_for,
    purchase_orders,
    restock_lines,
    supplier_folder,
    xlsx_bytes_for,
)
from assets.settings import Settings, SettingsError, read_section

SUPPLIER_FILE_KIND = "supplier_file"
FORMATS: dict[str, Callable[[PurchaseOrder], bytes]] = {"csv": csv_bytes_for, "xlsx": xlsx_bytes_for}

RESTOCK_LINES_DDL = """
CREATE TABLE IF NOT EXISTS ops.supplier_restock_lines (
  po_number VARCHAR NOT NULL,
  suggestion_id VARCHAR NOT NULL,
  supplier_id VARCHAR NOT NULL,
  sku VARCHAR,
  deliver_to VARCHAR,          -- location_id the goods go to
  as_of DATE,                  -- the suggestion's as-of day
  quantity_units BIGINT,
  case_pack INTEGER,
  case_packs BIGINT,
  unit_cost DOUBLE,            -- supplier currency
  currency VARCHAR,
  line_value DOUBLE,           -- supplier currency
  unit_cost_base DOUBLE,       -- base currency
  line_value_base DOUBLE,      -- base currency
  requested_delivery_date DATE,
  csv_file VARCHAR,            -- relative to the outbox
  csv_sha256 VARCHAR,
  xlsx_file VARCHAR,
  xlsx_sha256 VARCHAR,
  sink VARCHAR,
  delivered_to VARCHAR,
  sent_at TIMESTAMP,           -- UTC
  PRIMARY KEY (po_number, suggestion_id)
)"""


@dataclass(frozen=True)
class SupplierFile:
    """One written file of a purchase order."""

    format: str  # csv | xlsx
    path: Path
    sha256: str
    new_in_manifest: bool


class RestockSink(Protocol):
    """Where a supplier's files go after they are written to the outbox.

    ``deliver`` gets the order and its written files (already in the outbox, listed in the
    manifest) and returns where they went (a path, a URL, an address) for the record. It
    must be idempotent by ``order.po_number``: delivering the same PO again (a re-run after a
    crash) must not give the supplier a second order. Raise to leave the lines pending: the
    next run retries with the same PO number and the same bytes.
    """

    name: str

    def deliver(self, order: PurchaseOrder, files: list[SupplierFile]) -> str: ...


class OutboxFolderSink:
    """The default: the supplier's folder ``<home>/outbox/suppliers/<supplier_id>/`` is the
    delivery point (share it, sync it, or serve it over SFTP). Nothing more to do."""

    name = "outbox"

    def __init__(self, settings: Settings) -> None:
        self.outbox = settings.outbox

    def deliver(self, order: PurchaseOrder, files: list[SupplierFile]) -> str:
        return supplier_dir(self.outbox, order.supplier_id).relative_to(self.outbox).as_posix()


# sink name (shelfwise.toml [restock] sink) -> factory taking the settings
SINKS: dict[str, Callable[[Settings], RestockSink]] = {"outbox": OutboxFolderSink}


class RestockSettingsError(SettingsError):
    """A value in shelfwise.toml ``[restock]`` that cannot be used."""


@dataclass(frozen=True)
class RestockSettings:
    """The ``[restock]`` table of shelfwise.toml."""

    sink: str = "outbox"  # how approved orders reach suppliers: a name in SINKS


def sink_for(settings: Settings) -> RestockSink:
    """The sink named by ``[restock] sink`` (default ``outbox``)."""
    name = read_section(settings, "restock", RestockSettings, error=RestockSettingsError).sink
    if name not in SINKS:
        raise RestockSettingsError(
            f"shelfwise.toml [restock] sink = {name!r}: unknown sink; known: {', '.join(SINKS)}")
    return SINKS[name](settings)


def supplier_dir(outbox: Path, supplier_id: str) -> Path:
    """``<outbox>/suppliers/<supplier_id>/`` (path-safe)."""
    return outbox / "suppliers" / supplier_folder(supplier_id)


def write_order_files(outbox: Path, order: PurchaseOrder) -> list[SupplierFile]:
    """Write one order's CSV and XLSX atomically and list them in the outbox manifest.

    Idempotent: the same order gives the same bytes, not rewritten and not listed twice."""
    folder = supplier_dir(outbox, order.supplier_id)
    written = []
    for fmt, render in FORMATS.items():
        path = folder / f"{order.po_number}.{fmt}"
        digest = write_atomic(path, render(order))
        new = record_manifest(
            outbox, path, digest, kind=SUPPLIER_FILE_KIND, rows=order.lines.height,
            supplier_id=order.supplier_id, po_number=order.po_number, format=fmt,
            total_units=order.total_units, total_value=order.total_value,
            currency=order.currency,
        )
        written.append(SupplierFile(fmt, path, digest, new))
    return written


@dataclass
class RestockRun:
    """What one restock run did."""

    orders: list[PurchaseOrder]
    files: dict[str, list[SupplierFile]]  # po_number -> files
    delivered_to: dict[str, str]  # po_number -> where
    unknown_supplier: list[str]  # suggestion ids left pending: no supplier anywhere
    late_changes: list[str]  # suggestion ids changed by a planner while their file was written
    failed: dict[str, str]  # po_number -> delivery error (lines left pending)
    # orders below their supplier's minimum order value, not written (lines left pending)
    held: list[PurchaseOrder] = field(default_factory=list)
    dry_run: bool = False  # nothing was written, delivered or marked

    @property
    def lines_sent(self) -> int:
        return sum(o.lines.height for o in self.orders if o.po_number not in self.failed)


def below_minimum_note(order: PurchaseOrder) -> str:
    """The audit note of an order sent below its supplier's minimum order value."""
    return (f"sent below the minimum order value: {order.total_value:,.2f} of "
            f"{order.min_order_value:,.2f} {order.currency} ({order.short_of_minimum:,.2f} short)")


def send_pending(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    *,
    store: DecisionStore | None = None,
    sink: RestockSink | None = None,
    suppliers: list[str] | None = None,
    force_below_minimum: bool = False,
    dry_run: bool = False,
    user: str | None = None,
) -> RestockRun:
    """Send every approved-but-unsent line: one purchase order per supplier (see the module
    doc for the steps and why a re-run is safe). ``con``: a read-write warehouse connection
    (reads the suggestions and master data, appends ``ops.supplier_restock_lines``); a
    read-only one does for ``dry_run``.

    - ``suppliers``: only these suppliers' lines (default: every supplier's).
    - An order whose value (supplier currency) is below the supplier's minimum order value
      (``core.suppliers.min_order_value``) is held: not written, its lines stay pending and
      it is reported in ``held``, because a supplier rejects or surcharges it. With
      ``force_below_minimum`` it goes out anyway and the audit row of each line says so.
    - ``dry_run``: the orders as they would go out (``orders``) and the held ones; nothing
      is written, delivered or marked sent.
    - ``user``: who sends (the audit's user; default ``pipeline``).

    A delivery that raises leaves that supplier's lines pending (reported in ``failed``) and
    the other suppliers go on."""
    store = store or DecisionStore(settings.home)
    sink = sink or sink_for(settings)
    pending = store.pending()
    if suppliers is not None:
        pending = [p for p in pending if p["supplier_id"] in suppliers]
    lines = restock_lines(con, pending, settings.base_currency)
    if suppliers is not None:  # a line whose supplier only master data knows
        lines = lines.filter(pl.col("supplier_id").is_in(suppliers))
    every_order = purchase_orders(lines)
    held = [] if force_below_minimum else [o for o in every_order if o.short_of_minimum > 0]
    held_numbers = {o.po_number for o in held}
    orders = [o for o in every_order if o.po_number not in held_numbers]
    run = RestockRun(
        orders=orders, files={}, delivered_to={},
        unknown_supplier=lines.filter(pl.col("supplier_id").is_null())["suggestion_id"].to_list(),
        late_changes=[], failed={}, held=held, dry_run=dry_run,
    )
    if dry_run:
        return run
    con.execute(RESTOCK_LINES_DDL)
    for order in orders:
        files = write_order_files(settings.outbox, order)
        run.files[order.po_number] = files
        try:
            where = sink.deliver(order, files)
        except Exception as exc:  # one supplier's failed upload must not stop the others
            run.failed[order.po_number] = f"{type(exc).__name__}: {exc}"
            continue
        run.delivered_to[order.po_number] = where
        marked = store.mark_sent(
            order.lines.select(
                "suggestion_id", pl.col("quantity_units").alias("quantity"), "revision"
            ).to_dicts(),
            po_number=order.po_number, user=user or "pipeline",
            note=below_minimum_note(order) if order.short_of_minimum > 0 else None,
        )
        run.late_changes += marked["late_changes"]
        _record_lines(con, settings.outbox, order, files, sink.name, where)
    return run


def _record_lines(con, outbox: Path, order: PurchaseOrder, files: list[SupplierFile],
                  sink_name: str, where: str) -> None:
    by_format = {f.format: f for f in files}
    frame = order.lines.select(
        pl.lit(order.po_number).alias("po_number"), "suggestion_id", "supplier_id", "sku",
        "deliver_to", "as_of", "quantity_units", "case_pack", "case_packs", "unit_cost",
        "currency", "line_value", "unit_cost_base", "line_value_base", "requested_delivery_date",
        *[pl.lit(value).alias(name) for fmt in FORMATS for name, value in (
            (f"{fmt}_file", by_format[fmt].path.relative_to(outbox).as_posix()),
            (f"{fmt}_sha256", by_format[fmt].sha256))],
        pl.lit(sink_name).alias("sink"), pl.lit(where).alias("delivered_to"),
        pl.lit(dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)).alias("sent_at"),
    )
    con.register("_restock_sent", frame.to_arrow())
    try:
        # a line already recorded for this PO (a re-run after a crash) keeps its first row
        con.execute("INSERT INTO ops.supplier_restock_lines BY NAME SELECT * FROM _restock_sent"
                    " ON CONFLICT DO NOTHING")
    finally:
        con.unregister("_restock_sent")
