"""Helpers for the orchestration tests: start shelfwise as a real process, watch its run in the
home's Dagster instance, kill it, and fingerprint the warehouse."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import duckdb
from dagster._core.events import DagsterEventType

# the tiny scale every orchestration test generates: a whole graph run in well under a minute
TINY = ["--skus", "12", "--warehouses", "1", "--channels", "2", "--days", "60"]


def shelfwise(home: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "pipelines.cli", "--home", str(home), *args]


def start(home: Path, *args: str, log: Path | None = None,
          env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start ``shelfwise --home home args`` in a session of its own (so the test can signal it
    and its children as a group, as a terminal would)."""
    init_instance(home)
    log = log or home.parent / f"{home.name}-{'-'.join(args)[:40]}.log"
    out = open(log, "ab")  # noqa: SIM115 - closed with the process by the caller's wait
    return subprocess.Popen(shelfwise(home, *args), stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True, env={**os.environ, **(env or {})})


def run(home: Path, *args: str, timeout: float,
        env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess, float]:
    """Run shelfwise to its end (killed after ``timeout`` s); returns (result, seconds)."""
    started = time.monotonic()
    proc = subprocess.Popen(shelfwise(home, *args), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env={**os.environ, **(env or {})})
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise AssertionError(f"shelfwise {' '.join(args)} still running after {timeout} s "
                             f"(stuck?)\n--- stderr tail ---\n{err[-3000:]}") from None
    return (subprocess.CompletedProcess(proc.args, proc.returncode, out, err),
            time.monotonic() - started)


def init_instance(home: Path) -> None:
    """Create the home's Dagster storage before a shelfwise process and this test use it at
    once: two processes creating the same fresh SQLite storage race on its schema version."""
    target = home / "dagster" / "dagster.yaml"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(__file__).resolve().parents[2] / "dagster.yaml", target)
    with instance(home) as inst:
        inst.get_runs(limit=1)
        inst.event_log_storage.get_concurrency_info("warehouse")


def instance(home: Path) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_config(str(home / "dagster"))


def wait_for(predicate: Callable[[], object], timeout: float, what: str,
             proc: subprocess.Popen | None = None, poll: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"process ended (rc {proc.returncode}) before {what}")
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def newest_run(home: Path, exclude: set[str] = frozenset(),
               inst: dg.DagsterInstance | None = None) -> dg.DagsterRun | None:
    """The newest run of the home's instance not in ``exclude`` (``inst``: an instance of the
    home already open, for polling)."""
    if inst is None:
        if not (home / "dagster" / "dagster.yaml").exists():
            return None
        with instance(home) as opened:
            return newest_run(home, exclude, opened)
    runs = [r for r in inst.get_runs(limit=5) if r.run_id not in exclude]
    return runs[0] if runs else None


def wait_for_step(home: Path, step_key: str, proc: subprocess.Popen, timeout: float,
                  exclude: set[str] = frozenset()) -> str:
    """Wait until the newest run (not in ``exclude``) has started ``step_key``: its run id.

    One instance serves every poll: opening one costs about 20 times a poll's queries, CPU
    the polled run would otherwise lose on a 2-core machine."""
    with instance(home) as inst:
        def started():
            run_ = newest_run(home, exclude, inst)
            if run_ is None:
                return None
            steps = {e.step_key for e in inst.all_logs(run_.run_id,
                                                        of_type=DagsterEventType.STEP_START)}
            return run_.run_id if step_key in steps else None

        return wait_for(started, timeout, f"step {step_key} to start", proc)


def kill9(proc: subprocess.Popen) -> None:
    """kill -9 the process and everything in its session, as an out-of-memory kill would."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def run_status(home: Path, run_id: str) -> dg.DagsterRunStatus:
    with instance(home) as inst:
        return inst.get_run_by_id(run_id).status


# what records when or how often something ran, not what the data says: it legitimately
# differs between a clean run and a re-run. Only core and marts are compared (every ops table
# is a manifest, log or history); within them:
HISTORY_TABLES = {
    "marts.quality_results": "one row per check per run (run_at, run_id): the checks' log",
}
HISTORY_COLUMNS = {
    "marts.alert_status": {"last_seen_at"},  # when the alert was last evaluated open
}


DOUBLES = ("DOUBLE", "FLOAT", "REAL")


def warehouse_checksums(warehouse: Path, *, skip_tables: dict[str, str] | None = None,
                        skip_columns: dict[str, set[str]] | None = None,
                        doubles: bool = True) -> dict[str, tuple[int, int]]:
    """(rows, order-independent hash of the rows) of every core and marts table but the history
    tables and columns (and ``skip_tables`` / ``skip_columns``: ``"*"`` as the table means every
    table). Doubles are rounded to 9 significant digits first: a parallel SUM may differ in its
    last bit. ``doubles=False`` leaves doubles out of the row hash (compare their sums)."""
    skip_tables = {**HISTORY_TABLES, **(skip_tables or {})}
    skip_columns = {**HISTORY_COLUMNS, **(skip_columns or {})}
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = con.execute("""SELECT table_schema, table_name FROM information_schema.tables
                                WHERE table_schema IN ('core', 'marts') ORDER BY 1, 2""").fetchall()
        sums = {}
        for schema, table in tables:
            if f"{schema}.{table}" in skip_tables:
                continue
            cols = [(c, t) for c, t in con.execute(
                """SELECT column_name, data_type FROM information_schema.columns
                   WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position""",
                [schema, table]).fetchall()
                if c not in skip_columns.get(f"{schema}.{table}", ())
                and c not in skip_columns.get("*", ())]
            exprs = [f"printf('%.9g', {_q(c)})" if t in DOUBLES else _q(c)
                     for c, t in cols if doubles or t not in DOUBLES] or ["1"]
            row = ", ".join(exprs)
            sums[f"{schema}.{table}"] = con.execute(
                f"SELECT count(*), coalesce(sum(hash({row})::HUGEINT), 0) "
                f"FROM {schema}.{_q(table)}").fetchone()
        return sums
    finally:
        con.close()


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# ---- which tables each step read and wrote, from a run traced with SHELFWISE_SQL_TRACE ----

_LAYERS = ("raw", "quarantine", "core", "marts", "ops")
_NAME = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_]*)'
_TABLE = rf"({_NAME})\s*\.\s*({_NAME})"
_READ = re.compile(rf"\b(?:FROM|JOIN)\s+{_TABLE}", re.IGNORECASE)
_WRITE = re.compile(
    rf"\b(?:CREATE\s+(?:OR\s+REPLACE\s+)?(?:TABLE|VIEW)|INSERT\s+(?:OR\s+\w+\s+)?INTO|"
    rf"DELETE\s+FROM|UPDATE|DROP\s+(?:TABLE|VIEW)(?:\s+IF\s+EXISTS)?|ALTER\s+TABLE)\s+{_TABLE}",
    re.IGNORECASE)
# the schema every read-write connection ensures exists: not a write of those tables' data
_ENSURE = re.compile(r"\bIF\s+NOT\s+EXISTS\b", re.IGNORECASE)


def _unquote(name: str) -> str:
    return name[1:-1].replace('""', '"') if name.startswith('"') else name.lower()


def _strip(sql: str) -> str:
    """SQL without comments and string literals (a table name in a message is not a read)."""
    sql = re.sub(r"--[^\n]*", " ", sql)
    sql = re.sub(r"/\*.*?\*/", " ", sql, flags=re.DOTALL)
    return re.sub(r"'(?:[^']|'')*'", "''", sql)


def _tables(pattern: re.Pattern, sql: str) -> set[str]:
    found = set()
    for schema, table in pattern.findall(sql):
        schema = _unquote(schema)
        if schema in _LAYERS:
            found.add(f"{schema}.{_unquote(table)}")
    return found


def traced_tables(trace: Path) -> dict[str, tuple[set[str], set[str]]]:
    """step key -> (tables read, tables written), from a SHELFWISE_SQL_TRACE file."""
    steps: dict[str, tuple[set[str], set[str]]] = {}
    for line in trace.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if not entry["step"]:
            continue
        reads, writes = steps.setdefault(entry["step"], (set(), set()))
        sql = _strip(entry["sql"])
        if not _ENSURE.search(sql):
            writes |= _tables(_WRITE, sql)
        reads |= _tables(_READ, sql)
    return {step: (reads - writes, writes) for step, (reads, writes) in steps.items()}


def undeclared_reads(defs: dg.Definitions, traces: list[Path]) -> dict[str, set[str]]:
    """Per asset step: the tables it read that another asset step builds, but that it does not
    declare (``deps``). A table with an asset key of its own must be a direct dep; a table
    without one (ops.ingested_files, written by ingest_inbox) must come from an upstream step."""
    graph = defs.resolve_asset_graph()
    step_keys: dict[str, set[dg.AssetKey]] = {}
    for assets_def in graph.assets_defs:
        if assets_def.is_executable and assets_def.keys:
            step_keys.setdefault(assets_def.node_def.name, set()).update(assets_def.keys)
    traced: dict[str, tuple[set[str], set[str]]] = {}
    for trace in traces:
        for step, (reads, writes) in traced_tables(trace).items():
            old = traced.setdefault(step, (set(), set()))
            old[0].update(reads)
            old[1].update(writes)
    writers: dict[str, set[str]] = {}
    for step, (_, writes) in traced.items():
        for table in writes:
            writers.setdefault(table, set()).add(step)
    missing: dict[str, set[str]] = {}
    for step, (reads, _) in traced.items():
        if step not in step_keys:
            continue  # an asset check: it reads what it checks, and writes nothing
        own = step_keys[step]
        direct = {parent for key in own for parent in graph.get(key).parent_keys} - own
        upstream = set(graph.upstream_key_iterator(next(iter(own))))
        for key in own:
            upstream |= set(graph.upstream_key_iterator(key))
        for table in reads:
            key = dg.AssetKey(table.split("."))
            if key in own:
                continue
            if graph.has(key):
                if key not in direct:
                    missing.setdefault(step, set()).add(table)
            else:
                built_by = {k for w in writers.get(table, ()) if w != step
                            for k in step_keys.get(w, ())}
                if built_by and not built_by & upstream:
                    missing.setdefault(step, set()).add(table)
    return missing
