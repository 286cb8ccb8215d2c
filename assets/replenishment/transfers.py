"""Transfers before purchases, the warehouse side: what the allocation reads, the
``marts.transfer_suggestions`` table, and the purchase lines left after the transfers.

Callable without Dagster: every function takes an open warehouse connection. The arithmetic is
:mod:`forecasting.transfers`; the rule is in docs/replenishment.md ("Transfers before
purchases"). Values are parameters, never formatted into the SQL.
"""

from __future__ import annotations

import duckdb
import polars as pl

from assets.replenishment.config import TransferSettings
from assets.replenishment.sql import replace_table, suggestion_lines, table_exists

TABLE = "marts.transfer_suggestions"
IN_TRANSIT = "ops.transfers_in_transit"

# sent transfers (the transfer decision store) not arrived by the as-of day
IN_TRANSIT_SCHEMA = {
    "transfer_id": pl.String, "transfer_number": pl.String, "sku": pl.String,
    "from_location_id": pl.String, "to_location_id": pl.String, "transfer_units": pl.Int64,
    "sent_on": pl.Date, "expected_arrival_date": pl.Date,
}
IN_TRANSIT_SELECT = """
SELECT * FROM _frame
WHERE expected_arrival_date > (SELECT max(as_of) FROM marts.replenishment_policy)
ORDER BY sku, to_location_id, transfer_id
"""

# per SKU × location of the policy: what the allocation needs (forecasting.transfers), with
# the transfers in transit: a destination's position counts what is on its way (so it does
# not ask again), a source's free units lose what it sent on or after the as-of day (its
# stock count does not show the departure yet)
STOCK_SQL = f"""
WITH coming AS (
    SELECT sku, to_location_id AS location_id, sum(transfer_units) AS units
    FROM {IN_TRANSIT} GROUP BY ALL
),
leaving AS (
    SELECT t.sku, t.from_location_id AS location_id, sum(t.transfer_units) AS units
    FROM {IN_TRANSIT} AS t
    WHERE t.sent_on >= (SELECT max(as_of) FROM marts.replenishment_policy)
    GROUP BY ALL
)
SELECT p.sku, p.location_id,
       p.on_hand_units - p.allocated_units - p.backorder_units - coalesce(l.units, 0)
           AS free_units,
       p.inventory_position_units + coalesce(c.units, 0) AS inventory_position_units,
       p.reorder_point_units, p.order_up_to_units, p.lead_time_demand_units,
       p.needs_order AND p.inventory_position_units + coalesce(c.units, 0)
                         <= p.reorder_point_units AS needs_order,
       p.case_pack, p.projected_stockout_date
FROM marts.replenishment_policy AS p
LEFT JOIN coming AS c USING (sku, location_id)
LEFT JOIN leaving AS l USING (sku, location_id)
ORDER BY p.sku, p.location_id
"""


def stock(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The policy rows as :func:`forecasting.transfers.allocate_transfers` reads them:
    ``free_units`` = on hand − allocated − backorders (what could be picked today), both
    it and the position corrected for the transfers in transit (``ops.transfers_in_transit``,
    built first by :func:`build_transfers`)."""
    return con.sql(STOCK_SQL).pl()


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


TRANSFERS_SELECT = """
SELECT md5(concat_ws('|', CAST(p.as_of AS VARCHAR), t.sku, t.from_location_id, t.to_location_id))
           AS transfer_id,
       p.as_of, t.sku, p.product_name, t.from_location_id, t.to_location_id,
       CAST(t.transfer_units AS BIGINT) AS transfer_units,
       CAST(t.case_pack AS INTEGER) AS case_pack,
       CAST(t.transfer_units // t.case_pack AS BIGINT) AS cases,
       p.as_of AS ship_date,
       t.transfer_lead_time_days,
       p.as_of + CAST(ceil(t.transfer_lead_time_days) AS INTEGER) AS expected_arrival_date,
       t.cost_per_unit, t.transfer_cost AS transfer_cost_base,
       p.unit_cost_base, t.transfer_units * p.unit_cost_base AS stock_value_base,
       t.reason,
       t.source_free_units, t.source_keep_units, t.source_excess_units,
       t.destination_position_units, t.destination_reorder_point_units,
       t.destination_order_up_to_units, t.destination_request_units,
       p.projected_stockout_date AS destination_projected_stockout_date,
       t.rule, t.source_reorder_point_units, t.company_free_units, t.company_reorder_point_units
FROM _frame AS t
JOIN marts.replenishment_policy AS p ON p.sku = t.sku AND p.location_id = t.to_location_id
ORDER BY destination_projected_stockout_date NULLS LAST, t.sku, t.to_location_id,
         t.from_location_id
"""


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

    replace_table(con, IN_TRANSIT, in_transit(sent or []), IN_TRANSIT_SELECT)
    if settings.enabled:
        moves = allocate_transfers(stock(con), lanes(settings),
                                   default_lead_time_days=settings.lead_time_days,
                                   default_cost_per_unit=settings.cost_per_unit)
    else:
        moves = pl.DataFrame(schema=TRANSFER_SCHEMA)
    return replace_table(con, TABLE, moves.with_columns(transfer_reason()), TRANSFERS_SELECT)


# the policy's needing rows with what comes in by transfer; still needing an order when the
# position after the transfers is at or below the reorder point (shared by the purchase lines
# and the check that every needed order is suggested, so the two agree)
AFTER_TRANSFERS_CTE = """
moved_in AS (
    SELECT sku, to_location_id AS location_id, sum(transfer_units) AS transfer_in_units,
           string_agg(from_location_id || ' ' || transfer_units, ', '
                      ORDER BY from_location_id) AS transfer_from
    FROM (SELECT sku, to_location_id, from_location_id, transfer_units
          FROM marts.transfer_suggestions
          UNION ALL
          SELECT sku, to_location_id, from_location_id || ' (in transit)', transfer_units
          FROM ops.transfers_in_transit)
    GROUP BY ALL
),
company AS (
    SELECT sku,
           CAST(sum(on_hand_units - allocated_units - backorder_units) AS DOUBLE)
               AS company_free_units,
           sum(reorder_point_units) AS company_reorder_point_units
    FROM marts.replenishment_policy GROUP BY sku
),
after_transfers AS (
    SELECT p.*, coalesce(m.transfer_in_units, 0) AS transfer_in_units, m.transfer_from,
           p.inventory_position_units + coalesce(m.transfer_in_units, 0)
               AS position_after_transfers_units,
           c.company_free_units, c.company_reorder_point_units
    FROM marts.replenishment_policy AS p
    LEFT JOIN moved_in AS m USING (sku, location_id)
    LEFT JOIN company AS c USING (sku)
    WHERE p.needs_order
),
still_needed AS (
    SELECT * FROM after_transfers
    WHERE position_after_transfers_units <= reorder_point_units
      AND order_up_to_units > position_after_transfers_units
)"""

PURCHASE_LINES_SQL = f"""
WITH {AFTER_TRANSFERS_CTE}
SELECT * REPLACE (position_after_transfers_units AS inventory_position_units),
       order_up_to_units - position_after_transfers_units AS need_units
FROM still_needed
ORDER BY sku, location_id
"""


def purchase_lines(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The policy rows that still need an order after the transfers arrive, as
    :func:`assets.replenishment.sql.suggestion_lines` returns them, with the position counting
    the units transferred in (``transfer_in_units``, ``transfer_from``) and ``need_units`` =
    order-up-to − that position. Without a transfer table: the policy's lines unchanged."""
    if not table_exists(con, "marts", "transfer_suggestions"):
        return suggestion_lines(con)
    return con.sql(PURCHASE_LINES_SQL).pl()


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


UNSERVED_SQL = f"""
WITH {AFTER_TRANSFERS_CTE}
SELECT count(*) FROM still_needed AS p
WHERE NOT EXISTS (SELECT 1 FROM marts.replenishment_suggestions AS s
                  WHERE s.sku = p.sku AND s.location_id = p.location_id)
"""


def unserved_needs(con: duckdb.DuckDBPyConnection) -> int:
    """SKU × locations that need an order, are not lifted above the reorder point by a
    transfer, and have no purchase suggestion (0 when all is well)."""
    if not table_exists(con, "marts", "transfer_suggestions"):
        return con.execute(
            """SELECT count(*) FROM marts.replenishment_policy AS p
               WHERE p.needs_order AND NOT EXISTS (
                   SELECT 1 FROM marts.replenishment_suggestions AS s
                   WHERE s.sku = p.sku AND s.location_id = p.location_id)""").fetchall()[0][0]
    return con.execute(UNSERVED_SQL).fetchall()[0][0]
