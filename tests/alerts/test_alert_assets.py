"""The alert assets through Dagster's real executor, delivering to real local servers."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import duckdb

from alerts_builder import AS_OF, RETRIES, insert, make_home, materialize, receipt_row
from assets.alerts.assets import ALERT_DELIVERIES


def query(settings, sql, params=None):
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def warehouse(settings):
    return duckdb.connect(str(settings.warehouse_path))


def jsonl_lines(settings) -> list[str]:
    return [line for f in sorted((settings.outbox / "alerts").glob("*.jsonl"))
            for line in f.read_text().splitlines()]


def delivery_check(result) -> dg.AssetCheckEvaluation:
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.asset_key == ALERT_DELIVERIES
    return evaluation


def test_open_once_no_resend_escalate_resolve_to_every_sink(tmp_path, webhook, smtp):
    settings = make_home(tmp_path, webhook, smtp)
    first = materialize(settings)
    opened = {(a["alert_key"], a["transition"], a["severity"]) for a in webhook.alerts}
    assert opened == {
        ("low_stock:A:WH1", "opened", "warning"), ("overstock:B:WH1", "opened", "warning"),
        ("dead_stock:C:WH1", "opened", "warning"), ("discrepancy:D:WH1", "opened", "warning"),
        ("oversell_risk:A", "opened", "warning"), ("late_po:A:WH1", "opened", "warning"),
    }
    assert len(jsonl_lines(settings)) == 6
    assert smtp.messages == []  # e-mail wants critical only; nothing is critical yet
    assert delivery_check(first).passed

    # the same data again: nothing to say, to anyone
    materialize(settings)
    assert len(webhook.received) == 1 and len(jsonl_lines(settings)) == 6

    # the PO is now 9 days late: critical, announced once to every sink that wants it
    with warehouse(settings) as con:
        con.execute("UPDATE core.purchase_orders SET expected_at = ?", [AS_OF - timedelta(days=9)])
    materialize(settings)
    materialize(settings)
    escalated = webhook.received[1]["alerts"]
    assert [(a["alert_key"], a["transition"], a["severity"]) for a in escalated] == [
        ("late_po:A:WH1", "escalated", "critical")]
    assert len(webhook.received) == 2 and len(smtp.messages) == 1
    assert "CRITICAL escalated · late po · PO-1 A from SUP: 20 of 20 units still due" \
        in smtp.messages[0].get_content()

    # the goods arrive: resolved, at the severity it was announced at (e-mail hears it too)
    with warehouse(settings) as con:
        insert(con, "receipts", [receipt_row("PO-1", "A", 20, n=30)])
    materialize(settings)
    assert [(a["transition"], a["severity"]) for a in webhook.received[2]["alerts"]] == [
        ("resolved", "critical")]
    assert len(smtp.messages) == 2 and len(jsonl_lines(settings)) == 8

    log = query(settings, """SELECT sink, status, count(*) FROM ops.alert_deliveries
                             GROUP BY ALL ORDER BY ALL""")
    assert log == [("email", "delivered", 2), ("jsonl", "delivered", 8),
                   ("webhook", "delivered", 8)]
    status = query(settings, """SELECT status, severity, resolved_at IS NOT NULL, delivered_to,
                                       pending_to FROM marts.alert_status
                                WHERE alert_key = 'late_po:A:WH1'""")
    assert status == [("resolved", "critical", True, "email, jsonl, webhook", None)]


def test_a_sink_down_for_a_run_gets_each_alert_exactly_once_on_the_next(tmp_path, webhook):
    settings = make_home(tmp_path, webhook)
    webhook.answer(503)
    down = materialize(settings)
    check = delivery_check(down)
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert check.metadata["by_sink"].value == "webhook: 6"
    assert webhook.received == [] and len(webhook.statuses) == 1 + RETRIES
    assert len(jsonl_lines(settings)) == 6  # the file sink was not held back by the webhook

    webhook.answer(200)
    up = materialize(settings)
    assert delivery_check(up).passed
    assert sorted(a["alert_key"] for a in webhook.alerts) == sorted(
        r[0] for r in query(settings, "SELECT alert_key FROM ops.alert_events"))
    assert len(webhook.alerts) == 6
    assert len(jsonl_lines(settings)) == 6  # not re-sent to the sink that already had them

    materialize(settings)
    assert len(webhook.received) == 1
    # every attempt is in the log, numbered across the two runs
    attempts = query(settings, """SELECT attempt, status, http_status, count(*)
                                  FROM ops.alert_deliveries WHERE sink = 'webhook'
                                  GROUP BY ALL ORDER BY attempt""")
    assert attempts == [(1, "failed", 503, 6), (2, "failed", 503, 6), (3, "failed", 503, 6),
                        (4, "delivered", 200, 6)]
    failures = query(settings, """SELECT count(*), any_value(target) FROM marts.alert_delivery_log
                                  WHERE status = 'failed'""")[0]
    assert failures[0] == 18 and "SECRET" not in failures[1]


def test_a_sink_turned_on_later_owes_only_what_happens_from_then(tmp_path, webhook):
    settings = make_home(tmp_path)
    materialize(settings)
    toml = settings.home / "shelfwise.toml"
    toml.write_text(toml.read_text() + f"[alerts.webhook]\nurl = '{webhook.url}'\n")
    materialize(settings)
    assert webhook.received == []  # the backlog of six opened alerts is not replayed
    with warehouse(settings) as con:
        insert(con, "receipts", [receipt_row("PO-1", "A", 20, n=30)])
    materialize(settings)
    assert [(a["alert_key"], a["transition"]) for a in webhook.alerts] == [
        ("late_po:A:WH1", "resolved")]
