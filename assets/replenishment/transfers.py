"""Transfers before purchases, the warehouse side: what the allocation reads, the
``marts.transfer_suggestions`` table, and the purchase lines left after the transfers.

Callable without Dagster: every function takes an open warehouse connection. The arithmetic is
:mod:`forecasting.transfers`; the rule is in docs/replenishment.md ("Transfers before
purchases"). Each statement is one file of ``sql/`` (``transfer_*.sql``,
``transfers_in_transit.sql``, ``needs_after_transfers.sql``, ...); values are parameters.
"""

from __future__ import annotations

import duckdb
import polars as pl

from assets.replenishment.config import TransferSettings
from assets.replenishment.tables import SQL_DIR, query, suggestion_lines, write_frame
from assets.warehouse import table_exists
from assets.warehouse.sql_files import read_model

TABLE = "marts.transfer_suggestions"
IN_TRANSIT = "ops.transfers_in_transit"

# sent transfers (the transfer decision store) not arrived by the as-of day
IN_TRANSIT_SCHEMA = {
    "transfer_id": pl.String, "transfer_number": pl.String, "sku": pl.String,
    "from_location_id": pl.String, "to_location_id": pl.String, "transfer_units": pl.Int64,
    "sent_on": pl.Date, "expected_arrival_date": pl.Date,
}


def stock(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The policy rows as :func:`forecasting.transfers.allocate_transfers` reads them:
    ``free_units`` = on hand − allocated − backorders (what could be picked today), both
    it and the position corrected for the transfers in transit (``ops.transfers_in_transit``,
    built first by :func:`build_transfers`)."""
    return query(con, "transfer_stock")


def in_transit(sent: list[dict]) -> pl.DataFrame:
    """The sent transfers of the transfer decision store (rows of
    :meth:`TransferDecisionStore.latest` with status ``sent``; others are ignored) as
    :data:`IN_TRANSIT_SCHEMA`: units as sent, ``sent_on`` the UTC day it was sent, the
    expected arrival day from the transfer as the planner saw it."""
    rows = [{"transfer_id": r["suggestion_id"], "transfer_number": r["po_number"],
             "sku": r["sku"], "from_location_id": r["supplier_id"],
             "to_location_id": r["location_id"], "transfer_units": r["quantity"],
             "sent_on": (r["sent_at"] or "")[:10] or None,
             "expected_arrival_date": str((r["suggestion"] or {}).get("expected_arrival_date")
                                          or "")[:10] or None}
            for r in sent if r["status"] == "sent"]
    return pl.DataFrame(rows, schema={**IN_TRANSIT_SCHEMA, "sent_on": pl.String,
                                      "expected_arrival_date": pl.String}).with_columns(
        pl.col("sent_on", "expected_arrival_date").str.to_date(strict=False))


def lanes(settings: TransferSettings) -> pl.DataFrame:
    """The configured location pairs as a frame (``from_location_id``, ``to_location_id``,
    ``lead_time_days``, ``cost_per_unit``)."""
    rows = [(a, b, lead, cost) for (a, b), (lead, cost) in sorted(settings.lanes.items())]
    return pl.DataFrame(rows, schema={"from_location_id": pl.String, "to_location_id": pl.String,
                                      "lead_time_days": pl.Float64, "cost_per_unit": pl.Float64},
                        orient="row")


def build_transfers(con: duckdb.DuckDBPyConnection, settings: TransferSettings,
                    sent: list[dict] | None = None) -> int:
    """``marts.transfer_suggestions``: one row per SKU × source × destination that moves
    spare stock to a location needing an order (``transfer_id`` = md5 of
    ``as_of|sku|from|to``: the same day's re-run keeps the ids). Empty when transfers are
    off in the settings.

    First ``ops.transfers_in_transit``: the ``sent`` transfers (the transfer decision store's
    rows) not arrived by the as-of day; the allocation and the purchase lines count them, so a
    transfer sent yesterday is neither suggested again nor bought for."""
    from forecasting.transfers import TRANSFER_SCHEMA, allocate_transfers, transfer_reason

    write_frame(con, IN_TRANSIT, in_transit(sent or []))
    if settings.enabled:
        moves = allocate_transfers(stock(con), lanes(settings),
                                   default_lead_time_days=settings.lead_time_days,
                                   default_cost_per_unit=settings.cost_per_unit)
    else:
        moves = pl.DataFrame(schema=TRANSFER_SCHEMA)
    return write_frame(con, TABLE, moves.with_columns(transfer_reason()))


def purchase_lines(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The policy rows that still need an order after the transfers arrive, as
    :func:`assets.replenishment.tables.suggestion_lines` returns them, with the position counting
    the units transferred in (``transfer_in_units``, ``transfer_from``) and ``need_units`` =
    order-up-to − that position. Without a transfer table: the policy's lines unchanged."""
    if not table_exists(con, "marts", "transfer_suggestions"):
        return suggestion_lines(con)
    con.execute(read_model(SQL_DIR, "needs_after_transfers"))
    return query(con, "purchase_lines")


def note_transfers(sized: pl.DataFrame) -> pl.DataFrame:
    """Append to a purchase line's reason the transfer its position already counts, and, for
    a SKU the company holds enough of (free units ≥ the sum of its reorder points), why it is
    bought all the same: no other location can spare a whole case above its reorder point."""
    if "transfer_in_units" not in sized.columns:
        return sized
    note = pl.format("; the position counts {} unit(s) coming by transfer (from {}), this order "
                     "buys the rest", pl.col("transfer_in_units").cast(pl.Int64),
                     pl.col("transfer_from"))
    covered = pl.format(
        "; bought although the company holds {} free, covering the sum of its reorder points "
        "({}): no other location can spare a whole case of {} above its own reorder point",
        pl.col("company_free_units").round(0).cast(pl.Int64),
        pl.col("company_reorder_point_units").round(0).cast(pl.Int64),
        pl.col("case_pack").fill_null(1).clip(lower_bound=1).cast(pl.Int64))
    is_covered = (pl.col("company_free_units") >= pl.col("company_reorder_point_units")
                  ).fill_null(False) if "company_free_units" in sized.columns else pl.lit(False)
    return sized.with_columns(
        pl.concat_str([
            pl.col("reason"),
            pl.when(pl.col("transfer_in_units") > 0).then(note).otherwise(pl.lit("")),
            pl.when(is_covered).then(covered).otherwise(pl.lit("")),
        ]).alias("reason"))


def unserved_needs(con: duckdb.DuckDBPyConnection) -> int:
    """SKU × locations that need an order, are not lifted above the reorder point by a
    transfer, and have no purchase suggestion (0 when all is well)."""
    if not table_exists(con, "marts", "transfer_suggestions"):
        return query(con, "unserved_needs_without_transfers")["unserved"].item()
    con.execute(read_model(SQL_DIR, "needs_after_transfers"))
    return query(con, "unserved_needs")["unserved"].item()
