"""Short tables people read after a run: rows per table, quarantined rows by rule."""

from __future__ import annotations

from pathlib import Path

from assets.kpis.money import unconverted_revenue_note
from assets.warehouse import connect


def format_table(headers: list[str], rows: list[tuple]) -> str:
    """A plain aligned text table (numbers right-aligned, thousands separated)."""

    def cell(v: object) -> str:
        if isinstance(v, int):
            return f"{v:,}"
        if isinstance(v, float):
            return f"{v:,.2f}"
        return "" if v is None else str(v)

    text = [[cell(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in text]) for i, h in enumerate(headers)]
    numeric = [all(isinstance(row[i], (int, float)) for row in rows) and rows for i in range(len(headers))]
    def line(values: list[str]) -> str:
        return "  ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)).rstrip()
    out = [line(headers), line(["-" * w for w in widths])]
    out += [line(r) for r in text]
    return "\n".join(out)


def warehouse_summary(warehouse_path: Path) -> str:
    """Rows per table in every layer, then quarantined rows by file kind and rule."""
    if not Path(warehouse_path).exists():
        return f"No warehouse yet at {warehouse_path}: run `shelfwise ingest` or `shelfwise demo`."
    with connect(warehouse_path, read_only=True) as con:
        tables = con.execute(
            """
            SELECT schema_name, table_name, estimated_size
            FROM duckdb_tables()
            WHERE schema_name IN ('raw', 'core', 'marts', 'quarantine')
            ORDER BY CASE schema_name WHEN 'raw' THEN 1 WHEN 'core' THEN 2
                     WHEN 'marts' THEN 3 ELSE 4 END, table_name
            """
        ).fetchall()
        counts = {
            (s, t): con.execute(f'SELECT count(*) FROM "{s}"."{t}"').fetchone()[0]
            for s, t, _ in tables
        }
        core_tables = sorted({t for s, t, _ in tables if s in ("raw", "core")})
        rows = [(t, counts.get(("raw", t), 0), counts.get(("core", t), 0)) for t in core_tables]
        marts = [(t, counts[(s, t)]) for s, t, _ in tables if s == "marts"]
        quarantine = con.execute(
            """
            SELECT entity, rule, count(*) AS rows, count(DISTINCT source_file) AS files
            FROM quarantine.rows GROUP BY ALL ORDER BY rows DESC, entity, rule
            """
        ).fetchall()
        skipped = con.execute(
            """
            SELECT entity, adapter, sum(rows_skipped) AS rows, count(*) AS files
            FROM ops.ingested_files WHERE status = 'loaded' AND rows_skipped > 0
            GROUP BY ALL ORDER BY rows DESC, entity, adapter
            """
        ).fetchall()
        unconverted = unconverted_revenue_note(con)
    parts = ["Warehouse tables (rows)", format_table(["table", "raw", "core"], rows)]
    if marts:
        parts += ["", "Marts (rows)", format_table(["mart", "rows"], marts)]
    parts += ["", "Quarantined rows by rule"]
    parts.append(
        format_table(["entity", "rule", "rows", "files"], quarantine) if quarantine else "(none)"
    )
    if skipped:  # framing the format carries (eBay's order summary rows): not bad data
        parts += ["", "Skipped records (not data, e.g. eBay order summary rows)",
                  format_table(["entity", "adapter", "rows", "files"], skipped)]
    if unconverted:
        parts += ["", unconverted]
    return "\n".join(parts)


# --------------------------------------------------------------------------- a run's outcome


def _innermost(error) -> str:
    """The message of the error that caused a step failure (Dagster wraps it)."""
    while getattr(error, "cause", None) is not None:
        error = error.cause
    return (getattr(error, "message", None) or str(error)).strip().splitlines()[-1]


def run_problems(result) -> dict[str, list[tuple[str, str]]]:
    """What went wrong in a Dagster run (an ``ExecuteInProcessResult``), in words.

    ``failed_checks``: (check, severity and why) of every check that did not pass;
    ``failed_steps``: (step, the error's message), a blocking check's failure included;
    ``skipped_steps``: (asset, '') of the job's assets not built because a step or a
    blocking check upstream failed (Dagster logs no event for them: selected − materialized −
    failed).
    """
    failed_checks, failed_steps, skipped = [], [], []
    planned = sorted(k.to_user_string() for k in result.job_def.asset_layer.selected_asset_keys)
    built = set()
    for event in result.all_events:
        kind = event.event_type_value
        if kind == "ASSET_MATERIALIZATION":
            built.add(event.asset_key.to_user_string())
        if kind == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            if not data.passed:
                severity = getattr(data.severity, "value", str(data.severity))
                failed_checks.append((data.asset_check_key.to_user_string(),
                                      f"[{severity}] {data.description or 'failed'}"))
        elif kind == "STEP_FAILURE":
            failed_steps.append((event.step_key, _innermost(event.event_specific_data.error)))
    failed = {k for k, _ in failed_steps}
    skipped = [(key, "") for key in planned
               if key not in built and key.replace("/", "__") not in failed]
    return {"failed_checks": failed_checks, "failed_steps": failed_steps,
            "skipped_steps": skipped}


def format_run_problems(problems: dict[str, list[tuple[str, str]]]) -> str:
    """The failed checks with their reason, failed and skipped steps; '' when all went well."""
    parts = []
    if problems["failed_checks"]:
        parts += ["Checks that failed (ERROR stops what depends on it; WARN only warns)",
                  format_table(["check", "why"],
                               [(k, _short(v)) for k, v in problems["failed_checks"]])]
    if problems["failed_steps"]:
        parts += ["", "Steps that failed",
                  format_table(["step", "why"],
                               [(k, _short(v)) for k, v in problems["failed_steps"]])]
    if problems["skipped_steps"]:
        parts += ["", "Not built because a step or blocking check before them failed: "
                  + ", ".join(k for k, _ in problems["skipped_steps"])]
    return "\n".join(parts).strip()


def _short(text: str, limit: int = 400) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def failed_files(warehouse_path: Path, batch_id: str | None = None) -> list[tuple[str, str, str, str]]:
    """(file, status, rule, message) of every file an ingest batch did not land: ``failed``
    (unreadable, unknown format, wrong header, refused) or ``held`` (a correction waiting for
    ``--accept-correction``). ``batch_id`` None: the latest batch. Empty without a warehouse."""
    if not Path(warehouse_path).exists():
        return []
    with connect(warehouse_path, read_only=True) as con:
        if batch_id is None:
            latest = con.execute(
                "SELECT batch_id FROM ops.ingest_batches ORDER BY started_at DESC, batch_id DESC LIMIT 1"
            ).fetchall()
            if not latest:
                return []
            batch_id = latest[0][0]
        return con.execute(
            """SELECT f.source_file, f.status,
                      coalesce(string_agg(DISTINCT m.rule, ', ' ORDER BY m.rule),
                               CASE f.status WHEN 'held' THEN 'correction_held' END, '?'),
                      f.message
               FROM ops.ingested_files AS f
               LEFT JOIN ops.ingest_messages AS m
                 ON m.batch_id = f.batch_id AND m.source_file = f.source_file
                AND m.severity = CASE f.status WHEN 'failed' THEN 'error' ELSE 'warning' END
                AND (f.status = 'failed' OR m.rule = 'correction_held')
               WHERE f.batch_id = ? AND f.status IN ('failed', 'held')
               GROUP BY f.source_file, f.status, f.message
               ORDER BY f.status, f.source_file""",
            [batch_id],
        ).fetchall()


def superseded_summary(warehouse_path: Path, batch_id: str | None = None) -> str:
    """The order lines an ingest batch removed from core because a later export of their
    order left them out (the latest export of an order owns its lines; raw keeps them), as a
    count and one row per later export and earlier file; "" when none (``batch_id`` None: the
    latest batch)."""
    if not Path(warehouse_path).exists():
        return ""
    with connect(warehouse_path, read_only=True) as con:
        found = con.execute(
            """WITH batch AS (
                   SELECT coalesce(?, (SELECT batch_id FROM ops.ingest_batches
                                       ORDER BY started_at DESC, batch_id DESC LIMIT 1)) AS id)
               SELECT source_file, message,
                      CAST(replace(regexp_extract(message, '^([0-9,]+) line', 1), ',', '')
                           AS BIGINT) AS lines
               FROM ops.ingest_messages, batch
               WHERE batch_id = batch.id AND rule = 'superseded_by_later_export'
               ORDER BY source_file, message""",
            [batch_id],
        ).fetchall()
    if not found:
        return ""
    total = sum(n or 0 for *_, n in found)
    return "\n".join([
        f"Order lines superseded: {total:,} order line(s) that an earlier export had are not in "
        "the latest export of their order, so they left core (raw keeps them; see "
        "docs/ingestion.md)",
        format_table(["later export", "what it left out"], [(f, m[:160]) for f, m, _ in found]),
    ])


def failed_files_summary(warehouse_path: Path, batch_id: str | None = None) -> str:
    """The files an ingest batch did not land, with their rule, as a table for the terminal;
    "" when every file landed (``batch_id`` None: the latest batch)."""
    found = failed_files(warehouse_path, batch_id)
    if not found:
        return ""
    return "\n".join([
        f"Files not landed ({len(found)}): fix them and run again; a held correction is "
        "applied with --accept-correction FILE",
        format_table(["file", "status", "rule", "why"],
                     [(f, s, r, (m or "")[:160]) for f, s, r, m in found]),
    ])
