"""The ingestion engine: inbox files → raw (+ lineage), quarantine, ops manifest → core.

:func:`ingest_inbox` is the whole story of one batch:

1. **discover** every file under the inbox (hidden and partial files — ``.*``, ``~$*``,
   ``*.tmp``, ``*.part``, ``*.crdownload`` — are ignored) and sha256 it;
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
   ``rows_read = rows_loaded + rows_quarantined``.

Files of one entity are processed in chunks of about :data:`CHUNK_ROWS` canonical rows:
one contract pass and one INSERT per chunk (fast for thousands of small daily files), and
memory stays bounded by the chunk, not the inbox. Each entity's work is one transaction
with its manifest rows, so a crash never leaves rows without their manifest entry.
"""

from __future__ import annotations

import csv
import fnmatch
import hashlib
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path, PurePosixPath

import duckdb
import polars as pl

from assets.ingest.adapters import ADAPTERS
from assets.ingest.adapters.base import LINE, Adapter, AdapterContext
from assets.ingest.contracts import References, validate
from assets.ingest.generic import GenericAdapter
from assets.ingest.merge import merge_keys, refresh_base_amounts
from assets.ingest.reader import Message, ReadResult, decode, read_records
from assets.model import ENTITIES
from assets.settings import Settings
from assets.warehouse import ensure_schema

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
    adapter: str | None = None
    entity: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
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
        """{entity: {files, read, loaded, quarantined}} over this batch's files."""
        out: dict[str, dict[str, int]] = {}
        for f in self.files:
            if f.entity is None:
                continue
            row = out.setdefault(f.entity, {"files": 0, "read": 0, "loaded": 0, "quarantined": 0})
            row["files"] += 1
            row["read"] += f.rows_read
            row["loaded"] += f.rows_loaded
            row["quarantined"] += f.rows_quarantined
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


# --------------------------------------------------------------------------------------------
# discovery and adapter choice


def discover(inbox: Path) -> list[Path]:
    """Every ingestible file under ``inbox`` (sorted, hidden/partial files left out)."""
    inbox = Path(inbox)
    if not inbox.exists():
        return []
    out = []
    for path in inbox.rglob("*"):
        rel = path.relative_to(inbox)
        if not path.is_file() or any(
            fnmatch.fnmatch(part, pat) for part in rel.parts for pat in IGNORED_NAMES
        ):
            continue
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
    """A file read and mapped, waiting for its chunk's contract pass."""

    result: FileResult
    adapter: Adapter
    text: pl.DataFrame  # the records as read (all text), for quarantine JSON
    rows: pl.DataFrame  # canonical rows + source_line + source_file
    rejects: pl.DataFrame  # source_line, rule, message, row_json (reader + adapter rejects)
    messages: list[Message]


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
) -> IngestReport:
    """Land every new or corrected file under ``inbox`` (see the module docstring).

    Idempotent: a second call with the same files writes nothing but an empty batch row.
    Never raises for bad *content* (it becomes messages and quarantine rows); database
    errors do raise, after rolling back the entity being processed.
    """
    started = time.perf_counter()
    ensure_schema(con)
    inbox = Path(inbox)
    adapters = ADAPTERS if adapters is None else adapters
    batch_id = batch_id or new_batch_id()
    report = IngestReport(batch_id)
    con.execute(
        "INSERT INTO ops.ingest_batches VALUES (?, ?, NULL, 0, 0, 0, 0)", [batch_id, _now()]
    ).fetchall()

    known = con.execute(
        "SELECT source_file, sha256, entity, status FROM ops.ingested_files"
    ).fetchall()
    # only the live version of a path counts as "already ingested": a file corrected and then
    # put back to an earlier content is a change again
    seen = {(f, s) for f, s, _, status in known if status != "replaced"}
    earlier = {}  # path -> entities of its live (not yet replaced) versions
    for f, _, ent, status in known:
        if status != "replaced":
            earlier.setdefault(f, set()).add(ent)

    plans: dict[str | None, list[tuple[Path, PurePosixPath, FileResult]]] = {}
    for path in discover(inbox):
        report.files_seen += 1
        rel = PurePosixPath(path.relative_to(inbox).as_posix())
        sha = sha256_file(path)
        if (str(rel), sha) in seen:
            report.files_skipped += 1
            continue
        fr = FileResult(str(rel), sha, path.stat().st_size, replaces=str(rel) in earlier)
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

    for entity in ENTITY_ORDER:
        files = plans.get(entity, [])
        if not files:
            continue
        con.execute("BEGIN").fetchall()
        try:
            _ingest_entity(con, settings, entity, files, by_name, earlier, report, batch_id)
            con.execute("COMMIT").fetchall()
        except Exception:
            con.execute("ROLLBACK").fetchall()
            raise

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
    entity = ENTITIES[entity_name]
    touched: list[pl.DataFrame] = []
    for _, _, fr in files:
        touched += list(_replace_earlier(con, fr, earlier, report, settings).values())
    refs = load_references(con, settings.base_currency)
    listings = None
    if entity_name == "order_lines":
        listings = con.sql(
            "SELECT channel_id, channel_sku, sku AS _listed_sku FROM core.channel_listings"
        ).pl()
    notes_logged = False
    pending: list[_Pending] = []
    pending_rows = 0
    for group in _map_groups(files, by_name):
        if len(group) > 1:
            items = _read_and_map_generic(group, by_name[group[0][2].adapter], settings, listings)
        else:
            path, rel, fr = group[0]
            items = [_read_and_map(path, rel, fr, by_name[fr.adapter], settings, listings)]
        pending += items
        pending_rows += sum(i.rows.height for i in items)
        if pending_rows >= CHUNK_ROWS:
            touched.append(_flush(con, entity, pending, refs, batch_id, report, not notes_logged))
            notes_logged = True
            pending, pending_rows = [], 0
    if pending:
        touched.append(_flush(con, entity, pending, refs, batch_id, report, not notes_logged))
    keys = [t for t in touched if t.height]
    if keys:
        all_keys = pl.concat([k.select(entity.key) for k in keys], how="vertical_relaxed")
        report.core_rows_written[entity_name] = report.core_rows_written.get(
            entity_name, 0
        ) + merge_keys(con, entity, all_keys, settings.base_currency)
        if entity_name == "fx_rates":
            refresh_base_amounts(con, all_keys, settings.base_currency)


# generic files are mapped many at a time (one Polars plan instead of one per small file)
MAP_GROUP_FILES = 200
_FILE_STRIDE = 1 << 32  # line + file index × 2^32 keeps the lines of many files apart


def _map_groups(files, by_name):
    """Consecutive files that can share one ``map`` call: generic format, same folder (the
    channel of canonical orders), at most MAP_GROUP_FILES. Channel adapters may group rows
    across a file (orders spread over lines), so their files are always mapped one by one."""
    group: list = []
    for item in files:
        path, rel, fr = item
        adapter = by_name[fr.adapter]
        batchable = isinstance(adapter, GenericAdapter) and path.suffix.lower() == ".csv"
        key = (fr.adapter, rel.parent) if batchable else None
        if group and (key is None or key != group[0][0] or len(group) >= MAP_GROUP_FILES):
            yield [g[1] for g in group]
            group = []
        if key is None:
            yield [item]
        else:
            group.append((key, item))
    if group:
        yield [g[1] for g in group]


def _read_and_map_generic(group, adapter: Adapter, settings, listings) -> list[_Pending]:
    """Read each file, map all of them in one call, split the result back per file.

    Files with a header other than the first readable file's are mapped on their own."""
    reads, out = [], []
    for i, (path, rel, fr) in enumerate(group):
        read = _read(path, fr, adapter)
        reads.append((i, path, rel, fr, read))
    usable = [r for r in reads if not r[4].failed and r[4].frame.height]
    header = usable[0][4].frame.columns if usable else None
    together = [r for r in usable if r[4].frame.columns == header]
    alone = [r for r in reads if r not in together]
    for _, path, rel, fr, read in alone:
        out.append(_map_one(path, rel, fr, adapter, settings, listings, read))
    if together:
        first_path, first_rel = together[0][1], together[0][2]
        frame = pl.concat(
            [
                r[4].frame.with_columns((pl.col(LINE) + r[0] * _FILE_STRIDE).alias(LINE))
                for r in together
            ]
        )
        ctx = _context(first_path, first_rel, adapter, settings)
        try:
            mapped = adapter.map(frame, ctx)
        except Exception:  # noqa: BLE001 - map file by file: each failure is then its own
            return [
                _map_one(path, rel, fr, adapter, settings, listings, read)
                for _, path, rel, fr, read in reads
            ]
        file_of = (pl.col(LINE) // _FILE_STRIDE).alias("_file")
        rows = mapped.rows.with_columns(file_of).partition_by("_file", as_dict=True, include_key=False)
        rejects = mapped.rejects.with_columns(file_of).partition_by("_file", as_dict=True, include_key=False)
        for i, path, rel, fr, read in together:
            def local(df):
                return df.with_columns(pl.col(LINE) % _FILE_STRIDE) if df is not None else None

            part_rows = local(rows.get((i,)))
            part_rejects = local(rejects.get((i,)))
            out.append(
                _map_one(
                    path, rel, fr, adapter, settings, listings, read,
                    premapped=(
                        part_rows if part_rows is not None else mapped.rows.clear(),
                        part_rejects if part_rejects is not None else mapped.rejects.clear(),
                    ),
                )
            )
    order = {id(fr): i for i, (_, _, fr) in enumerate(group)}
    return sorted(out, key=lambda p: order[id(p.result)])


def _read(path, fr: FileResult, adapter: Adapter) -> ReadResult:
    try:
        read = read_records(path, adapter)
    except OSError as exc:
        read = ReadResult(pl.DataFrame(schema={LINE: pl.Int64}), 0, [
            Message(None, "error", "unreadable_file", f"cannot read the file: {exc}")
        ], "")
    fr.rows_read = read.rows_read
    return read


def _read_and_map(path, rel, fr: FileResult, adapter: Adapter, settings, listings) -> _Pending:
    return _map_one(path, rel, fr, adapter, settings, listings, _read(path, fr, adapter))


def _map_one(
    path, rel, fr: FileResult, adapter: Adapter, settings, listings, read: ReadResult, premapped=None
) -> _Pending:
    empty_rows = pl.DataFrame(
        schema=ENTITIES[adapter.entity].polars_schema | {LINE: pl.Int64, "source_file": pl.String}
    )
    messages = list(read.messages)
    rejects = read.rejects
    if read.failed:
        fr.status = "failed"
        fr.message = next(m.message for m in messages if m.severity == "error")
        return _Pending(fr, adapter, read.frame, empty_rows, rejects, messages)
    ctx = _context(path, rel, adapter, settings)
    try:
        if premapped is not None:
            rows, adapter_rejects = premapped
        else:
            mapped = adapter.map(read.frame, ctx)
            rows, adapter_rejects = mapped.rows, mapped.rejects
    except Exception as exc:  # noqa: BLE001 - one broken file must not stop the batch
        # every record is quarantined under one rule: accounting holds, nothing is lost
        messages.append(Message(None, "error", "adapter_error", f"{adapter.name} failed: {exc!r}"))
        rows = empty_rows.drop("source_file")
        adapter_rejects = read.frame.select(
            pl.col(LINE),
            pl.lit("adapter_error").alias("rule"),
            pl.lit(f"the {adapter.name} adapter failed on this file: {exc!r}"[:500]).alias("message"),
        )
    if adapter_rejects.height:
        rejects = pl.concat(
            [rejects, _with_json(adapter_rejects, read.frame, adapter)], how="vertical_relaxed"
        )
    if rejects.height:
        rows = rows.join(rejects.select(LINE), on=LINE, how="anti")
    if listings is not None and listings.height and rows.height:
        # a channel SKU listed on the channel resolves to the listing's SKU (maybe a bundle)
        rows = rows.join(listings, on=["channel_id", "channel_sku"], how="left").with_columns(
            sku=pl.coalesce(pl.col("_listed_sku"), pl.col("sku"))
        ).drop("_listed_sku")
    schema = ENTITIES[adapter.entity].polars_schema
    rows = rows.select(
        *[pl.col(c).cast(t) if c in rows.columns else pl.lit(None, t).alias(c) for c, t in schema.items()],
        pl.col(LINE).cast(pl.Int64),
        pl.lit(fr.source_file).alias("source_file"),
    )
    return _Pending(fr, adapter, read.frame, rows, rejects, messages)


def _with_json(rejects: pl.DataFrame, text: pl.DataFrame, adapter: Adapter) -> pl.DataFrame:
    """Attach each rejected record's original text (identity columns removed) as JSON."""
    lines = rejects.select(LINE).unique()
    if text.height == 0 or lines.height == 0:
        return rejects.with_columns(row_json=pl.lit("{}")).select(LINE, "rule", "message", "row_json")
    keep = [c for c in text.columns if c != LINE and c not in set(adapter.pii_columns)]
    payload = text.join(lines, on=LINE, how="semi").select(
        pl.col(LINE),
        (pl.struct(keep).struct.json_encode() if keep else pl.lit("{}")).alias("row_json"),
    )
    return rejects.join(payload, on=LINE, how="left").select(
        LINE, "rule", "message", pl.col("row_json").fill_null("{}")
    )


def _flush(con, entity, pending: list[_Pending], refs, batch_id, report, log_notes) -> pl.DataFrame:
    """Contract, raw insert, quarantine, messages and manifest for a chunk of files of one
    entity — one statement per table for the whole chunk, not per file.

    Returns the keys landed (for the merge)."""
    rows = pl.concat([p.rows for p in pending], how="vertical_relaxed")
    check = validate(rows, entity, refs)
    del rows
    good = check.good.with_columns(pl.lit(batch_id).alias("batch_id"))
    _insert(con, f"raw.{entity.name}", good)
    if log_notes and check.messages:
        _log(
            con,
            batch_id,
            None,
            [Message(None, "warning", "reference_check_skipped", n) for n in check.messages],
        )
    loaded = dict(good.group_by("source_file").agg(pl.col(LINE).n_unique()).iter_rows())
    by_file = check.rejects.partition_by("source_file", as_dict=True, include_key=False)
    now = _now()
    quarantine, messages, manifest = [], [], []
    for p in pending:
        fr = p.result
        rejected = p.rejects
        mine = by_file.get((fr.source_file,))
        if mine is not None:
            rejected = pl.concat([rejected, _with_json(mine, p.text, p.adapter)], how="vertical_relaxed")
        # one quarantine row per rejected record: its first rule, all its messages
        rejected = (
            rejected.group_by(LINE, maintain_order=True)
            .agg(pl.col("rule").first(), pl.col("message").str.join("; "), pl.col("row_json").first())
            .sort(LINE)
        )
        fr.rows_quarantined = rejected.height
        fr.rows_loaded = loaded.get(fr.source_file, 0)
        if fr.status != "failed" and fr.rows_loaded + fr.rows_quarantined != fr.rows_read:
            p.messages.append(
                Message(
                    None,
                    "warning",
                    "unaccounted_records",
                    f"{fr.rows_read} records read but {fr.rows_loaded} loaded + "
                    f"{fr.rows_quarantined} quarantined (adapter {p.adapter.name})",
                )
            )
        if rejected.height:
            quarantine.append(
                rejected.select(
                    pl.lit(batch_id).alias("batch_id"),
                    pl.lit(fr.source_file).alias("source_file"),
                    pl.col(LINE).alias("source_line"),
                    pl.lit(p.adapter.name).alias("adapter"),
                    pl.lit(entity.name).alias("entity"),
                    "rule",
                    "message",
                    "row_json",
                    pl.lit(now).alias("quarantined_at"),
                )
            )
        if fr.status == "loaded" and fr.rows_read and fr.rows_quarantined == fr.rows_read:
            fr.message = "every record was quarantined"
        messages += [(fr.source_file, m) for m in p.messages]
        manifest.append(fr)
        report.files.append(fr)
    if quarantine:
        _insert(con, "quarantine.rows", pl.concat(quarantine, how="vertical_relaxed"))
    _log_many(con, batch_id, messages)
    _manifest_many(con, batch_id, manifest)
    return good.select(entity.key).unique()


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
                "rows_read": fr.rows_read, "rows_loaded": fr.rows_loaded,
                "rows_quarantined": fr.rows_quarantined, "status": fr.status,
                "message": fr.message, "ingested_at": now,
            }
            for fr in results
        ],
        schema={
            "source_file": pl.String, "sha256": pl.String, "adapter": pl.String,
            "entity": pl.String, "batch_id": pl.String, "size_bytes": pl.Int64,
            "rows_read": pl.Int64, "rows_loaded": pl.Int64, "rows_quarantined": pl.Int64,
            "status": pl.String, "message": pl.String, "ingested_at": pl.Datetime("us"),
        },
    )
    con.register("_manifest", frame)
    try:
        con.execute(
            """INSERT INTO ops.ingested_files BY NAME SELECT * FROM _manifest
               ON CONFLICT (source_file, sha256) DO UPDATE SET
                 adapter = excluded.adapter, entity = excluded.entity,
                 batch_id = excluded.batch_id, size_bytes = excluded.size_bytes,
                 rows_read = excluded.rows_read, rows_loaded = excluded.rows_loaded,
                 rows_quarantined = excluded.rows_quarantined, status = excluded.status,
                 message = excluded.message, ingested_at = excluded.ingested_at"""
        ).fetchall()
    finally:
        con.unregister("_manifest")
