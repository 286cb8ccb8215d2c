"""The code location loads as `dagster dev` / `dagster definitions validate` would load it."""

import dagster as dg

from pipelines.definitions import build_definitions


def test_definitions_validate_with_unique_names(tmp_path):
    defs = build_definitions(str(tmp_path))
    # the same validation `dagster definitions validate` runs: unique op/job names, resolvable deps
    dg.Definitions.validate_loadable(defs)
    jobs = {job.name for job in defs.resolve_all_job_defs()}
    assert {"shelfwise_all", "ingest", "inventory_reconciliation"} <= jobs
    assert defs.resolve_schedule_def("daily_reconciliation").job_name == "inventory_reconciliation"
    assert defs.resolve_sensor_def("inbox_sensor").job_name == "ingest"
    assert defs.resolve_schedule_def("daily_run").job_name == "shelfwise_all"
    assert defs.resolve_schedule_def("alert_deliveries").job_name == "alerts"


def test_daily_run_schedule_times_come_from_the_home(tmp_path):
    import pytest

    from pipelines.schedules import build_schedules

    (tmp_path / "shelfwise.toml").write_text(
        '[schedules]\ndaily_run_cron = "30 4 * * 1-6"\ndaily_run_timezone = "Europe/Berlin"\n'
    )
    daily = {s.name: s for s in build_schedules(str(tmp_path))}["daily_run"]
    assert (daily.cron_schedule, daily.execution_timezone) == ("30 4 * * 1-6", "Europe/Berlin")
    for bad, named in (('daily_run_cron = "61 5 * * *"', "daily_run_cron"),
                       ('daily_run_timezone = "Mars/Olympus"', "daily_run_timezone"),
                       ('alerts_cron = "every hour"', "alerts_cron"),
                       ('at = "05:00"', r"unknown key\(s\) at")):
        (tmp_path / "shelfwise.toml").write_text(f"[schedules]\n{bad}\n")
        with pytest.raises(ValueError, match=named):
            build_schedules(str(tmp_path))
