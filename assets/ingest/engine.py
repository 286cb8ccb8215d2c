"""The ingestion engine: inbox files → raw (+ lineage), quarantine, ops manifest → core.

:func:`ingest_inbox` is the whole story of one batch:

1. **discover** every file under the inbox (hidden and partial files — ``.*``, ``~$*``,
   ``*.tmp``, ``*.part``, ``*.crdownload`` — are ignored) and sha256 it — unless its path,
   size and modification time (ns) are those of its live ingested version: then it is the
   file already ingested and is not read at all (``rehash=True`` hashes every file), so a
   daily drop costs time for the new files, not for the history;
2. **skip** files whose (relative path, sha256) is in ``ops.ingested_files``: re-landing a
   file changes nothing. A known path with a new sha256 is a **corrected version**: the rows
   of its earlier version leave ``raw`` and ``quarantine``, its manifest rows become
   ``replaced``, and the keys they held are re-derived in ``core``;
3. **pick the adapter** from the folder (``orders/<channel>/`` or ``<entity>/``), the
   file-name globs and, when several fit, the header's required columns. No adapter: message
   ``unknown_file_format``, the file is listed as ``failed``, nothing else happens;
4. per entity, master data first (:data:`ENTITY_ORDER`) so references resolve in the same
   batch: **read** (:mod:`reader`), **map** (the adapter), for orders map ``channel_sku`` →
   ``sku`` through ``core.channel_listings``, **validate** (:mod:`contracts`), append good
   rows to ``raw.<entity>`` with ``source_file``, ``source_line``, ``batch_id``, write
   rejected records whole to ``quarantine.rows`` (customer identity columns removed), then
   **merge** the touched keys into ``core`` (:mod:`merge`);
5. record every file in ``ops.ingested_files`` with its row accounting, in records:
   ``rows_read = rows_loaded + rows_quarantined + rows_skipped`` (skipped: records the format
   carries that are not data, the adapter's ``skip_rules``, e.g. eBay's order summary rows).

Consecutive files of one adapter and folder are a batch (:func:`_map_groups`): read with one
scan and one Polars parse (:func:`reader.read_many`), mapped with one adapter call (the frame
carries each record's file in ``source_file``), checked with one contract pass. Batches are
written in chunks of about :data:`CHUNK_ROWS` canonical rows: one INSERT per table per chunk
(fast for thousands of small daily files). Each chunk is one transaction: the earlier versions
of its corrected files leave raw, its rows land, the keys they touched are merged into core,
and its files enter the manifest, together. A crash never leaves rows without their manifest
entry, core equals the merge of raw, and memory stays bounded by the chunk, not the inbox
(DuckDB keeps a transaction's appended rows in memory until it commits: one transaction per
entity grew to 10 GiB on the medium benchmark set). On an entity's **first load** (its core
empty) the chunks skip the merge and core is derived from raw once, after the last chunk
(:func:`_derive_core`); ``ops.first_loads`` marks the entity until then, and the next ingest
finishes a derivation a crash interrupted.
"""

from __future__ import annotations

import contextlib
import csv
import fnmatch
import hashlib
import os
import re
import time
import uuid
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path, PurePosixPath

import duckdb
import numpy as np
import polars as pl

from assets.ingest.adapters import ADAPTERS
from assets.ingest.adapters.base import FILE, LINE, Adapter, AdapterContext
from assets.ingest.contracts import References, validate
from assets.ingest.merge import (
    core_is_empty,
    derive_piece,
    derive_pieces,
    merge_keys,
    refresh_base_amounts,
)
from assets.ingest.reader import REJECT_SCHEMA, Message, ReadResult, decode, read_many
from assets.model import ENTITIES
from assets.settings import Settings
from assets.warehouse import ensure_schema, resolve_memory_limit

# master data before transactions, so references resolve within one batch; FX rates first of
# all (every currency column is checked against them)
MASTER_ENTITIES = (
    "fx_rates",
    "products",
    "suppliers",
    "locations",
    "channels",
    "channel_locations",
    "bundle_components",
    "channel_listings",
)
ENTITY_ORDER = MASTER_ENTITIES + tuple(e for e in ENTITIES if e not in MASTER_ENTITIES)
CHUNK_ROWS = 1_000_000
IGNORED_NAMES = (".*", "~$*", "*.tmp", "*.part", "*.crdownload", "*.partial")
_DATE_IN_NAME = re.compile(r"(20\d{2})-?(\d{2})-?(\d{2})")


# --------------------------------------------------------------------------------------------
# report


@dataclass
class FileResult:
    """One file of the batch as it ends up in ``ops.ingested_files``."""

    source_file: str
    sha256: str
    size_bytes: int
    mtime_ns: int | None = None
    adapter: str | None = None
    entity: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_skipped: int = 0  # not data (the adapter's skip_rules): neither loaded nor quarantined
    status: str = "loaded"  # loaded | failed (| replaced, later)
    message: str | None = None
    replaces: bool = False


@dataclass
class IngestReport:
    """What one :func:`ingest_inbox` call did."""

    batch_id: str
    files_seen: int = 0
    files_skipped: int = 0
    files: list[FileResult] = field(default_factory=list)
    replaced_files: list[str] = field(default_factory=list)
    core_rows_written: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def files_ingested(self) -> int:
        return sum(f.status == "loaded" for f in self.files)

    @property
    def files_failed(self) -> int:
        return sum(f.status == "failed" for f in self.files)

    def rows_by_entity(self) -> dict[str, dict[str, int]]:
        """{entity: {files, read, loaded, quarantined, skipped}} over this batch's files."""
        out: dict[str, dict[str, int]] = {}
        for f in self.files:
            if f.entity is None:
                continue
            row = out.setdefault(f.entity, {"files": 0, "read": 0, "loaded": 0,
                                            "quarantined": 0, "skipped": 0})
            row["files"] += 1
            row["read"] += f.rows_read
            row["loaded"] += f.rows_loaded
            row["quarantined"] += f.rows_quarantined
            row["skipped"] += f.rows_skipped
        return out

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)

    @property
    def rows_skipped(self) -> int:
        return sum(f.rows_skipped for f in self.files)


# --------------------------------------------------------------------------------------------
# discovery and adapter choice


_IGNORED = re.compile("|".join(fnmatch.translate(p) for p in IGNORED_NAMES))


def discover(inbox: Path) -> list[Path]:
    """Every ingestible file under ``inbox`` (sorted, hidden/partial files left out)."""
    inbox = Path(inbox)
    if not inbox.exists():
        return []
    out = []
    for root, dirs, names in os.walk(inbox):
        # an ignored folder hides everything below it
        dirs[:] = [d for d in dirs if not _IGNORED.match(os.path.normcase(d))]
        for name in names:
            if not _IGNORED.match(os.path.normcase(name)):
                path = Path(root, name)
                if path.is_file():
                    out.append(path)
    return sorted(out)


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _peek_header(path: Path, adapter: Adapter) -> list[str]:
    """Column names of a file as ``adapter`` would see them (first 64 KiB only)."""
    if path.suffix.lower() == ".parquet":
        try:
            return list(pl.read_parquet_schema(path))
        except Exception:  # noqa: BLE001 - unreadable: no header
            return []
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    text, _, _ = decode(head)
    lines = text.splitlines()
    if len(lines) <= adapter.skip_rows:
        return []
    row = next(csv.reader([lines[adapter.skip_rows]], delimiter=adapter.separator), [])
    return [h.strip() for h in row]


def pick_adapter(path: Path, rel: PurePosixPath, adapters: list[Adapter]) -> Adapter | None:
    """The adapter for a file: folder + file-name glob, then the header decides between
    several candidates (the one whose required columns are all present; else the one with
    the most of them, so the reader names what is missing)."""
    name = rel.name.lower()
    candidates = [
        a
        for a in adapters
        if rel.parts[0] == a.folder and any(fnmatch.fnmatch(name, g.lower()) for g in a.file_globs)
    ]
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    scored = []
    for a in candidates:
        header = set(_peek_header(path, a))
        have = sum(c in header for c in a.required_columns)
        scored.append((have == len(a.required_columns), have, a))
    best = max(scored, key=lambda s: (s[0], s[1]))  # max keeps the first of equals
    return best[2]


def _context(path: Path, rel: PurePosixPath, adapter: Adapter, settings: Settings) -> AdapterContext:
    sub = rel.parts[1] if len(rel.parts) > 2 else None
    m = _DATE_IN_NAME.search(rel.name)
    export_date = None
    if m:
        try:
            export_date = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            export_date = None
    return AdapterContext(
        path=path,
        relative_path=str(rel),
        channel_id=sub if adapter.folder == "orders" else None,
        location_id=sub if adapter.folder != "orders" else None,
        pii_salt=settings.pii_salt,
        postal_prefix_chars=settings.postal_prefix_chars,
        export_date=export_date,
    )


# --------------------------------------------------------------------------------------------
# the batch


@dataclass
class _Pending:
    """Files read, mapped and checked together, waiting for their chunk's INSERT."""

    adapter: Adapter
    files: list[tuple[FileResult, list[Message]]]  # each file with its messages
    rows: pl.DataFrame  # good canonical rows + source_line + source_file
    rejects: pl.DataFrame  # source_file, source_line, rule, message, row_json
    notes: list[str] = field(default_factory=list)  # checks the contract skipped


def new_batch_id() -> str:
    """Sortable, unique: UTC time to the microsecond plus a random suffix."""
    return f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:6]}"


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def load_references(con: duckdb.DuckDBPyConnection, base_currency: str) -> References:
    """Reference sets from core: SKUs (products + listing targets), FX currencies."""
    skus = {
        r[0]
        for r in con.execute(
            "SELECT sku FROM core.products UNION SELECT sku FROM core.channel_listings"
        ).fetchall()
        if r[0] is not None
    }
    currencies = {r[0] for r in con.execute("SELECT DISTINCT currency FROM core.fx_rates").fetchall()}
    return References(
        known_skus=frozenset(skus) or None,
        currencies=frozenset(currencies | {base_currency}) if currencies else None,
    )


def ingest_inbox(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    inbox: Path,
    *,
    batch_id: str | None = None,
    adapters: list[Adapter] | None = None,
    rehash: bool = False,
) -> IngestReport:
    """Land every new or corrected file under ``inbox`` (see the module docstring).

    ``rehash``: sha256 every file, even one whose path, size and mtime match its ingested
    version (for a file rewritten in place with its old timestamp kept, e.g. ``cp -p``).

    Idempotent: a second call with the same files writes nothing but an empty batch row.
    Never raises for bad *content* (it becomes messages and quarantine rows); database
    errors do raise, after rolling back the chunk being processed (earlier chunks stay: each
    is complete with its manifest rows, and a re-run lands the rest).
    """
    started = time.perf_counter()
    ensure_schema(con)
    with _memory_limit(con, settings):
        return _ingest_inbox(con, settings, inbox, batch_id, adapters, rehash, started)


@contextlib.contextmanager
def _memory_limit(con: duckdb.DuckDBPyConnection, settings: Settings):
    """DuckDB's memory limit at ``settings.ingest_memory_limit`` for the block, then back to
    the pipeline's (``duckdb_memory_limit``, see ``resolve_memory_limit``). "" or "none": unchanged."""
    limit = settings.ingest_memory_limit
    if not limit or limit.strip().lower() == "none":
        yield
        return
    con.execute("SET memory_limit = ?", [limit]).fetchall()
    try:
        yield
    finally:
        pipeline_limit = resolve_memory_limit(settings.duckdb_memory_limit)
        if pipeline_limit:
            con.execute("SET memory_limit = ?", [pipeline_limit]).fetchall()
        else:
            con.execute("RESET memory_limit").fetchall()


def _ingest_inbox(con, settings, inbox, batch_id, adapters, rehash, started) -> IngestReport:
    inbox = Path(inbox)
    adapters = ADAPTERS if adapters is None else adapters
    batch_id = batch_id or new_batch_id()
    report = IngestReport(batch_id)
    con.execute(
        "INSERT INTO ops.ingest_batches VALUES (?, ?, NULL, 0, 0, 0, 0)", [batch_id, _now()]
    ).fetchall()

    known = con.execute(
        "SELECT source_file, sha256, entity, status, size_bytes, mtime_ns FROM ops.ingested_files"
    ).fetchall()
    # only the live version of a path counts as "already ingested": a file corrected and then
    # put back to an earlier content is a change again
    seen = {(f, s) for f, s, _, status, _, _ in known if status != "replaced"}
    unchanged = {  # path -> (size, mtime_ns) of its live version: the same file, unread
        f: (size, mtime) for f, _, _, status, size, mtime in known
        if status != "replaced" and mtime is not None
    }
    earlier = {}  # path -> entities of its live (not yet replaced) versions
    for f, _, ent, status, _, _ in known:
        if status != "replaced":
            earlier.setdefault(f, set()).add(ent)

    plans: dict[str | None, list[tuple[Path, PurePosixPath, FileResult]]] = {}
    touched: list[tuple[str, str, int, int]] = []  # known versions found again by sha256
    root = str(inbox)
    for path in discover(inbox):
        report.files_seen += 1
        rel = PurePosixPath(os.path.relpath(path, root).replace(os.sep, "/"))
        st = os.stat(path)
        if not rehash and unchanged.get(str(rel)) == (st.st_size, st.st_mtime_ns):
            report.files_skipped += 1
            continue
        sha = sha256_file(path)
        if (str(rel), sha) in seen:
            report.files_skipped += 1
            touched.append((str(rel), sha, st.st_size, st.st_mtime_ns))
            continue
        fr = FileResult(str(rel), sha, st.st_size, st.st_mtime_ns, replaces=str(rel) in earlier)
        adapter = pick_adapter(path, rel, adapters)
        if adapter is None:
            fr.status = "failed"
            fr.message = (
                f"{rel}: no adapter knows this file (folder '{rel.parts[0]}', name "
                f"'{rel.name}'); see docs/ingestion.md for the inbox layout"
            )
            plans.setdefault(None, []).append((path, rel, fr))
            continue
        fr.adapter, fr.entity = adapter.name, adapter.entity
        plans.setdefault(adapter.entity, []).append((path, rel, fr))
    # remember their size and mtime, so the next run need not read them again
    _touch_manifest(con, touched)

    by_name = {a.name: a for a in adapters}
    # unknown files first: their manifest rows and messages, in one transaction
    if None in plans:
        con.execute("BEGIN").fetchall()
        try:
            for _, rel, fr in plans[None]:
                _replace_earlier(con, fr, earlier, report, settings)
                _log(con, batch_id, fr.source_file, [Message(None, "error", "unknown_file_format", fr.message)])
                _manifest(con, batch_id, fr)
                report.files.append(fr)
            con.execute("COMMIT").fetchall()
        except Exception:
            con.execute("ROLLBACK").fetchall()
            raise

    # a first load that a crash interrupted: its core is derived before anything lands on it
    for (entity,) in con.execute(
        "SELECT DISTINCT entity FROM ops.first_loads ORDER BY entity"
    ).fetchall():
        _derive_core(con, settings, ENTITIES[entity], report)

    for entity in ENTITY_ORDER:
        files = plans.get(entity, [])
        if files:
            _ingest_entity(con, settings, entity, files, by_name, earlier, report, batch_id)

    con.execute(
        """UPDATE ops.ingest_batches SET finished_at = ?, files = ?, rows_read = ?,
           rows_loaded = ?, rows_quarantined = ? WHERE batch_id = ?""",
        [
            _now(),
            len(report.files),
            report.rows_read,
            report.rows_loaded,
            report.rows_quarantined,
            batch_id,
        ],
    ).fetchall()
    report.seconds = time.perf_counter() - started
    return report


def _replace_earlier(con, fr: FileResult, earlier, report: IngestReport, settings) -> dict[str, pl.DataFrame]:
    """Remove an earlier version's rows of ``fr.source_file`` from raw and quarantine.

    Returns the keys those rows held, per entity, so core can be re-derived for them.
    """
    if not fr.replaces or fr.source_file not in earlier:
        return {}
    touched = {}
    for ent in sorted(e for e in earlier.pop(fr.source_file) if e):
        entity = ENTITIES[ent]
        keys = con.sql(
            f"SELECT DISTINCT {', '.join(entity.key)} FROM raw.{ent} WHERE source_file = ?",
            params=[fr.source_file],
        ).pl()
        con.execute(f"DELETE FROM raw.{ent} WHERE source_file = ?", [fr.source_file]).fetchall()
        touched[ent] = keys
    con.execute("DELETE FROM quarantine.rows WHERE source_file = ?", [fr.source_file]).fetchall()
    con.execute(
        "UPDATE ops.ingested_files SET status = 'replaced' WHERE source_file = ? AND status <> 'replaced'",
        [fr.source_file],
    ).fetchall()
    report.replaced_files.append(fr.source_file)
    # keys of another entity (the file changed format) are merged right away
    for ent, keys in list(touched.items()):
        if ent != fr.entity:
            merge_keys(con, ent, keys, settings.base_currency)
            del touched[ent]
    return touched


def _ingest_entity(con, settings, entity_name, files, by_name, earlier, report, batch_id) -> None:
    """Read, map and check ``files`` group by group; land them a chunk at a time
    (:func:`_land`, one transaction each)."""
    entity = ENTITIES[entity_name]
    refs = load_references(con, settings.base_currency)
    listings = None
    if entity_name == "order_lines":
        listings = con.sql(
            "SELECT channel_id, channel_sku, sku AS _listed_sku FROM core.channel_listings"
        ).pl()
    # First load (core empty): the chunks land in raw only and core is derived from raw once
    # at the end, instead of each chunk merging its keys against an ever larger core. FX
    # rates keep the per-chunk path (they also refresh other entities' base amounts).
    first_load = entity_name != "fx_rates" and core_is_empty(con, entity)
    chunks = 0
    pending: list[_Pending] = []
    pending_rows = 0
    for items in _mapped_ahead(_map_groups(files, by_name), by_name, settings, listings, refs):
        pending += items
        pending_rows += sum(i.rows.height + i.rejects.height for i in items)
        if pending_rows >= CHUNK_ROWS:
            _land(con, settings, entity, pending, earlier, report, batch_id, chunks, first_load)
            chunks += 1
            pending, pending_rows = [], 0
    if pending:
        _land(con, settings, entity, pending, earlier, report, batch_id, chunks, first_load)
        chunks += 1
    if first_load and chunks:
        _derive_core(con, settings, entity, report)


def _derive_core(con, settings, entity, report: IngestReport) -> None:
    """Derive ``core.<entity>`` from ``raw.<entity>`` whole, after a first load landed (or a
    crash interrupted one): the pieces of :func:`merge.derive_piece`, one transaction each
    (a transaction's appended rows stay in memory until it commits). The first piece empties
    core (a crash may have left some pieces), the last one clears the ``ops.first_loads``
    mark, so an interruption anywhere leaves the mark for the next ingest to finish."""
    pieces = derive_pieces(con, entity)
    for piece in range(pieces):
        con.execute("BEGIN").fetchall()
        try:
            if piece == 0:
                con.execute(f"DELETE FROM core.{entity.name}").fetchall()
            written = derive_piece(con, entity, piece, pieces, settings.base_currency)
            if piece == pieces - 1:
                con.execute("DELETE FROM ops.first_loads WHERE entity = ?", [entity.name]).fetchall()
            con.execute("COMMIT").fetchall()
        except Exception:
            con.execute("ROLLBACK").fetchall()
            raise
        report.core_rows_written[entity.name] = report.core_rows_written.get(entity.name, 0) + written
    # DuckDB writes large appends straight to the file and logs only their location, so the
    # write-ahead log of a first load stays small and no automatic checkpoint runs: without
    # this one, the close compacted the whole load at once, under the pipeline's memory limit
    # instead of ingest's (medium set: 19 s and 5.4 GiB at close).
    con.execute("CHECKPOINT").fetchall()


# Groups read and mapped ahead of the one being landed, each on its own worker thread: Polars
# (read, map, contract) works on the next group while DuckDB inserts and merges this one (both
# release the GIL), so the two cores overlap the two halves instead of taking turns. Measured
# on the medium set: 1 ahead 444 s / 3.3 GiB; 2 ahead 421 s / 3.6 GiB, too close to the
# 4 GiB budget for 5 %.
MAP_AHEAD = 1


def _mapped_ahead(groups, by_name, settings, listings, refs):
    """:func:`_read_and_map_group` of each group, in order, computed :data:`MAP_AHEAD`
    groups ahead on worker threads (no DuckDB work happens there)."""
    if MAP_AHEAD < 1:
        for group in groups:
            yield _read_and_map_group(group, by_name[group[0][2].adapter], settings, listings, refs)
        return
    with ThreadPoolExecutor(max_workers=MAP_AHEAD, thread_name_prefix="ingest-map") as pool:
        queue: deque = deque()

        def submit() -> None:
            group = next(groups, None)
            if group is not None:
                queue.append(pool.submit(_read_and_map_group, group,
                                         by_name[group[0][2].adapter], settings, listings, refs))

        for _ in range(MAP_AHEAD):
            submit()
        try:
            while queue:
                items = queue.popleft().result()
                submit()
                yield items
        finally:
            for future in queue:  # the landing failed: do not map what will not land
                future.cancel()


def _land(con, settings, entity, pending: list[_Pending], earlier, report, batch_id, chunk: int,
          first_load: bool) -> None:
    """One transaction: the chunk's corrected files drop their earlier versions' rows, its
    rows land in raw and quarantine, every key it touched is merged into core (on a first
    load: the entity is marked in ``ops.first_loads`` instead, for :func:`_derive_core`), and
    its files enter the manifest. ``chunk``: the chunk's number within the entity (0 first)."""
    con.execute("BEGIN").fetchall()
    try:
        touched = [
            keys
            for p in pending
            for fr, _ in p.files
            for keys in _replace_earlier(con, fr, earlier, report, settings).values()
        ]
        touched.append(_flush(con, entity, pending, batch_id, report, log_notes=chunk == 0))
        if first_load:
            if chunk == 0:
                con.execute(
                    "INSERT INTO ops.first_loads VALUES (?, ?, ?)", [entity.name, batch_id, _now()]
                ).fetchall()
            touched = []  # every key is derived from raw at the end
        keys = [t for t in touched if t.height]
        if keys:
            all_keys = pl.concat([k.select(entity.key) for k in keys], how="vertical_relaxed")
            report.core_rows_written[entity.name] = report.core_rows_written.get(
                entity.name, 0
            ) + merge_keys(con, entity, all_keys, settings.base_currency)
            if entity.name == "fx_rates":
                refresh_base_amounts(con, all_keys, settings.base_currency)
        con.execute("COMMIT").fetchall()
    except Exception:
        con.execute("ROLLBACK").fetchall()
        raise


# Files of one format and folder are read and mapped many at a time: one vectorised scan,
# one Polars CSV parse, one adapter `map` and one contract pass per batch instead of per
# file. Lines of different files are kept apart as `file index × 2^32 + line` while mapping,
# and the adapters see each record's file in the `source_file` column (see adapters/base.py).
MAP_GROUP_FILES = 2000
MAP_GROUP_BYTES = 48 << 20
_FILE_STRIDE = 1 << 32


def _map_groups(files, by_name):
    """Consecutive files that share one read and one ``map`` call: same adapter (and, for
    orders, the same channel folder), CSV, at most MAP_GROUP_FILES files and MAP_GROUP_BYTES
    bytes. Parquet files are mapped one by one."""
    group: list = []
    key = None
    size = 0
    for item in files:
        path, rel, fr = item
        adapter = by_name[fr.adapter]
        # the folder matters to order formats (it names the channel); generic files of other
        # entities may share a batch across folders (snapshots of every location)
        folder = rel.parent if adapter.folder == "orders" else None
        k = (fr.adapter, folder) if path.suffix.lower() != ".parquet" else None
        if group and (
            k is None
            or k != key
            or len(group) >= MAP_GROUP_FILES
            or size + fr.size_bytes > MAP_GROUP_BYTES
        ):
            yield group
            group, size = [], 0
        if k is None:
            yield [item]
            continue
        group.append(item)
        key = k
        size += fr.size_bytes
    if group:
        yield group


def _read_and_map_group(group, adapter: Adapter, settings, listings, refs) -> list[_Pending]:
    """Read the files of ``group`` together, map those with one header in one call, check
    the contract, and hand back the batches (rows and rejects per file, by ``source_file``)."""
    reads = read_many([path for path, _, _ in group], adapter)
    failed: list = []
    by_header: dict[tuple[str, ...], list] = {}
    for (path, rel, fr), read in zip(group, reads):
        if isinstance(read, OSError):
            read = ReadResult(pl.DataFrame(schema={LINE: pl.Int64}), 0, [
                Message(None, "error", "unreadable_file", f"cannot read the file: {read}")
            ], "")
        fr.rows_read = read.rows_read
        if read.failed:
            fr.status = "failed"
            fr.message = next(m.message for m in read.messages if m.severity == "error")
            failed.append((path, rel, fr, read))
        elif FILE in read.frame.columns:  # a column of that name: no room for the file key
            by_header.setdefault((id(fr),), []).append((path, rel, fr, read))
        else:
            by_header.setdefault(tuple(read.frame.columns), []).append((path, rel, fr, read))
    out = []
    if failed:
        out.append(_Pending(adapter, [(fr, list(read.messages)) for _, _, fr, read in failed],
                            _empty_rows(adapter), _empty_rejects()))
    for items in by_header.values():
        out += _map_batch(items, adapter, settings, listings, refs)
    return out


def _empty_rows(adapter: Adapter) -> pl.DataFrame:
    return pl.DataFrame(
        schema=ENTITIES[adapter.entity].polars_schema | {LINE: pl.Int64, FILE: pl.String}
    )


def _empty_rejects() -> pl.DataFrame:
    return pl.DataFrame(schema={FILE: pl.String} | REJECT_SCHEMA)


def _map_batch(items, adapter: Adapter, settings, listings, refs) -> list[_Pending]:
    """Map files that share a header in one ``map`` call (a failing batch is retried file by
    file, so a broken file costs only its own records), then resolve SKUs and check the
    contract. Everything is keyed by (``source_file``, ``source_line``) afterwards."""
    names = [fr.source_file for _, _, fr, _ in items]
    batched = len(items) > 1 or FILE not in items[0][3].frame.columns
    frame = (
        pl.concat([read.frame for _, _, _, read in items], how="vertical")
        if len(items) > 1 else items[0][3].frame
    )
    # file k's lines become k × 2^32 + line (one column operation for the whole batch)
    heights = [read.frame.height for _, _, _, read in items]
    file_index = pl.Series("_f", np.repeat(np.arange(len(items), dtype=np.int64), heights))
    frame = frame.with_columns(pl.col(LINE) + file_index * _FILE_STRIDE)
    if batched:
        frame = frame.with_columns(
            pl.Series(FILE, names, dtype=pl.String).gather(file_index).alias(FILE)
        )
    path, rel = items[0][0], items[0][1]
    messages = {fr.source_file: list(read.messages) for _, _, fr, read in items}
    try:
        mapped = adapter.map(frame, _context(path, rel, adapter, settings))
        rows, adapter_rejects = mapped.rows, mapped.rejects
    except Exception as exc:  # noqa: BLE001 - one broken file must not stop the batch
        if len(items) > 1:
            return [p for item in items for p in _map_batch([item], adapter, settings, listings, refs)]
        # every record is quarantined under one rule: accounting holds, nothing is lost
        messages[names[0]].append(
            Message(None, "error", "adapter_error", f"{adapter.name} failed: {exc!r}")
        )
        rows = _empty_rows(adapter).drop(FILE)
        adapter_rejects = frame.select(
            pl.col(LINE),
            pl.lit("adapter_error").alias("rule"),
            pl.lit(f"the {adapter.name} adapter failed on this file: {exc!r}"[:500]).alias("message"),
        )
    reader_rejects = [
        read.rejects.with_columns(pl.col(LINE) + k * _FILE_STRIDE)
        for k, (_, _, _, read) in enumerate(items)
        if read.rejects.height
    ]
    if adapter_rejects.height:
        reader_rejects.append(_with_json(adapter_rejects.select(LINE, "rule", "message"), frame, adapter))
    rejects = (
        pl.concat(reader_rejects, how="vertical_relaxed") if reader_rejects
        else pl.DataFrame(schema=REJECT_SCHEMA)
    )
    if rejects.height:
        rows = rows.join(rejects.select(LINE), on=LINE, how="anti")
    if listings is not None and listings.height and rows.height:
        # a channel SKU listed on the channel resolves to the listing's SKU (maybe a bundle)
        rows = rows.join(listings, on=["channel_id", "channel_sku"], how="left").with_columns(
            sku=pl.coalesce(pl.col("_listed_sku"), pl.col("sku"))
        ).drop("_listed_sku")
    schema = ENTITIES[adapter.entity].polars_schema
    file_of = (pl.col(LINE) // _FILE_STRIDE).replace_strict(
        list(range(len(names))), names, return_dtype=pl.String
    ).alias(FILE)
    local = (pl.col(LINE) % _FILE_STRIDE).cast(pl.Int64).alias(LINE)
    rows = rows.select(
        *[pl.col(c).cast(t) if c in rows.columns else pl.lit(None, t).alias(c) for c, t in schema.items()],
        local,
        file_of,
    )
    rejects = rejects.select(file_of, local, "rule", "message", "row_json")
    # the contract, while the records' text is at hand for the quarantine JSON
    check = validate(rows, ENTITIES[adapter.entity], refs)
    if check.rejects.height:
        text = frame.with_columns(local, file_of) if batched else frame.with_columns(
            local, pl.lit(names[0]).alias(FILE))
        rejects = pl.concat(
            [rejects, _with_json(check.rejects, text, adapter, on=[FILE, LINE])],
            how="vertical_relaxed",
        )
    files = [(fr, messages[fr.source_file]) for _, _, fr, _ in items]
    return [_Pending(adapter, files, check.good, rejects, check.messages)]


def _with_json(rejects: pl.DataFrame, text: pl.DataFrame, adapter: Adapter, on=(LINE,)) -> pl.DataFrame:
    """Attach each rejected record's original text (identity columns removed) as JSON."""
    on = list(on)
    out_cols = [*on, "rule", "message"]
    keys = rejects.select(on).unique()
    if text.height == 0 or keys.height == 0:
        return rejects.select(*out_cols, row_json=pl.lit("{}"))
    keep = [c for c in text.columns if c not in (LINE, FILE) and c not in set(adapter.pii_columns)]
    payload = text.join(keys, on=on, how="semi").select(
        *on, (pl.struct(keep).struct.json_encode() if keep else pl.lit("{}")).alias("row_json"),
    )
    return rejects.join(payload, on=on, how="left").select(
        *out_cols, pl.col("row_json").fill_null("{}")
    )


def _flush(con, entity, pending: list[_Pending], batch_id, report, log_notes) -> pl.DataFrame:
    """Raw insert, quarantine, messages and manifest for a chunk of checked batches of one
    entity — one statement per table for the whole chunk, not per file.

    Returns the keys landed, duplicates included (for the merge)."""
    good = pl.concat([p.rows for p in pending], how="vertical_relaxed").with_columns(
        pl.lit(batch_id).alias("batch_id")
    )
    _insert(con, f"raw.{entity.name}", good)
    notes = next((p.notes for p in pending if p.notes), [])
    if log_notes and notes:
        _log(
            con,
            batch_id,
            None,
            [Message(None, "warning", "reference_check_skipped", n) for n in notes],
        )
    loaded = dict(good.group_by(FILE).agg(pl.col(LINE).n_unique()).iter_rows())
    now = _now()
    rejected = pl.concat(
        [p.rejects.with_columns(pl.lit(p.adapter.name).alias("adapter")) for p in pending],
        how="vertical_relaxed",
    )
    quarantined: dict[str, int] = {}
    skipped: dict[str, int] = {}
    skip_rules = pl.DataFrame(
        [(p.adapter.name, r) for p in pending for r in p.adapter.skip_rules],
        schema={"adapter": pl.String, "rule": pl.String}, orient="row",
    ).unique()
    if rejected.height:
        # one quarantine row per rejected record: its first rule, all its messages
        rejected = (
            rejected.group_by(FILE, LINE, maintain_order=True)
            .agg(
                pl.col("rule").first(),
                pl.col("message").str.join("; "),
                pl.col("row_json").first(),
                pl.col("adapter").first(),
            )
            .sort(FILE, LINE)
        )
        if skip_rules.height:
            # records that are not data (a summary row): counted, never quarantined
            skip = rejected.join(skip_rules, on=["adapter", "rule"], how="semi")
            skipped = dict(skip.group_by(FILE).len().iter_rows())
            rejected = rejected.join(skip_rules, on=["adapter", "rule"], how="anti")
        quarantined = dict(rejected.group_by(FILE).len().iter_rows())
    if rejected.height:
        _insert(
            con,
            "quarantine.rows",
            rejected.select(
                pl.lit(batch_id).alias("batch_id"),
                FILE,
                pl.col(LINE).alias("source_line"),
                "adapter",
                pl.lit(entity.name).alias("entity"),
                "rule",
                "message",
                "row_json",
                pl.lit(now).alias("quarantined_at"),
            ),
        )
    messages, manifest = [], []
    for p in pending:
        for fr, file_messages in p.files:
            fr.rows_quarantined = quarantined.get(fr.source_file, 0)
            fr.rows_skipped = skipped.get(fr.source_file, 0)
            fr.rows_loaded = loaded.get(fr.source_file, 0)
            accounted = fr.rows_loaded + fr.rows_quarantined + fr.rows_skipped
            if fr.status != "failed" and accounted != fr.rows_read:
                file_messages.append(
                    Message(
                        None,
                        "warning",
                        "unaccounted_records",
                        f"{fr.rows_read} records read but {fr.rows_loaded} loaded + "
                        f"{fr.rows_quarantined} quarantined + {fr.rows_skipped} skipped "
                        f"(adapter {p.adapter.name})",
                    )
                )
            if fr.status == "loaded" and fr.rows_read and fr.rows_quarantined == fr.rows_read:
                fr.message = "every record was quarantined"
            messages += [(fr.source_file, m) for m in file_messages]
            manifest.append(fr)
            report.files.append(fr)
    _log_many(con, batch_id, messages)
    _manifest_many(con, batch_id, manifest)
    return good.select(entity.key)  # merge_keys drops duplicates (a first load never needs them)


def _insert(con, table: str, frame: pl.DataFrame) -> None:
    """Append a Polars frame to a table by column name (DuckDB scans it through Arrow)."""
    if frame.height == 0:
        return
    con.register("_frame", frame)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _frame").fetchall()
    finally:
        con.unregister("_frame")


def _log(con, batch_id: str, source_file: str | None, messages: list[Message]) -> None:
    _log_many(con, batch_id, [(source_file, m) for m in messages])


def _log_many(con, batch_id: str, messages: list[tuple[str | None, Message]]) -> None:
    if not messages:
        return
    frame = pl.DataFrame(
        {
            "batch_id": [batch_id] * len(messages),
            "source_file": [f for f, _ in messages],
            "source_line": [m.line for _, m in messages],
            "severity": [m.severity for _, m in messages],
            "rule": [m.rule for _, m in messages],
            "message": [m.message for _, m in messages],
            "logged_at": [_now()] * len(messages),
        },
        schema={
            "batch_id": pl.String, "source_file": pl.String, "source_line": pl.Int64,
            "severity": pl.String, "rule": pl.String, "message": pl.String,
            "logged_at": pl.Datetime("us"),
        },
    )
    _insert(con, "ops.ingest_messages", frame)


def _touch_manifest(con, touched: list[tuple[str, str, int, int]]) -> None:
    """Record size and mtime of file versions found unchanged by their sha256 (one UPDATE)."""
    if not touched:
        return
    frame = pl.DataFrame(
        touched, orient="row",
        schema={"source_file": pl.String, "sha256": pl.String, "size_bytes": pl.Int64,
                "mtime_ns": pl.Int64},
    )
    con.register("_touched", frame)
    try:
        con.execute(
            """UPDATE ops.ingested_files AS f SET size_bytes = t.size_bytes, mtime_ns = t.mtime_ns
               FROM _touched AS t WHERE f.source_file = t.source_file AND f.sha256 = t.sha256"""
        ).fetchall()
    finally:
        con.unregister("_touched")


def _manifest(con, batch_id: str, fr: FileResult) -> None:
    _manifest_many(con, batch_id, [fr])


def _manifest_many(con, batch_id: str, results: list[FileResult]) -> None:
    """Upsert manifest rows (a reverted file's earlier (path, sha256) row is reused)."""
    if not results:
        return
    now = _now()
    frame = pl.DataFrame(
        [
            {
                "source_file": fr.source_file, "sha256": fr.sha256, "adapter": fr.adapter,
                "entity": fr.entity, "batch_id": batch_id, "size_bytes": fr.size_bytes,
                "mtime_ns": fr.mtime_ns,
                "rows_read": fr.rows_read, "rows_loaded": fr.rows_loaded,
                "rows_quarantined": fr.rows_quarantined, "rows_skipped": fr.rows_skipped,
                "status": fr.status,
                "message": fr.message, "ingested_at": now,
            }
            for fr in results
        ],
        schema={
            "source_file": pl.String, "sha256": pl.String, "adapter": pl.String,
            "entity": pl.String, "batch_id": pl.String, "size_bytes": pl.Int64,
            "mtime_ns": pl.Int64, "rows_read": pl.Int64, "rows_loaded": pl.Int64, "rows_quarantined": pl.Int64,
            "rows_skipped": pl.Int64, "status": pl.String, "message": pl.String, "ingested_at": pl.Datetime("us"),
        },
    )
    con.register("_manifest", frame)
    try:
        con.execute(
            """INSERT INTO ops.ingested_files BY NAME SELECT * FROM _manifest
               ON CONFLICT (source_file, sha256) DO UPDATE SET
                 adapter = excluded.adapter, entity = excluded.entity,
                 batch_id = excluded.batch_id, size_bytes = excluded.size_bytes,
                 mtime_ns = excluded.mtime_ns,
                 rows_read = excluded.rows_read, rows_loaded = excluded.rows_loaded,
                 rows_quarantined = excluded.rows_quarantined,
                 rows_skipped = excluded.rows_skipped, status = excluded.status,
                 message = excluded.message, ingested_at = excluded.ingested_at"""
        ).fetchall()
    finally:
        con.unregister("_manifest")
