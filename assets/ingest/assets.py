"""Dagster assets of the ingest domain: the inbox lands in ``core.*`` and ``quarantine.rows``.

One ``multi_asset`` runs the engine once (it must: master data first, one writer) and
materializes every ``core`` entity plus ``quarantine.rows``; downstream domains depend on
``dg.AssetKey(["core", "<entity>"])``. Checks beside it: row accounting per file and key
uniqueness per core table, with their numbers in metadata.
"""

import dagster as dg

from assets.ingest.derived import HOW_TO_SUPPLY, derive_products, remove_derived_products
from assets.ingest.engine import IngestReport, ingest_inbox
from assets.metadata import md_table
from assets.model import ENTITIES
from assets.resources import SettingsResource
from assets.warehouse import WAREHOUSE_POOL, WarehouseResource

GROUP = "ingest"
KINDS = {"duckdb", "polars"}
QUARANTINE_KEY = dg.AssetKey(["quarantine", "rows"])
CORE_KEYS = {name: dg.AssetKey(["core", name]) for name in ENTITIES}

def _md_table(headers: list[str], rows: list[tuple]) -> str:
    return md_table(headers, rows, empty="_none_")


class IngestConfig(dg.Config):
    """``rehash``: sha256 every inbox file, even one whose name, size and modification time
    match its ingested version (normally such a file is not read at all).
    ``accept_corrections``: inbox files whose held correction is applied although it keeps
    fewer rows than ``[ingest] correction_max_loss`` allows (``--accept-correction``)."""

    rehash: bool = False
    accept_corrections: list[str] = []


@dg.multi_asset(
    name="ingest_inbox",
    specs=[
        dg.AssetSpec(
            key,
            description=f"core.{name}: {ENTITIES[name].doc}",
            group_name=GROUP,
            kinds=KINDS,
            skippable=False,
        )
        for name, key in CORE_KEYS.items()
    ]
    + [
        dg.AssetSpec(
            QUARANTINE_KEY,
            description="Rejected inbox records, whole, with the file, line and rule.",
            group_name=GROUP,
            kinds=KINDS,
        )
    ],
    pool=WAREHOUSE_POOL,
    can_subset=False,
)
def ingest_inbox_assets(
    context: dg.AssetExecutionContext, config: IngestConfig, warehouse: WarehouseResource,
    shelfwise: SettingsResource,
):
    """Land new and corrected inbox files into raw, quarantine and core (idempotent)."""
    settings = shelfwise.settings
    with warehouse.connect() as con:
        remove_derived_products(con)  # the engine sees core.products as raw makes it
        report: IngestReport = ingest_inbox(
            con, settings, settings.inbox, rehash=config.rehash,
            accept_corrections=config.accept_corrections,
        )
        derived = derive_products(con, report.batch_id)
        core_counts = {
            name: con.execute(f"SELECT count(*) FROM core.{name}").fetchall()[0][0]
            for name in ENTITIES
        }
        by_rule = con.execute(
            """SELECT entity, rule, count(*) AS records, count(DISTINCT source_file) AS files,
                      any_value(source_file || ':' || source_line) AS example
               FROM quarantine.rows WHERE batch_id = ?
               GROUP BY ALL ORDER BY records DESC, entity, rule LIMIT 30""",
            [report.batch_id],
        ).fetchall()
        quarantine_total = con.execute("SELECT count(*) FROM quarantine.rows").fetchall()[0][0]
        failed = con.execute(
            """SELECT source_file, message FROM ops.ingested_files
               WHERE batch_id = ? AND status IN ('failed', 'held')
               ORDER BY source_file LIMIT 20""",
            [report.batch_id],
        ).fetchall()
    context.log.info(
        f"batch {report.batch_id}: {report.files_seen} files seen, {report.files_skipped} "
        f"skipped, {report.files_ingested} ingested, {report.files_failed} failed, "
        f"{report.files_held} corrections held; "
        f"{report.rows_loaded:,} records loaded, {report.rows_quarantined:,} quarantined, "
        f"{report.rows_skipped:,} skipped as not data in {report.seconds:.1f} s; "
        f"{report.lines_superseded:,} order line(s) superseded by a later export of their order"
    )
    if derived:
        context.log.warning(
            f"{derived} SKU(s) sold on order lines have no product master data: derived from "
            f"the order lines (name = SKU, case pack 1, MOQ 1); {HOW_TO_SUPPLY}"
        )
    per_entity = report.rows_by_entity()
    for name, key in CORE_KEYS.items():
        stats = per_entity.get(name, {"files": 0, "read": 0, "loaded": 0, "quarantined": 0,
                                      "skipped": 0})
        yield dg.MaterializeResult(
            asset_key=key,
            metadata={
                "batch_id": report.batch_id,
                "files_ingested": stats["files"],
                "rows_read": stats["read"],
                "rows_loaded": stats["loaded"],
                "rows_quarantined": stats["quarantined"],
                "rows_skipped": stats["skipped"],
                "core_rows_written": report.core_rows_written.get(name, 0),
                "dagster/row_count": core_counts[name],
                **({"lines_superseded": report.lines_superseded} if name == "order_lines"
                   else {}),
                **({"derived_from_order_lines": derived} if name == "products" else {}),
            },
        )
    yield dg.MaterializeResult(
        asset_key=QUARANTINE_KEY,
        metadata={
            "batch_id": report.batch_id,
            "files_seen": report.files_seen,
            "files_ingested": report.files_ingested,
            "files_skipped": report.files_skipped,
            "files_failed": report.files_failed,
            "files_held": report.files_held,
            "files_replaced": len(report.replaced_files),
            "rows_read": report.rows_read,
            "rows_loaded": report.rows_loaded,
            "rows_quarantined": report.rows_quarantined,
            "rows_skipped": report.rows_skipped,
            "seconds": round(report.seconds, 2),
            "dagster/row_count": quarantine_total,
            "rows_by_entity": dg.MetadataValue.md(
                _md_table(
                    ["entity", "files", "read", "loaded", "quarantined", "skipped"],
                    [(e, s["files"], s["read"], s["loaded"], s["quarantined"], s["skipped"])
                     for e, s in per_entity.items()],
                )
            ),
            "quarantine_by_rule": dg.MetadataValue.md(
                _md_table(["entity", "rule", "records", "files", "example (file:line)"], by_rule)
            ),
            "failed_files": dg.MetadataValue.md(_md_table(["file", "why"], failed)),
        },
    )

@dg.asset_check(
    asset=QUARANTINE_KEY,
    description="For every live file: records read = loaded + quarantined + skipped (not data).",
    pool=WAREHOUSE_POOL,
)
def row_accounting(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect() as con:
        files, bad, examples = con.execute(
            """SELECT count(*),
                      count(*) FILTER (WHERE rows_read <> rows_loaded + rows_quarantined
                                                          + coalesce(rows_skipped, 0)),
                      list(source_file) FILTER (WHERE rows_read <> rows_loaded + rows_quarantined
                                                                  + coalesce(rows_skipped, 0))
               FROM ops.ingested_files WHERE status = 'loaded'"""
        ).fetchall()[0]
    return dg.AssetCheckResult(
        passed=bad == 0,
        metadata={
            "files_checked": files,
            "files_unbalanced": bad,
            "examples": dg.MetadataValue.md("\n".join(f"- {f}" for f in (examples or [])[:20]) or "_none_"),
        },
    )

def _uniqueness_check(name: str):
    entity = ENTITIES[name]
    keys = ", ".join(entity.key)

    @dg.asset_check(
        asset=CORE_KEYS[name],
        name="key_unique",
        description=f"core.{name} has one row per ({keys}).",
        pool=WAREHOUSE_POOL,
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect() as con:
            rows, distinct_keys = con.execute(
                f"SELECT count(*), count(DISTINCT ({keys})) FROM core.{name}"
            ).fetchall()[0]
        return dg.AssetCheckResult(
            passed=rows == distinct_keys,
            metadata={"rows": rows, "distinct_keys": distinct_keys, "duplicates": rows - distinct_keys},
        )

    return _check

ASSETS = [ingest_inbox_assets]
ASSET_CHECKS = [row_accounting] + [_uniqueness_check(name) for name in ENTITIES]
