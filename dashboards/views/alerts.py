"""Alerts (operations): what is open now, how severe, and whether every sink got the news.

Reads what the alerts step published: ``marts.alert_status`` (every alert: open or resolved,
since when, the sinks its latest change reached and the ones still owed it),
``marts.alert_rules`` (which rules ran) and ``marts.alert_delivery_log`` (every attempt).
Nothing is estimated here.
"""

from __future__ import annotations

import plotly.express as px
import polars as pl
import streamlit as st

from dashboards import data, ui

SEVERITY_COLORS = {"critical": "#c62828", "warning": "#ef6c00", "info": "#1565c0"}
FAILED_ROW = "background-color: #fde0dc; color: #8e1b10"

st.title("Alerts")
ui.snapshot_caption()

STATUS = "marts.alert_status"
LOG = "marts.alert_delivery_log"
RULES = "marts.alert_rules"
if not data.has_columns(STATUS, {"alert_key", "alert_type", "status", "severity", "opened_at",
                                 "subject", "message", "pending_to"}):
    ui.not_computed("Alerts", "alerts")
    st.stop()

types = data.query(f"SELECT DISTINCT alert_type FROM {STATUS} ORDER BY 1")["alert_type"].to_list()
picked_types = ui.choice_filter("Alert type", {t: t.replace("_", " ") for t in types},
                                key="alerts_type")
picked_severities = ui.choice_filter("Severity", {s: s for s in SEVERITY_COLORS},
                                     key="alerts_severity")
filters = {"types": picked_types, "severities": picked_severities}
where = f"{data.one_of('types', 'alert_type')} AND {data.one_of('severities', 'severity')}"

counts = data.query(f"""
    SELECT count(*) FILTER (WHERE status = 'open') AS open,
           count(*) FILTER (WHERE status = 'open' AND severity = 'critical') AS critical,
           count(*) FILTER (WHERE status = 'open' AND severity = 'warning') AS warning,
           count(*) FILTER (WHERE pending_to IS NOT NULL) AS undelivered
    FROM {STATUS} WHERE {where}""", filters).row(0, named=True)
has_log = data.has_columns(LOG, {"attempted_at", "sink", "status", "error"})
failed_attempts = (data.query(f"SELECT count(*) AS n FROM {LOG} WHERE status = 'failed'").item()
                   if has_log else 0)
open_cell, critical_cell, warning_cell, undelivered_cell, failed_cell = st.columns(5)
open_cell.metric("Open alerts", f"{counts['open']:,}")
critical_cell.metric("Critical", f"{counts['critical']:,}")
warning_cell.metric("Warning", f"{counts['warning']:,}")
undelivered_cell.metric("Not yet delivered", f"{counts['undelivered']:,}",
                        help="Alerts whose latest change a sink still owes (retried on the "
                             "next run).")
failed_cell.metric("Failed delivery attempts", f"{failed_attempts:,}")

# a sink whose latest attempt failed is down now: say so before anything else
if has_log:
    sinks = data.query(f"""
        SELECT sink, arg_max(status, attempted_at) AS last_status,
               max(attempted_at) AS last_attempt,
               max(attempted_at) FILTER (WHERE status = 'delivered') AS last_delivered,
               arg_max(error, attempted_at) FILTER (WHERE status = 'failed') AS last_error
        FROM {LOG} GROUP BY sink ORDER BY sink""")
    for sink in sinks.filter(pl.col("last_status") == "failed").iter_rows(named=True):
        since = sink["last_delivered"]
        st.error(f"Sink **{sink['sink']}** is failing (last attempt "
                 f"{sink['last_attempt']:%Y-%m-%d %H:%M} UTC; last success "
                 f"{'never' if since is None else f'{since:%Y-%m-%d %H:%M} UTC'}): "
                 f"{sink['last_error']}. Undelivered alerts are retried on the next run.",
                 icon=":material/error:")

if data.has_columns(RULES, {"alert_type", "evaluated", "skipped_reason"}):
    skipped = data.query(f"SELECT alert_type, skipped_reason FROM {RULES} WHERE NOT evaluated")
    for rule in skipped.iter_rows(named=True):
        st.info(f"{rule['alert_type'].replace('_', ' ').capitalize()} alerts are not evaluated: "
                f"{rule['skipped_reason']}.", icon=":material/info:")

st.subheader("Open alerts")
by_type = data.query(f"""
    SELECT alert_type, severity, count(*) AS alerts FROM {STATUS}
    WHERE status = 'open' AND {where} GROUP BY ALL ORDER BY alert_type""", filters)
if by_type.height:
    ui.chart(px.bar(by_type.with_columns(pl.col("alert_type").str.replace_all("_", " ")),
                    x="alert_type", y="alerts", color="severity",
                    color_discrete_map=SEVERITY_COLORS, title="Open alerts by type and severity",
                    labels={"alert_type": "condition", "alerts": "open alerts"}))
# money at risk (value_base): the margin a stockout loses, the value overstock / dead stock
# ties up, the sales an oversold listing would cancel, a count break, a late PO's value
GROUPS = {"Supplier": "supplier_id", "SKU": "sku"}
group = st.radio("Group open alerts by", [*GROUPS, "nothing (one row per alert)"],
                 horizontal=True, key="alerts_group")
# the stock rules state their money in the base currency (late POs keep their own beside it)
base = data.query(f"SELECT any_value(currency) AS c FROM {STATUS} "
                  "WHERE alert_type <> 'late_po'").item() or ui.base_currency()
MONEY = {"money_at_risk": ui.Col("Money at risk", "money"), "Units": ui.Col("Units", "count"),
         "Open alerts": ui.Col("Open alerts", "count"), "Critical": ui.Col("Critical", "count"),
         "Opened": ui.Col("Opened (UTC)", "datetime")}
if group in GROUPS:
    column = GROUPS[group]  # a constant of this page, never input
    grouped = data.query(f"""
        SELECT coalesce({column}, '(none)') AS "{group}", count(*) AS "Open alerts",
               count(*) FILTER (WHERE severity = 'critical') AS "Critical",
               sum(abs(value_base)) AS money_at_risk,
               string_agg(DISTINCT replace(alert_type, '_', ' '), ', ') AS "Conditions",
               arg_max(subject, coalesce(value_base, 0)) AS "Largest"
        FROM {STATUS} WHERE status = 'open' AND {where}
        GROUP BY ALL ORDER BY "Critical" DESC, money_at_risk DESC NULLS LAST""", filters)
    ui.table(grouped, name=f"open_alerts_by_{column}", key="dl_open_alerts_grouped",
             title=f"**Open alerts by {group.lower()}**, most critical and most money first",
             columns=MONEY, currency=base,
             empty="No open alert: nothing needs a person today.")
open_alerts = data.query(f"""
    SELECT severity AS "Severity", replace(alert_type, '_', ' ') AS "Condition",
           subject AS "Subject", supplier_id AS "Supplier", value_base AS money_at_risk,
           units AS "Units", message AS "What to know", opened_at AS "Opened",
           delivered_to AS "Delivered to", pending_to AS "Still owed to"
    FROM {STATUS} WHERE status = 'open' AND {where}
    ORDER BY severity_rank DESC, abs(value_base) DESC NULLS LAST, alert_key LIMIT 2000""", filters)
ui.table(open_alerts, name="open_alerts", key="dl_open_alerts",
         title="**Open alerts**, most severe first, then by money at risk", columns=MONEY,
         currency=base, empty="No open alert: nothing needs a person today.")

with st.expander("Resolved alerts"):
    resolved = data.query(f"""
        SELECT severity, replace(alert_type, '_', ' ') AS alert_type, subject, opened_at,
               resolved_at, message
        FROM {STATUS} WHERE status = 'resolved' AND {where}
        ORDER BY resolved_at DESC LIMIT 500""", filters)
    ui.table(resolved, name="resolved_alerts", key="dl_resolved_alerts",
             title="**Resolved alerts**, newest first",
             empty="No alert has been resolved yet.")

st.subheader("Delivery log")
if not has_log:
    ui.not_computed("Delivery log", "alerts")
    st.stop()
only_failed = st.toggle("Failed attempts only", key="alerts_failed_only")
log = data.query(f"""
    SELECT attempted_at, sink, status, attempt, http_status, error, transition, severity,
           alert_type, subject, target
    FROM {LOG} WHERE (NOT $only_failed OR status = 'failed') AND {where}
    ORDER BY attempted_at DESC LIMIT 2000""", {**filters, "only_failed": only_failed})
st.markdown("**Every delivery attempt per sink**, newest first; failed attempts are "
            "highlighted")
if not ui.empty_note(log, "No delivery attempt yet: alert sinks (docs/alerts.md) log every "
                          "attempt here once an alert opens, escalates or resolves."):
    shown, config = ui.readable(log.with_columns(pl.col("alert_type").str.replace_all("_", " ")))
    status = ui.LABELS["status"].label
    st.dataframe(
        shown.to_pandas().style.apply(
            lambda row: [FAILED_ROW if row[status] == "failed" else ""] * len(row), axis=1),
        width="stretch", hide_index=True, column_config=config, placeholder=ui.MISSING)
    ui.download(shown, name="alert_delivery_log", key="dl_delivery_log")
