"""Operations commands: alerts (open alerts, the delivery log)."""

from __future__ import annotations

import click

from assets.alerts.config import SEVERITIES, SEVERITY_RANK
from pipelines.commands.common import read_only_after, require_tables


def _minute(ts) -> str:
    return "" if ts is None else f"{ts:%Y-%m-%d %H:%M}"


@click.command()
@click.option("--run", "run_first", is_flag=True,
              help="run the `alerts` job first: evaluate the rules, send what is pending, publish")
@click.option("--type", "alert_type",
              type=click.Choice(["low_stock", "overstock", "dead_stock", "discrepancy",
                                 "oversell_risk", "late_po"]),
              help="only this kind of alert")
@click.option("--severity", type=click.Choice(SEVERITIES), default="info", show_default=True,
              help="at least this severity")
@click.option("--all", "include_resolved", is_flag=True, help="resolved alerts too")
@click.option("--deliveries", is_flag=True,
              help="the delivery log instead: every attempt per sink, newest first")
@click.option("--failed", is_flag=True, help="with --deliveries: failed attempts only")
@click.option("--limit", default=50, show_default=True, help="rows to print")
@click.pass_context
def alerts(ctx, run_first, alert_type, severity, include_resolved, deliveries, failed, limit):
    """Open alerts, most severe first, as of the last alerts run; or the delivery log.

    An alert is sent once when it opens, again only when it escalates, and once when it
    resolves, to every sink in [alerts] of shelfwise.toml (JSONL in <home>/outbox/alerts by
    default; webhook, e-mail). A sink that was down gets what it missed on the next run.

    \b
    Examples:
      shelfwise alerts --run
      shelfwise alerts --severity critical --type low_stock
      shelfwise alerts --deliveries --failed
    """
    from pipelines import queries
    from pipelines.summary import format_table

    _, opened = read_only_after(ctx, "alerts" if run_first else None)
    with opened as con:
        require_tables(con, "ops.alert_state", "ops.alert_deliveries",
                       fix="run `shelfwise alerts --run` (or the `alerts` job)")
        if deliveries:
            log = queries.delivery_log(con, failed_only=failed, alert_type=alert_type, limit=limit)
            if log.is_empty():
                click.echo("no delivery attempts match")
                return
            click.echo(format_table(
                ["attempted (UTC)", "sink", "status", "try", "http", "change", "type", "subject",
                 "error"],
                [(_minute(r["attempted_at"]), r["sink"],
                  "FAILED" if r["status"] == "failed" else r["status"], r["attempt"],
                  r["http_status"], r["transition"], r["alert_type"], r["subject"],
                  (r["error"] or "")[:80]) for r in log.iter_rows(named=True)]))
            return
        rows = queries.alerts(con, include_resolved=include_resolved, alert_type=alert_type,
                              min_severity_rank=SEVERITY_RANK[severity], limit=limit)
        totals = queries.open_alerts_by_severity(con)
        pending = queries.pending_deliveries_by_sink(con)
    if not rows.is_empty():
        click.echo(format_table(
            ["severity", "type", "subject", "opened (UTC)", "escalated", "resolved",
             "status", "message"],
            [(r["last_severity"].upper(), r["alert_type"], r["subject"], _minute(r["opened_at"]),
              _minute(r["escalated_at"]), _minute(r["resolved_at"]), r["status"], r["message"])
             for r in rows.iter_rows(named=True)]))
    else:
        click.echo("no alerts match")
    open_counts = ", ".join(f"{totals.get(s, 0)} {s}" for s in reversed(SEVERITIES))
    click.echo(f"\n{sum(totals.values())} open ({open_counts}); pending deliveries: "
               + (", ".join(f"{r['sink']} {r['pending']}" for r in pending.iter_rows(named=True))
                  or "none"))
