"""Where alert events go: a JSONL file in the outbox (default), a Slack-compatible webhook,
SMTP e-mail. No Dagster, no DuckDB: events in (dicts of ``ops.alert_events`` rows), a list of
:class:`Attempt` out. A sink never raises: a failure is an attempt with ``status='failed'``
and the error, so one broken sink never fails the run nor stops the others.

Every sink delivers a batch at once (webhook and e-mail: up to ``BATCH_SIZE`` events; JSONL:
all of a round in one file); each attempt of a batch is logged against every event in it. Delivery is at least once: an event whose attempt was not
recorded (the process died between sending and logging) is sent again on the next run, so
receivers de-duplicate on ``event_id``.
"""

from __future__ import annotations

import json
import smtplib
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

from assets.alerts.config import SinkSettings
from assets.outbox import record_manifest, sha256_bytes, write_atomic

BATCH_SIZE = 50  # events per webhook message / e-mail (Slack shows ~50 lines comfortably)
ALERTS_FOLDER = "alerts"
USER_AGENT = "shelfwise-alerts/1"


@dataclass(frozen=True)
class Attempt:
    """One try at delivering a batch: ``delivered`` or ``failed``, when, how long, why."""

    status: str
    attempted_at: datetime  # UTC, naive (as the warehouse stores times)
    duration_ms: float
    target: str
    http_status: int | None = None
    error: str | None = None


class TransientError(Exception):
    """A failure worth retrying within the run (server error, timeout, connection refused)."""


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def with_retries(
    send_once: Callable[[], int | None],
    *,
    target: str,
    retries: int,
    backoff_seconds: float,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Attempt]:
    """Call ``send_once`` until it returns (delivered), at most ``1 + retries`` times, waiting
    ``backoff_seconds × 2^(n-1)`` seconds before retry n. It returns an HTTP status or None;
    it raises :class:`TransientError` to be retried, anything else to stop (a permanent error,
    e.g. HTTP 400 or a refused recipient: the next run tries again). Every try is an
    :class:`Attempt`."""
    attempts: list[Attempt] = []
    for n in range(retries + 1):
        if n:
            sleep(backoff_seconds * 2 ** (n - 1))
        started_at, started = _utcnow(), time.perf_counter()
        try:
            status = send_once()
        except Exception as exc:  # noqa: BLE001 - a sink never raises; the log says why
            cause = exc.__cause__ if isinstance(exc, TransientError) and exc.__cause__ else exc
            attempts.append(Attempt(
                "failed", started_at, (time.perf_counter() - started) * 1000, target,
                http_status=cause.code if isinstance(cause, urllib.error.HTTPError) else None,
                error=f"{type(cause).__name__}: {cause}"[:500]))
            if not isinstance(exc, TransientError):
                break
            continue
        attempts.append(Attempt("delivered", started_at, (time.perf_counter() - started) * 1000,
                                target, http_status=status))
        break
    return attempts


# ---------------------------------------------------------------------------------------------
# what an event says
# ---------------------------------------------------------------------------------------------

def _plain(value: object) -> object:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def event_record(event: dict) -> dict:
    """An event as JSON-ready data (dates as ISO text), the sink's name left out."""
    return {k: _plain(v) for k, v in event.items() if k != "sink"}


def event_line(event: dict) -> str:
    """One line a person reads: ``CRITICAL opened · low stock · SKU-1 at WH1: ATS 0 ...``."""
    what = event["alert_type"].replace("_", " ")
    return f"{event['severity'].upper()} {event['transition']} · {what} · {event['message']}"


def summary_line(events: Sequence[dict]) -> str:
    counts: dict[str, int] = {}
    for e in events:
        counts[e["transition"]] = counts.get(e["transition"], 0) + 1
    parts = ", ".join(f"{n} {t}" for t, n in sorted(counts.items()))
    as_of = max((str(e["as_of"]) for e in events if e.get("as_of")), default="")
    return f"shelfwise alerts{f' (as of {as_of})' if as_of else ''}: {parts}"


# ---------------------------------------------------------------------------------------------
# the sinks
# ---------------------------------------------------------------------------------------------

class JsonlSink:
    """One JSON object per event per line in ``<outbox>/alerts/alerts_<as_of>_<id>.jsonl``,
    written atomically and listed in the outbox manifest. The file name ends with a digest
    of its events' ids: the same pending events give the same file, never a second one."""

    batch_size = None  # one file per delivery round, however many events

    def __init__(self, settings: SinkSettings, outbox: Path):
        self.settings = settings
        self.outbox = Path(outbox)

    @property
    def target(self) -> str:
        return f"{ALERTS_FOLDER}/"

    def deliver(self, events: Sequence[dict]) -> list[Attempt]:
        started_at, started = _utcnow(), time.perf_counter()
        as_of = max((str(e["as_of"]) for e in events if e.get("as_of")), default="undated")
        digest = sha256_bytes("\n".join(e["event_id"] for e in events).encode())[:12]
        path = self.outbox / ALERTS_FOLDER / f"alerts_{as_of}_{digest}.jsonl"
        target = path.relative_to(self.outbox).as_posix()
        try:
            data = "".join(json.dumps(event_record(e), sort_keys=True) + "\n" for e in events)
            sha = write_atomic(path, data.encode("utf-8"))
            record_manifest(self.outbox, path, sha, kind="alerts", rows=len(events), as_of=as_of)
        except Exception as exc:  # noqa: BLE001 - a sink never raises
            return [Attempt("failed", started_at, (time.perf_counter() - started) * 1000, target,
                            error=f"{type(exc).__name__}: {exc}"[:500])]
        return [Attempt("delivered", started_at, (time.perf_counter() - started) * 1000, target)]


class NetworkSink:
    """What the webhook and e-mail sinks share: batches of ``BATCH_SIZE``, retries with
    back-off as their settings say (``sleep`` is injectable so tests need not wait)."""

    batch_size = BATCH_SIZE

    def __init__(self, settings: SinkSettings, sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self.sleep = sleep

    @property
    def target(self) -> str:
        raise NotImplementedError

    def _retrying(self, send_once: Callable[[], int | None]) -> list[Attempt]:
        return with_retries(send_once, target=self.target, retries=self.settings.retries,
                            backoff_seconds=self.settings.backoff_seconds, sleep=self.sleep)


class WebhookSink(NetworkSink):
    """A JSON POST per batch: Slack's ``{"text": ...}`` (one line per event) plus ``alerts``,
    the events as data, for receivers that are not Slack. Retries server errors (5xx, 429),
    timeouts and refused connections with exponential back-off; a 4xx is not retried in the
    run. The delivery log shows the host only: webhook URLs carry secrets."""

    @property
    def target(self) -> str:
        parts = urlsplit(self.settings.webhook_url)
        return f"{parts.scheme}://{parts.netloc}" if parts.netloc else "(no url)"

    def payload(self, events: Sequence[dict]) -> bytes:
        text = "\n".join([summary_line(events), *(event_line(e) for e in events)])
        return json.dumps({"text": text, "alerts": [event_record(e) for e in events]},
                          sort_keys=True).encode("utf-8")

    def deliver(self, events: Sequence[dict]) -> list[Attempt]:
        url = self.settings.webhook_url
        body = self.payload(events)

        def send_once() -> int:
            if not url:
                raise ValueError(f"no webhook url (environment variable {self.settings.url_env} "
                                 "is not set)")
            request = urllib.request.Request(
                url, data=body, method="POST",
                headers={"Content-Type": "application/json", "User-Agent": USER_AGENT})
            try:
                with urllib.request.urlopen(request, timeout=self.settings.timeout_seconds) as r:
                    return r.status
            except urllib.error.HTTPError as exc:
                if exc.code >= 500 or exc.code == 429:
                    raise TransientError() from exc
                raise
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                raise TransientError() from exc

        return self._retrying(send_once)


class EmailSink(NetworkSink):
    """A plain-text e-mail per batch over SMTP (``smtplib``; STARTTLS or SSL when set, login
    when a username is set, the password from the environment). Connection and server errors
    are retried with back-off; a refused sender or recipient, or a failed login, is not."""

    PERMANENT = (smtplib.SMTPAuthenticationError, smtplib.SMTPRecipientsRefused,
                 smtplib.SMTPSenderRefused)

    @property
    def target(self) -> str:
        return f"{', '.join(self.settings.to)} via {self.settings.host}:{self.settings.port}"

    def message(self, events: Sequence[dict]) -> EmailMessage:
        critical = sum(e["severity"] == "critical" for e in events)
        msg = EmailMessage()
        msg["Subject"] = (f"[shelfwise] {len(events)} alert change(s)"
                          + (f", {critical} critical" if critical else ""))
        msg["From"] = self.settings.from_addr
        msg["To"] = ", ".join(self.settings.to)
        lines = [summary_line(events), ""] + [event_line(e) for e in events]
        lines += ["", "event ids (for de-duplication): "
                  + ", ".join(e["event_id"] for e in events)]
        msg.set_content("\n".join(lines))
        return msg

    def deliver(self, events: Sequence[dict]) -> list[Attempt]:
        s = self.settings
        msg = self.message(events)

        def send_once() -> None:
            smtp_class = smtplib.SMTP_SSL if s.ssl else smtplib.SMTP
            try:
                with smtp_class(s.host, s.port, timeout=s.timeout_seconds) as smtp:
                    if s.starttls and not s.ssl:
                        smtp.starttls()
                    if s.username:
                        smtp.login(s.username, s.password or "")
                    smtp.send_message(msg)
            except self.PERMANENT:
                raise
            except (smtplib.SMTPException, OSError) as exc:
                raise TransientError() from exc
            return None

        return self._retrying(send_once)


def build_sink(settings: SinkSettings, outbox: Path) -> JsonlSink | WebhookSink | EmailSink:
    """The sink object for one ``[alerts.<kind>]`` table."""
    if settings.kind == "jsonl":
        return JsonlSink(settings, outbox)
    if settings.kind == "webhook":
        return WebhookSink(settings)
    return EmailSink(settings)
