"""Sensors: react to the world (new inbox files, approved suggestions)."""


import fnmatch
import hashlib
import os
import time
from pathlib import Path

import dagster as dg

from assets.decisions.store import DecisionStore
from assets.ingest.engine import IGNORED_NAMES
from assets.resources import SettingsResource

# a file modified this recently may still be being written: wait for the next tick
SETTLE_SECONDS = 5.0


def inbox_listing(inbox: Path) -> list[tuple[str, int, int]]:
    """(relative path, size, mtime_ns) of every inbox file the engine would look at.

    Uses only ``os.scandir`` (no file is opened, and never the warehouse, which a running
    ingest may hold locked). Hidden and partial files are left out, as the engine does.
    """
    out = []
    if not inbox.exists():
        return out
    stack = [inbox]
    while stack:
        folder = stack.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                if any(fnmatch.fnmatch(entry.name, pat) for pat in IGNORED_NAMES):
                    continue
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                elif entry.is_file():
                    st = entry.stat()
                    rel = Path(entry.path).relative_to(inbox).as_posix()
                    out.append((rel, st.st_size, st.st_mtime_ns))
    return sorted(out)


def listing_hash(listing: list[tuple[str, int, int]]) -> str:
    digest = hashlib.sha256()
    for rel, size, mtime in listing:
        digest.update(f"{rel}\x1f{size}\x1f{mtime}\n".encode())
    return digest.hexdigest()


@dg.sensor(
    job_name="ingest",
    minimum_interval_seconds=30,
    description="Runs the ingest job when inbox files appear or change (never opens the warehouse).",
    default_status=dg.DefaultSensorStatus.STOPPED,
)
def inbox_sensor(context: dg.SensorEvaluationContext, shelfwise: SettingsResource):
    inbox = shelfwise.settings.inbox
    listing = inbox_listing(inbox)
    if not listing:
        return dg.SkipReason(f"no files in {inbox}")
    newest = max(mtime for _, _, mtime in listing)
    if time.time_ns() - newest < SETTLE_SECONDS * 1e9:
        return dg.SkipReason("a file changed in the last seconds; waiting for it to settle")
    state = listing_hash(listing)
    if state == context.cursor:
        return dg.SkipReason("no new or changed inbox files")
    context.update_cursor(state)
    # the run key is the listing's hash: the same inbox state never launches twice
    return dg.RunRequest(
        run_key=state,
        tags={"shelfwise/inbox_files": str(len(listing))},
    )


def pending_state(store: DecisionStore) -> tuple[int, str]:
    """(approved-but-unsent lines, hash of their ids and revisions) from the decision store
    alone: SQLite, never the DuckDB warehouse, which a running pipeline may hold locked."""
    if not store.path.exists():
        return 0, ""
    digest = hashlib.sha256()
    pending = store.pending()
    for row in pending:
        digest.update(f"{row['suggestion_id']}\x1f{row['revision']}\n".encode())
    return len(pending), digest.hexdigest()


@dg.sensor(
    job_name="restock_files",
    minimum_interval_seconds=30,
    description="Runs the restock_files job when planners have approved lines not yet sent "
                "(reads only decisions.sqlite, never the warehouse).",
    default_status=dg.DefaultSensorStatus.STOPPED,
)
def restock_sensor(context: dg.SensorEvaluationContext, shelfwise: SettingsResource):
    lines, state = pending_state(DecisionStore(shelfwise.settings.home))
    if not lines:
        return dg.SkipReason("no approved lines waiting to be sent")
    if state == context.cursor:
        return dg.SkipReason(f"{lines} approved line(s) already handed to a run")
    context.update_cursor(state)
    # the run key is the pending lines' state: the same approvals never launch two runs
    return dg.RunRequest(run_key=state, tags={"shelfwise/pending_lines": str(lines)})


SENSORS: list = [inbox_sensor, restock_sensor]
