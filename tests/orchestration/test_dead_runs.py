"""A run whose process died must not block the runs after it (issue #20, item 1).

Before: the dead run kept the only slot of the "warehouse" pool, and the next run spun at
99 % CPU logging "Step blocked by limit for pool warehouse", forever, deaf to SIGTERM.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import dagster as dg
import pytest
from dagster._core.storage.dagster_run import DagsterRun
from orchestration_kit import (
    init_instance,
    instance,
    kill9,
    newest_run,
    run,
    run_status,
    start,
    wait_for,
    wait_for_step,
)

# (pipelines.runs is imported inside the tests, so that the first one runs on code without it)


def run_tags() -> dict[str, str]:
    from pipelines.runs import run_tags as tags

    return tags()


def test_a_run_killed_during_ingest_does_not_block_the_next_one(home):
    first = start(home, "ingest")
    dead_run = wait_for_step(home, "ingest_inbox", first, timeout=300)
    time.sleep(1.0)  # inside the step: it holds the warehouse slot
    kill9(first)

    result, _ = run(home, "ingest", timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    assert run_status(home, dead_run) == dg.DagsterRunStatus.FAILURE
    assert f"run {dead_run} had died" in result.stderr
    with instance(home) as inst:
        assert not inst.event_log_storage.get_concurrency_info("warehouse").claimed_slots


def _holder_run(home, tags: dict[str, str], *, claim_slot: bool = True) -> str:
    """A STARTED run of another process that holds the warehouse slot."""
    init_instance(home)
    with instance(home) as inst:
        holder = inst.add_run(DagsterRun(job_name="ingest", status=dg.DagsterRunStatus.STARTED,
                                         tags=tags))
        if claim_slot:
            inst.event_log_storage.initialize_concurrency_limit_to_default("warehouse")
            claim = inst.event_log_storage.claim_concurrency_slot("warehouse", holder.run_id,
                                                                  "ingest_inbox")
            assert claim.is_claimed
    return holder.run_id


def _exited_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_free_dead_runs_fails_the_run_of_a_gone_process_and_frees_its_slot(home):
    from pipelines.runs import PID_TAG, free_dead_runs

    tags = {**run_tags(), PID_TAG: str(_exited_pid())}
    dead = _holder_run(home, tags)
    alive = _holder_run(home, run_tags(), claim_slot=False)  # this test's own process
    with instance(home) as inst:
        assert free_dead_runs(inst) == [dead]
        assert inst.get_run_by_id(dead).status == dg.DagsterRunStatus.FAILURE
        assert inst.get_run_by_id(alive).status == dg.DagsterRunStatus.STARTED
        assert not inst.event_log_storage.get_concurrency_info("warehouse").claimed_slots


def test_a_recycled_pid_does_not_keep_a_dead_run_alive(home):
    from pipelines.runs import PID_STARTED_TAG, free_dead_runs

    # the pid now belongs to this process, but it started long after the run's process
    tags = {**run_tags(), PID_STARTED_TAG: "1000.00"}
    dead = _holder_run(home, tags)
    with instance(home) as inst:
        assert free_dead_runs(inst) == [dead]


def test_a_step_blocked_by_a_live_run_gives_up_naming_it(home):
    (home / "shelfwise.toml").write_text("pool_wait_seconds = 5\n")
    holder = _holder_run(home, run_tags())  # held by this (live) test process
    result, _ = run(home, "ingest", timeout=240)
    assert result.returncode != 0
    assert f"run {holder}" in result.stderr and f"kill {os.getpid()}" in result.stderr
    assert "gave up after waiting 5 s" in result.stderr
    blocked = newest_run(home, exclude={holder})
    assert blocked.status == dg.DagsterRunStatus.FAILURE
    with instance(home) as inst:
        info = inst.event_log_storage.get_concurrency_info("warehouse")
        assert {s.run_id for s in info.claimed_slots} == {holder}
        assert not [p for p in info.pending_steps if p.run_id == blocked.run_id]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_blocked_run_stops_on_a_signal_within_seconds(home, signum):
    holder = _holder_run(home, run_tags())
    proc = start(home, "ingest")

    with instance(home) as polled:  # one instance for every poll (see wait_for_step)
        def waiting():
            run_ = newest_run(home, {holder}, polled)
            if run_ is None:
                return None
            info = polled.event_log_storage.get_concurrency_info("warehouse")
            return (run_.run_id if any(p.run_id == run_.run_id for p in info.pending_steps)
                    else None)

        blocked = wait_for(waiting, 300, "the run to wait for the warehouse slot", proc)
    os.kill(proc.pid, signum)
    started = time.monotonic()
    proc.wait(timeout=30)
    assert time.monotonic() - started < 10
    assert proc.returncode == 128 + signum
    assert run_status(home, blocked) == dg.DagsterRunStatus.FAILURE
    with instance(home) as inst:
        info = inst.event_log_storage.get_concurrency_info("warehouse")
        assert not [p for p in info.pending_steps if p.run_id == blocked]
