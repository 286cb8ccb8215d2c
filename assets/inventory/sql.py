"""Inventory truth as set-based DuckDB SQL: one statement per model, callable without Dagster.

Every ``build_*`` function takes an open warehouse connection (``core`` filled, ``marts`` present),
replaces one ``marts`` table with a single ``CREATE OR REPLACE TABLE ... AS`` statement and returns
its row count. Values (tolerances, windows, base currency, channel overrides) are parameters or
registered frames, never formatted into the SQL. The order of the calls is the order of
:data:`BUILD_ORDER`; each model reads ``core`` and the models before it.

Units: quantities are units (integers); money is in the base currency; dates are business dates
(``CAST(<UTC timestamp> AS DATE)``).
"""

from __future__ import annotations

import duckdb
import polars as pl

from assets.inventory.config import (
    BUFFER_OVERRIDE_SCHEMA,
    AllocationSettings,
    ReconciliationSettings,
)
from assets.warehouse import row_count

# ---------------------------------------------------------------------------------------------
# 1. movement ledger
# ---------------------------------------------------------------------------------------------

STOCK_LEDGER_SQL = """
CREATE OR REPLACE TABLE marts.stock_ledger AS
WITH receipts AS (
    SELECT sku, location_id, CAST(received_at AS DATE) AS day,
           quantity_received AS received, 0 AS shipped, 0 AS returned, 0 AS transferred, 0 AS adjusted
    FROM core.receipts
),
shipments AS (
    SELECT sku, location_id, CAST(event_at AS DATE) AS day,
           0, quantity, 0, 0, 0
    FROM core.fulfillment_events
    WHERE event_type = 'shipped'
),
first_channel_location AS (  -- where a return without a location is assumed to land
    SELECT channel_id, arg_min(location_id, (priority, location_id)) AS location_id
    FROM core.channel_locations GROUP BY channel_id
),
resellable_returns AS (
    SELECT r.sku, coalesce(r.location_id, ol.location_id, fcl.location_id) AS location_id,
           CAST(r.received_at AS DATE) AS day, 0, 0, r.quantity, 0, 0
    FROM core.returns AS r
    LEFT JOIN core.order_lines AS ol USING (channel_id, order_id, line_id)
    LEFT JOIN first_channel_location AS fcl ON fcl.channel_id = r.channel_id
    WHERE r.resellable AND r.received_at IS NOT NULL
),
adjustments AS (  -- quantity is already signed: + into stock, - out of stock
    SELECT sku, location_id, CAST(adjusted_at AS DATE) AS day, 0, 0, 0,
           CASE WHEN reason IN ('transfer_in', 'transfer_out') THEN quantity ELSE 0 END,
           CASE WHEN reason IN ('transfer_in', 'transfer_out') THEN 0 ELSE quantity END
    FROM core.stock_adjustments
),
movements AS (
    SELECT * FROM receipts
    UNION ALL SELECT * FROM shipments
    UNION ALL SELECT * FROM resellable_returns
    UNION ALL SELECT * FROM adjustments
),
component_movements AS (  -- a bundle SKU moves as its components × units per bundle
    SELECT coalesce(bc.component_sku, m.sku) AS sku, m.location_id, m.day,
           m.received * coalesce(bc.units_per_bundle, 1) AS received,
           m.shipped * coalesce(bc.units_per_bundle, 1) AS shipped,
           m.returned * coalesce(bc.units_per_bundle, 1) AS returned,
           m.transferred * coalesce(bc.units_per_bundle, 1) AS transferred,
           m.adjusted * coalesce(bc.units_per_bundle, 1) AS adjusted
    FROM movements AS m
    LEFT JOIN core.bundle_components AS bc ON bc.bundle_sku = m.sku
    WHERE m.location_id IS NOT NULL
),
daily_movements AS (
    SELECT sku, location_id, day,
           sum(received)::BIGINT AS received, sum(shipped)::BIGINT AS shipped,
           sum(returned)::BIGINT AS returned, sum(transferred)::BIGINT AS transferred,
           sum(adjusted)::BIGINT AS adjusted
    FROM component_movements GROUP BY sku, location_id, day
),
snapshots AS (
    SELECT sku, location_id, snapshot_date AS day, on_hand, reserved, counted
    FROM core.stock_snapshots
),
days AS (  -- every SKU-location-day with a movement or a snapshot
    SELECT coalesce(m.sku, s.sku) AS sku, coalesce(m.location_id, s.location_id) AS location_id,
           coalesce(m.day, s.day) AS day,
           coalesce(m.received, 0) AS received, coalesce(m.shipped, 0) AS shipped,
           coalesce(m.returned, 0) AS returned, coalesce(m.transferred, 0) AS transferred,
           coalesce(m.adjusted, 0) AS adjusted,
           s.on_hand::BIGINT AS snapshot_on_hand, s.reserved::BIGINT AS snapshot_reserved,
           s.counted
    FROM daily_movements AS m
    FULL JOIN snapshots AS s
      ON s.sku = m.sku AND s.location_id = m.location_id AND s.day = m.day
),
series AS (  -- a compact integer key per SKU-location: the windows sort on it, not on text
    -- (from the inputs, not from `days`: a second reference would materialize all its rows)
    SELECT sku, location_id, row_number() OVER () AS series_id
    FROM (SELECT sku, location_id FROM core.stock_snapshots
          UNION SELECT sku, location_id FROM daily_movements)
),
with_net AS (
    SELECT d.*, s.series_id,
           (d.received - d.shipped + d.returned + d.transferred + d.adjusted)::BIGINT AS net_change
    FROM days AS d
    JOIN series AS s USING (sku, location_id)
),
running AS (  -- net movement from the series' first day through this day
    SELECT *, sum(net_change) OVER (PARTITION BY series_id ORDER BY day) AS cum_net
    FROM with_net
),
balances AS (
    -- the book balance = the latest snapshot strictly before the day + net movement since:
    -- anchor + (cum_net(day) - cum_net(snapshot day)); a series without an earlier
    -- snapshot starts from 0. Both lags share one sort (same window).
    SELECT *,
           cum_net + coalesce(lag(snapshot_on_hand - cum_net IGNORE NULLS) OVER by_day, 0)
               AS closing_book,
           lag(CASE WHEN snapshot_on_hand IS NOT NULL THEN day END IGNORE NULLS) OVER by_day
               AS previous_snapshot_date
    FROM running
    WINDOW by_day AS (PARTITION BY series_id ORDER BY day)
)
SELECT day, location_id, sku,
       (closing_book - net_change)::BIGINT AS opening_units,
       received, shipped, returned, transferred, adjusted, net_change,
       closing_book::BIGINT AS closing_units,
       snapshot_on_hand, snapshot_reserved, counted,
       coalesce(snapshot_on_hand, closing_book)::BIGINT AS on_hand_units,
       previous_snapshot_date
FROM balances
"""


def build_stock_ledger(con: duckdb.DuckDBPyConnection) -> int:
    """``marts.stock_ledger``: per SKU × location × day with a movement or a snapshot.

    Columns (units): ``opening_units`` (end of the previous ledger day, per the book),
    ``received``, ``shipped``, ``returned`` (resellable returns), ``transferred`` (signed),
    ``adjusted`` (signed), ``net_change``, ``closing_units`` = opening + net change (the book),
    ``snapshot_on_hand`` / ``snapshot_reserved`` / ``counted`` on snapshot days,
    ``on_hand_units`` = the snapshot where there is one, else the book closing, and
    ``previous_snapshot_date`` (the snapshot strictly before the day that anchors the book).
    """
    con.execute(STOCK_LEDGER_SQL)
    return row_count(con, "marts.stock_ledger")


# ---------------------------------------------------------------------------------------------
# 2. reconciliation and record accuracy
# ---------------------------------------------------------------------------------------------

RECONCILIATION_SQL = """
CREATE OR REPLACE TABLE marts.reconciliation AS
WITH snapshot_rows AS (  -- every snapshot with an earlier one; the ledger's book closing is expected
    SELECT sku, location_id, day AS snapshot_date, previous_snapshot_date, counted,
           opening_units, received, shipped, returned, transferred, adjusted,
           closing_units AS expected_on_hand, snapshot_on_hand AS counted_on_hand
    FROM marts.stock_ledger
    WHERE snapshot_on_hand IS NOT NULL AND previous_snapshot_date IS NOT NULL
),
between_days AS (
    -- movement days after the previous snapshot and before this one (none when snapshots are
    -- daily); grouped by the snapshot that anchors them
    SELECT sku, location_id, previous_snapshot_date,
           arg_min(opening_units, day) AS previous_on_hand,
           sum(received) AS received, sum(shipped) AS shipped, sum(returned) AS returned,
           sum(transferred) AS transferred, sum(adjusted) AS adjusted
    FROM marts.stock_ledger
    WHERE snapshot_on_hand IS NULL AND previous_snapshot_date IS NOT NULL
    GROUP BY sku, location_id, previous_snapshot_date
),
differences AS (
    SELECT s.snapshot_date, s.location_id, s.sku, s.counted, s.previous_snapshot_date,
           coalesce(b.previous_on_hand, s.opening_units) AS previous_on_hand,
           (s.received + coalesce(b.received, 0))::BIGINT AS received,
           (s.shipped + coalesce(b.shipped, 0))::BIGINT AS shipped,
           (s.returned + coalesce(b.returned, 0))::BIGINT AS returned,
           (s.transferred + coalesce(b.transferred, 0))::BIGINT AS transferred,
           (s.adjusted + coalesce(b.adjusted, 0))::BIGINT AS adjusted,
           s.expected_on_hand, s.counted_on_hand,
           s.counted_on_hand - s.expected_on_hand AS difference_units
    FROM snapshot_rows AS s
    LEFT JOIN between_days AS b USING (sku, location_id, previous_snapshot_date)
),
cost_rates AS (  -- per cost currency and snapshot day, the latest FX rate on or before it
    SELECT g.currency, g.snapshot_date, f.rate_to_base
    FROM (SELECT c.currency, d.snapshot_date
          FROM (SELECT DISTINCT cost_currency AS currency FROM core.products
                WHERE cost_currency IS NOT NULL AND cost_currency <> $base_currency) AS c
          CROSS JOIN (SELECT DISTINCT snapshot_date FROM core.stock_snapshots) AS d) AS g
    ASOF LEFT JOIN core.fx_rates AS f
      ON f.currency = g.currency AND g.snapshot_date >= f.rate_date
),
discrepancies AS (
    SELECT sku, location_id, snapshot_date, previous_snapshot_date, difference_units
    FROM differences WHERE difference_units <> 0
),
late_postings AS (
    -- movements posted after a count that would explain its difference, signed like the
    -- difference (counted - expected): a receipt posted late makes the count higher, a
    -- shipment posted late makes it lower, a transfer posted late moves it by its sign
    SELECT 1 AS priority, 'unrecorded receipt' AS cause, sku, location_id,
           CAST(received_at AS DATE) AS day, quantity_received AS units,
           'receipt ' || receipt_id AS reference
    FROM core.receipts
    UNION ALL
    SELECT 2, 'shipment not posted', coalesce(bc.component_sku, f.sku), f.location_id,
           CAST(f.event_at AS DATE), -f.quantity * coalesce(bc.units_per_bundle, 1),
           'shipment ' || f.shipment_id
    FROM core.fulfillment_events AS f
    LEFT JOIN core.bundle_components AS bc ON bc.bundle_sku = f.sku
    WHERE f.event_type = 'shipped'
    UNION ALL
    SELECT 3, 'transfer not posted', sku, location_id, CAST(adjusted_at AS DATE), quantity,
           'transfer ' || coalesce(reference, adjustment_id)
    FROM core.stock_adjustments
    WHERE reason IN ('transfer_in', 'transfer_out')
),
near_postings AS (  -- postings of a discrepant SKU-location in the days after its snapshot
    SELECT d.sku, d.location_id, d.snapshot_date, d.difference_units,
           lp.priority, lp.cause, lp.day, lp.units, lp.reference
    FROM discrepancies AS d
    JOIN late_postings AS lp
      ON lp.sku = d.sku AND lp.location_id = d.location_id
     AND lp.day > d.snapshot_date AND lp.day <= d.snapshot_date + $cause_lookahead_days
),
candidates AS (  -- each document, and several of one kind posted together on one day
    SELECT * FROM near_postings
    UNION ALL
    SELECT sku, location_id, snapshot_date, difference_units, priority, cause, day,
           sum(units), string_agg(reference, ', ' ORDER BY reference)
    FROM near_postings
    GROUP BY sku, location_id, snapshot_date, difference_units, priority, cause, day
    HAVING count(*) > 1
),
posting_matches AS (
    SELECT sku, location_id, snapshot_date,
           arg_min(cause, (priority, day, reference)) AS cause,
           arg_min(reference || ' posted ' || CAST(day AS VARCHAR), (priority, day, reference))
               AS reference
    FROM candidates
    WHERE units = difference_units
    GROUP BY sku, location_id, snapshot_date
),
count_errors AS (
    -- a wrong count shows twice: as a difference on its day and as the opposite difference
    -- at the next snapshot, which the ledger anchors on the wrong count
    SELECT sku, location_id, snapshot_date,
           coalesce(lead(difference_units) OVER w = -difference_units
                    AND lead(previous_snapshot_date) OVER w = snapshot_date, false)
               AS reversed_by_next,
           coalesce(lag(difference_units) OVER w = -difference_units
                    AND lag(snapshot_date) OVER w = previous_snapshot_date, false)
               AS reverses_previous,
           lag(snapshot_date) OVER w AS previous_difference_date
    FROM discrepancies
    WINDOW w AS (PARTITION BY sku, location_id ORDER BY snapshot_date)
),
causes AS (
    SELECT ce.sku, ce.location_id, ce.snapshot_date,
           CASE WHEN pm.cause IS NOT NULL THEN pm.cause
                WHEN ce.reversed_by_next THEN 'count error'
                WHEN ce.reverses_previous THEN 'count error corrected' END AS cause,
           CASE WHEN pm.cause IS NOT NULL THEN pm.reference
                WHEN ce.reversed_by_next THEN 'reversed at the next snapshot'
                WHEN ce.reverses_previous
                     THEN 'reverses the difference of ' || CAST(ce.previous_difference_date AS VARCHAR)
                END AS reference
    FROM count_errors AS ce
    LEFT JOIN posting_matches AS pm USING (sku, location_id, snapshot_date)
),
valued AS (
    SELECT d.*,
           CASE WHEN p.unit_cost IS NULL THEN NULL
                WHEN coalesce(p.cost_currency, $base_currency) = $base_currency THEN p.unit_cost
                ELSE p.unit_cost * r.rate_to_base END AS unit_cost_base
    FROM differences AS d
    LEFT JOIN core.products AS p USING (sku)
    LEFT JOIN cost_rates AS r
      ON r.currency = p.cost_currency AND r.snapshot_date = d.snapshot_date
)
SELECT v.snapshot_date, v.location_id, v.sku, v.counted,
       v.previous_snapshot_date, v.previous_on_hand,
       v.received, v.shipped, v.returned, v.transferred, v.adjusted,
       v.expected_on_hand, v.counted_on_hand, v.difference_units,
       v.difference_units / nullif(abs(v.expected_on_hand), 0) AS difference_pct,
       v.unit_cost_base,
       v.difference_units * v.unit_cost_base AS difference_value_base,
       greatest($tolerance_units, $tolerance_pct * abs(v.expected_on_hand)) AS tolerance_units,
       abs(v.difference_units)
           <= greatest($tolerance_units, $tolerance_pct * abs(v.expected_on_hand))
           AS within_tolerance,
       CASE WHEN v.difference_units = 0 THEN NULL
            WHEN c.cause IS NOT NULL THEN c.cause
            WHEN v.difference_units < 0 AND v.counted
                 AND -v.difference_units
                     <= greatest($shrinkage_max_units, $shrinkage_max_pct * abs(v.expected_on_hand))
                 THEN 'shrinkage'
            ELSE 'unexplained' END AS likely_cause,
       c.reference AS cause_reference
FROM valued AS v
LEFT JOIN causes AS c USING (sku, location_id, snapshot_date)
"""


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
    con.execute(
        RECONCILIATION_SQL,
        {
            "base_currency": base_currency,
            "tolerance_units": rec.tolerance_units,
            "tolerance_pct": rec.tolerance_pct,
            "shrinkage_max_units": rec.shrinkage_max_units,
            "shrinkage_max_pct": rec.shrinkage_max_pct,
            "cause_lookahead_days": rec.cause_lookahead_days,
        },
    )
    return row_count(con, "marts.reconciliation")


RECORD_ACCURACY_SQL = """
CREATE OR REPLACE TABLE marts.inventory_record_accuracy AS
SELECT snapshot_date, location_id,
       count(*) AS sku_locations,
       count(*) FILTER (WHERE within_tolerance) AS within_tolerance,
       count(*) FILTER (WHERE within_tolerance) / count(*) AS accuracy,
       count(*) FILTER (WHERE counted) AS counted_sku_locations,
       count(*) FILTER (WHERE counted AND within_tolerance)
           / nullif(count(*) FILTER (WHERE counted), 0) AS counted_accuracy,
       sum(abs(difference_units))::BIGINT AS abs_difference_units,
       sum(abs(difference_value_base)) AS abs_difference_value_base,
       sum(difference_value_base) AS net_difference_value_base
FROM marts.reconciliation
GROUP BY snapshot_date, location_id
ORDER BY snapshot_date, location_id
"""


def build_record_accuracy(con: duckdb.DuckDBPyConnection) -> int:
    """``marts.inventory_record_accuracy``: per snapshot day × location, the share (0..1) of
    reconciled SKU-locations within tolerance (all, and physically counted only), with the
    absolute and net differences in units and base currency."""
    con.execute(RECORD_ACCURACY_SQL)
    return row_count(con, "marts.inventory_record_accuracy")


LATEST_ACCURACY_SQL = """
SELECT snapshot_date, location_id, sku_locations, within_tolerance, accuracy
FROM marts.inventory_record_accuracy
WHERE snapshot_date = (SELECT max(snapshot_date) FROM marts.inventory_record_accuracy)
ORDER BY accuracy, location_id
"""


def latest_accuracy(con: duckdb.DuckDBPyConnection) -> dict | None:
    """The latest snapshot day's accuracy: overall and per location (worst first), or None."""
    rows = con.execute(LATEST_ACCURACY_SQL).fetchall()
    if not rows:
        return None
    total = sum(r[2] for r in rows)
    within = sum(r[3] for r in rows)
    return {
        "snapshot_date": rows[0][0],
        "sku_locations": total,
        "within_tolerance": within,
        "accuracy": within / total if total else None,
        "by_location": [
            {"location_id": r[1], "sku_locations": r[2], "within_tolerance": r[3], "accuracy": r[4]}
            for r in rows
        ],
    }


# ---------------------------------------------------------------------------------------------
# 3. stock on hand, allocations, available-to-sell, inventory position
# ---------------------------------------------------------------------------------------------

STOCK_ON_HAND_SQL = """
CREATE OR REPLACE TABLE marts.stock_on_hand AS
WITH latest AS (
    SELECT sku, location_id,
           arg_max(on_hand_units, day) AS on_hand_units,
           max(day) FILTER (WHERE snapshot_on_hand IS NOT NULL) AS last_snapshot_date,
           -- reserved units are what the latest snapshot reported (a missing value is 0)
           arg_max(coalesce(snapshot_reserved, 0), day)
               FILTER (WHERE snapshot_on_hand IS NOT NULL) AS reserved_units,
           max(day) AS last_ledger_day
    FROM marts.stock_ledger
    GROUP BY sku, location_id
)
SELECT (SELECT max(snapshot_date) FROM core.stock_snapshots) AS as_of,
       sku, location_id, on_hand_units, coalesce(reserved_units, 0)::BIGINT AS reserved_units,
       last_snapshot_date, last_ledger_day
FROM latest
ORDER BY sku, location_id
"""


def build_stock_on_hand(con: duckdb.DuckDBPyConnection) -> int:
    """``marts.stock_on_hand``: per SKU × location, units on hand now = the latest snapshot plus
    every movement recorded after it (the ledger's last ``on_hand_units``; may be negative when
    the book is wrong), and the latest snapshot's reserved units. ``as_of`` = the latest snapshot
    date in core."""
    con.execute(STOCK_ON_HAND_SQL)
    return row_count(con, "marts.stock_on_hand")


ORDER_ALLOCATIONS_SQL = """
CREATE OR REPLACE TABLE marts.order_allocations AS
WITH as_of AS (
    SELECT coalesce(
        (SELECT max(snapshot_date) FROM core.stock_snapshots),
        (SELECT CAST(max(ordered_at) AS DATE) FROM core.order_lines)) AS as_of
),
release_cutoff AS (
    -- an unpaid line holds stock for the payment window, counted back from the end of the
    -- as-of day (data time, not wall-clock time: the same inputs give the same allocations)
    SELECT CAST(as_of + 1 AS TIMESTAMP) - to_seconds(CAST($payment_window_seconds AS BIGINT))
               AS unpaid_since
    FROM as_of
),
first_channel_location AS (
    SELECT channel_id, arg_min(location_id, (priority, location_id)) AS location_id
    FROM core.channel_locations GROUP BY channel_id
),
candidate_lines AS (  -- accepted, not cancelled, not shipped, holding stock
    SELECT ol.*, (ol.paid_at IS NOT NULL OR ol.status = 'paid') AS is_paid
    FROM core.order_lines AS ol
    CROSS JOIN release_cutoff AS rc
    WHERE ol.status IN ('placed', 'paid')
      AND ol.cancelled_at IS NULL
      AND ol.shipped_at IS NULL
      AND (ol.paid_at IS NOT NULL OR ol.status = 'paid' OR ol.ordered_at >= rc.unpaid_since)
),
shipped_units AS (  -- partial shipments of those lines only (not every event ever)
    SELECT f.channel_id, f.order_id, f.line_id, sum(f.quantity) AS shipped
    FROM core.fulfillment_events AS f
    SEMI JOIN candidate_lines AS c USING (channel_id, order_id, line_id)
    WHERE f.event_type = 'shipped'
    GROUP BY f.channel_id, f.order_id, f.line_id
),
open_lines AS (
    SELECT c.channel_id, c.order_id, c.line_id, c.sku AS order_sku, c.status,
           c.ordered_at, c.paid_at, c.is_paid,
           c.quantity - coalesce(s.shipped, 0) AS open_units,
           coalesce(c.location_id, fcl.location_id) AS location_id,
           CASE WHEN c.location_id IS NOT NULL THEN 'order line'
                WHEN fcl.location_id IS NOT NULL THEN 'channel priority' END AS location_source
    FROM candidate_lines AS c
    LEFT JOIN shipped_units AS s USING (channel_id, order_id, line_id)
    LEFT JOIN first_channel_location AS fcl ON fcl.channel_id = c.channel_id
    WHERE c.quantity > coalesce(s.shipped, 0)
),
component_lines AS (  -- a bundle line allocates its components
    SELECT ol.*, coalesce(bc.component_sku, ol.order_sku) AS sku,
           ol.open_units * coalesce(bc.units_per_bundle, 1) AS units
    FROM open_lines AS ol
    LEFT JOIN core.bundle_components AS bc ON bc.bundle_sku = ol.order_sku
),
queued AS (
    -- who gets the location's free stock first: paid lines, then by payment or order time
    SELECT c.*,
           greatest(coalesce(s.on_hand_units, 0) - coalesce(s.reserved_units, 0), 0)
               AS free_units,
           sum(c.units) OVER (
               PARTITION BY c.sku, c.location_id
               ORDER BY c.is_paid DESC, coalesce(c.paid_at, c.ordered_at), c.ordered_at,
                        c.channel_id, c.order_id, c.line_id
               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cumulative_units
    FROM component_lines AS c
    LEFT JOIN marts.stock_on_hand AS s USING (sku, location_id)
)
SELECT (SELECT as_of FROM as_of) AS as_of,
       channel_id, order_id, line_id, order_sku, sku, location_id, location_source,
       status, is_paid, ordered_at, paid_at,
       units::BIGINT AS units,
       least(units, greatest(free_units - (cumulative_units - units), 0))::BIGINT AS covered_units,
       (units - least(units, greatest(free_units - (cumulative_units - units), 0)))::BIGINT
           AS shortfall_units
FROM queued
ORDER BY channel_id, order_id, line_id, sku
"""


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
    con.execute(
        ORDER_ALLOCATIONS_SQL,
        {"payment_window_seconds": round(alloc.payment_window_hours * 3600)},
    )
    return row_count(con, "marts.order_allocations")


ATS_BY_SKU_LOCATION_SQL = """
CREATE OR REPLACE TABLE marts.ats_by_sku_location AS
WITH as_of AS (SELECT max(snapshot_date) AS as_of FROM core.stock_snapshots),
allocated AS (
    SELECT sku, location_id, sum(units)::BIGINT AS allocated_units
    FROM marts.order_allocations
    WHERE location_id IS NOT NULL
    GROUP BY sku, location_id
),
item_stock AS (  -- allocations without a stock row are allocations against 0 on hand
    SELECT coalesce(s.sku, a.sku) AS sku, coalesce(s.location_id, a.location_id) AS location_id,
           coalesce(s.on_hand_units, 0) AS on_hand_units,
           coalesce(a.allocated_units, 0) AS allocated_units,
           coalesce(s.reserved_units, 0) AS reserved_units
    FROM marts.stock_on_hand AS s
    FULL JOIN allocated AS a ON a.sku = s.sku AND a.location_id = s.location_id
),
item_ats AS (
    SELECT *, greatest(on_hand_units - allocated_units - reserved_units, 0)::BIGINT AS ats_units
    FROM item_stock
),
bundle_ats AS (  -- a missing component counts as 0 available: the bundle cannot be built
    SELECT bc.bundle_sku AS sku, l.location_id,
           min(coalesce(i.ats_units // nullif(bc.units_per_bundle, 0), 0))::BIGINT AS ats_units
    FROM core.bundle_components AS bc
    CROSS JOIN (SELECT DISTINCT location_id FROM item_ats) AS l
    LEFT JOIN item_ats AS i ON i.sku = bc.component_sku AND i.location_id = l.location_id
    GROUP BY bc.bundle_sku, l.location_id
)
SELECT (SELECT as_of FROM as_of) AS as_of, sku, location_id, false AS is_bundle,
       on_hand_units, allocated_units, reserved_units, ats_units
FROM item_ats
UNION ALL
SELECT (SELECT as_of FROM as_of), sku, location_id, true, NULL, NULL, NULL, ats_units
FROM bundle_ats
ORDER BY sku, location_id
"""


def build_ats_by_sku_location(con: duckdb.DuckDBPyConnection) -> int:
    """``marts.ats_by_sku_location``: units available to sell per SKU × location =
    max(on hand − allocated − reserved, 0); a bundle's = min over components of
    ⌊component ATS ÷ units per bundle⌋ (on hand/allocated/reserved NULL for bundles)."""
    con.execute(ATS_BY_SKU_LOCATION_SQL)
    return row_count(con, "marts.ats_by_sku_location")


CHANNEL_BUFFERS_CTE = """
buffers AS (  -- shelfwise.toml [channels.<id>] overrides core.channels, field by field
    SELECT c.channel_id,
           coalesce(o.safety_buffer_units, c.safety_buffer_units, 0) AS buffer_units,
           coalesce(o.safety_buffer_pct, c.safety_buffer_pct, 0) AS buffer_pct
    FROM core.channels AS c
    LEFT JOIN channel_buffer_overrides AS o USING (channel_id)
)"""

ATS_BY_SKU_CHANNEL_SQL = f"""
CREATE OR REPLACE TABLE marts.ats_by_sku_channel AS
WITH {CHANNEL_BUFFERS_CTE},
location_sums AS (
    SELECT cl.channel_id, a.sku, count(*) AS locations,
           sum(a.on_hand_units)::BIGINT AS on_hand_units,
           sum(a.allocated_units)::BIGINT AS allocated_units,
           sum(a.reserved_units)::BIGINT AS reserved_units,
           sum(a.ats_units)::BIGINT AS location_ats_units
    FROM core.channel_locations AS cl
    JOIN marts.ats_by_sku_location AS a ON a.location_id = cl.location_id AND NOT a.is_bundle
    GROUP BY cl.channel_id, a.sku
),
item_buffers AS (  -- the larger of the fixed and the percentage buffer, percentages rounded up
    SELECT ls.*,
           greatest(coalesce(b.buffer_units, 0),
                    ceil(coalesce(b.buffer_pct, 0) * ls.location_ats_units))::BIGINT
               AS safety_buffer_units
    FROM location_sums AS ls
    LEFT JOIN buffers AS b USING (channel_id)
),
item_channel AS (
    SELECT *, greatest(location_ats_units - safety_buffer_units, 0)::BIGINT AS ats_units
    FROM item_buffers
),
bundle_channel AS (
    -- from the components' channel ATS (buffer already kept back), so a bundle never shows
    -- more than its scarcest component allows
    SELECT ch.channel_id, bc.bundle_sku AS sku,
           min(coalesce(i.ats_units // nullif(bc.units_per_bundle, 0), 0))::BIGINT AS ats_units
    FROM core.bundle_components AS bc
    CROSS JOIN (SELECT DISTINCT channel_id FROM core.channel_locations) AS ch
    LEFT JOIN item_channel AS i ON i.channel_id = ch.channel_id AND i.sku = bc.component_sku
    GROUP BY ch.channel_id, bc.bundle_sku
)
SELECT (SELECT max(as_of) FROM marts.ats_by_sku_location) AS as_of,
       channel_id, sku, false AS is_bundle, locations, on_hand_units, allocated_units,
       reserved_units, location_ats_units, safety_buffer_units, ats_units
FROM item_channel
UNION ALL
SELECT (SELECT max(as_of) FROM marts.ats_by_sku_location), channel_id, sku, true,
       NULL, NULL, NULL, NULL, NULL, NULL, ats_units
FROM bundle_channel
ORDER BY channel_id, sku
"""


def _with_overrides(con: duckdb.DuckDBPyConnection, overrides: pl.DataFrame | None):
    """Register the channel buffer overrides as a relation named ``channel_buffer_overrides``."""
    frame = overrides if overrides is not None else pl.DataFrame(schema=BUFFER_OVERRIDE_SCHEMA)
    con.register("channel_buffer_overrides", frame.to_arrow())


def build_ats_by_sku_channel(
    con: duckdb.DuckDBPyConnection, overrides: pl.DataFrame | None = None
) -> int:
    """``marts.ats_by_sku_channel``: per channel × SKU, max(Σ ATS over the locations serving the
    channel − safety buffer, 0), buffer = max(buffer units, ⌈buffer pct × Σ ATS⌉) from
    core.channels or the ``overrides`` frame; a bundle's = min over components of
    ⌊component channel ATS ÷ units per bundle⌋."""
    _with_overrides(con, overrides)
    try:
        con.execute(ATS_BY_SKU_CHANNEL_SQL)
    finally:
        con.unregister("channel_buffer_overrides")
    return row_count(con, "marts.ats_by_sku_channel")


INVENTORY_POSITION_SQL = """
CREATE OR REPLACE TABLE marts.inventory_position AS
WITH received_by_po AS (
    SELECT po_number, sku, sum(quantity_received) AS received
    FROM core.receipts GROUP BY po_number, sku
),
on_order AS (  -- open PO lines, less what has already been received against them
    SELECT po.sku, po.location_id,
           sum(greatest(po.quantity_ordered - coalesce(r.received, 0), 0))::BIGINT AS on_order_units
    FROM core.purchase_orders AS po
    LEFT JOIN received_by_po AS r USING (po_number, sku)
    WHERE po.status = 'open'
    GROUP BY po.sku, po.location_id
),
commitments AS (
    SELECT sku, location_id,
           sum(covered_units)::BIGINT AS allocated_units,
           coalesce(sum(shortfall_units) FILTER (WHERE is_paid), 0)::BIGINT AS backorder_units
    FROM marts.order_allocations
    WHERE location_id IS NOT NULL
    GROUP BY sku, location_id
),
sku_locations AS (
    SELECT sku, location_id FROM marts.stock_on_hand
    UNION SELECT sku, location_id FROM on_order
    UNION SELECT sku, location_id FROM commitments
),
parts AS (
    SELECT k.sku, k.location_id,
           greatest(coalesce(s.on_hand_units, 0), 0)::BIGINT AS on_hand_units,
           coalesce(o.on_order_units, 0) AS on_order_units,
           coalesce(c.allocated_units, 0) AS allocated_units,
           coalesce(c.backorder_units, 0) AS backorder_units
    FROM sku_locations AS k
    LEFT JOIN marts.stock_on_hand AS s USING (sku, location_id)
    LEFT JOIN on_order AS o USING (sku, location_id)
    LEFT JOIN commitments AS c USING (sku, location_id)
)
SELECT (SELECT max(snapshot_date) FROM core.stock_snapshots) AS as_of, *,
       on_hand_units + on_order_units - allocated_units - backorder_units
           AS inventory_position_units
FROM parts
ORDER BY sku, location_id
"""


def build_inventory_position(con: duckdb.DuckDBPyConnection) -> int:
    """``marts.inventory_position``: per SKU × location, units = on hand (≥ 0) + on order (open
    PO lines not yet received) − allocated (open-line units the location's free stock covers) −
    backorders (paid open-line units it cannot cover)."""
    con.execute(INVENTORY_POSITION_SQL)
    return row_count(con, "marts.inventory_position")


# ---------------------------------------------------------------------------------------------
# 4. oversell risk, oversell events, order exceptions
# ---------------------------------------------------------------------------------------------

OVERSELL_RISK_SQL = """
CREATE OR REPLACE TABLE marts.oversell_risk AS
SELECT (SELECT max(as_of) FROM marts.ats_by_sku_location) AS as_of,
       l.channel_id, l.channel_sku, l.sku, l.listing_status, l.as_of AS listed_as_of,
       l.listed_quantity, coalesce(a.ats_units, 0) AS ats_units,
       l.listed_quantity - coalesce(a.ats_units, 0) AS excess_units
FROM core.channel_listings AS l
LEFT JOIN marts.ats_by_sku_channel AS a USING (channel_id, sku)
WHERE l.listed_quantity > coalesce(a.ats_units, 0)
ORDER BY excess_units DESC, l.channel_id, l.channel_sku
"""


def build_oversell_risk(con: duckdb.DuckDBPyConnection) -> int:
    """``marts.oversell_risk``: channel listings whose listed quantity (units, the channel's
    latest listing) is above the channel's ATS, with the excess in units."""
    con.execute(OVERSELL_RISK_SQL)
    return row_count(con, "marts.oversell_risk")


OVERSELL_EVENTS_SQL = f"""
CREATE OR REPLACE TABLE marts.oversell_events AS
WITH {CHANNEL_BUFFERS_CTE},
first_snapshot AS (SELECT min(snapshot_date) AS day FROM core.stock_snapshots),
accepted_lines AS (  -- before the first snapshot the stock is unknown: no verdict
    SELECT channel_id, order_id, line_id, sku AS order_sku, quantity, status, ordered_at,
           CAST(ordered_at AS DATE) AS order_date
    FROM core.order_lines
    WHERE CAST(ordered_at AS DATE) > (SELECT day FROM first_snapshot)
),
component_days AS (  -- each distinct channel × component × day once, however many lines
    SELECT DISTINCT a.channel_id, coalesce(bc.component_sku, a.order_sku) AS sku, a.order_date
    FROM accepted_lines AS a
    LEFT JOIN core.bundle_components AS bc ON bc.bundle_sku = a.order_sku
),
served AS (
    SELECT cd.*, cl.location_id
    FROM component_days AS cd
    JOIN core.channel_locations AS cl USING (channel_id)
),
stock_at_start AS (  -- the ledger's on hand at the end of the last day before the order day
    SELECT s.channel_id, s.sku, s.order_date, greatest(coalesce(l.on_hand_units, 0), 0) AS on_hand
    FROM served AS s
    ASOF LEFT JOIN marts.stock_ledger AS l
      ON l.sku = s.sku AND l.location_id = s.location_id AND s.order_date > l.day
),
channel_stock AS (
    SELECT channel_id, sku, order_date, sum(on_hand)::BIGINT AS on_hand_units
    FROM stock_at_start GROUP BY channel_id, sku, order_date
),
channel_ats AS (
    SELECT cs.*,
           greatest(cs.on_hand_units - greatest(coalesce(b.buffer_units, 0),
                    ceil(coalesce(b.buffer_pct, 0) * cs.on_hand_units)), 0)::BIGINT AS ats_units
    FROM channel_stock AS cs
    LEFT JOIN buffers AS b USING (channel_id)
),
line_components AS (
    SELECT a.*, coalesce(bc.component_sku, a.order_sku) AS sku,
           coalesce(bc.units_per_bundle, 1) AS units_per_bundle,
           coalesce(ca.ats_units, 0) AS component_ats_units
    FROM accepted_lines AS a
    LEFT JOIN core.bundle_components AS bc ON bc.bundle_sku = a.order_sku
    LEFT JOIN channel_ats AS ca
      ON ca.channel_id = a.channel_id AND ca.order_date = a.order_date
     AND ca.sku = coalesce(bc.component_sku, a.order_sku)
),
line_ats AS (
    SELECT channel_id, order_id, line_id, order_sku, quantity, status, ordered_at, order_date,
           min(component_ats_units // nullif(units_per_bundle, 0)) AS ats_at_start_of_day,
           arg_min(sku, component_ats_units // nullif(units_per_bundle, 0)) AS limiting_sku
    FROM line_components
    GROUP BY channel_id, order_id, line_id, order_sku, quantity, status, ordered_at, order_date
)
SELECT channel_id, order_id, line_id, order_sku AS sku, quantity, status, ordered_at,
       order_date, ats_at_start_of_day, limiting_sku
FROM line_ats
WHERE coalesce(ats_at_start_of_day, 0) = 0
ORDER BY order_date, channel_id, order_id, line_id
"""


def build_oversell_events(
    con: duckdb.DuckDBPyConnection, overrides: pl.DataFrame | None = None
) -> int:
    """``marts.oversell_events``: order lines accepted on a day the channel's ATS for the SKU
    was 0 (an approximation: ATS at the start of the order day = Σ book on hand at the end of
    the previous day over the locations serving the channel − the channel's safety buffer;
    allocations and reservations of that time are not reconstructed, so it under-reports)."""
    _with_overrides(con, overrides)
    try:
        con.execute(OVERSELL_EVENTS_SQL)
    finally:
        con.unregister("channel_buffer_overrides")
    return row_count(con, "marts.oversell_events")


ORDER_EXCEPTIONS_SQL = """
CREATE OR REPLACE TABLE marts.order_exceptions AS
WITH shipped_events AS (
    SELECT channel_id, order_id, line_id, min(event_at) AS first_shipped_at
    FROM core.fulfillment_events WHERE event_type = 'shipped'
    GROUP BY channel_id, order_id, line_id
),
shipped_lines AS (
    SELECT ol.*, coalesce(ol.shipped_at, se.first_shipped_at) AS shipped_on
    FROM core.order_lines AS ol
    LEFT JOIN shipped_events AS se USING (channel_id, order_id, line_id)
    WHERE ol.status IN ('shipped', 'delivered') OR ol.shipped_at IS NOT NULL
       OR se.first_shipped_at IS NOT NULL
),
serving_ats AS (  -- free units each location serving a channel still has after its own orders
    SELECT cl.channel_id, a.sku, a.location_id, a.ats_units
    FROM core.channel_locations AS cl
    JOIN marts.ats_by_sku_location AS a ON a.location_id = cl.location_id AND NOT a.is_bundle
),
unfillable AS (
    SELECT oa.*
    FROM marts.order_allocations AS oa
    WHERE oa.is_paid AND oa.shortfall_units > 0 AND oa.location_id IS NOT NULL
      AND NOT EXISTS (
          SELECT 1 FROM serving_ats AS s
          WHERE s.channel_id = oa.channel_id AND s.sku = oa.sku
            AND s.location_id <> oa.location_id AND s.ats_units >= oa.shortfall_units)
),
exceptions AS (
    SELECT 'paid, no location can fill' AS exception, u.channel_id, u.order_id, u.line_id,
           any_value(u.order_sku) AS sku, any_value(u.status) AS status,
           any_value(u.ordered_at) AS ordered_at, any_value(u.paid_at) AS paid_at,
           NULL::TIMESTAMP AS shipped_at,
           string_agg(u.sku || ' short ' || u.shortfall_units || ' of ' || u.units || ' at '
                      || u.location_id, '; ' ORDER BY u.sku) AS detail
    FROM unfillable AS u
    GROUP BY u.channel_id, u.order_id, u.line_id
    UNION ALL
    SELECT 'no location serves the channel', channel_id, order_id, line_id,
           any_value(order_sku), any_value(status), any_value(ordered_at), any_value(paid_at),
           NULL, 'channel ' || channel_id || ' has no row in channel_locations'
    FROM marts.order_allocations
    WHERE location_id IS NULL
    GROUP BY channel_id, order_id, line_id
    UNION ALL
    SELECT 'shipped, not paid', channel_id, order_id, line_id, sku, status, ordered_at,
           paid_at, shipped_on, 'shipped ' || quantity || ' units with no payment recorded'
    FROM shipped_lines
    WHERE paid_at IS NULL AND cancelled_at IS NULL
    UNION ALL
    SELECT 'shipped after cancellation', channel_id, order_id, line_id, sku, status,
           ordered_at, paid_at, shipped_on,
           'cancelled ' || CAST(cancelled_at AS VARCHAR) || ', shipped '
               || CAST(shipped_on AS VARCHAR)
    FROM shipped_lines
    WHERE cancelled_at IS NOT NULL
)
SELECT * FROM exceptions
ORDER BY exception, channel_id, order_id, line_id
"""


def build_order_exceptions(con: duckdb.DuckDBPyConnection) -> int:
    """``marts.order_exceptions``: order lines that need a person — paid lines that no location
    serving the channel can fill, open lines whose channel has no location, lines shipped with
    no payment, lines shipped after cancellation (one row per line and exception)."""
    con.execute(ORDER_EXCEPTIONS_SQL)
    return row_count(con, "marts.order_exceptions")


# ---------------------------------------------------------------------------------------------
# channel feed rows
# ---------------------------------------------------------------------------------------------

CHANNEL_FEED_ROWS_SQL = """
WITH listed_channels AS (SELECT DISTINCT channel_id FROM core.channel_listings),
listed AS (  -- a listed SKU with no ATS row has nothing available: 0
    SELECT l.channel_id, l.channel_sku, l.sku, coalesce(a.ats_units, 0) AS quantity
    FROM core.channel_listings AS l
    LEFT JOIN marts.ats_by_sku_channel AS a USING (channel_id, sku)
),
unlisted AS (  -- a channel without listings gets every SKU it can sell, under our SKU
    SELECT a.channel_id, a.sku AS channel_sku, a.sku, a.ats_units AS quantity
    FROM marts.ats_by_sku_channel AS a
    ANTI JOIN listed_channels AS lc USING (channel_id)
)
SELECT (SELECT max(as_of) FROM marts.ats_by_sku_channel) AS as_of,
       channel_id, channel_sku, sku, quantity::BIGINT AS quantity
FROM (SELECT * FROM listed UNION ALL SELECT * FROM unlisted)
ORDER BY channel_id, channel_sku, sku
"""


def channel_feed_rows(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Rows of every channel's availability feed, all from one ``marts.ats_by_sku_channel``:
    ``as_of``, ``channel_id``, ``channel_sku``, ``sku``, ``quantity`` (units)."""
    return con.sql(CHANNEL_FEED_ROWS_SQL).pl()


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
