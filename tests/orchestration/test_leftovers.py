"""What a killed run left behind is removed by the next run (issue #20, items 1 and 8).

Before: a publish killed mid-copy left `.serving.duckdb.<pid>.<hex>.tmp` (50 MB on the demo)
and its `.wal` in <home>/serving forever.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

from assets.settings import load_settings


def _exited_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_the_next_run_removes_what_killed_runs_left_and_keeps_live_work(tmp_path, monkeypatch):
    from pipelines.commands.core import run_job

    settings = load_settings(tmp_path / "home")
    settings.inbox.mkdir(parents=True)
    serving = settings.serving_path.parent
    serving.mkdir(parents=True)
    dead, live = _exited_pid(), os.getppid()  # pytest's parent: alive while the test runs
    dead_tmp = serving / f".serving.duckdb.{dead}.{uuid.uuid4().hex}.tmp"
    dead_wal = serving / f"{dead_tmp.name}.wal"
    live_tmp = serving / f".serving.duckdb.{live}.{uuid.uuid4().hex}.tmp"
    feed = settings.outbox / "channel_feeds" / ".amazon.csv.k2j3h4.tmp"
    spill = settings.warehouse_path.parent / "tmp" / f"duckdb-{dead}"
    for path in (dead_tmp, dead_wal, live_tmp, feed, spill / "duckdb_temp_storage-0.tmp"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half written")
    served = settings.serving_path
    served.write_bytes(b"the snapshot the dashboards read")

    monkeypatch.setenv("DAGSTER_HOME", str(settings.dagster_home))  # run_job points it there
    assert run_job(settings, "ingest", raise_on_error=False).success

    assert not dead_tmp.exists() and not dead_wal.exists() and not feed.exists()
    assert not spill.exists()
    assert live_tmp.exists(), "a live process's temp file is its work in progress"
    assert served.read_bytes() == b"the snapshot the dashboards read"
