"""A re-run, and a re-run after kills at random moments, equal a clean run (issue #20, items
6 and 9).

Before: `lead_times` read `marts.inventory_position` without declaring it, so a re-run computed
lead times (and one more suggestion) from the previous run's position; and a run killed while
holding the warehouse slot blocked every later run.

The clean run, the re-run and the killed runs all run the job `shelfwise_all` through
:data:`RUN`, the command a user types.
"""

from __future__ import annotations

import random
import shutil
import time

import pytest
from orchestration_kit import (
    HISTORY_TABLES,
    kill9,
    run,
    start,
    traced_tables,
    undeclared_reads,
    wait_for_step,
    warehouse_checksums,
)

from assets.warehouse import SQL_TRACE_ENV
from pipelines.definitions import build_definitions

pytestmark = pytest.mark.integration

# the command that runs the whole graph (job shelfwise_all) on what the home holds
RUN = ("demo", "--keep")

# where the crash test kills the run: (what, a step of it, at most how many seconds into the
# step), in the order the job reaches them; publish is short and last, so it gets little time
KILL_POINTS = [
    ("ingest", "ingest_inbox", 1.5),
    ("a mart", "marts__stock_ledger", 1.0),
    ("forecasting", "demand_forecast", 1.5),
    ("alerts", "ops__alert_state", 0.5),
    ("publish", "publish_serving_snapshot", 0.3),
]


@pytest.fixture(scope="module")
def clean_run(tiny_inbox, tmp_path_factory):
    """The whole graph run once on a fresh copy of the tiny inbox: home, checksums, seconds."""
    home = tmp_path_factory.mktemp("clean") / "home"
    shutil.copytree(tiny_inbox, home)
    trace = home.parent / "trace.jsonl"
    result, seconds = run(home, *RUN, timeout=900, env={SQL_TRACE_ENV: str(trace)})
    assert result.returncode == 0, result.stderr[-3000:]
    return {"home": home, "checksums": warehouse_checksums(home / "warehouse" / "shelfwise.duckdb"),
            "seconds": seconds, "trace": trace}


def _differences(expected: dict, actual: dict) -> dict:
    return {t: (expected.get(t), actual.get(t)) for t in sorted(set(expected) | set(actual))
            if expected.get(t) != actual.get(t)}


def test_a_rerun_equals_the_clean_run_and_every_asset_declares_what_it_reads(clean_run,
                                                                              tmp_path):
    home = tmp_path / "home"
    shutil.copytree(clean_run["home"], home)
    trace = tmp_path / "trace.jsonl"
    result, _ = run(home, *RUN, timeout=900, env={SQL_TRACE_ENV: str(trace)})
    assert result.returncode == 0, result.stderr[-3000:]

    # on the re-run every table exists before its readers run: the trace shows every read
    traced = traced_tables(trace)
    assert {"ingest_inbox", "marts__lead_times", "publish_serving_snapshot"} <= set(traced)
    assert "marts.inventory_position" in traced["marts__lead_times"][0]
    assert undeclared_reads(build_definitions(str(home)), [clean_run["trace"], trace]) == {}
    rerun = warehouse_checksums(home / "warehouse" / "shelfwise.duckdb")
    assert _differences(clean_run["checksums"], rerun) == {}, (
        f"tables other than the history tables {sorted(HISTORY_TABLES)} differ")
    assert clean_run["checksums"]["marts.replenishment_suggestions"][0] > 0


def test_runs_killed_at_random_moments_leave_nothing_that_a_rerun_does_not_repair(
        clean_run, tmp_path):
    rng = random.Random(20)
    home = tmp_path / "home"
    shutil.copytree(clean_run["home"], home)
    killed: set[str] = set()
    for what, step, within in KILL_POINTS:
        proc = start(home, *RUN)
        run_id = wait_for_step(home, step, proc, timeout=900, exclude=killed)
        time.sleep(rng.uniform(0.0, within))  # somewhere inside the step
        assert proc.poll() is None, f"the run ended before it could be killed during {what}"
        kill9(proc)
        killed.add(run_id)

    result, seconds = run(home, *RUN, timeout=max(600, 3 * clean_run["seconds"]))
    assert result.returncode == 0, result.stderr[-3000:]
    assert seconds < 3 * clean_run["seconds"]
    rerun = warehouse_checksums(home / "warehouse" / "shelfwise.duckdb")
    assert _differences(clean_run["checksums"], rerun) == {}
    serving = home / "serving"
    assert not [p.name for p in serving.iterdir() if p.name != "serving.duckdb"]
