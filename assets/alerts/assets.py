"""Alerts as Dagster assets: conditions now, their state, their delivery, what the pages show.

Thin on purpose: the rules (``assets/alerts/rules.py``) and the state machine
(``assets/alerts/state.py``) are SQL, one statement a file in ``assets/alerts/sql/``; the sinks
plain Python in ``assets/alerts/sinks.py``; all are tested without Dagster.
"""

from datetime import datetime, timezone

import dagster as dg

from assets.alerts import rules, state
from assets.alerts.config import alert_settings
from assets.alerts.delivery import deliver_pending
from assets.alerts.sinks import build_sink
from assets.metadata import query_md as preview
from assets.resources import SettingsResource
from assets.warehouse import WAREHOUSE_POOL, WarehouseResource

GROUP = "alerts"
KINDS = {"duckdb"}

ALERTS_CURRENT = dg.AssetKey(["marts", "alerts_current"])
ALERT_STATE = dg.AssetKey(["ops", "alert_state"])
ALERT_DELIVERIES = dg.AssetKey(["ops", "alert_deliveries"])
ALERT_STATUS = dg.AssetKey(["marts", "alert_status"])
ALERT_DELIVERY_LOG = dg.AssetKey(["marts", "alert_delivery_log"])

# every table a rule reads; the replenishment policy may not be built yet (its rules skip)
RULE_INPUTS = sorted({dg.AssetKey(table.split(".")) for rule in rules.RULES for table in rule.needs}
                     | {dg.AssetKey(["core", "stock_snapshots"]), dg.AssetKey(["core", "order_lines"])},
                     key=lambda k: k.path)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


@dg.asset(key=ALERTS_CURRENT, deps=RULE_INPUTS, group_name=GROUP, kinds=KINDS,
          pool=WAREHOUSE_POOL)
def alerts_current(
    warehouse: WarehouseResource, shelfwise: SettingsResource
) -> dg.MaterializeResult:
    """Alert conditions true now (low/over/dead stock, discrepancies, oversell, late POs)."""
    settings = shelfwise.settings
    thresholds = alert_settings(settings).thresholds
    with warehouse.connect() as con:
        by_type = rules.build_alerts_current(con, thresholds, settings.base_currency)
        stats = con.sql("""SELECT any_value(as_of) AS as_of, count(*) AS alerts,
                                  count(*) FILTER (WHERE severity = 'critical') AS critical
                           FROM marts.alerts_current""").pl().row(0, named=True)
        rule_table = preview(con, """SELECT alert_type, evaluated,
                                       coalesce(skipped_reason, '') AS skipped,
                                       alerts, critical, warning, info FROM marts.alert_rules""")
        worst = preview(con, """SELECT severity, alert_type, subject, message
                                FROM marts.alerts_current LIMIT 15""")
    return dg.MaterializeResult(metadata={
        "dagster/row_count": stats["alerts"], "as_of": str(stats["as_of"]),
        "critical": stats["critical"],
        **{f"{t}": dg.MetadataValue.text(str(n)) for t, n in by_type.items()},
        "thresholds": dg.MetadataValue.json(vars(thresholds)),
        "rules": rule_table, "most_severe": worst,
    })


@dg.asset(key=ALERT_STATE, deps=[ALERTS_CURRENT], group_name=GROUP, kinds=KINDS,
          pool=WAREHOUSE_POOL)
def alert_state(warehouse: WarehouseResource, shelfwise: SettingsResource) -> dg.MaterializeResult:
    """Open / escalated / resolved per alert key; each change one event to announce."""
    settings = shelfwise.settings
    alerts = alert_settings(settings)
    now = _utcnow()
    with warehouse.connect() as con:
        # sinks turned on now owe the events of this run (and not the history before it)
        sinks = [build_sink(s, settings.outbox) for s in alerts.enabled_sinks]
        state.register_sinks(con, [state.sink_row(s.settings, s.target) for s in sinks], now)
        changes = state.advance_alert_state(con, now)
        open_now = con.sql("SELECT count(*) AS open FROM ops.alert_state "
                           "WHERE status = 'open'").pl()["open"].item()
        events = preview(con, """SELECT transition, severity, alert_type, subject, message
                                 FROM ops.alert_events WHERE happened_at = ?
                                 ORDER BY severity_rank DESC, alert_key LIMIT 20""", [now])
    return dg.MaterializeResult(metadata={
        "open": open_now, **changes, "events_this_run": events,
    })


@dg.asset(key=ALERT_DELIVERIES, deps=[ALERT_STATE], group_name=GROUP, kinds=KINDS,
          pool=WAREHOUSE_POOL)
def alert_deliveries(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, shelfwise: SettingsResource
) -> dg.MaterializeResult:
    """Pending alert events sent to every sink (JSONL, webhook, e-mail); every attempt logged."""
    settings = shelfwise.settings
    report = deliver_pending(warehouse.path, alert_settings(settings), settings.outbox,
                             context.run_id)
    for s in report.sinks:
        if s.failed_attempts:
            context.log.warning(f"alert sink {s.sink} ({s.target}): {s.failed_attempts} failed "
                                f"attempt(s), last error: {s.last_error}")
    lines = ["| sink | target | owed | delivered | attempts | failed | last error |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {s.sink} | {s.target} | {s.owed} | {s.delivered} | {s.attempts} | "
              f"{s.failed_attempts} | {(s.last_error or '').replace('|', '/')} |"
              for s in report.sinks]
    return dg.MaterializeResult(metadata={
        "delivered": sum(s.delivered for s in report.sinks),
        "failed_attempts": report.failed_attempts,
        "still_pending": report.still_pending,
        "sinks": dg.MetadataValue.md("\n".join(lines)),
    })


@dg.asset_check(asset=ALERT_DELIVERIES, blocking=False, pool=WAREHOUSE_POOL,
                description="Warns when alert events are still owed to a sink after the run "
                            "(a sink was down); they are retried on the next run.")
def alert_deliveries_complete(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    """Nothing left pending after the delivery round."""
    with warehouse.connect() as con:
        state.ensure_alert_tables(con)
        pending = state.pending_deliveries(con)
    by_sink = pending.group_by("sink").len(name="events").sort("sink")
    return dg.AssetCheckResult(
        passed=pending.is_empty(), severity=dg.AssetCheckSeverity.WARN,
        metadata={"pending": pending.height,
                  "by_sink": ", ".join(f"{row['sink']}: {row['events']}"
                                       for row in by_sink.iter_rows(named=True)) or "none"},
    )


@dg.multi_asset(
    specs=[dg.AssetSpec(ALERT_STATUS, deps=[ALERT_DELIVERIES, ALERT_STATE], group_name=GROUP,
                        kinds=KINDS,
                        description="Every alert key: open or resolved, since when, numbers, "
                                    "sinks reached and still owed."),
           dg.AssetSpec(ALERT_DELIVERY_LOG, deps=[ALERT_DELIVERIES], group_name=GROUP,
                        kinds=KINDS, description="Every delivery attempt, newest first.")],
    pool=WAREHOUSE_POOL,
)
def alert_reports(warehouse: WarehouseResource):
    """The alert state and the delivery log as marts, for the serving snapshot."""
    with warehouse.connect() as con:
        rows = state.build_alert_reports(con)
        failures = preview(con, """SELECT attempted_at, sink, attempt, http_status, error, subject
                                   FROM marts.alert_delivery_log WHERE status = 'failed'
                                   LIMIT 10""")
    yield dg.MaterializeResult(asset_key=ALERT_STATUS,
                               metadata={"dagster/row_count": rows["alert_status"]})
    yield dg.MaterializeResult(asset_key=ALERT_DELIVERY_LOG,
                               metadata={"dagster/row_count": rows["alert_delivery_log"],
                                         "latest_failures": failures})


ASSETS = [alerts_current, alert_state, alert_deliveries, alert_reports]
CHECKS = [alert_deliveries_complete]
