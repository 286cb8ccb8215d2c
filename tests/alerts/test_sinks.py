"""The sinks against real local servers: retries with back-off, permanent errors, files."""

from __future__ import annotations

import json
from datetime import date, datetime

from local_servers import free_port

from assets.alerts.config import SinkSettings
from assets.alerts.sinks import EmailSink, JsonlSink, WebhookSink
from assets.outbox import read_manifest


def event(n: int, severity: str = "critical", transition: str = "opened") -> dict:
    return {"sink": "x", "event_id": f"e{n}", "alert_key": f"low_stock:A{n}:WH1",
            "alert_type": "low_stock", "transition": transition, "severity": severity,
            "as_of": date(2026, 3, 31), "happened_at": datetime(2026, 4, 1, 6, 0),
            "subject": f"A{n} at WH1", "message": f"A{n} at WH1: ATS 0 units, reorder point 8",
            "units": 8, "value_base": 16.0}


def test_webhook_retries_a_server_error_then_delivers_slack_json(webhook):
    webhook.answer(500, 200)
    waits: list[float] = []
    sink = WebhookSink(SinkSettings("webhook", url=webhook.url, retries=3, backoff_seconds=0.5),
                       sleep=waits.append)
    attempts = sink.deliver([event(1), event(2, "warning")])
    assert [(a.status, a.http_status) for a in attempts] == [("failed", 500), ("delivered", 200)]
    assert waits == [0.5]
    assert "HTTPError: HTTP Error 500" in attempts[0].error
    # the log names the host, never the secret path of the webhook URL
    assert attempts[0].target == f"http://127.0.0.1:{webhook.url.split(':')[2].split('/')[0]}"
    (body,) = webhook.received
    lines = body["text"].splitlines()
    assert lines[0] == "shelfwise alerts (as of 2026-03-31): 2 opened"
    assert lines[1] == "CRITICAL opened · low stock · A1 at WH1: ATS 0 units, reorder point 8"
    assert [a["event_id"] for a in body["alerts"]] == ["e1", "e2"]
    assert "sink" not in body["alerts"][0]


def test_webhook_gives_up_after_its_retries_with_exponential_back_off(webhook):
    webhook.answer(503)
    waits: list[float] = []
    sink = WebhookSink(SinkSettings("webhook", url=webhook.url, retries=3, backoff_seconds=1.0),
                       sleep=waits.append)
    attempts = sink.deliver([event(1)])
    assert [a.status for a in attempts] == ["failed"] * 4
    assert waits == [1.0, 2.0, 4.0]
    assert webhook.statuses == [503] * 4


def test_webhook_does_not_retry_a_client_error_within_the_run(webhook):
    webhook.answer(400)
    attempts = WebhookSink(SinkSettings("webhook", url=webhook.url, retries=3,
                                        backoff_seconds=0)).deliver([event(1)])
    assert [(a.status, a.http_status) for a in attempts] == [("failed", 400)]


def test_webhook_down_is_a_failed_attempt_not_an_exception():
    url = f"http://127.0.0.1:{free_port()}/hook"  # nobody listens there
    attempts = WebhookSink(SinkSettings("webhook", url=url, retries=1, backoff_seconds=0,
                                        timeout_seconds=2)).deliver([event(1)])
    assert [a.status for a in attempts] == ["failed", "failed"]
    assert "Connection refused" in attempts[-1].error


def test_email_to_a_local_smtp_server_retrying_a_temporary_refusal(smtp):
    smtp.refuse = 1
    sink = EmailSink(SinkSettings("email", host="127.0.0.1", port=smtp.port,
                                  from_addr="shelfwise@example.com", to=("ops@example.com",),
                                  retries=2, backoff_seconds=0))
    attempts = sink.deliver([event(1), event(2, "warning", "resolved")])
    assert [a.status for a in attempts] == ["failed", "delivered"]
    assert "451" in attempts[0].error
    (msg,) = smtp.messages
    assert msg["Subject"] == "[shelfwise] 2 alert change(s), 1 critical"
    assert msg["To"] == "ops@example.com"
    body = msg.get_content()
    assert "WARNING resolved · low stock · A2 at WH1" in body and "e1, e2" in body


def test_jsonl_writes_one_file_per_batch_atomically_and_lists_it_once(tmp_path):
    sink = JsonlSink(SinkSettings("jsonl"), tmp_path)
    batch = [event(1), event(2)]
    first = sink.deliver(batch)
    again = sink.deliver(batch)  # the same events again: the same file, untouched
    assert first[0].status == again[0].status == "delivered"
    files = list((tmp_path / "alerts").glob("*.jsonl"))
    assert len(files) == 1 and files[0].name.startswith("alerts_2026-03-31_")
    records = [json.loads(line) for line in files[0].read_text().splitlines()]
    assert [r["event_id"] for r in records] == ["e1", "e2"]
    assert records[0]["happened_at"] == "2026-04-01T06:00:00"
    manifest = read_manifest(tmp_path)
    assert [(m["kind"], m["rows"]) for m in manifest] == [("alerts", 2)]
