"""``marts.quality_results``: every expectation of every check run, kept as data.

The dashboard's Data quality page reads this table from the serving snapshot, offline; the
Data Docs site is the second, GX-rendered view of the same runs.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from assets.quality.specs import Outcome, QualityCheck

RESULTS_TABLE = "marts.quality_results"

RESULTS_DDL = f"""CREATE TABLE IF NOT EXISTS {RESULTS_TABLE} (
  run_at TIMESTAMP,          -- UTC, when the check ran
  run_id VARCHAR,            -- Dagster run id (empty outside Dagster)
  check_name VARCHAR,        -- Dagster asset check name
  suite VARCHAR,             -- GX suite: <schema>.<table>.<check>
  expectation VARCHAR,       -- GX expectation type
  asset VARCHAR,             -- checked asset, e.g. core.order_lines
  column_name VARCHAR,       -- column of the probe frame the expectation reads
  success BOOLEAN,
  observed_value VARCHAR,    -- e.g. '1 of 6 rows fail (values: 0)'
  expected VARCHAR,          -- e.g. '>= 1', 'between 0.5 and 2'
  failing_rows BIGINT,
  rows_checked BIGINT,       -- rows of the probe frame (channels, channel-days, ...), not raw rows
  severity VARCHAR,          -- blocking | warning
  message VARCHAR,           -- what failed, in words (or 'passed: ...')
  sample_json VARCHAR        -- up to 20 failing rows of the probe frame, as JSON
)"""


@dataclass(frozen=True)
class CheckReport:
    """Everything one check run found: what the Dagster result and the table are made of."""

    check: QualityCheck
    run_at: dt.datetime
    outcomes: Sequence[Outcome]
    context: dict
    unavailable: str | None = None
    seconds: float = 0.0
    # nothing to judge by design (the table was not built: its inputs are absent): passes
    not_applicable: str | None = None
    # the Data Docs index, when this check built the docs of its run (see runner.run_check)
    data_docs: Path | None = None

    @property
    def passed(self) -> bool:
        if self.not_applicable:
            return True
        return self.unavailable is None and all(o.success for o in self.outcomes)

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.success]

    @property
    def message(self) -> str:
        """One paragraph for the Dagster UI: what failed, in words; or that all is well."""
        if self.not_applicable:
            return f"not applicable: {self.not_applicable}"
        if self.unavailable:
            return f"could not check: {self.unavailable}"
        if self.passed:
            return f"passed: {len(self.outcomes)} expectations"
        return " | ".join(o.message for o in self.failures)


def write_results(con: duckdb.DuckDBPyConnection, report: CheckReport, run_id: str = "") -> int:
    """Append one row per expectation (one row saying why, when the probe could not run)."""
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    con.execute(RESULTS_DDL)
    qc = report.check
    asset = ".".join(qc.asset)
    if report.unavailable or report.not_applicable:
        rows = [
            (
                report.run_at,
                run_id,
                qc.name,
                qc.suite,
                None,
                asset,
                None,
                report.passed,
                None,
                None,
                None,
                None,
                qc.severity,
                report.message,
                None,
            )
        ]
    else:
        rows = [
            (
                report.run_at,
                run_id,
                qc.name,
                qc.suite,
                _snake(o.expectation.gx_type),
                asset,
                o.expectation.column,
                o.success,
                o.observed,
                o.expectation.expected,
                o.failing_rows,
                o.rows_checked,
                qc.severity,
                o.message,
                json.dumps(o.sample, default=str) if o.sample else None,
            )
            for o in report.outcomes
        ]
    con.executemany(
        f"INSERT INTO {RESULTS_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
    )
    return len(rows)


def _snake(gx_type: str) -> str:
    """``ExpectColumnValuesToBeBetween`` → ``expect_column_values_to_be_between`` (GX's name)."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in gx_type).lstrip("_")
