"""The run summary names every failed check with its reason and every failed step with its
error (`shelfwise ingest` used to say only "the ingest run failed")."""

from __future__ import annotations

import dagster as dg

from pipelines.commands.home import RunOutcome
from pipelines.summary import format_run_problems, run_problems


@dg.asset
def order_lines() -> None:
    return None


@dg.asset_check(asset=order_lines, blocking=True)
def daily_volume() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=False, severity=dg.AssetCheckSeverity.ERROR,
        description="channel web sent only 1 order lines on 2024-04-01, 9% of its usual 11")


@dg.asset_check(asset=order_lines)
def freshness() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN,
                               description="channel shop lags 5.0 days")


@dg.asset(deps=[order_lines])
def kpi_sales_daily() -> None:
    return None


@dg.asset
def demand_forecast() -> None:
    raise ValueError("must specify either a fill `value` or `strategy`")


def test_failed_checks_steps_and_skips_are_named_with_their_reason():
    result = dg.materialize(
        [order_lines, kpi_sales_daily, demand_forecast, daily_volume, freshness],
        raise_on_error=False)
    problems = run_problems(result)
    checks = dict(problems["failed_checks"])
    assert checks["order_lines:daily_volume"].startswith("[ERROR] channel web sent only 1")
    assert checks["order_lines:freshness"] == "[WARN] channel shop lags 5.0 days"
    steps = dict(problems["failed_steps"])
    assert "must specify either a fill `value` or `strategy`" in steps["demand_forecast"]
    assert "kpi_sales_daily" in {k for k, _ in problems["skipped_steps"]}
    text = format_run_problems(problems)
    assert "channel web sent only 1 order lines on 2024-04-01" in text
    assert "Not built because" in text and "kpi_sales_daily" in text
    reason = RunOutcome(False, problems, 0).reason
    assert reason.startswith("check order_lines:daily_volume failed: [ERROR] channel web")
