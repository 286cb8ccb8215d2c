"""Quality checks beside the ``core`` tables ingest lands: volume, freshness, duplicate order
lines, references, values, money.

Great Expectations suites run as Dagster asset checks by the shared runner
(:mod:`assets.quality.runner`; docs/data-quality.md). Every probe aggregates in DuckDB first and hands Great Expectations a small frame (per channel
and day, per location and day, one row per table, ...): the question "did a channel send
nothing yesterday?" needs the daily counts, not five million order lines. Identifiers in the
SQL come from this module and from :mod:`assets.model`; values are always parameters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import duckdb
import pandas as pd

from assets.model import ENTITIES, ORDER_STATUSES
from assets.quality.runner import asset_checks
from assets.quality.specs import (
    Expect,
    Probe,
    QualityCheck,
    QualitySettings,
    day_text,
    none_of,
    num_text,
)

# statuses whose lines the customer has paid for (a cancelled or merely placed line has not)
PAID_STATUSES = tuple(s for s in ORDER_STATUSES if s in ("paid", "shipped", "delivered"))
# a channel whose usual day has fewer lines than this has naturally empty days: an empty
# day there is not evidence of a broken feed (Poisson with mean 5 is 0 on 0.7% of days)
MIN_MEDIAN_LINES = 5


def _newest_complete_day(con: duckdb.DuckDBPyConnection, qs: QualitySettings) -> dt.date | None:
    """The business day the volume checks judge.

    ``[quality] as_of`` when set; otherwise the latest order day before today (UTC): today is
    still being sold, so its counts are partial and would look like a collapse.
    """
    if qs.as_of is not None:
        return qs.as_of
    today = dt.datetime.now(dt.UTC).date()
    (day,) = con.execute(
        "SELECT max(CAST(ordered_at AS DATE)) FROM core.order_lines"
        " WHERE CAST(ordered_at AS DATE) < $today",
        {"today": today},
    ).fetchone()
    return day


# --------------------------------------------------------------------------- order_lines


def _usual(row: Mapping[str, Any]) -> str:
    """'its median over the previous 28 days is 412 (398 on Sundays)'."""
    weekday = pd.Timestamp(row["day"]).day_name()
    return (
        f"its median over the previous {row['history_days']} days is "
        f"{num_text(row['median_lines'])} ({num_text(row['weekday_median_lines'])} on "
        f"{weekday}s)"
    )


def _explain_empty_day(row: Mapping[str, Any]) -> str:
    last = row.get("last_line_on")
    since = f" (its latest line is from {day_text(last)})" if last is not None else ""
    return (
        f"channel {row['channel_id']} sent 0 order lines on {day_text(row['day'])}{since}; "
        f"{_usual(row)}"
    )


def _explain_collapse(row: Mapping[str, Any]) -> str:
    return (
        f"channel {row['channel_id']} sent only {num_text(row['lines'])} order lines on "
        f"{day_text(row['day'])}, {row['collapse_ratio']:.0%} of its usual "
        f"{num_text(row['baseline_lines'])}; {_usual(row)}"
    )


def _volume_frame(
    con: duckdb.DuckDBPyConnection, day: dt.date, qs: QualitySettings
) -> pd.DataFrame:
    """Per judged channel: lines on ``day`` against its usual volume (see probe_daily_volume)."""
    return con.execute(
        """
        WITH daily AS (
            SELECT channel_id, CAST(ordered_at AS DATE) AS day, count(*) AS lines
            FROM core.order_lines
            WHERE CAST(ordered_at AS DATE) <= $day
            GROUP BY ALL
        ),
        channel_span AS (
            SELECT channel_id, min(day) AS first_day, max(day) AS last_line_on
            FROM daily GROUP BY ALL
        ),
        calendar AS (
            SELECT CAST(d AS DATE) AS day
            FROM generate_series($day::DATE - to_days(CAST($history AS INTEGER)),
                                 $day::DATE - 1, INTERVAL 1 DAY) AS t(d)
        ),
        history AS (
            SELECT s.channel_id, c.day, coalesce(d.lines, 0) AS lines
            FROM channel_span AS s
            JOIN calendar AS c ON c.day >= s.first_day
            LEFT JOIN daily AS d ON d.channel_id = s.channel_id AND d.day = c.day
        ),
        usual AS (
            SELECT channel_id,
                   median(lines) AS median_lines,
                   median(lines) FILTER (WHERE dayofweek(day) = dayofweek($day::DATE))
                       AS weekday_median_lines,
                   count(*) AS history_days
            FROM history GROUP BY ALL
        ),
        judged AS (
            SELECT *, least(median_lines, coalesce(weekday_median_lines, 0)) AS baseline_lines
            FROM usual
        )
        SELECT u.channel_id,
               $day::DATE AS day,
               coalesce(d.lines, 0) AS lines,
               u.median_lines,
               u.weekday_median_lines,
               u.baseline_lines,
               u.history_days,
               s.last_line_on,
               -- NULL on an empty day: the empty-day expectation reports that one, once
               CASE WHEN d.lines > 0 THEN d.lines / u.baseline_lines END AS collapse_ratio
        FROM judged AS u
        JOIN channel_span AS s USING (channel_id)
        LEFT JOIN daily AS d ON d.channel_id = u.channel_id AND d.day = $day
        WHERE u.history_days >= $min_history AND u.baseline_lines >= $min_median
          AND NOT list_contains($quiet_days, $day::DATE)
        ORDER BY u.channel_id
        """,
        {
            "day": day,
            "history": qs.history_days,
            "min_history": qs.min_history_days,
            "min_median": MIN_MEDIAN_LINES,
            "quiet_days": list(qs.quiet_days),
        },
    ).df()


def history_tails(con: duckdb.DuckDBPyConnection, day: dt.date) -> pd.DataFrame:
    """Per channel: its last order day up to ``day``, and whether that day's lines all came
    in the channel's first ingest batch together with earlier days (the tail of a history
    export), not as a daily drop.

    ``raw.order_lines`` keeps every landed version with its batch (batch ids sort by time),
    so "first landed in the channel's first batch" survives later updates of the same lines.
    A warehouse without batches (rows written directly) has no history tails.
    """
    return con.execute(
        """
        WITH lines AS (
            SELECT channel_id, CAST(ordered_at AS DATE) AS day, batch_id
            FROM raw.order_lines WHERE CAST(ordered_at AS DATE) <= $day
        ),
        channel_first AS (
            SELECT channel_id, min(batch_id) AS first_batch, max(day) AS last_day
            FROM lines GROUP BY ALL
        ),
        in_first AS (  -- days the first batch brought, per channel
            SELECT l.channel_id, min(l.day) AS first_day
            FROM lines AS l JOIN channel_first AS f
              ON f.channel_id = l.channel_id AND l.batch_id = f.first_batch
            GROUP BY ALL
        ),
        last_day_batches AS (
            SELECT l.channel_id, min(l.batch_id) AS earliest_batch, count(*) AS landed_lines
            FROM lines AS l JOIN channel_first AS f
              ON f.channel_id = l.channel_id AND l.day = f.last_day
            GROUP BY ALL
        )
        SELECT f.channel_id, f.last_day,
               -- every version of the last day's lines arrived with the history load, and
               -- that load held earlier days too
               coalesce(b.earliest_batch = f.first_batch
                        AND NOT EXISTS (SELECT 1 FROM lines AS l
                                        WHERE l.channel_id = f.channel_id
                                          AND l.day = f.last_day
                                          AND l.batch_id <> f.first_batch)
                        AND i.first_day < f.last_day, false) AS history_tail
        FROM channel_first AS f
        JOIN last_day_batches AS b USING (channel_id)
        JOIN in_first AS i USING (channel_id)
        ORDER BY f.channel_id
        """,
        {"day": day},
    ).df()


def probe_daily_volume(con: duckdb.DuckDBPyConnection, qs: QualitySettings) -> Probe:
    """Per channel: lines on the judged day against what the channel usually sends.

    The history is zero-filled (a day without lines counts as 0) from the channel's first line
    on. The *baseline* is the lower of the median over all ``history_days`` days and the median
    over the same weekday in them: stores closed on Sundays, or B2B buyers who order on working
    days, have low same-weekday medians and are not judged on those days. A channel is judged
    only when its baseline is at least MIN_MEDIAN_LINES (a rarely selling channel has natural
    empty days) and it has ``min_history_days`` of history. ``quiet_days`` are not judged.

    History is history (unless ``[quality] as_of`` names the day): a channel whose latest
    lines all arrived with its first load (a history export, not a daily drop) is judged on
    its own data. A collapse on the export's last day is a partial day (the export was cut
    mid-day): it is reported in the context and the day before is judged instead; an empty
    judged day on a channel whose history export simply ends earlier is not judged.
    """
    day = _newest_complete_day(con, qs)
    frame = _volume_frame(con, day or dt.date(1970, 1, 1), qs)
    context: dict[str, Any] = {"judged_day": str(day), "history_days": qs.history_days}
    if day is not None and qs.as_of is None and not frame.empty:
        frame, notes = _history_exports_judged_on_their_own(con, frame, day, qs)
        context.update(notes)
    if day in qs.quiet_days:
        context["quiet_day"] = "yes: listed in [quality] quiet_days, not judged"
    return Probe(
        frame=frame,
        context=context,
        expectations=[
            Expect(
                "ExpectColumnValuesToBeBetween",
                {"column": "lines", "min_value": 1},
                "a channel that normally sells on this weekday sent no order lines",
                _explain_empty_day,
            ),
            Expect(
                "ExpectColumnValuesToBeBetween",
                {"column": "collapse_ratio", "min_value": qs.min_volume_ratio},
                f"a channel sent less than {qs.min_volume_ratio:.0%} of its usual daily lines",
                _explain_collapse,
            ),
        ],
    )


def _history_exports_judged_on_their_own(
    con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, day: dt.date, qs: QualitySettings
) -> tuple[pd.DataFrame, dict[str, str]]:
    """The volume frame with each history-export channel that would fail on ``day`` judged
    on its own data instead (see :func:`probe_daily_volume`), and notes saying so."""
    failing = frame[(frame["lines"] < 1) | (frame["collapse_ratio"] < qs.min_volume_ratio)]
    if failing.empty:
        return frame, {}
    tails = history_tails(con, day).set_index("channel_id")
    partial, ends_earlier, replacements = [], [], []
    for channel in failing["channel_id"]:
        if channel not in tails.index or not bool(tails.at[channel, "history_tail"]):
            continue  # a daily drop (or unknown lineage): judged as it is
        last_day = pd.Timestamp(tails.at[channel, "last_day"]).date()
        if last_day < day:
            ends_earlier.append(f"{channel} (history export ends {last_day})")
            frame = frame[frame["channel_id"] != channel]
            continue
        row = frame[frame["channel_id"] == channel].iloc[0]
        partial.append(f"{channel} {last_day}: {num_text(row['lines'])} lines against a usual "
                       f"{num_text(row['baseline_lines'])}")
        frame = frame[frame["channel_id"] != channel]
        (before,) = con.execute(
            "SELECT max(CAST(ordered_at AS DATE)) FROM core.order_lines"
            " WHERE channel_id = $channel AND CAST(ordered_at AS DATE) < $day",
            {"channel": channel, "day": last_day},
        ).fetchone()
        if before is not None:
            earlier = _volume_frame(con, before, qs)
            replacements.append(earlier[earlier["channel_id"] == channel])
    if replacements:
        frame = pd.concat([frame, *replacements], ignore_index=True)
    notes = {}
    if partial:
        notes["partial_last_day"] = (
            "; ".join(partial) + ": the last day of a history export, cut mid-day: not judged; "
            "the day before is judged instead"
        )
    if ends_earlier:
        notes["history_only"] = "; ".join(ends_earlier) + ": judged when daily files arrive"
    return frame.reset_index(drop=True), notes


# over 80 lines: one SQL statement and the two sentences that explain a failing row
def probe_freshness(con: duckdb.DuckDBPyConnection, qs: QualitySettings) -> Probe:
    """Per channel: how far its newest order line lags the data's own "as of", and whether
    any line is dated in the future (against the clock: a future line is always wrong).

    The "as of" is the newest order line of all channels (``[quality] as_of``: the end of that
    day), never the wall clock: a history export loaded today is not stale for being from last
    year. A channel whose every line arrived with its first load (a history export) is not
    judged for staleness: its data ends where the export ends. A channel that has received
    files since is judged: its feed stopped while others go on. How old the data is against
    the clock is reported in the context (``data_age_days``), not judged.
    """
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    # judging an older day (as_of) measures age at the end of that day; else the data's as-of
    explicit = dt.datetime.combine(qs.as_of + dt.timedelta(days=1), dt.time()) if qs.as_of else None
    frame = con.execute(
        """
        WITH newest AS (
            SELECT channel_id,
                   max(ordered_at) FILTER (WHERE ordered_at < coalesce($explicit, $now))
                       AS newest_ordered_at,
                   max(ordered_at) AS newest_any
            FROM core.order_lines GROUP BY ALL
        ),
        batches AS (  -- did anything arrive for the channel after its first load?
            SELECT channel_id, count(DISTINCT batch_id) > 1 AS has_daily_drops
            FROM raw.order_lines GROUP BY ALL
        ),
        reference AS (
            SELECT coalesce($explicit, max(newest_ordered_at)) AS reference_time FROM newest
        )
        SELECT n.channel_id, n.newest_ordered_at, r.reference_time,
               coalesce(b.has_daily_drops, true) OR $explicit IS NOT NULL AS judged,
               date_diff('second', n.newest_ordered_at, r.reference_time) / 86400.0
                   AS lag_days,
               CASE WHEN coalesce(b.has_daily_drops, true) OR $explicit IS NOT NULL
                    THEN date_diff('second', n.newest_ordered_at, r.reference_time) / 86400.0
                    ELSE 0 END AS age_days,
               coalesce(date_diff('second', $now, n.newest_any) / 3600.0, 0)
                   AS ahead_of_clock_hours,
               1 AS lines
        FROM newest AS n CROSS JOIN reference AS r
        LEFT JOIN batches AS b USING (channel_id)
        UNION ALL
        -- an empty table is as stale as it gets; 1e6 days keeps the row judgeable
        SELECT NULL, NULL, NULL, true, 1e6, 1e6, 0, 0
        WHERE NOT EXISTS (SELECT 1 FROM core.order_lines)
        ORDER BY 1
        """,
        {"explicit": explicit, "now": now},
    ).df()

    def stale(row: Mapping[str, Any]) -> str:
        if row["lines"] == 0:
            return "core.order_lines is empty: no channel has sent any order line"
        return (
            f"the newest order line of channel {row['channel_id']} is from "
            f"{str(row['newest_ordered_at'])[:16]} UTC, {row['age_days']:.1f} days before "
            f"{str(row['reference_time'])[:16]} UTC"
            + ("" if explicit else " (the newest line of all channels)")
        )

    def future(row: Mapping[str, Any]) -> str:
        return (
            f"an order line is dated {row['ahead_of_clock_hours']:.1f} hours in the future "
            "(a time zone or clock error in a channel export)"
        )

    reference = explicit or (frame["reference_time"].max() if len(frame) else None)
    context = {"reference_time": f"{str(reference)[:16]} UTC"}
    if not explicit and reference is not None and not pd.isna(reference):
        context["data_age_days"] = f"{(now - pd.Timestamp(reference)).total_seconds() / 86400:.1f}"
    not_judged = frame.loc[~frame["judged"].astype(bool), "channel_id"].tolist()
    if not_judged:
        context["history_only"] = (", ".join(map(str, not_judged))
                                   + ": only a history export so far, its age is not judged")
    return Probe(
        frame=frame,
        context=context,
        expectations=[
            Expect(
                "ExpectColumnValuesToBeBetween",
                {"column": "age_days", "max_value": qs.freshness_max_age_days},
                f"no new order line for more than {qs.freshness_max_age_days:g} days",
                stale,
            ),
            Expect(
                "ExpectColumnValuesToBeBetween",
                {"column": "ahead_of_clock_hours", "max_value": 1.0},
                "an order line is dated more than an hour in the future",
                future,
            ),
        ],
    )


def _order_line_day_counts(con: duckdb.DuckDBPyConnection) -> Any:
    """Per channel and order day: lines and how many break each value rule."""
    return con.execute(
        """
        SELECT channel_id,
               CAST(ordered_at AS DATE) AS day,
               count(*) AS lines,
               -- a cancelled line may carry 0 (Amazon reports cancellations so); nothing else may
               count(*) FILTER (WHERE quantity IS NULL OR quantity < 0
                                OR (quantity = 0 AND status <> 'cancelled')) AS bad_quantity_lines,
               min(quantity) AS min_quantity,
               count(*) FILTER (WHERE unit_price < 0 OR unit_price_base < 0)
                   AS negative_price_lines,
               min(least(unit_price, unit_price_base)) AS min_unit_price,
               count(*) FILTER (WHERE line_amount < 0 OR line_amount_base < 0)
                   AS negative_amount_lines,
               min(least(line_amount, line_amount_base)) AS min_line_amount
        FROM core.order_lines
        GROUP BY ALL
        ORDER BY channel_id, day
        """
    ).df()


def probe_quantities(con: duckdb.DuckDBPyConnection, qs: QualitySettings) -> Probe:
    """Every order line has a positive quantity (counted per channel and day in SQL)."""
    return Probe(
        frame=_order_line_day_counts(con),
        expectations=[
            none_of(
                "bad_quantity_lines",
                "order lines with a quantity of 0, below 0 or missing",
                lambda r: (
                    f"channel {r['channel_id']}: {num_text(r['bad_quantity_lines'])} order "
                    f"lines on {day_text(r['day'])} with quantity <= 0 (not cancelled) or missing "
                    f"(lowest {num_text(r['min_quantity'])})"
                ),
            )
        ],
    )


def probe_prices(con: duckdb.DuckDBPyConnection, qs: QualitySettings) -> Probe:
    """Unit prices and line amounts are never negative, in order and in base currency."""
    return Probe(
        frame=_order_line_day_counts(con),
        expectations=[
            none_of(
                "negative_price_lines",
                "order lines with a negative unit price",
                lambda r: (
                    f"channel {r['channel_id']}: {num_text(r['negative_price_lines'])} order "
                    f"lines on {day_text(r['day'])} with a negative unit price "
                    f"(lowest {num_text(r['min_unit_price'])})"
                ),
            ),
            none_of(
                "negative_amount_lines",
                "order lines with a negative line amount",
                lambda r: (
                    f"channel {r['channel_id']}: {num_text(r['negative_amount_lines'])} order "
                    f"lines on {day_text(r['day'])} with a negative line amount "
                    f"(lowest {num_text(r['min_line_amount'])})"
                ),
            ),
        ],
    )


def probe_price_band(con: duckdb.DuckDBPyConnection, qs: QualitySettings) -> Probe:
    """Per channel: mean unit price (base currency) on the judged day vs its recent median.

    Catches prices landed in cents instead of units, a wrong FX rate, a currency mix-up.
    """
    day = _newest_complete_day(con, qs)
    low, high = qs.price_band
    frame = con.execute(
        """
        WITH daily AS (
            SELECT channel_id, CAST(ordered_at AS DATE) AS day, avg(unit_price_base) AS mean_price
            FROM core.order_lines
            WHERE CAST(ordered_at AS DATE)
                  BETWEEN $day::DATE - to_days(CAST($history AS INTEGER)) AND $day::DATE
            GROUP BY ALL
        ),
        usual AS (
            SELECT channel_id, median(mean_price) AS median_price, count(*) AS history_days
            FROM daily WHERE day < $day GROUP BY ALL
        )
        SELECT d.channel_id, d.day, d.mean_price, u.median_price, u.history_days,
               d.mean_price / u.median_price AS price_ratio
        FROM daily AS d JOIN usual AS u USING (channel_id)
        WHERE d.day = $day AND u.history_days >= $min_history AND u.median_price > 0
        ORDER BY d.channel_id
        """,
        {
            "day": day or dt.date(1970, 1, 1),
            "history": qs.history_days,
            "min_history": qs.min_history_days,
        },
    ).df()
    return Probe(
        frame=frame,
        context={"judged_day": str(day)},
        expectations=[
            Expect(
                "ExpectColumnValuesToBeBetween",
                {"column": "price_ratio", "min_value": low, "max_value": high},
                f"a channel's mean unit price left {low:g}×..{high:g}× of its recent median",
                lambda r: (
                    f"channel {r['channel_id']}: mean unit price on {day_text(r['day'])} is "
                    f"{num_text(r['mean_price'])} (base currency), {r['price_ratio']:.2f}× its "
                    f"median of {num_text(r['median_price'])} over the previous "
                    f"{r['history_days']} selling days"
                ),
            )
        ],
    )


# over 80 lines: one SQL statement and the two sentences that explain a failing row
def probe_paid_amounts(con: duckdb.DuckDBPyConnection, qs: QualitySettings) -> Probe:
    """Paid orders: totals agree with their lines' prices and with the FX rate of the day.

    shelfwise has no payments table, so "order total vs payment" is checked as the two money
    identities the warehouse can vouch for, per order with paid (or later) lines:

    - total of line amounts <= total of quantity × unit price (discounts only lower it);
    - base-currency total = order-currency total × the FX rate in force on the order day
      (the latest ``core.fx_rates`` row on or before it; 1 for the base currency).

    Only orders of the judged day and the ``history_days`` before it are judged: older orders
    were judged when they were new, and this keeps the frame to thousands of rows, not millions.
    Orders with a zero total or without any FX rate are not judged (their ratio is NULL).
    """
    day = _newest_complete_day(con, qs)
    tol = qs.amount_tolerance
    frame = con.execute(
        """
        WITH paid AS (
            SELECT channel_id, order_id, CAST(ordered_at AS DATE) AS day, currency,
                   line_amount, line_amount_base, quantity * unit_price AS gross
            FROM core.order_lines
            WHERE status IN (SELECT unnest($paid))
              AND CAST(ordered_at AS DATE)
                  BETWEEN $day::DATE - to_days(CAST($history AS INTEGER)) AND $day::DATE
        ),
        orders AS (
            SELECT channel_id, order_id, min(day) AS day, any_value(currency) AS currency,
                   count(*) AS lines, sum(line_amount) AS order_total,
                   sum(gross) AS gross_total, sum(line_amount_base) AS order_total_base
            FROM paid GROUP BY channel_id, order_id
        ),
        with_rate AS (
            -- the base currency has no fx_rates row: its rate is 1 by definition
            SELECT o.*, CASE WHEN o.currency = $base THEN 1.0 ELSE fx.rate_to_base END
                            AS rate_to_base
            FROM orders AS o
            ASOF LEFT JOIN core.fx_rates AS fx
              ON fx.currency = o.currency AND fx.rate_date <= o.day
        )
        SELECT channel_id, order_id, day, currency, lines, order_total, gross_total,
               order_total_base, rate_to_base,
               (order_total - gross_total) / nullif(gross_total, 0) AS excess_over_gross,
               order_total_base / nullif(order_total * rate_to_base, 0) AS base_vs_fx
        FROM with_rate
        ORDER BY channel_id, order_id
        """,
        {
            "day": day or dt.date(1970, 1, 1),
            "history": qs.history_days,
            "paid": list(PAID_STATUSES),
            "base": qs.base_currency,
        },
    ).df()
    return Probe(
        frame=frame,
        context={"judged_days": f"{qs.history_days + 1} days up to {day}", "tolerance": tol},
        expectations=[
            Expect(
                "ExpectColumnValuesToBeBetween",
                {"column": "excess_over_gross", "max_value": tol},
                "a paid order's total exceeds quantity × unit price of its lines",
                lambda r: (
                    f"order {r['order_id']} on {r['channel_id']} ({day_text(r['day'])}): total "
                    f"{num_text(r['order_total'])} {r['currency']} exceeds quantity × unit price "
                    f"{num_text(r['gross_total'])} by {r['excess_over_gross']:.1%}"
                ),
            ),
            Expect(
                "ExpectColumnValuesToBeBetween",
                {"column": "base_vs_fx", "min_value": 1 - tol, "max_value": 1 + tol},
                "a paid order's base-currency total disagrees with the FX rate of its day",
                lambda r: (
                    f"order {r['order_id']} on {r['channel_id']} ({day_text(r['day'])}): "
                    f"base total "
                    f"{num_text(r['order_total_base'])} is {r['base_vs_fx']:.3f}× the "
                    f"{num_text(r['order_total'])} {r['currency']} × rate {r['rate_to_base']:.4f}"
                ),
            ),
        ],
    )


def probe_sku_in_products(con: duckdb.DuckDBPyConnection, qs: QualitySettings) -> Probe:
    """Every SKU sold on an order line exists in ``core.products`` (a left join, per SKU)."""
    frame = con.execute(
        """
        SELECT ol.sku, count(*) AS lines, min(ol.channel_id) AS example_channel,
               any_value(p.sku) AS product_sku
        FROM core.order_lines AS ol LEFT JOIN core.products AS p ON p.sku = ol.sku
        GROUP BY ol.sku ORDER BY ol.sku
        """
    ).df()
    return Probe(
        frame=frame,
        expectations=[
            Expect(
                "ExpectColumnValuesToNotBeNull",
                {"column": "product_sku"},
                "order lines sell a SKU that is not in core.products",
                lambda r: (
                    f"SKU {r['sku']} is on {num_text(r['lines'])} order lines (e.g. channel "
                    f"{r['example_channel']}) but not in core.products"
                ),
            )
        ],
    )


# --------------------------------------------------------------------------- keys


def probe_key_unique(entity_name: str):
    """A probe factory: no two rows of ``core.<entity>`` share the entity's key.

    ``core`` has no primary key constraint (the merge writes one row per key; see
    :func:`assets.warehouse.entity_ddl`), so a careless rebuild could double rows unnoticed;
    a duplicated order line doubles demand. Used for order lines (``no_duplicate_lines``).
    """
    entity = ENTITIES[entity_name]
    keys = ", ".join(entity.key)
    any_null = " OR ".join(f"{k} IS NULL" for k in entity.key)
    key_text = " || ' / ' || ".join(f"coalesce(CAST({k} AS VARCHAR), '∅')" for k in entity.key)

    def probe(con: duckdb.DuckDBPyConnection, qs: QualitySettings) -> Probe:
        frame = con.execute(
            f"""
            WITH keyed AS (
                SELECT {keys}, count(*) AS copies FROM core.{entity_name} GROUP BY ALL
            ),
            -- the readable key text is built for a few duplicated keys only: building it
            -- for every key of a 5M-row table costs more than the grouping itself
            worst AS (
                SELECT {key_text} || ' ×' || copies AS sample, copies
                FROM keyed WHERE copies > 1 ORDER BY copies DESC, sample LIMIT 5
            )
            SELECT '{entity_name}' AS entity,
                   coalesce(sum(copies), 0) AS row_count,
                   coalesce(sum(copies - 1), 0) AS duplicate_rows,
                   count(*) FILTER (WHERE copies > 1) AS duplicated_keys,
                   -- NULL keys group together, so one filter on the group finds them all
                   coalesce(sum(copies) FILTER (WHERE {any_null}), 0) AS null_key_rows,
                   (SELECT string_agg(sample, '; ' ORDER BY copies DESC, sample) FROM worst)
                       AS sample_keys
            FROM keyed
            """
        ).df()
        return Probe(
            frame=frame,
            context={"key": list(entity.key)},
            expectations=[
                none_of(
                    "duplicate_rows",
                    f"two rows of core.{entity_name} share the key ({keys})",
                    lambda r: (
                        f"core.{entity_name} has {num_text(r['duplicate_rows'])} extra rows on "
                        f"{num_text(r['duplicated_keys'])} duplicated keys ({keys}); e.g. "
                        f"{_first(r['sample_keys'], 3)}"
                    ),
                ),
                none_of(
                    "null_key_rows",
                    f"rows of core.{entity_name} with an empty key column ({keys})",
                    lambda r: (
                        f"core.{entity_name} has {num_text(r['null_key_rows'])} rows with an empty "
                        f"key column ({keys})"
                    ),
                ),
            ],
        )

    return probe


def _first(joined: str | None, n: int) -> str:
    parts = (joined or "").split("; ")
    return "; ".join(parts[:n]) + ("; ..." if len(parts) > n else "")


# --------------------------------------------------------------------------- stock, master data


def probe_snapshot_values(con: duckdb.DuckDBPyConnection, qs: QualitySettings) -> Probe:
    """On hand and reserved are never negative (per snapshot day and location)."""
    frame = con.execute(
        """
        SELECT snapshot_date, location_id, count(*) AS rows,
               count(*) FILTER (WHERE on_hand < 0 OR on_hand IS NULL) AS negative_on_hand_rows,
               min(on_hand) AS min_on_hand,
               arg_min(sku, on_hand) AS lowest_sku,
               count(*) FILTER (WHERE reserved < 0) AS negative_reserved_rows,
               arg_min(sku, reserved) AS lowest_reserved_sku,
               min(reserved) AS min_reserved
        FROM core.stock_snapshots
        GROUP BY ALL ORDER BY snapshot_date, location_id
        """
    ).df()
    return Probe(
        frame=frame,
        expectations=[
            none_of(
                "negative_on_hand_rows",
                "stock snapshot rows with on hand below 0 (or missing)",
                lambda r: (
                    f"location {r['location_id']} on {day_text(r['snapshot_date'])}: "
                    f"{num_text(r['negative_on_hand_rows'])} SKUs with on hand < 0 or missing "
                    f"(lowest: {r['lowest_sku']} at {num_text(r['min_on_hand'])})"
                ),
            ),
            none_of(
                "negative_reserved_rows",
                "stock snapshot rows with reserved below 0",
                lambda r: (
                    f"location {r['location_id']} on {day_text(r['snapshot_date'])}: "
                    f"{num_text(r['negative_reserved_rows'])} SKUs with reserved < 0 "
                    f"(lowest: {r['lowest_reserved_sku']} at {num_text(r['min_reserved'])})"
                ),
            ),
        ],
    )


def probe_snapshot_master_data(con: duckdb.DuckDBPyConnection, qs: QualitySettings) -> Probe:
    """Snapshot SKUs are in ``core.products`` and locations in ``core.locations``."""
    frame = con.execute(
        """
        SELECT s.snapshot_date, s.location_id,
               any_value(l.location_id) AS known_location_id,
               count(*) AS rows,
               count(*) FILTER (WHERE p.sku IS NULL) AS unknown_sku_rows,
               min(s.sku) FILTER (WHERE p.sku IS NULL) AS example_unknown_sku
        FROM core.stock_snapshots AS s
        LEFT JOIN core.products AS p ON p.sku = s.sku
        LEFT JOIN core.locations AS l ON l.location_id = s.location_id
        GROUP BY s.snapshot_date, s.location_id ORDER BY s.snapshot_date, s.location_id
        """
    ).df()
    return Probe(
        frame=frame,
        expectations=[
            none_of(
                "unknown_sku_rows",
                "stock snapshots count a SKU that is not in core.products",
                lambda r: (
                    f"location {r['location_id']} on {day_text(r['snapshot_date'])}: "
                    f"{num_text(r['unknown_sku_rows'])} snapshot rows for SKUs not in "
                    f"core.products "
                    f"(e.g. {r['example_unknown_sku']})"
                ),
            ),
            Expect(
                "ExpectColumnValuesToNotBeNull",
                {"column": "known_location_id"},
                "stock snapshots at a location that is not in core.locations",
                lambda r: (
                    f"location {r['location_id']} has {num_text(r['rows'])} snapshot rows on "
                    f"{day_text(r['snapshot_date'])} but is not in core.locations"
                ),
            ),
        ],
    )


def probe_receipts_match_pos(con: duckdb.DuckDBPyConnection, qs: QualitySettings) -> Probe:
    """Each receipt names a known purchase order, and a SKU that is on that order."""
    frame = con.execute(
        """
        WITH po_numbers AS (SELECT DISTINCT po_number FROM core.purchase_orders)
        SELECT r.po_number,
               any_value(n.po_number) AS known_po_number,
               count(*) AS receipt_lines,
               count(*) FILTER (WHERE n.po_number IS NOT NULL AND po.sku IS NULL)
                   AS sku_not_on_po_lines,
               min(r.sku) FILTER (WHERE n.po_number IS NOT NULL AND po.sku IS NULL)
                   AS example_sku
        FROM core.receipts AS r
        LEFT JOIN po_numbers AS n ON n.po_number = r.po_number
        LEFT JOIN core.purchase_orders AS po ON po.po_number = r.po_number AND po.sku = r.sku
        GROUP BY r.po_number ORDER BY r.po_number
        """
    ).df()
    return Probe(
        frame=frame,
        expectations=[
            Expect(
                "ExpectColumnValuesToNotBeNull",
                {"column": "known_po_number"},
                "a receipt names a purchase order that is not in core.purchase_orders",
                lambda r: (
                    f"{num_text(r['receipt_lines'])} receipt lines name purchase order "
                    f"{r['po_number']}, which is not in core.purchase_orders"
                ),
            ),
            none_of(
                "sku_not_on_po_lines",
                "a receipt line's SKU is not on the purchase order it names",
                lambda r: (
                    f"purchase order {r['po_number']}: "
                    f"{num_text(r['sku_not_on_po_lines'])} receipt "
                    f"lines for SKUs not on the order (e.g. {r['example_sku']})"
                ),
            ),
        ],
    )


def probe_product_values(con: duckdb.DuckDBPyConnection, qs: QualitySettings) -> Probe:
    """Master-data numbers replenishment divides and multiplies by are sane (row level).

    ``core.products`` is small (thousands of rows), so GX checks the columns themselves.
    """
    frame = con.execute(
        "SELECT sku, case_pack, moq, unit_cost, list_price FROM core.products ORDER BY sku"
    ).df()

    def row_says(column: str, rule: str):
        return lambda r: f"product {r['sku']}: {column} is {num_text(r[column])}, expected {rule}"

    return Probe(
        frame=frame,
        expectations=[
            Expect(
                "ExpectColumnValuesToBeBetween",
                {"column": "case_pack", "min_value": 1},
                "a case pack below 1 (suggestions round up to it)",
                row_says("case_pack", ">= 1"),
            ),
            Expect(
                "ExpectColumnValuesToBeBetween",
                {"column": "moq", "min_value": 0},
                "a negative minimum order quantity",
                row_says("moq", ">= 0"),
            ),
            Expect(
                "ExpectColumnValuesToBeBetween",
                {"column": "unit_cost", "min_value": 0},
                "a negative unit cost",
                row_says("unit_cost", ">= 0"),
            ),
            Expect(
                "ExpectColumnValuesToBeBetween",
                {"column": "list_price", "min_value": 0},
                "a negative list price",
                row_says("list_price", ">= 0"),
            ),
        ],
    )


# --------------------------------------------------------------------------- the list


def _ol(name: str, blocking: bool, description: str, probe) -> QualityCheck:
    return QualityCheck(name, ("core", "order_lines"), blocking, description, probe)


# Key uniqueness of every core table is ingest's own `key_unique` check (assets.py): one row
# per key, severity ERROR, not blocking. Only order lines get a GX twin here, because a doubled
# line doubles demand: `no_duplicate_lines` blocks the forecast.
QUALITY_CHECKS: list[QualityCheck] = [
    # blocking: each of these corrupts the demand history every forecast is fitted on
    _ol(
        "daily_volume",
        True,
        "Each channel that normally sells sent order lines on the judged day, and at least "
        "10% of its median daily volume over the previous 28 days.",
        probe_daily_volume,
    ),
    # ingest's own `key_unique` on order_lines stops nothing; a doubled line doubles demand,
    # so this GX twin blocks the forecast
    _ol(
        "no_duplicate_lines",
        True,
        "No order line appears twice (channel, order, line).",
        probe_key_unique("order_lines"),
    ),
    _ol(
        "quantity_positive",
        True,
        "Every order line has a quantity of at least 1 (0 only on a cancelled line).",
        probe_quantities,
    ),
    # warnings: wrong, worth a look, but demand in units stays right
    _ol(
        "freshness",
        False,
        "The newest order line is recent and none is in the future.",
        probe_freshness,
    ),
    _ol(
        "prices_non_negative",
        False,
        "Unit prices and line amounts are never negative.",
        probe_prices,
    ),
    _ol(
        "unit_price_band",
        False,
        "Each channel's mean unit price on the judged day is within its usual band.",
        probe_price_band,
    ),
    _ol(
        "paid_amounts",
        False,
        "Paid orders: totals within quantity × price and consistent with the FX rate.",
        probe_paid_amounts,
    ),
    _ol("sku_in_products", False, "Every SKU sold is in core.products.", probe_sku_in_products),
    QualityCheck(
        "values_in_range",
        ("core", "stock_snapshots"),
        False,
        "On hand and reserved are never negative.",
        probe_snapshot_values,
    ),
    QualityCheck(
        "master_data_known",
        ("core", "stock_snapshots"),
        False,
        "Snapshot SKUs and locations exist in master data.",
        probe_snapshot_master_data,
    ),
    QualityCheck(
        "po_known",
        ("core", "receipts"),
        False,
        "Receipts name known purchase orders and SKUs on them.",
        probe_receipts_match_pos,
    ),
    QualityCheck(
        "values_in_range",
        ("core", "products"),
        False,
        "Case pack >= 1; MOQ, unit cost and list price >= 0.",
        probe_product_values,
    ),
]

CHECKS = asset_checks(QUALITY_CHECKS)
