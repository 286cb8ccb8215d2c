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
import stat
import time
import uuid
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from pathlib import Path, PurePosixPath

import duckdb
import numpy as np
import polars as pl

from assets.ingest.adapters import ADAPTERS
from assets.ingest.adapters.base import (
    FILE, LINE, Adapter, AdapterContext, canonical_header, safe_columns,
)
from assets.ingest.contracts import References, validate
from assets.ingest.parse import number_format
from assets.ingest.merge import (
    GROUPS,
    core_is_empty,
    derive_piece,
    derive_pieces,
    lines_superseded,
    merge_keys,
    refresh_base_amounts,
    sync_base_currency,
)
from assets.ingest.reader import REJECT_SCHEMA, Message, ReadResult, decode, read_many, unreadable
from assets.model import ENTITIES
from assets.settings import Settings
from assets.warehouse import ensure_current_schema, resolve_memory_limit

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


@dataclass(frozen=True)
class IngestOptions:
    """The ``[ingest]`` table of shelfwise.toml (every key optional).

    ``max_quantity``, ``max_amount``: plausibility bounds (contract rule
    ``implausible_value``): a count above ``max_quantity`` units, a unit price or cost above
    ``max_amount`` (a line amount above their product) is refused. ``correction_max_loss``:
    a corrected file that would keep fewer than ``1 - correction_max_loss`` of its earlier
    version's loaded rows (or none) is *held*, not applied, until ``shelfwise ingest
    --accept-correction FILE``. ``number_format``: per channel folder or adapter name, the
    decimal and thousands marks of its files, e.g.
    ``[ingest.number_format] amazon_de = {decimal_mark = ",", thousands_mark = "."}``.
    """

    max_quantity: int = 1_000_000
    max_amount: float = 10_000_000.0
    correction_max_loss: float = 0.5
    number_format: dict = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> "IngestOptions":
        from assets.settings import read_section

        options = read_section(settings, "ingest", cls)
        for key, fmt in options.number_format.items():
            if not isinstance(fmt, dict) or set(fmt) - {"decimal_mark", "thousands_mark"}:
                raise ValueError(
                    f"shelfwise.toml [ingest.number_format] {key}: expected "
                    '{decimal_mark = ",", thousands_mark = "."}'
                )
            with number_format(fmt.get("decimal_mark", "."), fmt.get("thousands_mark", ",")):
                pass  # raises ValueError naming a mark outside the known ones
        if not 0 <= options.correction_max_loss <= 1:
            raise ValueError("shelfwise.toml [ingest] correction_max_loss: a share between 0 and 1")
        return options

    def marks(self, adapter: Adapter, channel: str | None) -> tuple[str, str]:
        """(decimal mark, thousands mark) for a file: the channel's or the adapter's override,
        else the adapter's declaration."""
        fmt = self.number_format.get(channel or "") or self.number_format.get(adapter.name) or {}
        return (fmt.get("decimal_mark", adapter.decimal_mark),
                fmt.get("thousands_mark", adapter.thousands_mark))


# README.md: the notes `shelfwise init` puts in each inbox folder (what goes there)
IGNORED_NAMES = (".*", "~$*", "*.tmp", "*.part", "*.crdownload", "*.partial", "README.md")
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
    status: str = "loaded"  # loaded | failed | held (| replaced, later)
    message: str | None = None
    replaces: bool = False
    rule: str | None = None  # why a failed file failed (the rule of its error message)


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
    # order lines removed from core because a later export of their order left them out
    # (raw keeps them; message ``superseded_by_later_export``)
    lines_superseded: int = 0

    @property
    def files_ingested(self) -> int:
        return sum(f.status == "loaded" for f in self.files)

    @property
    def files_failed(self) -> int:
        return sum(f.status == "failed" for f in self.files)

    @property
    def files_held(self) -> int:
        return sum(f.status == "held" for f in self.files)

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
    """Every entry under ``inbox`` that ingest must answer for (sorted, hidden/partial files
    left out): regular files, and also symbolic links (to files or folders) and special files
    (pipes, sockets, devices), which :func:`refusal` refuses with a message — a link to a
    system file must not put its first line into a message. Links are never followed."""
    inbox = Path(inbox)
    if not inbox.exists():
        return []
    out = []
    for root, dirs, names in os.walk(inbox):
        # an ignored folder hides everything below it; a linked folder is listed, not walked
        dirs[:] = [d for d in dirs if not _IGNORED.match(os.path.normcase(d))]
        out += [Path(root, d) for d in dirs if Path(root, d).is_symlink()]
        for name in names:
            if not _IGNORED.match(os.path.normcase(name)):
                out.append(Path(root, name))
    return sorted(out)


def refusal(path: Path) -> tuple[str, str] | None:
    """(rule, message) when ``path`` is not a regular file ingest may read, else None."""
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        return ("symlink_refused",
                "a symbolic link: shelfwise reads only real files in the inbox (copy the file in)")
    if not stat.S_ISREG(st.st_mode):
        return ("not_a_regular_file",
                "not a regular file (a pipe, socket or device): put an exported file here")
    return None


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def peek_header(path: Path, adapter: Adapter) -> list[str]:
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
    several candidates (the one whose required columns are all present, other spellings
    renamed as the reader will; else the one with the most of them, so the reader names
    what is missing)."""
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
        header = set(canonical_header(peek_header(path, a), a))
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
    # master data: source_file + key of every rejected row (its earlier version is kept)
    rejected_keys: pl.DataFrame | None = None


@dataclass(frozen=True)
class _Corrections:
    """What decides whether a corrected file is applied or held (see :func:`_hold`)."""

    earlier_loaded: dict[str, int]  # path -> rows its live version loaded
    accepted: set[str]  # paths whose correction the user accepted (--accept-correction)
    max_loss: float  # share of the earlier rows a correction may lose without confirmation


def _earlier_rows_stay(fr: FileResult) -> Message:
    return Message(None, "warning", "earlier_version_kept",
                   "this version could not be read: the rows of the file's earlier version "
                   "stay until a readable version lands")


def _hold(p: _Pending, corrections: _Corrections) -> None:
    """Hold the corrected files of ``p`` that would lose too many rows: a correction with no
    good row, or keeping fewer than ``1 - max_loss`` of its earlier version's loaded rows, is
    not applied (its earlier version's rows stay) unless accepted; the file is listed as
    ``held`` with a ``correction_held`` warning, and read again next run."""
    held = []
    for fr, messages in p.files:
        if fr.status != "loaded" or not fr.replaces or fr.source_file in corrections.accepted:
            continue
        before = corrections.earlier_loaded.get(fr.source_file, 0)
        if before == 0:
            continue
        now = p.rows.filter(pl.col(FILE) == fr.source_file).select(pl.col(LINE).n_unique()).item()
        if now > 0 and now >= (1 - corrections.max_loss) * before:
            continue
        fr.status = "held"
        fr.message = (
            f"correction held: this version would load {now:,} rows where the earlier one "
            f"loaded {before:,}; the earlier rows stay. If the new file is right, run "
            f"`shelfwise ingest --accept-correction {fr.source_file}`"
        )
        messages.append(Message(None, "warning", "correction_held", fr.message))
        held.append(fr.source_file)
    if held:
        p.rows = p.rows.filter(~pl.col(FILE).is_in(held))
        p.rejects = p.rejects.filter(~pl.col(FILE).is_in(held))
        if p.rejected_keys is not None:
            p.rejected_keys = p.rejected_keys.filter(~pl.col(FILE).is_in(held))


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
    accept_corrections: tuple[str, ...] | list[str] = (),
) -> IngestReport:
    """Land every new or corrected file under ``inbox`` (see the module docstring).

    ``rehash``: sha256 every file, even one whose path, size and mtime match its ingested
    version (for a file rewritten in place with its old timestamp kept, e.g. ``cp -p``).
    ``accept_corrections``: files (path relative to the inbox, absolute path, or a file name
    that is unique in the inbox) whose held correction is applied although it keeps fewer
    rows than ``[ingest] correction_max_loss`` allows (see :class:`IngestOptions`).

    A file that cannot be read (vanished, permissions, a symlink, content no reader
    understands) is listed as ``failed`` with a message naming its rule; it is not recorded
    as ingested, so the next run (with or without ``rehash``) tries it again, and the rows of
    its earlier version stay.

    Idempotent: a second call with the same files writes nothing but an empty batch row.
    Never raises for bad *content* (it becomes messages and quarantine rows); database
    errors do raise, after rolling back the chunk being processed (earlier chunks stay: each
    is complete with its manifest rows, and a re-run lands the rest).
    """
    started = time.perf_counter()
    ensure_current_schema(con)  # a connection from connect() is current already: one check
    options = IngestOptions.from_settings(settings)
    with _memory_limit(con, settings):
        sync_base_currency(con, settings.base_currency)  # a changed base currency: recompute all
        return _ingest_inbox(con, settings, inbox, batch_id, adapters, rehash, started,
                             options, tuple(accept_corrections))


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


def _accepted(inbox: Path, names: tuple[str, ...]) -> set[str]:
    """Inbox-relative paths named by ``--accept-correction`` (relative, absolute or a bare
    file name)."""
    out = set()
    for name in names:
        path = Path(name)
        if path.is_absolute():
            with contextlib.suppress(ValueError):
                out.add(path.resolve().relative_to(Path(inbox).resolve()).as_posix())
        else:
            out.add(PurePosixPath(name.replace(os.sep, "/")).as_posix())
    return out


def _ingest_inbox(con, settings, inbox, batch_id, adapters, rehash, started, options=None,
                  accept=()) -> IngestReport:
    options = options or IngestOptions()
    inbox = Path(inbox)
    adapters = ADAPTERS if adapters is None else adapters
    batch_id = batch_id or new_batch_id()
    report = IngestReport(batch_id)
    con.execute(
        "INSERT INTO ops.ingest_batches VALUES (?, ?, NULL, 0, 0, 0, 0)", [batch_id, _now()]
    ).fetchall()

    known = con.execute(
        """SELECT source_file, sha256, entity, status, size_bytes, mtime_ns, rows_loaded
           FROM ops.ingested_files"""
    ).fetchall()
    # only the live, ingested version of a path counts as "already ingested": a file corrected
    # and then put back to an earlier content is a change again; a version that failed or is
    # held was not ingested, so it is read again (and says so again) on every run
    live = [k for k in known if k[3] == "loaded"]
    seen = {(f, s) for f, s, *_ in live}
    unchanged = {  # path -> (size, mtime_ns) of its live version: the same file, unread
        f: (size, mtime) for f, _, _, _, size, mtime, _ in live if mtime is not None
    }
    earlier = {}  # path -> entities of its live (not yet replaced) versions
    earlier_loaded: dict[str, int] = {}  # path -> rows its live version loaded
    for f, _, ent, _, _, _, loaded in live:
        earlier.setdefault(f, set()).add(ent)
        earlier_loaded[f] = earlier_loaded.get(f, 0) + (loaded or 0)
    accepted = _accepted(inbox, accept)
    names = {}  # bare file name -> paths, for --accept-correction NAME

    plans: dict[str | None, list[tuple[Path, PurePosixPath, FileResult]]] = {}
    touched: list[tuple[str, str, int, int]] = []  # known versions found again by sha256
    root = str(inbox)
    for path in discover(inbox):
        report.files_seen += 1
        rel = PurePosixPath(os.path.relpath(path, root).replace(os.sep, "/"))
        names.setdefault(rel.name, []).append(str(rel))
        try:
            refused = refusal(path)
            if refused is None:
                st = os.stat(path)
                if not rehash and unchanged.get(str(rel)) == (st.st_size, st.st_mtime_ns):
                    report.files_skipped += 1
                    continue
                sha = sha256_file(path)
        except OSError as exc:  # vanished since discovery, or not ours to read
            refused = next((m.rule, m.message) for m in unreadable(exc).messages)
        if refused is not None:
            fr = FileResult(str(rel), f"unread:{refused[0]}", 0, None, status="failed",
                            message=refused[1])
            fr.rule = refused[0]
            plans.setdefault(None, []).append((path, rel, fr))
            continue
        if (str(rel), sha) in seen:
            report.files_skipped += 1
            touched.append((str(rel), sha, st.st_size, st.st_mtime_ns))
            continue
        fr = FileResult(str(rel), sha, st.st_size, st.st_mtime_ns, replaces=str(rel) in earlier)
        adapter = pick_adapter(path, rel, adapters)
        if adapter is None:
            fr.status, fr.rule = "failed", "unknown_file_format"
            fr.message = (
                f"{rel}: no adapter knows this file (folder '{rel.parts[0]}', name "
                f"'{rel.name}'); see docs/ingestion.md for the inbox layout"
            )
            if rel.suffix.lower() in (".gz", ".zip", ".xlsx", ".xls", ".bz2", ".7z"):
                fr.message += (f"; '{rel.suffix}' is compressed or a workbook: unpack it or save "
                               "the sheet as CSV (UTF-8)")
            plans.setdefault(None, []).append((path, rel, fr))
            continue
        fr.adapter, fr.entity = adapter.name, adapter.entity
        plans.setdefault(adapter.entity, []).append((path, rel, fr))
    # remember their size and mtime, so the next run need not read them again
    _touch_manifest(con, touched)

    by_name = {a.name: a for a in adapters}
    # unknown files first: their manifest rows and messages, in one transaction
    for name, paths in names.items():  # --accept-correction NAME: a name unique in the inbox
        if name in accept and len(paths) == 1:
            accepted.add(paths[0])
    if None in plans:
        con.execute("BEGIN").fetchall()
        try:
            for _, rel, fr in plans[None]:
                # a failed version replaces nothing: the rows of its earlier version stay
                messages = [Message(None, "error", fr.rule, fr.message)]
                if fr.source_file in earlier:
                    messages.append(_earlier_rows_stay(fr))
                _log(con, batch_id, fr.source_file, messages)
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

    corrections = _Corrections(earlier_loaded, accepted, options.correction_max_loss)
    for entity in ENTITY_ORDER:
        files = plans.get(entity, [])
        if files:
            _ingest_entity(con, settings, entity, files, by_name, earlier, report, batch_id,
                           options, corrections)
    if plans.get("order_lines"):
        _warn_orders_in_two_channels(con, batch_id)

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


def _warn_orders_in_two_channels(con, batch_id: str) -> None:
    """Warn (``order_in_two_channels``) when an order id landed in this batch is also an order
    of another channel: the same order exported twice (a shop's own export and a canonical
    copy, say) is counted twice in demand. Order ids of different platforms rarely collide,
    so each such id is worth a look; nothing is changed."""
    found = con.execute(
        """WITH landed AS (SELECT DISTINCT order_id FROM raw.order_lines WHERE batch_id = ?)
           SELECT o.order_id, string_agg(DISTINCT o.channel_id, ', ' ORDER BY o.channel_id)
           FROM core.order_lines AS o JOIN landed USING (order_id)
           GROUP BY o.order_id HAVING count(DISTINCT o.channel_id) > 1
           ORDER BY o.order_id""",
        [batch_id],
    ).fetchall()
    if not found:
        return
    shown = "; ".join(f"{order} ({channels})" for order, channels in found[:5])
    _log(con, batch_id, None, [Message(
        None, "warning", "order_in_two_channels",
        f"{len(found):,} order id(s) appear in more than one channel, so their units count "
        f"once per channel in demand: {shown}{' ...' if len(found) > 5 else ''}. If one file "
        "is a copy of the other, remove it",
    )])


def _replace_earlier(con, fr: FileResult, earlier, report: IngestReport, settings,
                     keep: pl.DataFrame | None = None,
                     messages: list[Message] | None = None) -> dict[str, pl.DataFrame]:
    """Remove an earlier version's rows of ``fr.source_file`` from raw and quarantine.

    ``keep``: keys (master data) whose corrected row failed the contract: their earlier rows
    stay in raw, so core keeps the previous good version, and ``messages`` gets a
    ``kept_previous_version`` warning naming them. Only a loaded version replaces: a failed
    or held one leaves the earlier rows alone.

    Returns the keys those rows held, per entity, so core can be re-derived for them.
    """
    if fr.status != "loaded" or not fr.replaces or fr.source_file not in earlier:
        return {}
    touched = {}
    for ent in sorted(e for e in earlier.pop(fr.source_file) if e):
        entity = ENTITIES[ent]
        keys = con.sql(
            f"SELECT DISTINCT {', '.join(entity.key)} FROM raw.{ent} WHERE source_file = ?",
            params=[fr.source_file],
        ).pl()
        kept = keep if keep is not None and keep.height and ent == fr.entity else None
        if kept is None:
            con.execute(f"DELETE FROM raw.{ent} WHERE source_file = ?", [fr.source_file]).fetchall()
        else:
            con.register("_keep", kept.select(entity.key))
            try:
                match = " AND ".join(f"k.{c} IS NOT DISTINCT FROM r.{c}" for c in entity.key)
                n_kept = con.execute(
                    f"""SELECT count(*) FROM raw.{ent} AS r WHERE source_file = ?
                        AND EXISTS (SELECT 1 FROM _keep AS k WHERE {match})""",
                    [fr.source_file],
                ).fetchall()[0][0]
                con.execute(
                    f"""DELETE FROM raw.{ent} AS r WHERE source_file = ?
                        AND NOT EXISTS (SELECT 1 FROM _keep AS k WHERE {match})""",
                    [fr.source_file],
                ).fetchall()
            finally:
                con.unregister("_keep")
            if n_kept and messages is not None:
                shown = kept.select(
                    pl.concat_str([pl.col(c).cast(pl.String) for c in entity.key], separator="/")
                ).to_series().head(10).to_list()
                messages.append(Message(
                    None, "warning", "kept_previous_version",
                    f"{n_kept:,} row(s) keep their previous version because the corrected row "
                    f"failed the contract (see quarantine): {', '.join(shown)}"
                    f"{' ...' if kept.height > 10 else ''}",
                ))
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


def _ingest_entity(con, settings, entity_name, files, by_name, earlier, report, batch_id,
                   options: IngestOptions | None = None,
                   corrections: _Corrections | None = None) -> None:
    """Read, map and check ``files`` group by group; land them a chunk at a time
    (:func:`_land`, one transaction each)."""
    options = options or IngestOptions()
    corrections = corrections or _Corrections({}, set(), options.correction_max_loss)
    entity = ENTITIES[entity_name]
    refs = replace(load_references(con, settings.base_currency),
                   max_quantity=options.max_quantity, max_amount=options.max_amount)
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
    for items in _mapped_ahead(_map_groups(files, by_name), by_name, settings, listings, refs,
                               options):
        pending += items
        pending_rows += sum(i.rows.height + i.rejects.height for i in items)
        if pending_rows >= CHUNK_ROWS:
            _land(con, settings, entity, pending, earlier, report, batch_id, chunks, first_load,
                  corrections)
            chunks += 1
            pending, pending_rows = [], 0
    if pending:
        _land(con, settings, entity, pending, earlier, report, batch_id, chunks, first_load,
              corrections)
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
    if entity.name in GROUPS:
        _log_superseded(con, report, [lines_superseded(con, entity)])
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


def _mapped_ahead(groups, by_name, settings, listings, refs, options=None):
    """:func:`_read_and_map_group` of each group, in order, computed :data:`MAP_AHEAD`
    groups ahead on worker threads (no DuckDB work happens there)."""
    if MAP_AHEAD < 1:
        for group in groups:
            yield _read_and_map_group(group, by_name[group[0][2].adapter], settings, listings, refs,
                                      options)
        return
    with ThreadPoolExecutor(max_workers=MAP_AHEAD, thread_name_prefix="ingest-map") as pool:
        queue: deque = deque()

        def submit() -> None:
            group = next(groups, None)
            if group is not None:
                queue.append(pool.submit(_read_and_map_group, group,
                                         by_name[group[0][2].adapter], settings, listings, refs,
                                         options))

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
          first_load: bool, corrections: _Corrections | None = None) -> None:
    """One transaction: the chunk's corrected files drop their earlier versions' rows, its
    rows land in raw and quarantine, every key it touched is merged into core (on a first
    load: the entity is marked in ``ops.first_loads`` instead, for :func:`_derive_core`), and
    its files enter the manifest. ``chunk``: the chunk's number within the entity (0 first)."""
    if corrections is not None:
        for p in pending:
            _hold(p, corrections)
    con.execute("BEGIN").fetchall()
    try:
        touched = []
        for p in pending:
            for fr, messages in p.files:
                if fr.status == "failed" and fr.source_file in earlier:
                    messages.append(_earlier_rows_stay(fr))
                keep = None
                if p.rejected_keys is not None and p.rejected_keys.height:
                    keep = p.rejected_keys.filter(pl.col(FILE) == fr.source_file)
                touched += _replace_earlier(con, fr, earlier, report, settings, keep,
                                            messages).values()
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
            superseded: list[pl.DataFrame] = []
            report.core_rows_written[entity.name] = report.core_rows_written.get(
                entity.name, 0
            ) + merge_keys(con, entity, all_keys, settings.base_currency, superseded)
            _log_superseded(con, report, superseded)
            if entity.name == "fx_rates":
                refresh_base_amounts(con, all_keys, settings.base_currency)
        con.execute("COMMIT").fetchall()
    except Exception:
        con.execute("ROLLBACK").fetchall()
        raise


def _log_superseded(con, report: IngestReport, frames: list[pl.DataFrame]) -> None:
    """One ``superseded_by_later_export`` message per (later export, earlier file): how many
    lines of which orders the later export left out, so they left core (raw keeps them)."""
    gone = pl.concat(frames, how="vertical_relaxed") if frames else pl.DataFrame()
    if gone.height == 0:
        return
    report.lines_superseded += gone.height
    per_pair = gone.group_by("later_file", "earlier_file", maintain_order=True).agg(
        pl.len().alias("lines"), pl.col("order_id").unique(maintain_order=True).alias("orders"))
    messages = []
    for later, earlier, n, orders in per_pair.iter_rows():
        shown = ", ".join(orders[:10]) + (" ..." if len(orders) > 10 else "")
        messages.append((later, Message(
            None, "info", "superseded_by_later_export",
            f"{n:,} line(s) of {len(orders):,} order(s) that {earlier} had are not in "
            f"{'this later export' if later else 'the latest export'} of those orders "
            f"({shown}): the latest export of an order owns its lines, so they left core "
            "(raw keeps them)",
        )))
    _log_many(con, report.batch_id, messages)


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


def _read_and_map_group(group, adapter: Adapter, settings, listings, refs,
                        options: IngestOptions | None = None) -> list[_Pending]:
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
            error = next(m for m in read.messages if m.severity == "error")
            fr.status, fr.message, fr.rule = "failed", error.message, error.rule
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
        out += _map_batch(items, adapter, settings, listings, refs, options)
    return out


def _empty_rows(adapter: Adapter) -> pl.DataFrame:
    return pl.DataFrame(
        schema=ENTITIES[adapter.entity].polars_schema | {LINE: pl.Int64, FILE: pl.String}
    )


def _empty_rejects() -> pl.DataFrame:
    return pl.DataFrame(schema={FILE: pl.String} | REJECT_SCHEMA)


def _map_batch(items, adapter: Adapter, settings, listings, refs,
               options: IngestOptions | None = None) -> list[_Pending]:
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
    ctx = _context(path, rel, adapter, settings)
    try:
        # numbers in the file's declared format (the adapter's, or shelfwise.toml's override)
        with number_format(*(options or IngestOptions()).marks(adapter, ctx.channel_id)):
            mapped = adapter.map(frame, ctx)
        rows, adapter_rejects = mapped.rows, mapped.rejects
    except Exception as exc:  # noqa: BLE001 - one broken file must not stop the batch
        if len(items) > 1:
            return [p for item in items
                    for p in _map_batch([item], adapter, settings, listings, refs, options)]
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
    entity = ENTITIES[adapter.entity]
    master = adapter.entity in MASTER_ENTITIES and all(k in rows.columns for k in entity.key)
    rejected_keys = None
    if master and rejects.height:
        # keys of records the adapter refused: their earlier version is kept
        rejected_keys = rows.join(rejects.select(LINE), on=LINE, how="semi").select(
            ((pl.col(LINE) // _FILE_STRIDE).replace_strict(
                list(range(len(names))), names, return_dtype=pl.String)).alias(FILE),
            *[pl.col(k).cast(entity.polars_schema[k], strict=False) for k in entity.key],
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
            [rejects, _with_json(_with_time_cells(check.rejects, text, adapter, entity), text,
                                 adapter, on=[FILE, LINE])],
            how="vertical_relaxed",
        )
    if master and check.rejects.height:
        keys = rows.join(check.rejects.select(FILE, LINE), on=[FILE, LINE], how="semi").select(
            FILE, *entity.key)
        rejected_keys = keys if rejected_keys is None else pl.concat(
            [rejected_keys, keys], how="vertical_relaxed")
    if rejected_keys is not None:
        rejected_keys = rejected_keys.drop_nulls().unique()
    files = [(fr, messages[fr.source_file]) for _, _, fr, _ in items]
    return [_Pending(adapter, files, check.good, rejects, check.messages, rejected_keys)]


# export headers that hold a time or a date ("Created at", "purchase-date", "Sale Date", "Time")
_TIME_HEADER = re.compile(r"(?i)(date|time|(^|[ _-])at$)")


def _with_time_cells(rejects: pl.DataFrame, text: pl.DataFrame, adapter: Adapter, entity) -> pl.DataFrame:
    """A time that could not be read is reported with the text of the cell, not as
    "<blank>": a contract message about a blank time or date column gets the record's time
    cells appended (safe columns only), e.g. ``ordered_at <blank> is required [missing_value];
    as read: Created at '31/31/2024 25:00'``."""
    times = [c.name for c in entity.columns if c.sql_type in ("TIMESTAMP", "DATE")]
    allowed = safe_columns(adapter)
    cells = [c for c in text.columns if c in allowed and _TIME_HEADER.search(c)]
    blank_time = pl.lit(False)
    for name in times:
        blank_time = blank_time | pl.col("message").str.contains(f"{name} <blank>", literal=True)
    if not cells or not rejects.filter(blank_time).height:
        return rejects
    as_read = text.select(
        FILE, LINE,
        pl.concat_str(
            [pl.when(pl.col(c).is_not_null()).then(pl.lit(f"{c} '") + pl.col(c) + pl.lit("'"))
             for c in cells],
            separator=", ", ignore_nulls=True,
        ).alias("_as_read"),
    )
    return (
        rejects.join(as_read, on=[FILE, LINE], how="left")
        .with_columns(
            message=pl.when(blank_time & (pl.col("_as_read").fill_null("") != ""))
            .then(pl.col("message") + pl.lit("; as read: ") + pl.col("_as_read"))
            .otherwise(pl.col("message"))
        )
        .drop("_as_read")
    )


def _with_json(rejects: pl.DataFrame, text: pl.DataFrame, adapter: Adapter, on=(LINE,)) -> pl.DataFrame:
    """Attach each rejected record's original text as JSON: only the columns the adapter
    declares safe (an allow-list, :func:`~assets.ingest.adapters.base.safe_columns`), so an
    identity column under a name the adapter does not know never reaches quarantine."""
    on = list(on)
    out_cols = [*on, "rule", "message"]
    keys = rejects.select(on).unique()
    if text.height == 0 or keys.height == 0:
        return rejects.select(*out_cols, row_json=pl.lit("{}"))
    allowed = safe_columns(adapter)
    keep = [c for c in text.columns if c not in (LINE, FILE) and c in allowed]
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
    skipped_lines: pl.DataFrame | None = None  # file, rule, n, first lines
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
            # records that are not data (a summary row): counted, never quarantined, and
            # named: one message per file and reason, with the lines
            skip = rejected.join(skip_rules, on=["adapter", "rule"], how="semi")
            skipped = dict(skip.group_by(FILE).len().iter_rows())
            rejected = rejected.join(skip_rules, on=["adapter", "rule"], how="anti")
            skipped_lines = skip.group_by(FILE, "rule", maintain_order=True).agg(
                pl.len().alias("n"), pl.col(LINE).head(20).alias("lines"))
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
    if skipped_lines is not None:
        for file_name, rule, n, lines in skipped_lines.iter_rows():
            shown = ", ".join(str(x) for x in lines) + (" ..." if n > len(lines) else "")
            messages.append((file_name, Message(
                int(lines[0]), "info", rule,
                f"{n:,} record(s) skipped as not data ({rule}): line(s) {shown}")))
    for p in pending:
        for fr, file_messages in p.files:
            fr.rows_quarantined = quarantined.get(fr.source_file, 0)
            fr.rows_skipped = skipped.get(fr.source_file, 0)
            fr.rows_loaded = loaded.get(fr.source_file, 0)
            accounted = fr.rows_loaded + fr.rows_quarantined + fr.rows_skipped
            if fr.status == "held":  # nothing of it landed: its counts are in the message
                fr.rows_quarantined = fr.rows_skipped = fr.rows_loaded = 0
            elif fr.status != "failed" and accounted != fr.rows_read:
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
