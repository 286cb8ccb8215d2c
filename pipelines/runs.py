"""Runs that died, slots they held, files they left: found and cleared before the next run.

A shelfwise run executes in the process of the command that started it (``run_job``). Every
step that writes the warehouse holds the one slot of the Dagster pool ``warehouse`` while it
runs (dagster.yaml). A process killed mid-step (kill -9, out of memory, power cut) cannot give
its slot back, and Dagster itself never notices (run monitoring needs the daemon, which only
``shelfwise ui`` starts): every later step would wait for that slot forever.

So each run records its process in its run tags (:data:`PID_TAG`, :data:`HOST_TAG`,
:data:`PID_STARTED_TAG`), and before a run starts (and while one of its steps waits for the
pool) :func:`free_dead_runs` marks every run whose process is gone as failed and frees its
slots. Runs without these tags (started from the Dagster UI) are left to Dagster.

:func:`remove_leftovers` deletes what a killed run left behind: a half-written serving
snapshot, outbox temp files, DuckDB spill folders of dead processes.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import select
import shutil
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import psutil

from assets.settings import Settings
from assets.warehouse import WAREHOUSE_POOL, spill_folder

PID_TAG = "shelfwise/pid"
HOST_TAG = "shelfwise/host"
PID_STARTED_TAG = "shelfwise/pid_started"

# statuses of a run that has not ended: its process should be alive
UNFINISHED = [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING,
              dg.DagsterRunStatus.CANCELING, dg.DagsterRunStatus.NOT_STARTED]


def _process_started(pid: int) -> float | None:
    """The start time of process ``pid`` (seconds since the epoch), None when it is gone."""
    try:
        return psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
        return None


def run_tags() -> dict[str, str]:
    """Tags that let a later command tell whether this process still runs."""
    pid = os.getpid()
    return {PID_TAG: str(pid), HOST_TAG: socket.gethostname(),
            PID_STARTED_TAG: f"{_process_started(pid) or 0:.2f}"}


def process_alive(tags: dict[str, str]) -> bool | None:
    """Whether the process named in a run's tags still runs: True/False, or None when the run
    has no shelfwise tags or ran on another host (nothing can be said)."""
    if PID_TAG not in tags or tags.get(HOST_TAG) != socket.gethostname():
        return None
    started = _process_started(int(tags[PID_TAG]))
    if started is None:
        return False
    # a recycled pid belongs to a process that started later than the run's
    recorded = float(tags.get(PID_STARTED_TAG) or 0)
    return not recorded or abs(started - recorded) < 2.0


@dataclass(frozen=True)
class SlotHolder:
    """A run holding a pool slot: who, since when, and whether its process is known alive."""

    run_id: str
    job_name: str
    step_key: str
    pid: str | None
    alive: bool | None

    def describe(self) -> str:
        who = f"run {self.run_id} (job {self.job_name}, step {self.step_key}"
        who += f", pid {self.pid})" if self.pid else ", started outside shelfwise's CLI)"
        return who


def slot_holders(instance: dg.DagsterInstance, pool: str = WAREHOUSE_POOL,
                 *, exclude: str | None = None) -> list[SlotHolder]:
    """The runs that hold a slot of ``pool`` now, other than ``exclude``."""
    info = instance.event_log_storage.get_concurrency_info(pool)
    holders = []
    for slot in info.claimed_slots:
        if slot.run_id == exclude:
            continue
        run = instance.get_run_by_id(slot.run_id)
        tags = dict(run.tags) if run else {}
        holders.append(SlotHolder(slot.run_id, run.job_name if run else "?", slot.step_key,
                                  tags.get(PID_TAG), process_alive(tags)))
    return holders


def free_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark every unfinished run whose process is gone as failed and free its pool slots; free
    the slots still held by runs that have ended. Returns the ids of the runs cleared."""
    cleared: list[str] = []
    storage = instance.event_log_storage
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=UNFINISHED)):
        if process_alive(dict(run.tags)) is not False:
            continue
        instance.report_run_failed(
            run, message=f"process {run.tags[PID_TAG]} that ran this job is gone (killed or "
                         "crashed); shelfwise marked the run failed and freed its pool slots")
        storage.free_concurrency_slots_for_run(run.run_id)
        cleared.append(run.run_id)
    # slots of a run that ended but did not give them back (it died while ending)
    for run_id in storage.get_concurrency_run_ids() | _claiming_run_ids(instance):
        run = instance.get_run_by_id(run_id)
        if run is None or run.is_finished:
            storage.free_concurrency_slots_for_run(run_id)
            if run_id not in cleared:
                cleared.append(run_id)
    return cleared


def _claiming_run_ids(instance: dg.DagsterInstance) -> set[str]:
    info = instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL)
    return {slot.run_id for slot in info.claimed_slots}


def live_runs(instance: dg.DagsterInstance, *, exclude: str | None = None) -> list[dg.DagsterRun]:
    """Unfinished runs whose process is alive or unknown (a UI run), other than ``exclude``."""
    return [run for run in instance.get_runs(filters=dg.RunsFilter(statuses=UNFINISHED))
            if run.run_id != exclude and process_alive(dict(run.tags)) is not False]


# <home>/serving/.serving.duckdb.<pid>.<hex>.tmp (and its .wal): assets/serving/snapshot.py
_SNAPSHOT_TMP = re.compile(r"^\..+\.(\d+)\.[0-9a-f]{32}\.tmp(\.wal)?$")


def remove_leftovers(settings: Settings) -> list[Path]:
    """Delete files a killed run left behind. Call only when no other shelfwise run is alive:
    a temp file of a live run is its work in progress.

    - ``<home>/serving/.serving.duckdb.<pid>.<hex>.tmp`` and ``.tmp.wal`` whose process is gone;
    - ``<home>/outbox/**/.<name>.<random>.tmp`` (outbox files are written to a temp name and
      renamed: a leftover temp file is never a file anyone should read);
    - ``<home>/warehouse/tmp/duckdb-<pid>/``, DuckDB spill folders of processes that are gone.
    """
    removed = [path for path in _files(settings.serving_path.parent, ".*.tmp*")
               if (match := _SNAPSHOT_TMP.match(path.name))
               and _process_started(int(match.group(1))) is None]
    removed += _files(settings.outbox, "**/.*.tmp")
    for path in removed:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    spills = spill_folder(settings.warehouse_path).parent
    for folder in (sorted(spills.glob("duckdb-*")) if spills.is_dir() else []):
        pid = folder.name.removeprefix("duckdb-")
        if pid.isdigit() and int(pid) != os.getpid() and _process_started(int(pid)) is None:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _files(folder: Path, pattern: str) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob(pattern) if p.is_file() and not p.is_symlink())


class RunBlockedError(RuntimeError):
    """A step waited longer than ``pool_wait_seconds`` for a slot another live run holds."""


class RunStopped(BaseException):
    """Raised in the main thread to end a run after SIGINT/SIGTERM. A BaseException, like
    KeyboardInterrupt, so that no step's ``except Exception`` swallows it."""


# seconds Dagster gets to stop at a step boundary after SIGINT/SIGTERM before the guard stops
# the process itself (a DuckDB query or a blocked step does not reach a boundary soon)
STOP_GRACE_SECONDS = 3.0
POLL_SECONDS = 1.0


class RunGuard:
    """Watches one run executing in this process's main thread, from a thread of its own.

    - SIGINT/SIGTERM: Dagster records the signal and stops at the next step boundary. If the
      run is still going :data:`STOP_GRACE_SECONDS` later (a step waiting for the pool, a long
      step), :class:`RunStopped` is raised in the main thread; if that does not end the run
      within as long again (the main thread is inside one long DuckDB statement), the guard
      marks the run failed, frees its slots, ends this process's children and exits with
      128 + the signal number.
    - A step of the run waiting for the ``warehouse`` pool: runs that died meanwhile are
      cleared; after ``wait_seconds`` the run is failed with :class:`RunBlockedError`, naming
      the run that holds the slot.

    Signals are seen through ``signal.set_wakeup_fd``, so a signal arriving while the main
    thread is inside a long C call (DuckDB) still reaches the guard at once.
    """

    def __init__(self, instance: dg.DagsterInstance, run_id: str, *, wait_seconds: float):
        self.instance = instance
        self.run_id = run_id
        self.wait_seconds = wait_seconds
        self.signals: list[int] = []
        self.blocked_message: str | None = None
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._pipe: tuple[int, int] | None = None
        self._old_wakeup = -1
        self._old_handlers: dict[int, object] = {}

    def __enter__(self) -> RunGuard:
        if threading.current_thread() is not threading.main_thread():
            return self  # signals are delivered to the main thread only: nothing to guard
        read_end, write_end = os.pipe()
        os.set_blocking(write_end, False)
        self._pipe = (read_end, write_end)
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._old_handlers[signum] = signal.getsignal(signum)
            if signal.getsignal(signum) in (signal.SIG_DFL, signal.SIG_IGN, None):
                # a Python-level handler is what makes the wakeup fd see the signal; Dagster
                # installs its own during the run and restores this one after
                signal.signal(signum, _raise_keyboard_interrupt)
        self._old_wakeup = signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
        self._thread = threading.Thread(target=self._watch, name="shelfwise-run-guard",
                                        daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._pipe is not None:
            signal.set_wakeup_fd(self._old_wakeup)
            for signum, handler in self._old_handlers.items():
                signal.signal(signum, handler)
            for fd in self._pipe:
                os.close(fd)

    # the watching thread

    def _watch(self) -> None:
        read_end = self._pipe[0]
        stop_at: float | None = None
        pending_since: float | None = None
        while not self._done.is_set():
            ready, _, _ = select.select([read_end], [], [], POLL_SECONDS)
            now = time.monotonic()
            if ready:
                received = [s for s in os.read(read_end, 64)
                            if s in (signal.SIGINT, signal.SIGTERM)]
                if received:
                    first = not self.signals
                    self.signals += received
                    stop_at = now + STOP_GRACE_SECONDS if first else now
            if self._done.is_set():
                return
            if stop_at is not None and now >= stop_at:
                signum = self.signals[-1]
                why = f"stopped by {signal.Signals(signum).name}"
                # out of Dagster's wait loop or a step's Python code at once; a DuckDB statement
                # returns to Python only when it ends: then the process is stopped from here
                if not self._interrupt_main(RunStopped, wait=STOP_GRACE_SECONDS):
                    self._hard_stop(why, 128 + signum)
                return
            if stop_at is None:
                pending_since = self._check_pool(now, pending_since)

    def _check_pool(self, now: float, pending_since: float | None) -> float | None:
        try:
            info = self.instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL)
        except Exception:  # noqa: BLE001 - storage busy: look again at the next poll
            return pending_since
        if not any(step.run_id == self.run_id for step in info.pending_steps):
            return None
        if all(slot.run_id == self.run_id for slot in info.claimed_slots):
            # queued behind a step of this very run (the in-process executor marks every ready
            # step pending while one runs): that is work, not another run blocking us
            return None
        if pending_since is None:
            return now
        with contextlib.suppress(Exception):
            free_dead_runs(self.instance)  # a holder that died while we waited
        if now - pending_since < self.wait_seconds:
            return pending_since
        holders = slot_holders(self.instance, exclude=self.run_id)
        named = "; ".join(h.describe() for h in holders) or "another run"
        pids = [h.pid for h in holders if h.pid]
        how = (f"wait for it to finish, or stop it (`kill {' '.join(pids)}`)" if pids else
               "wait for it to finish, or stop it in the Dagster UI (`shelfwise ui`: Runs → "
               "Terminate, or Deployment → Concurrency → warehouse → free its slot)")
        self.blocked_message = (
            f"gave up after waiting {self.wait_seconds:.0f} s for the warehouse: {named} holds "
            f"its only slot. {how.capitalize()}; then run this command again. (The wait is "
            "`pool_wait_seconds` in shelfwise.toml.)")
        if not self._interrupt_main(RunBlockedError, wait=10.0):
            self._hard_stop(self.blocked_message, 1)
        return pending_since

    def _interrupt_main(self, error: type[BaseException], wait: float) -> bool:
        """Make the main thread raise ``error`` where it is; whether the run ended within
        ``wait`` seconds."""
        if self._done.is_set():
            return True
        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(threading.main_thread().ident), ctypes.py_object(error))
        return self._done.wait(wait)

    def _hard_stop(self, why: str, exit_code: int) -> None:
        with contextlib.suppress(Exception):
            run = self.instance.get_run_by_id(self.run_id)
            if run is not None and not run.is_finished:
                self.instance.report_run_failed(run, message=f"shelfwise: {why}")
            self.instance.event_log_storage.free_concurrency_slots_for_run(self.run_id)
        end_children()
        sys.stderr.write(f"\nshelfwise: {why}; run {self.run_id} marked failed\n")
        sys.stderr.flush()
        os._exit(exit_code)


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt


def end_children(grace_seconds: float = 2.0) -> None:
    """Terminate every child process of this one (and theirs), then kill what is left."""
    children = psutil.Process().children(recursive=True)
    for child in children:
        with contextlib.suppress(psutil.Error):
            child.terminate()
    _, alive = psutil.wait_procs(children, timeout=grace_seconds)
    for child in alive:
        with contextlib.suppress(psutil.Error):
            child.kill()
