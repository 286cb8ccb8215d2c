"""Short tables people read after a run: rows per table, quarantined rows by rule."""

from __future__ import annotations

from pathlib import Path

from assets.kpis.money import unconverted_revenue_note
from assets.warehouse import connect
from pipelines import queries


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
        tables = queries.layer_row_counts(con)
        quarantine = queries.quarantine_by_rule(con)
        skipped = queries.skipped_records(con)
        unconverted = unconverted_revenue_note(con)
    counts = {(r["schema_name"], r["table_name"]): r["row_count"]
              for r in tables.iter_rows(named=True)}
    core_tables = sorted({t for s, t in counts if s in ("raw", "core")})
    rows = [(t, counts.get(("raw", t), 0), counts.get(("core", t), 0)) for t in core_tables]
    marts = [(t, n) for (s, t), n in counts.items() if s == "marts"]
    quarantine = [(r["entity"], r["rule"], r["rows"], r["files"])
                  for r in quarantine.iter_rows(named=True)]
    skipped = [(r["entity"], r["adapter"], r["rows"], r["files"])
               for r in skipped.iter_rows(named=True)]
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
            batch_id = queries.latest_batch_id(con)
            if batch_id is None:
                return []
        found = queries.files_not_landed(con, batch_id)
    return [(r["source_file"], r["status"], r["rule"], r["message"])
            for r in found.iter_rows(named=True)]


def superseded_summary(warehouse_path: Path, batch_id: str | None = None) -> str:
    """The order lines an ingest batch removed from core because a later export of their
    order left them out (the latest export of an order owns its lines; raw keeps them), as a
    count and one row per later export and earlier file; "" when none (``batch_id`` None: the
    latest batch)."""
    if not Path(warehouse_path).exists():
        return ""
    with connect(warehouse_path, read_only=True) as con:
        found = queries.superseded_lines(con, batch_id)
    if found.is_empty():
        return ""
    total = sum(n or 0 for n in found["lines"])
    return "\n".join([
        f"Order lines superseded: {total:,} order line(s) that an earlier export had are not in "
        "the latest export of their order, so they left core (raw keeps them; see "
        "docs/ingestion.md)",
        format_table(["later export", "what it left out"],
                     [(r["source_file"], r["message"][:160]) for r in found.iter_rows(named=True)]),
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
