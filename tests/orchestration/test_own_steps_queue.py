"""A run's own steps queue for the warehouse slot; that is not "blocked by another run".

Before: the in-process executor marks every ready step of a run as pending while one of its
steps holds the only slot, and the run guard counted that as waiting for another run. Any run
longer than ``pool_wait_seconds`` (600 s) with steps ready side by side was failed with
"another run holds its only slot" on a home where no other run existed (a demo under load).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import dagster as dg
from dagster._core.storage.dagster_run import DagsterRun
from orchestration_kit import init_instance, instance

REPO = Path(__file__).resolve().parents[2]

GUARDED_RUN = textwrap.dedent("""
    import sys, time
    import dagster as dg
    from pipelines.runs import RunGuard
    run_id, dagster_home = sys.argv[1], sys.argv[2]
    with dg.DagsterInstance.from_config(dagster_home) as inst:
        with RunGuard(inst, run_id, wait_seconds=1.0) as guard:
            time.sleep(6)  # the run's main thread, inside its step, well past the wait
        print("blocked:", guard.blocked_message)
""")


def _run_with_steps(home, other_holds: bool) -> str:
    """A STARTED run with one step holding the warehouse slot (its own, or another live
    run's) and one of its steps pending behind it."""
    init_instance(home)
    with instance(home) as inst:
        storage = inst.event_log_storage
        storage.initialize_concurrency_limit_to_default("warehouse")
        this = inst.add_run(DagsterRun(job_name="shelfwise_all",
                                       status=dg.DagsterRunStatus.STARTED))
        holder = this
        if other_holds:
            holder = inst.add_run(DagsterRun(job_name="ingest",
                                             status=dg.DagsterRunStatus.STARTED))
        assert storage.claim_concurrency_slot("warehouse", holder.run_id,
                                              "ingest_inbox").is_claimed
        assert not storage.claim_concurrency_slot("warehouse", this.run_id,
                                                  "inventory_position").is_claimed
        return this.run_id


def _guard(home, run_id: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", GUARDED_RUN, run_id, str(home / "dagster")],
                          capture_output=True, text=True, timeout=120, cwd=REPO)


def test_steps_queued_behind_their_own_run_are_not_blocked(home):
    run_id = _run_with_steps(home, other_holds=False)
    result = _guard(home, run_id)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "blocked: None" in result.stdout


def test_a_step_queued_behind_another_live_run_still_gives_up(home):
    run_id = _run_with_steps(home, other_holds=True)
    result = _guard(home, run_id)
    assert result.returncode != 0
    assert "RunBlockedError" in result.stderr or "gave up after waiting" in result.stderr
