"""Pipeline benchmark: the whole graph (job shelfwise_all) on a generated home, end to end.

    ./dev bench pipeline                     # the demo home: 500 SKUs, 3 warehouses, 2 years
    ./dev bench pipeline --skus 10000        # the medium set (slow: tens of minutes; its
                                             # inbox alone takes ~10 min of CPU to generate,
                                             # cached afterwards: run it on a quiet machine)
    ./dev bench pipeline --skus 60 --days 120   # a quick look

Steps:
1. generate the inbox once (cached under bench/.data/, reused while the flags match);
2. copy it into a fresh home and run ``shelfwise --home H demo --keep`` (every asset, in one
   process, as a user runs it), sampling the resident memory of that process and all its
   children every 0.2 s: **peak RSS of the process tree** and wall time;
3. the slowest steps, from the run's Dagster event log, each with the peak RSS of the samples
   taken while it ran (steps run one at a time: the in-process executor), so the step that
   sets the peak is named.

DuckDB runs under shelfwise's memory limit (``duckdb_memory_limit``; default min(4 GiB, 40 %
of RAM), ``--memory-limit`` overrides it for this run). Target (issue #20): peak RSS of the
tree ≤ 4 GiB on the medium set. Prints a table and merges the result, keyed by scale, into
bench/results/pipeline.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import REPO, RESULTS, generated_inbox, machine, measure, table, write_json

SAMPLE_SECONDS = 0.2


def _tree_rss(proc: psutil.Process) -> int:
    """Resident bytes of ``proc`` and every process below it, now."""
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass  # ended between the listing and the reading
    return total


def run_measured(cmd: list[str], log: Path) -> tuple[dict, list[tuple[float, int]]]:
    """Run ``cmd``, sampling its process tree's RSS: wall seconds and peak RSS (MiB), and the
    samples as ``(unix time, bytes)``."""
    started = time.perf_counter()
    samples: list[tuple[float, int]] = []
    with open(log, "wb") as out:
        child = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)
        proc = psutil.Process(child.pid)
        while child.poll() is None:
            try:
                samples.append((time.time(), _tree_rss(proc)))
            except psutil.NoSuchProcess:
                break
            time.sleep(SAMPLE_SECONDS)
        child.wait()
    wall = time.perf_counter() - started
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed (rc {child.returncode}); see {log}")
    peak = max((rss for _, rss in samples), default=0)
    return {"wall_s": wall, "peak_rss_mib": peak / 2**20}, samples


def step_peaks(steps: list[tuple[str, float, float]],
               samples: list[tuple[float, int]]) -> dict[str, float]:
    """Peak RSS (MiB) of the samples taken between each step's start and end (unix times);
    a step shorter than the sampling interval gets the first sample after its start."""
    peaks = {}
    for key, start, end in steps:
        inside = [rss for t, rss in samples if start <= t <= end]
        if not inside:
            inside = [rss for t, rss in samples if t >= start][:1]
        peaks[key] = max(inside, default=0) / 2**20
    return peaks


_STEPS = r"""
import json
from pathlib import Path
import dagster as dg
from dagster._core.events import DagsterEventType
with dg.DagsterInstance.from_config({dagster!r}) as inst:
    run = inst.get_runs(filters=dg.RunsFilter(job_name="shelfwise_all"), limit=1)[0]
    started, steps = {{}}, []
    for e in inst.all_logs(run.run_id):
        kind = e.dagster_event.event_type if e.dagster_event else None
        if kind == DagsterEventType.STEP_START:
            started[e.step_key] = e.timestamp
        elif kind in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
            steps.append((e.step_key, started.pop(e.step_key, e.timestamp), e.timestamp))
Path({out!r}).write_text(json.dumps(steps))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skus", type=int, default=500)
    ap.add_argument("--warehouses", type=int, default=3)
    ap.add_argument("--channels", type=int, default=6)
    ap.add_argument("--days", type=int, default=730)
    ap.add_argument("--end", default="2026-11-22")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--memory-limit", default="",
                    help='DuckDB memory limit for this run (e.g. "2GB"; default: shelfwise\'s)')
    ap.add_argument("--data", type=Path, default=REPO / "bench" / ".data")
    ap.add_argument("--top", type=int, default=8, help="how many of the slowest steps to list")
    args = ap.parse_args()

    tag, root, inbox = generated_inbox(args)  # the same cache for every benchmark
    files = [p for p in inbox.rglob("*") if p.is_file()]
    size_mib = sum(p.stat().st_size for p in files) / 2**20

    home = root / "pipeline-home"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    # hard links: the run reads the cached inbox without copying it (and ingest refuses links)
    shutil.copytree(inbox, home / "inbox", copy_function=os.link)
    if args.memory_limit:
        (home / "shelfwise.toml").write_text(f'duckdb_memory_limit = "{args.memory_limit}"\n')
    from assets.warehouse import default_memory_limit, default_threads

    limit = args.memory_limit or default_memory_limit()
    print(f"running the whole graph on {tag} (DuckDB memory limit {limit}, "
          f"{default_threads()} threads) ...", file=sys.stderr)
    whole, samples = run_measured([sys.executable, "-m", "pipelines.cli", "--home", str(home),
                                   "demo", "--keep"], home / "demo.log")
    steps_file = home / "steps.json"
    measure(_STEPS.format(dagster=str(home / "dagster"), out=str(steps_file)), label="read steps")
    spans = json.loads(steps_file.read_text())
    peaks = step_peaks(spans, samples)
    steps = sorted(((key, end - start, peaks[key]) for key, start, end in spans),
                   key=lambda s: -s[1])
    highest = max(steps, key=lambda s: s[2], default=None)

    rows = [["whole graph (shelfwise demo --keep)", whole["wall_s"], whole["peak_rss_mib"],
             "<= 4096 MiB" if args.skus == 10_000 else "-"]]
    rows += [[f"  step {key}", seconds, peak, ""] for key, seconds, peak in steps[: args.top]]
    if highest and highest not in steps[: args.top]:
        rows.append([f"  highest RSS: step {highest[0]}", highest[1], highest[2], ""])
    print(f"\ninbox: {len(files):,} files, {size_mib:,.0f} MiB; {len(steps)} steps; "
          f"DuckDB memory limit {limit}\n")
    print(table(["what", "wall s", "peak RSS MiB (tree)", "target"], rows))

    result = {
        "machine": machine(),
        "params": vars(args) | {"data": str(args.data)},
        "inbox": {"files": len(files), "mib": size_mib},
        "duckdb_memory_limit": limit,
        "duckdb_threads": default_threads(),
        "whole_graph": whole,
        "rss_le_4gib": whole["peak_rss_mib"] <= 4096,
        "steps": [{"step": key, "wall_s": seconds, "peak_rss_mib": peak}
                  for key, seconds, peak in steps],
    }
    # one file, one entry per scale: the demo beside the medium set
    path = RESULTS / "pipeline.json"
    existing = json.loads(path.read_text()) if path.exists() else {}
    existing.setdefault("runs", {})[tag] = result
    print(f"\nwrote {write_json('pipeline', existing)}")


if __name__ == "__main__":
    main()
