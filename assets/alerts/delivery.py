"""One delivery round: every pending (event, sink) pair, sent, and every attempt logged.

The warehouse is not held while sinks talk to the network: pending events are read, the
connection closed, the batches sent (with the sinks' retries and back-off), then the attempts
written in one short write. What was not delivered stays pending for the next run; a sink
that already got an event is never sent it again.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import polars as pl

from assets.alerts import state
from assets.alerts.config import AlertSettings
from assets.alerts.sinks import Attempt, build_sink
from assets.warehouse import connect


@dataclass
class SinkReport:
    sink: str
    target: str
    owed: int = 0            # events pending at the start of the round
    delivered: int = 0       # events delivered in this round
    attempts: int = 0        # tries (each try carries a whole batch)
    failed_attempts: int = 0
    last_error: str | None = None


@dataclass
class DeliveryReport:
    sinks: list[SinkReport] = field(default_factory=list)
    still_pending: int = 0   # (event, sink) pairs left for the next run

    @property
    def failed_attempts(self) -> int:
        return sum(s.failed_attempts for s in self.sinks)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def attempt_rows(batch: pl.DataFrame, sink: str, attempts: list[Attempt]) -> pl.DataFrame:
    """One log row per event of ``batch`` per attempt (:data:`state.ATTEMPT_SCHEMA`)."""
    tries = pl.DataFrame(
        [{"run_attempt": n, **asdict(a)} for n, a in enumerate(attempts, start=1)],
        schema={k: v for k, v in state.ATTEMPT_SCHEMA.items()
                if k not in ("event_id", "alert_key", "sink")})
    return (batch.select("event_id", "alert_key").join(tries, how="cross")
            .with_columns(sink=pl.lit(sink)).select(list(state.ATTEMPT_SCHEMA)))


def deliver_pending(
    warehouse_path: str | Path, alerts: AlertSettings, outbox: str | Path, run_id: str,
    *, now: datetime | None = None,
) -> DeliveryReport:
    """Send every pending event to every enabled sink that owes it; log each attempt in
    ``ops.alert_deliveries``. Never raises for a sink's failure (it is in the report and the
    log). ``now`` (UTC, naive) registers sinks turned on in this run."""
    sinks = {s.kind: build_sink(s, Path(outbox)) for s in alerts.enabled_sinks}
    with connect(warehouse_path) as con:
        state.register_sinks(con, [state.sink_row(s.settings, s.target) for s in sinks.values()],
                             now or _utcnow())
        pending = state.pending_deliveries(con)
    report = DeliveryReport()
    logged = [pl.DataFrame(schema=state.ATTEMPT_SCHEMA)]
    for name, sink in sinks.items():
        owed = pending.filter(pl.col("sink") == name)
        sink_report = SinkReport(name, sink.target, owed=owed.height)
        size = sink.batch_size or max(owed.height, 1)
        for offset in range(0, owed.height, size):
            batch = owed.slice(offset, size)
            attempts = sink.deliver(batch.to_dicts())
            logged.append(attempt_rows(batch, name, attempts))
            sink_report.attempts += len(attempts)
            failed = [a for a in attempts if a.status == "failed"]
            sink_report.failed_attempts += len(failed)
            if attempts and attempts[-1].status == "delivered":
                sink_report.delivered += len(batch)
            if failed:
                sink_report.last_error = failed[-1].error
        report.sinks.append(sink_report)
    with connect(warehouse_path) as con:
        state.record_attempts(con, pl.concat(logged), run_id)
        report.still_pending = state.pending_deliveries(con).height
    return report
