"""Data quality (operations): what was rejected and why, how fresh each channel is, and which
expectations failed."""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from dashboards import data, ui

st.title("Data quality")
INGESTED = {"path": ui.Col("File"), "sha256": ui.Col("SHA-256"), "adapter": ui.Col("Format"),
            "rows_read": ui.Col("Rows read", "count"),
            "rows_loaded": ui.Col("Rows loaded", "count"),
            "batch_id": ui.Col("Batch"), "size_bytes": ui.Col("Size (bytes)", "count")}
ui.snapshot_caption()

st.subheader("Quarantine")
if data.has_table("ops.quarantine_summary"):
    by_rule = data.query(
        """
        SELECT entity, rule, sum(rows_quarantined) AS rows_quarantined,
               count(DISTINCT source_file) AS files
        FROM ops.quarantine_summary GROUP BY ALL ORDER BY rows_quarantined DESC
        """
    )
    quarantined_cell, rules_cell, files_cell = st.columns(3)
    quarantined_cell.metric("Rows quarantined", ui.number(by_rule["rows_quarantined"].sum()))
    rules_cell.metric("Rules broken", ui.number(by_rule.height))
    files_cell.metric("Files affected", ui.number(data.query(
        "SELECT count(DISTINCT source_file) AS n FROM ops.quarantine_summary").item()))
    ui.hold_for_headline()  # the numbers show before the chart's and tables' scripts load
    if by_rule.height:
        ui.chart(px.bar(by_rule, x="rows_quarantined", y="rule", color="entity",
                        orientation="h", title="Quarantined rows by rule",
                        labels={"rows_quarantined": "rows quarantined", "rule": "",
                                "entity": "data"}),
                 height=max(340, 140 + 26 * by_rule["rule"].n_unique()))
        by_file = data.query(
            """
            SELECT source_file, entity, rule, rows_quarantined, first_line, example_message
            FROM ops.quarantine_summary ORDER BY rows_quarantined DESC, source_file, rule
            """
        )
        ui.table(by_file, name="quarantine_by_file_and_rule", key="dl_quarantine",
                 title="**Quarantined rows by file and rule** (the first line and one example "
                       "message each; the rows themselves stay in the warehouse)")
    else:
        st.success("No rows quarantined.")
else:
    ui.not_computed("Quarantine summary", "publish")

st.subheader("Freshness by channel")
if data.has_table("ops.channel_freshness"):
    fresh = data.query(
        """
        SELECT channel_id, channel_name, latest_ordered_at, order_lines,
               -- behind the freshest channel: a silent channel export shows up here
               date_diff('minute', latest_ordered_at,
                         max(latest_ordered_at) OVER ()) / 60.0 AS hours_behind_newest
        FROM ops.channel_freshness ORDER BY hours_behind_newest DESC NULLS FIRST
        """
    )
    if not ui.empty_note(fresh, "No orders loaded yet: order exports in the inbox's channel "
                                "folders fill this chart."):
        ui.chart(px.bar(fresh, x="channel_id", y="hours_behind_newest",
                        title="Hours between each channel's newest order and the newest overall",
                        labels={"hours_behind_newest": "hours behind", "channel_id": "channel"}))
        ui.table(fresh, name="channel_freshness", key="dl_freshness",
                 title="**Newest order per channel**")
    missing = fresh.filter(fresh["latest_ordered_at"].is_null())
    if missing.height:
        st.warning("No orders at all from: " + ", ".join(missing["channel_id"].to_list()))

st.subheader("Expectations")
if data.has_columns("marts.quality_results", ["run_at", "check_name", "asset", "success",
                                              "severity", "message"]):
    latest = data.query(
        """
        WITH latest AS (
            SELECT check_name, max(run_at) AS run_at FROM marts.quality_results GROUP BY ALL
        )
        SELECT q.run_at, q.check_name, q.asset, q.expectation, q.column_name, q.success,
               q.severity, q.observed_value, q.expected, q.failing_rows, q.message
        FROM marts.quality_results AS q JOIN latest USING (check_name, run_at)
        ORDER BY q.success, q.severity, q.check_name
        """
    )
    expectations_cell, failed_cell, blocking_cell = st.columns(3)
    expectations_cell.metric("Expectations (latest runs)", ui.number(latest.height))
    failed_cell.metric("Failed", ui.number(latest.filter(~latest["success"]).height))
    blocking_cell.metric("Blocking failures", ui.number(
        latest.filter(~latest["success"] & (latest["severity"] == "blocking")).height))
    ui.table(latest, name="quality_results_latest", key="dl_quality_results",
             title="**Latest result of every expectation** (failed first)",
             empty="No expectation has run yet: the data quality checks run with "
                   "`shelfwise run`.")
else:
    ui.not_computed("Expectation results", "data quality checks")

if data.has_table("ops.ingested_files"):
    with st.expander("Ingested files"):
        ui.table(data.query("SELECT * EXCLUDE (mtime_ns) FROM ops.ingested_files "
                            "ORDER BY ingested_at DESC"),
                 name="ingested_files", key="dl_ingested_files", columns=INGESTED,
                 empty="No file ingested yet: files dropped in the inbox's folders are listed "
                       "here after `shelfwise run`.")
