"""Operations commands: alerts (open alerts, the delivery log)."""

from __future__ import annotations

import click

from assets.alerts.config import SEVERITIES, SEVERITY_RANK
from assets.settings import load_settings
from pipelines.commands.inventory import _open_read_only, _require_tables

OPEN_ALERTS_SQL = """
SELECT last_severity, alert_type, subject, opened_at, escalated_at, resolved_at, status, message
FROM ops.alert_state
WHERE (? OR status = 'open') AND (? IS NULL OR alert_type = ?) AND last_severity_rank >= ?
ORDER BY status = 'open' DESC, last_severity_rank DESC, opened_at DESC, alert_key
LIMIT ?
"""

DELIVERY_LOG_SQL = """
SELECT d.attempted_at, d.sink, d.status, d.attempt, d.http_status, e.transition,
       e.alert_type, e.subject, d.error
FROM ops.alert_deliveries AS d
LEFT JOIN ops.alert_events AS e USING (event_id)
WHERE (NOT ? OR d.status = 'failed') AND (? IS NULL OR e.alert_type = ?)
ORDER BY d.attempted_at DESC, d.sink, d.alert_key, d.attempt DESC
LIMIT ?
"""


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
    from assets.alerts.state import pending_deliveries
    from pipelines.commands.core import run_job
    from pipelines.summary import format_table

    settings = load_settings(ctx.obj["home"])
    if run_first:
        result = run_job(settings, "alerts", raise_on_error=False)
        if not result.success:
            raise click.ClickException("the alerts run failed: see `shelfwise ui` for its logs")
    with _open_read_only(settings) as con:
        _require_tables(con, "ops.alert_state", "ops.alert_deliveries",
                        fix="run `shelfwise alerts --run` (or the `alerts` job)")
        if deliveries:
            rows = con.execute(DELIVERY_LOG_SQL, [failed, alert_type, alert_type, limit]).fetchall()
            if not rows:
                click.echo("no delivery attempts match")
                return
            click.echo(format_table(
                ["attempted (UTC)", "sink", "status", "try", "http", "change", "type", "subject",
                 "error"],
                [(_minute(r[0]), r[1], "FAILED" if r[2] == "failed" else r[2], r[3], r[4],
                  *r[5:8], (r[8] or "")[:80]) for r in rows]))
            return
        rows = con.execute(OPEN_ALERTS_SQL, [include_resolved, alert_type, alert_type,
                                             SEVERITY_RANK[severity], limit]).fetchall()
        totals = dict(con.execute(
            "SELECT last_severity, count(*) FROM ops.alert_state WHERE status = 'open' "
            "GROUP BY ALL").fetchall())
        pending = pending_deliveries(con).group_by("sink").len().sort("sink").rows()
    if rows:
        click.echo(format_table(
            ["severity", "type", "subject", "opened (UTC)", "escalated", "resolved",
             "status", "message"],
            [(r[0].upper(), r[1], r[2], _minute(r[3]), _minute(r[4]), _minute(r[5]), r[6], r[7])
             for r in rows]))
    else:
        click.echo("no alerts match")
    open_counts = ", ".join(f"{totals.get(s, 0)} {s}" for s in reversed(SEVERITIES))
    click.echo(f"\n{sum(totals.values())} open ({open_counts}); pending deliveries: "
               + (", ".join(f"{s} {n}" for s, n in pending) or "none"))


COMMANDS = [alerts]
