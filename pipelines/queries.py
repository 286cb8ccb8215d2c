"""Every read the command line makes of the warehouse (or the serving snapshot), in one place.

Each function takes an open DuckDB connection and returns a Polars frame (or, for a single
figure, that value), read by column name: a SELECT that gains or reorders a column cannot
shift another into the wrong place. Commands format and print what these return; they run no
SQL of their own. Values travel as ``$parameters``; the one identifier that varies (a table to
count, a master-data table to look a value up in) comes from this module's own lists and goes
through :func:`assets.warehouse.sql_files.render`.

Plain functions over a connection, like :mod:`dashboards.data` for the pages: no Click, no
Dagster, and nothing heavy imported when the module is (``shelfwise --help`` stays fast).
Commands that write (``override``, the runs) keep using their domain's own functions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: importing this module must not load DuckDB or Polars
    import datetime as dt

    import duckdb
    import polars as pl


def _frame(con: duckdb.DuckDBPyConnection, query: str, **params: Any) -> pl.DataFrame:
    # on a cursor of its own: DuckDB 2.0 refuses a query on a connection that a caller left
    # with an unfinished result. present_entities no longer does (it reads with fetchall), but
    # a connection comes from the caller, and test_command_structure holds this guard for any
    # such caller
    cursor = con.cursor()
    try:
        return cursor.sql(query, params=params or None).pl()
    finally:
        cursor.close()


def _value(con: duckdb.DuckDBPyConnection, query: str, **params: Any) -> Any:
    """The single value of a one-row, one-column query."""
    frame = _frame(con, query, **params)
    return frame.item() if frame.height else None


# --------------------------------------------------------------------------- the warehouse


def present_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """``schema.table`` of every table (not view) in the database."""
    frame = _frame(con, "SELECT schema_name || '.' || table_name AS name FROM duckdb_tables()")
    return set(frame["name"])


def core_relations(con: duckdb.DuckDBPyConnection) -> set[str]:
    """``core.name`` of every table and view of the core layer."""
    frame = _frame(con, """SELECT table_schema || '.' || table_name AS name
                           FROM information_schema.tables WHERE table_schema = 'core'""")
    return set(frame["name"])


def layer_row_counts(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """``schema_name, table_name, row_count`` of every table of the raw, core, marts and
    quarantine layers, in layer order (raw, core, marts, quarantine), then by name."""
    import polars as pl

    from assets.warehouse.sql_files import render

    tables = _frame(con, """
        SELECT schema_name, table_name
        FROM duckdb_tables()
        WHERE schema_name IN ('raw', 'core', 'marts', 'quarantine')
        ORDER BY CASE schema_name WHEN 'raw' THEN 1 WHEN 'core' THEN 2
                 WHEN 'marts' THEN 3 ELSE 4 END, table_name""")
    counts = [
        _value(con, render("SELECT count(*) FROM {table}",
                           table=f"{r['schema_name']}.{r['table_name']}"))
        for r in tables.iter_rows(named=True)
    ]
    return tables.with_columns(pl.Series("row_count", counts, dtype=pl.Int64))


def quarantine_by_rule(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """``entity, rule, rows, files``: quarantined rows per entity and rule, most first."""
    return _frame(con, """
        SELECT entity, rule, count(*) AS rows, count(DISTINCT source_file) AS files
        FROM quarantine.rows GROUP BY ALL ORDER BY rows DESC, entity, rule""")


def skipped_records(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """``entity, adapter, rows, files``: records a format's framing made ingest skip (eBay's
    order summary rows), per entity and adapter, most first; loaded files only."""
    # BIGINT: a sum is HUGEINT in DuckDB, which reaches Polars as a decimal, not a count
    return _frame(con, """
        SELECT entity, adapter, sum(rows_skipped)::BIGINT AS rows, count(*) AS files
        FROM ops.ingested_files WHERE status = 'loaded' AND rows_skipped > 0
        GROUP BY ALL ORDER BY rows DESC, entity, adapter""")


def latest_batch_id(con: duckdb.DuckDBPyConnection) -> str | None:
    """The id of the newest ingest batch; None before the first."""
    return _value(con, """SELECT batch_id FROM ops.ingest_batches
                          ORDER BY started_at DESC, batch_id DESC LIMIT 1""")


def files_not_landed(con: duckdb.DuckDBPyConnection, batch_id: str) -> pl.DataFrame:
    """``source_file, status, rule, message`` of every file of ``batch_id`` that did not land:
    ``failed`` (its error rules) or ``held`` (a correction waiting for acceptance)."""
    return _frame(con, """
        SELECT f.source_file, f.status,
               coalesce(string_agg(DISTINCT m.rule, ', ' ORDER BY m.rule),
                        CASE f.status WHEN 'held' THEN 'correction_held' END, '?') AS rule,
               f.message
        FROM ops.ingested_files AS f
        LEFT JOIN ops.ingest_messages AS m
          ON m.batch_id = f.batch_id AND m.source_file = f.source_file
         AND m.severity = CASE f.status WHEN 'failed' THEN 'error' ELSE 'warning' END
         AND (f.status = 'failed' OR m.rule = 'correction_held')
        WHERE f.batch_id = $batch_id AND f.status IN ('failed', 'held')
        GROUP BY f.source_file, f.status, f.message
        ORDER BY f.status, f.source_file""", batch_id=batch_id)


def superseded_lines(con: duckdb.DuckDBPyConnection, batch_id: str | None) -> pl.DataFrame:
    """``source_file, message, lines``: per later export of ``batch_id`` (None: the newest
    batch), the order lines it left out that an earlier export had (``lines`` parsed from the
    message, null when it names none)."""
    return _frame(con, """
        WITH batch AS (
            SELECT coalesce($batch_id, (SELECT batch_id FROM ops.ingest_batches
                                        ORDER BY started_at DESC, batch_id DESC LIMIT 1)) AS id)
        SELECT source_file, message,
               CAST(replace(regexp_extract(message, '^([0-9,]+) line', 1), ',', '')
                    AS BIGINT) AS lines
        FROM ops.ingest_messages, batch
        WHERE batch_id = batch.id AND rule = 'superseded_by_later_export'
        ORDER BY source_file, message""", batch_id=batch_id)


# --------------------------------------------------------------------------- your own data


def derived_product_count(con: duckdb.DuckDBPyConnection, source_file: str) -> int:
    """Products that ingest derived from the order lines (their ``source_file``)."""
    return _value(con, "SELECT count(*) FROM core.products WHERE source_file = $source",
                  source=source_file)


def order_currencies(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Every currency of an order line in core."""
    frame = _frame(con, """SELECT DISTINCT currency FROM core.order_lines
                           WHERE currency IS NOT NULL""")
    return set(frame["currency"])


def fx_currencies(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Every currency with an FX rate in core."""
    return set(_frame(con, "SELECT DISTINCT currency FROM core.fx_rates")["currency"])


def is_known_in_master(con: duckdb.DuckDBPyConnection, table: str, column: str,
                       value: str) -> bool:
    """Whether master-data ``table`` (``core.products``, ...) has ``value`` in ``column``.
    ``table`` and ``column`` are identifiers the caller names itself, never input."""
    from assets.warehouse.sql_files import render

    query = render("SELECT count(*) FROM {table} WHERE {column} = $value",
                   table=table, column=column)
    return bool(_value(con, query, value=value))


def sku_bundle_flag(con: duckdb.DuckDBPyConnection, sku: str) -> bool | None:
    """``is_bundle`` of ``sku`` in core.products; None for a SKU it does not know."""
    frame = _frame(con, "SELECT is_bundle FROM core.products WHERE sku = $sku", sku=sku)
    return frame["is_bundle"][0] if frame.height else None


# --------------------------------------------------------------------------- inventory


def ats_by_channel(con: duckdb.DuckDBPyConnection, *, channel: str | None, sku: str | None,
                   limit: int | None) -> pl.DataFrame:
    """``as_of, channel_id, sku, is_bundle, location_ats_units, safety_buffer_units,
    ats_units`` of marts.ats_by_sku_channel, by SKU then channel (``limit`` None: all)."""
    return _frame(con, """
        SELECT as_of, channel_id, sku, is_bundle, location_ats_units, safety_buffer_units,
               ats_units
        FROM marts.ats_by_sku_channel
        WHERE ($channel IS NULL OR channel_id = $channel) AND ($sku IS NULL OR sku = $sku)
        ORDER BY sku, channel_id LIMIT $limit""", channel=channel, sku=sku, limit=limit)


def ats_by_location(con: duckdb.DuckDBPyConnection, *, location: str, sku: str | None,
                    limit: int | None) -> pl.DataFrame:
    """``as_of, location_id, sku, is_bundle, on_hand_units, allocated_units, reserved_units,
    ats_units`` of one location in marts.ats_by_sku_location, by SKU."""
    return _frame(con, """
        SELECT as_of, location_id, sku, is_bundle, on_hand_units, allocated_units,
               reserved_units, ats_units
        FROM marts.ats_by_sku_location
        WHERE location_id = $location AND ($sku IS NULL OR sku = $sku)
        ORDER BY sku LIMIT $limit""", location=location, sku=sku, limit=limit)


def latest_snapshot_day(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The newest reconciled snapshot day; None before two snapshot days exist."""
    return _value(con, "SELECT max(snapshot_date) FROM marts.reconciliation")


def discrepancies(con: duckdb.DuckDBPyConnection, *, all_days: bool, day: dt.date,
                  limit: int) -> pl.DataFrame:
    """Reconciliation differences outside tolerance on ``day`` (or every day), largest value
    first: ``snapshot_date, location_id, sku, expected_on_hand, counted_on_hand,
    difference_units, difference_value_base`` (base currency, to cents), ``likely_cause``,
    ``cause_reference`` ('' when none)."""
    return _frame(con, """
        SELECT snapshot_date, location_id, sku, expected_on_hand, counted_on_hand,
               difference_units, round(difference_value_base, 2) AS difference_value_base,
               likely_cause, coalesce(cause_reference, '') AS cause_reference
        FROM marts.reconciliation
        WHERE NOT within_tolerance AND ($all_days OR snapshot_date = $day)
        ORDER BY abs(difference_value_base) DESC NULLS LAST, snapshot_date DESC, sku
        LIMIT $limit""", all_days=all_days, day=day, limit=limit)


def discrepancy_totals(con: duckdb.DuckDBPyConnection, *, all_days: bool,
                       day: dt.date) -> dict[str, Any]:
    """``{"discrepancies": count, "value_base": sum of |difference value|}`` outside
    tolerance on ``day`` (or every day); 0 and 0.0 when there are none."""
    return _frame(con, """
        SELECT count(*) AS discrepancies,
               coalesce(sum(abs(difference_value_base)), 0) AS value_base
        FROM marts.reconciliation
        WHERE NOT within_tolerance AND ($all_days OR snapshot_date = $day)""",
                  all_days=all_days, day=day).row(0, named=True)


def record_accuracy(con: duckdb.DuckDBPyConnection, day: dt.date) -> pl.DataFrame:
    """``location_id, sku_locations, within_tolerance, accuracy`` per location on ``day``."""
    return _frame(con, """
        SELECT location_id, sku_locations, within_tolerance, accuracy
        FROM marts.inventory_record_accuracy WHERE snapshot_date = $day
        ORDER BY location_id""", day=day)


# --------------------------------------------------------------------------- replenishment


def suggestions(con: duckdb.DuckDBPyConnection, *, supplier: str | None, sku: str | None,
                location: str | None) -> pl.DataFrame:
    """Every column of marts.replenishment_suggestions for the filters (None: any), most
    urgent first."""
    return _frame(con, """
        SELECT * FROM marts.replenishment_suggestions
        WHERE ($supplier IS NULL OR supplier_id = $supplier)
          AND ($sku IS NULL OR sku = $sku)
          AND ($location IS NULL OR location_id = $location)
        ORDER BY urgency_rank""", supplier=supplier, sku=sku, location=location)


def suggestions_by_id(con: duckdb.DuckDBPyConnection, ids: list[str],
                      supplier: str | None) -> pl.DataFrame:
    """The suggestions ``ids``, and with ``supplier`` every suggestion of that supplier on
    the latest day; most urgent first."""
    return _frame(con, """
        SELECT * FROM marts.replenishment_suggestions
        WHERE list_contains($ids, suggestion_id)
           OR ($supplier IS NOT NULL AND supplier_id = $supplier
               AND as_of = (SELECT max(as_of) FROM marts.replenishment_suggestions))
        ORDER BY urgency_rank NULLS LAST, suggestion_id""", ids=ids, supplier=supplier)


def supplier_minimums(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """``supplier_id, min_order_value`` (supplier currency; null: none) of every supplier."""
    return _frame(con, "SELECT supplier_id, min_order_value FROM core.suppliers")


def policy(con: duckdb.DuckDBPyConnection, *, sku: str, location: str | None) -> pl.DataFrame:
    """marts.replenishment_policy of ``sku`` per location, with today's ``suggested_units``
    and ``reason`` (null without a suggestion), by location."""
    return _frame(con, """
        SELECT p.*, s.suggested_units, s.reason
        FROM marts.replenishment_policy AS p
        LEFT JOIN marts.replenishment_suggestions AS s USING (sku, location_id)
        WHERE p.sku = $sku AND ($location IS NULL OR p.location_id = $location)
        ORDER BY p.location_id""", sku=sku, location=location)


def projected_stock(con: duckdb.DuckDBPyConnection, *, sku: str,
                    location: str | None) -> pl.DataFrame:
    """marts.projected_stock of ``sku`` (every location, or one), by day then location."""
    return _frame(con, """
        SELECT * FROM marts.projected_stock
        WHERE sku = $sku AND ($location IS NULL OR location_id = $location)
        ORDER BY date, location_id""", sku=sku, location=location)


def transfers(con: duckdb.DuckDBPyConnection, *, sku: str | None, from_location: str | None,
              to_location: str | None) -> pl.DataFrame:
    """Every column of marts.transfer_suggestions for the filters (None: any), in the
    mart's order."""
    return _frame(con, """
        SELECT * FROM marts.transfer_suggestions
        WHERE ($sku IS NULL OR sku = $sku)
          AND ($from IS NULL OR from_location_id = $from)
          AND ($to IS NULL OR to_location_id = $to)""",
                  sku=sku, **{"from": from_location, "to": to_location})


def transfers_by_id(con: duckdb.DuckDBPyConnection, ids: list[str]) -> pl.DataFrame:
    """The transfer suggestions ``ids``, by id."""
    return _frame(con, """SELECT * FROM marts.transfer_suggestions
                          WHERE list_contains($ids, transfer_id) ORDER BY transfer_id""", ids=ids)


# --------------------------------------------------------------------------- planning


def simulation_items(con: duckdb.DuckDBPyConnection, *, learned_lead_times: bool) -> pl.DataFrame:
    """Per stocked SKU (bundles are not): ``sku, lead_time_mean_days, lead_time_sd_days,
    review_days, case_pack, moq``. With ``learned_lead_times`` the lead time is
    marts.lead_times' (the SKU row, else its supplier's row), else master data's."""
    if learned_lead_times:
        return _frame(con, """
            SELECT p.sku,
                   coalesce(lt_sku.lead_time_mean_days, lt_sup.lead_time_mean_days,
                            p.lead_time_days, s.lead_time_days_mean) AS lead_time_mean_days,
                   coalesce(lt_sku.lead_time_sd_days, lt_sup.lead_time_sd_days,
                            s.lead_time_days_sd, 0) AS lead_time_sd_days,
                   s.review_period_days AS review_days, p.case_pack, p.moq
            FROM core.products AS p
            LEFT JOIN core.suppliers AS s ON s.supplier_id = p.supplier_id
            LEFT JOIN marts.lead_times AS lt_sku
                ON lt_sku.supplier_id = p.supplier_id AND lt_sku.sku = p.sku
            LEFT JOIN marts.lead_times AS lt_sup
                ON lt_sup.supplier_id = p.supplier_id AND lt_sup.sku IS NULL
            WHERE NOT p.is_bundle""")
    return _frame(con, """
        SELECT p.sku,
               coalesce(p.lead_time_days, s.lead_time_days_mean) AS lead_time_mean_days,
               coalesce(s.lead_time_days_sd, 0) AS lead_time_sd_days,
               s.review_period_days AS review_days, p.case_pack, p.moq
        FROM core.products AS p
        LEFT JOIN core.suppliers AS s ON s.supplier_id = p.supplier_id
        WHERE NOT p.is_bundle""")


def forecast_overrides(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """ops.forecast_overrides as :func:`assets.forecast.sql.read_overrides` reads them."""
    from assets.forecast import sql

    return sql.read_overrides(con)


def simulation_demand(con: duckdb.DuckDBPyConnection, *, base_currency: str,
                      history_days: int) -> tuple[pl.DataFrame, pl.DataFrame] | None:
    """``(daily demand grid, unit values)`` as the forecast asset reads them, ending on the
    last day with demand; None when marts.daily_demand_by_sku holds none."""
    from assets.forecast import sql

    as_of = sql.demand_as_of(con)
    if as_of is None:
        return None
    return (sql.demand_grid(con, as_of, history_days),
            sql.unit_values(con, base_currency, as_of))


# --------------------------------------------------------------------------- alerts


def alerts(con: duckdb.DuckDBPyConnection, *, include_resolved: bool, alert_type: str | None,
           min_severity_rank: int, limit: int) -> pl.DataFrame:
    """``last_severity, alert_type, subject, opened_at, escalated_at, resolved_at, status,
    message`` of ops.alert_state: open ones first, then most severe, newest."""
    return _frame(con, """
        SELECT last_severity, alert_type, subject, opened_at, escalated_at, resolved_at,
               status, message
        FROM ops.alert_state
        WHERE ($include_resolved OR status = 'open')
          AND ($alert_type IS NULL OR alert_type = $alert_type)
          AND last_severity_rank >= $min_rank
        ORDER BY status = 'open' DESC, last_severity_rank DESC, opened_at DESC, alert_key
        LIMIT $limit""", include_resolved=include_resolved, alert_type=alert_type,
                  min_rank=min_severity_rank, limit=limit)


def open_alerts_by_severity(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """``{severity: open alerts}`` (severities without an open alert are absent)."""
    frame = _frame(con, """SELECT last_severity, count(*) AS alerts FROM ops.alert_state
                           WHERE status = 'open' GROUP BY ALL""")
    return dict(zip(frame["last_severity"], frame["alerts"]))


def delivery_log(con: duckdb.DuckDBPyConnection, *, failed_only: bool, alert_type: str | None,
                 limit: int) -> pl.DataFrame:
    """``attempted_at, sink, status, attempt, http_status, transition, alert_type, subject,
    error`` of every delivery attempt, newest first."""
    return _frame(con, """
        SELECT d.attempted_at, d.sink, d.status, d.attempt, d.http_status, e.transition,
               e.alert_type, e.subject, d.error
        FROM ops.alert_deliveries AS d
        LEFT JOIN ops.alert_events AS e USING (event_id)
        WHERE (NOT $failed_only OR d.status = 'failed')
          AND ($alert_type IS NULL OR e.alert_type = $alert_type)
        ORDER BY d.attempted_at DESC, d.sink, d.alert_key, d.attempt DESC
        LIMIT $limit""", failed_only=failed_only, alert_type=alert_type, limit=limit)


def pending_deliveries_by_sink(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """``sink, pending``: alert events owed to each enabled sink, by sink name."""
    import polars as pl

    from assets.alerts.state import pending_deliveries

    return pending_deliveries(con).group_by("sink").agg(pl.len().alias("pending")).sort("sink")
