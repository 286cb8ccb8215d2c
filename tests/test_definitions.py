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
