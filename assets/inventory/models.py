"""Inventory truth as set-based DuckDB SQL, callable without Dagster: the build steps.

Each model is one statement in ``sql/<model>.sql`` (CTEs named for what they hold, values as
``$parameters``). Every ``build_*`` function takes an open warehouse connection (``core``
filled, ``marts`` present), replaces one ``marts`` table and returns its row count. Values
(tolerances, windows, base currency) are parameters; the channel buffer overrides are a
registered frame; nothing is formatted into the SQL. The order of the calls is the order of
:data:`BUILD_ORDER`; each model reads ``core`` and the models before it.

Two rules are shared by two models each and written once, in a file of their own:
``sql/first_channel_location.sql`` and ``sql/channel_buffers.sql``. Each is a TEMP table
(one row per channel, on this connection only, never in the warehouse file) that the build
step of a model reading it creates just before the model and drops after it. A table rather
than a table macro: the buffers read the registered overrides frame, which a DuckDB macro
binds when it is created; a table built from the frame lets it go at once, and both models
then read a plain relation that a reader finds by its file name.

Units: quantities are units (integers); money is in the base currency; dates are business dates
(``CAST(<UTC timestamp> AS DATE)``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

import duckdb
import polars as pl

from assets.inventory.config import (
    BUFFER_OVERRIDE_SCHEMA,
    AllocationSettings,
    ReconciliationSettings,
)
from assets.warehouse import row_count
from assets.warehouse.sql_files import read_model, render, sql_dir

SQL_DIR = sql_dir(__file__)


def _build(con: duckdb.DuckDBPyConnection, model: str, params: dict | None = None) -> int:
    """Run ``sql/<model>.sql`` (it replaces ``marts.<model>``) with ``params``; its row count."""
    con.execute(read_model(SQL_DIR, model), params)
    return row_count(con, f"marts.{model}")


@contextmanager
def _temp_table(
    con: duckdb.DuckDBPyConnection, name: str, **frames: pl.DataFrame
) -> Iterator[None]:
    """The TEMP table that ``sql/<name>.sql`` creates, for the statements run inside; dropped
    after them. ``frames``: relations its statement reads, registered only while it runs."""
    for relation, frame in frames.items():
        con.register(relation, frame.to_arrow())
    try:
        con.execute(read_model(SQL_DIR, name))
    finally:
        for relation in frames:
            con.unregister(relation)
    try:
        yield
    finally:
        con.execute(render("DROP TABLE IF EXISTS temp.{name}", name=name))


def _first_channel_location(con: duckdb.DuckDBPyConnection) -> AbstractContextManager[None]:
    """``temp.first_channel_location``: per channel, the location that serves it first."""
    return _temp_table(con, "first_channel_location")


def _channel_buffers(
    con: duckdb.DuckDBPyConnection, overrides: pl.DataFrame | None
) -> AbstractContextManager[None]:
    """``temp.channel_buffers``: per channel, buffer units and pct from core.channels, each
    field overridden by the ``overrides`` frame (schema BUFFER_OVERRIDE_SCHEMA) where given."""
    frame = overrides if overrides is not None else pl.DataFrame(schema=BUFFER_OVERRIDE_SCHEMA)
    return _temp_table(con, "channel_buffers", channel_buffer_overrides=frame)


# ---------------------------------------------------------------------------------------------
# 1. movement ledger
# ---------------------------------------------------------------------------------------------


def build_stock_ledger(con: duckdb.DuckDBPyConnection) -> int:
    """``marts.stock_ledger``: per SKU × location × day with a movement or a snapshot.

    Columns (units): ``opening_units`` (end of the previous ledger day, per the book),
    ``received``, ``shipped``, ``returned`` (resellable returns), ``transferred`` (signed),
    ``adjusted`` (signed), ``net_change``, ``closing_units`` = opening + net change (the book),
    ``snapshot_on_hand`` / ``snapshot_reserved`` / ``counted`` on snapshot days,
    ``on_hand_units`` = the snapshot where there is one, else the book closing, and
    ``previous_snapshot_date`` (the snapshot strictly before the day that anchors the book).
    """
    with _first_channel_location(con):
        return _build(con, "stock_ledger")


# ---------------------------------------------------------------------------------------------
# 2. reconciliation and record accuracy
# ---------------------------------------------------------------------------------------------


def build_reconciliation(
    con: duckdb.DuckDBPyConnection, rec: ReconciliationSettings, base_currency: str = "EUR"
) -> int:
    """``marts.reconciliation``: each snapshot against the book since the previous snapshot.

    Per snapshot day × location × SKU that has an earlier snapshot: ``expected_on_hand`` =
    previous snapshot + received − shipped + returned ± transferred ± adjusted (units, over the
    days after the previous snapshot up to and including this one), ``difference_units`` =
    counted − expected, ``difference_pct`` = difference ÷ |expected| (a share; NULL when expected
    is 0), ``difference_value_base`` = difference × unit cost in ``base_currency`` (products'
    unit_cost at the latest FX rate on or before the snapshot day; NULL without cost or rate),
    ``within_tolerance`` = |difference| ≤ max(tolerance_units, tolerance_pct × |expected|), and
    a ``likely_cause`` with its ``cause_reference`` where the data shows one.
    """
    return _build(con, "reconciliation", {
        "base_currency": base_currency,
        "tolerance_units": rec.tolerance_units,
        "tolerance_pct": rec.tolerance_pct,
        "shrinkage_max_units": rec.shrinkage_max_units,
        "shrinkage_max_pct": rec.shrinkage_max_pct,
        "cause_lookahead_days": rec.cause_lookahead_days,
    })


def build_record_accuracy(con: duckdb.DuckDBPyConnection) -> int:
    """``marts.inventory_record_accuracy``: per snapshot day × location, the share (0..1) of
    reconciled SKU-locations within tolerance (all, and physically counted only), with the
    absolute and net differences in units and base currency."""
    return _build(con, "inventory_record_accuracy")


def latest_accuracy(con: duckdb.DuckDBPyConnection) -> dict | None:
    """The latest snapshot day's accuracy: overall and per location (worst first), or None."""
    by_location = con.sql(read_model(SQL_DIR, "latest_record_accuracy")).pl()
    if by_location.is_empty():
        return None
    total = by_location["sku_locations"].sum()
    within = by_location["within_tolerance"].sum()
    return {
        "snapshot_date": by_location["snapshot_date"][0],
        "sku_locations": total,
        "within_tolerance": within,
        "accuracy": within / total if total else None,
        "by_location": by_location.select(
            "location_id", "sku_locations", "within_tolerance", "accuracy"
        ).to_dicts(),
    }


# ---------------------------------------------------------------------------------------------
# 3. stock on hand, allocations, available-to-sell, inventory position
# ---------------------------------------------------------------------------------------------


def build_stock_on_hand(con: duckdb.DuckDBPyConnection) -> int:
    """``marts.stock_on_hand``: per SKU × location, units on hand now = the latest snapshot plus
    every movement recorded after it (the ledger's last ``on_hand_units``; may be negative when
    the book is wrong), and the latest snapshot's reserved units. ``as_of`` = the latest snapshot
    date in core."""
    return _build(con, "stock_on_hand")


def build_order_allocations(con: duckdb.DuckDBPyConnection, alloc: AllocationSettings) -> int:
    """``marts.order_allocations``: per open order line × SKU (bundles as components), the units
    it holds at its location.

    Open = status placed or paid, not cancelled, not shipped, minus units already in shipped
    fulfillment events. Paid lines always hold; placed-unpaid lines hold while ordered within
    ``payment_window_hours`` of the end of the as-of day. The location is the line's own, else
    the channel's first by priority (NULL when the channel has none). ``covered_units`` is the
    part the location's free stock (on hand − reserved) covers when paid lines go first, then
    by payment/order time; ``shortfall_units`` = units − covered.
    """
    with _first_channel_location(con):
        return _build(con, "order_allocations",
                      {"payment_window_seconds": round(alloc.payment_window_hours * 3600)})


def build_ats_by_sku_location(con: duckdb.DuckDBPyConnection) -> int:
    """``marts.ats_by_sku_location``: units available to sell per SKU × location =
    max(on hand − allocated − reserved, 0); a bundle's = min over components of
    ⌊component ATS ÷ units per bundle⌋ (on hand/allocated/reserved NULL for bundles)."""
    return _build(con, "ats_by_sku_location")


def build_ats_by_sku_channel(
    con: duckdb.DuckDBPyConnection, overrides: pl.DataFrame | None = None
) -> int:
    """``marts.ats_by_sku_channel``: per channel × SKU, max(Σ ATS over the locations serving the
    channel − safety buffer, 0), buffer = max(buffer units, ⌈buffer pct × Σ ATS⌉) from
    core.channels or the ``overrides`` frame; a bundle's = min over components of
    ⌊component channel ATS ÷ units per bundle⌋."""
    with _channel_buffers(con, overrides):
        return _build(con, "ats_by_sku_channel")


def build_inventory_position(con: duckdb.DuckDBPyConnection) -> int:
    """``marts.inventory_position``: per SKU × location, units = on hand (≥ 0) + on order (open
    PO lines not yet received) − allocated (open-line units the location's free stock covers) −
    backorders (paid open-line units it cannot cover)."""
    return _build(con, "inventory_position")


# ---------------------------------------------------------------------------------------------
# 4. oversell risk, oversell events, order exceptions
# ---------------------------------------------------------------------------------------------


def build_oversell_risk(con: duckdb.DuckDBPyConnection) -> int:
    """``marts.oversell_risk``: channel listings whose listed quantity (units, the channel's
    latest listing) is above the channel's ATS, with the excess in units."""
    return _build(con, "oversell_risk")


def build_oversell_events(
    con: duckdb.DuckDBPyConnection, overrides: pl.DataFrame | None = None
) -> int:
    """``marts.oversell_events``: order lines accepted on a day the channel's ATS for the SKU
    was 0 (an approximation: ATS at the start of the order day = Σ book on hand at the end of
    the previous day over the locations serving the channel − the channel's safety buffer;
    allocations and reservations of that time are not reconstructed, so it under-reports)."""
    with _channel_buffers(con, overrides):
        return _build(con, "oversell_events")


def build_order_exceptions(con: duckdb.DuckDBPyConnection) -> int:
    """``marts.order_exceptions``: order lines that need a person — paid lines that no location
    serving the channel can fill, open lines whose channel has no location, lines shipped with
    no payment, lines shipped after cancellation (one row per line and exception)."""
    return _build(con, "order_exceptions")


# ---------------------------------------------------------------------------------------------
# channel feed rows
# ---------------------------------------------------------------------------------------------


def channel_feed_rows(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Rows of every channel's availability feed, all from one ``marts.ats_by_sku_channel``:
    ``as_of``, ``channel_id``, ``channel_sku``, ``sku``, ``quantity`` (units)."""
    return con.sql(read_model(SQL_DIR, "channel_feed_rows")).pl()


# ---------------------------------------------------------------------------------------------
# everything, in order (benchmarks, tests)
# ---------------------------------------------------------------------------------------------

BUILD_ORDER = (
    "stock_ledger",
    "reconciliation",
    "inventory_record_accuracy",
    "stock_on_hand",
    "order_allocations",
    "ats_by_sku_location",
    "ats_by_sku_channel",
    "inventory_position",
    "oversell_risk",
    "oversell_events",
    "order_exceptions",
)


def build_all(
    con: duckdb.DuckDBPyConnection,
    rec: ReconciliationSettings | None = None,
    alloc: AllocationSettings | None = None,
    overrides: pl.DataFrame | None = None,
    base_currency: str = "EUR",
) -> dict[str, int]:
    """Build every inventory mart in :data:`BUILD_ORDER`; rows per table."""
    rec = rec or ReconciliationSettings()
    alloc = alloc or AllocationSettings()
    steps = {
        "stock_ledger": lambda: build_stock_ledger(con),
        "reconciliation": lambda: build_reconciliation(con, rec, base_currency),
        "inventory_record_accuracy": lambda: build_record_accuracy(con),
        "stock_on_hand": lambda: build_stock_on_hand(con),
        "order_allocations": lambda: build_order_allocations(con, alloc),
        "ats_by_sku_location": lambda: build_ats_by_sku_location(con),
        "ats_by_sku_channel": lambda: build_ats_by_sku_channel(con, overrides),
        "inventory_position": lambda: build_inventory_position(con),
        "oversell_risk": lambda: build_oversell_risk(con),
        "oversell_events": lambda: build_oversell_events(con, overrides),
        "order_exceptions": lambda: build_order_exceptions(con),
    }
    return {name: steps[name]() for name in BUILD_ORDER}
