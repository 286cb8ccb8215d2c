"""Schedules: what runs by the clock."""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg

from assets.inventory.config import reconciliation_settings
from assets.settings import Settings, check_timezone, load_settings, read_section
from pipelines.jobs import alerts_job, all_assets_job, reconciliation_job

@dataclass(frozen=True)
class ScheduleSettings:
    """``[schedules]`` in shelfwise.toml: when the whole daily run starts (after the night's
    exports) and how often alerts are re-evaluated and owed deliveries retried (a webhook
    down at 5:00 is not silent until tomorrow)."""

    daily_run_cron: str = "0 5 * * *"
    daily_run_timezone: str = "UTC"
    alerts_cron: str = "*/30 * * * *"


def daily_run_settings(settings: Settings) -> ScheduleSettings:
    """``[schedules]`` with defaults, validated (the message names the key)."""
    out = read_section(settings, "schedules", ScheduleSettings)
    check_timezone(out.daily_run_timezone, "schedules", "daily_run_timezone")
    return out


def build_schedules(home: str | None = None) -> list[dg.ScheduleDefinition]:
    """The schedules for a home folder; times come from its shelfwise.toml."""
    settings = load_settings(home)
    rec = reconciliation_settings(settings)
    daily = daily_run_settings(settings)
    try:
        alert_runs = dg.ScheduleDefinition(
            name="alert_deliveries",
            job=alerts_job,
            cron_schedule=daily.alerts_cron,
            execution_timezone=daily.daily_run_timezone,
            description=(
                "Evaluate the alert rules, deliver what is owed to every sink (a sink that was "
                "down gets its backlog) and publish the snapshot ([schedules] alerts_cron)."
            ),
        )
        daily_run = dg.ScheduleDefinition(
            name="daily_run",
            job=all_assets_job,
            cron_schedule=daily.daily_run_cron,
            execution_timezone=daily.daily_run_timezone,
            description=(
                "The whole day's run: ingest the night's files, inventory, forecast, "
                "replenishment suggestions, alerts, KPIs and the dashboards' snapshot "
                "([schedules] daily_run_cron / daily_run_timezone)."
            ),
        )
    except dg.DagsterInvalidDefinitionError as exc:
        raise ValueError(
            f"shelfwise.toml [schedules] daily_run_cron = {daily.daily_run_cron!r}, "
            f"alerts_cron = {daily.alerts_cron!r}: not a cron expression "
            f"(e.g. '0 5 * * *'): {exc}"
        ) from exc
    return [
        dg.ScheduleDefinition(
            name="daily_reconciliation",
            job=reconciliation_job,
            cron_schedule=rec.schedule_cron,
            execution_timezone=rec.schedule_timezone,
            description=(
                "Rebuild the movement ledger from core, reconcile every snapshot day and check "
                "inventory record accuracy ([reconciliation] schedule_cron / schedule_timezone)."
            ),
        ),
        daily_run,
        alert_runs,
    ]


SCHEDULES = build_schedules()
