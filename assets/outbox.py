"""Files shelfwise writes for others: atomic writes, a sha256 manifest, formula-safe text cells.

Every file that leaves shelfwise (channel feeds, supplier files, alert files) goes through
:func:`write_atomic` — written under a temporary name in the target folder, fsynced, then
``os.replace``d over the final name, so a reader sees the old file or the new one, never half
of one — and is listed in ``<outbox>/manifest.jsonl`` by :func:`record_manifest`. Both are
idempotent: the same bytes are not rewritten, and a (path, sha256) pair is listed once.

Text cells go through :func:`neutralise_formula` (or :func:`neutralise_frame` for a whole
frame) so a spreadsheet opening the file never runs a cell as a formula.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import polars as pl

MANIFEST_NAME = "manifest.jsonl"

# a cell starting with one of these is read as a formula by Excel, LibreOffice, Google Sheets
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(directory: Path) -> None:
    # the rename is durable only once the directory entry is on disk
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: str | os.PathLike, data: bytes) -> str:
    """Write ``data`` to ``path`` atomically; returns its sha256 (hex).

    When ``path`` already holds exactly these bytes it is left untouched (same mtime), so a
    re-run with the same inputs changes nothing.
    """
    path = Path(path)
    digest = sha256_bytes(data)
    if path.is_file() and path.stat().st_size == len(data) and sha256_file(path) == digest:
        return digest
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp_name, 0o644)  # mkstemp creates 0600; others must read the file
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(path.parent)
    return digest


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    # several runs (feeds, supplier files, alerts) may append to one manifest at the same time
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def read_manifest(outbox: str | os.PathLike) -> list[dict]:
    """Every entry of ``<outbox>/manifest.jsonl``, oldest first (empty when there is none)."""
    manifest = Path(outbox) / MANIFEST_NAME
    if not manifest.exists():
        return []
    with open(manifest, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def record_manifest(
    outbox: str | os.PathLike,
    path: str | os.PathLike,
    sha256: str,
    *,
    kind: str,
    rows: int | None = None,
    **details: object,
) -> bool:
    """List a written file in ``<outbox>/manifest.jsonl``; True when the entry is new.

    An entry holds ``path`` (relative to the outbox), ``sha256``, ``bytes``, ``kind`` (e.g.
    ``channel_feed``, ``supplier_file``), ``rows``, ``recorded_at`` (UTC) and any ``details``
    (JSON-serialisable). A (path, sha256) pair already listed is not listed again.
    """
    outbox = Path(outbox)
    path = Path(path)
    relative = path.resolve().relative_to(outbox.resolve()).as_posix()
    with _locked(outbox / f".{MANIFEST_NAME}.lock"):
        if any(e["path"] == relative and e["sha256"] == sha256 for e in read_manifest(outbox)):
            return False
        entry = {
            "path": relative,
            "sha256": sha256,
            "bytes": path.stat().st_size,
            "kind": kind,
            "rows": rows,
            **details,
            "recorded_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        with open(outbox / MANIFEST_NAME, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, sort_keys=False, default=str) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
    return True


def neutralise_formula(text: str | None) -> str | None:
    """A text cell safe from formula injection: a leading ``=``, ``+``, ``-``, ``@``, tab or CR
    gets a ``'`` in front (spreadsheets then show the text as typed). Other text is unchanged."""
    if text and text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


_FORMULA_PATTERN = r"^[=+\-@\t\r]"


def neutralise_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Every String column of ``frame`` through :func:`neutralise_formula` (vectorised)."""
    return frame.with_columns(
        pl.when(pl.col(name).str.contains(_FORMULA_PATTERN))
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name, dtype in frame.schema.items()
        if dtype == pl.String()
    )


def csv_bytes(frame: pl.DataFrame) -> bytes:
    """``frame`` as UTF-8 CSV with a header, ``\\n`` line ends, text cells neutralised: the same
    frame always gives the same bytes."""
    return neutralise_frame(frame).write_csv(line_terminator="\n").encode("utf-8")
