"""Schedules: what runs by the clock."""

from __future__ import annotations

import dagster as dg

from assets.inventory.config import reconciliation_settings
from assets.settings import load_settings
from pipelines.jobs import reconciliation_job


def build_schedules(home: str | None = None) -> list[dg.ScheduleDefinition]:
    """The schedules for a home folder; times come from its shelfwise.toml."""
    rec = reconciliation_settings(load_settings(home))
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
    ]


SCHEDULES = build_schedules()
