"""engine.ingest_inbox: idempotency, corrected files, later exports, accounting, PII."""

from __future__ import annotations

import fnmatch
import shutil

import pytest
from ingest_testkit import CHANNEL_SAMPLES, checksums, ingest, make_home, rows, write

from assets.ingest.adapters import CHANNEL_ADAPTERS
from assets.ingest.reader import read_records
from assets.model import ENTITIES
from assets.warehouse import connect

ORDERS_HEADER = "order_id,line_id,channel_sku,quantity,unit_price,currency,line_amount,status,ordered_at,updated_at\n"


def test_fixture_inbox_lands_everything(tmp_path):
    settings = make_home(tmp_path)
    report = ingest(settings)
    assert report.files_failed == 0 and report.rows_quarantined == 0
    assert report.files_ingested == report.files_seen == 17
    counts = dict(rows(settings, "SELECT 'x', count(*) FROM core.order_lines"))
    assert counts["x"] == 5  # 7 lines in 3 files, W1001's two lines exported twice
    # channel SKUs resolve through listings, bundles stay bundle SKUs
    skus = dict(rows(settings, "SELECT order_id || '/' || line_id, sku FROM core.order_lines"))
    assert skus["W1001/1"] == "MUG-RED" and skus["W1001/2"] == "MUG-SET" and skus["A-1/1"] == "TEE-M"


def test_ingesting_twice_changes_nothing(tmp_path):
    settings = make_home(tmp_path)
    ingest(settings)
    with connect(settings.warehouse_path) as con:
        before = checksums(con)
    second = ingest(settings)
    assert second.files_skipped == second.files_seen and second.files == []
    with connect(settings.warehouse_path) as con:
        assert checksums(con) == before


def test_unchanged_files_are_not_read_again(tmp_path, monkeypatch):
    """Same name, size and mtime as the ingested version: skipped without hashing; a touched
    file is hashed (and skipped, same bytes); ``rehash`` hashes everything."""
    import os

    from assets.ingest import engine

    settings = make_home(tmp_path)
    ingest(settings)
    hashed = []
    real = engine.sha256_file
    monkeypatch.setattr(engine, "sha256_file", lambda p: hashed.append(p) or real(p))
    assert ingest(settings).files_skipped == 17 and hashed == []

    path = settings.inbox / "stock_snapshots/wh1/2024-02-11.csv"
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    report = ingest(settings)
    assert report.files == [] and [p.name for p in hashed] == [path.name]
    hashed.clear()
    assert ingest(settings).files == [] and hashed == []  # the new mtime was remembered

    # the same size, a new mtime, other bytes: a corrected version, found by its sha256
    write(path, path.read_bytes().replace(b"MUG-RED,120", b"MUG-RED,121"))
    assert ingest(settings).replaced_files == ["stock_snapshots/wh1/2024-02-11.csv"]
    hashed.clear()
    assert ingest(settings, rehash=True).files == [] and len(hashed) == 17


def test_later_export_updates_status_without_duplicating(tmp_path):
    settings = make_home(tmp_path)
    ingest(settings)
    got = rows(
        settings,
        "SELECT line_id, status, shipped_at IS NOT NULL, source_file FROM core.order_lines "
        "WHERE order_id = 'W1001' ORDER BY line_id",
    )
    assert [(r[0], r[1], r[2]) for r in got] == [("1", "shipped", True), ("2", "shipped", True)]
    assert {r[3] for r in got} == {"orders/web/2024-02-11.canonical.csv"}
    assert rows(settings, "SELECT count(*) FROM raw.order_lines WHERE order_id = 'W1001'") == [(4,)]


def test_a_later_export_in_a_later_batch_wins(tmp_path):
    settings = make_home(tmp_path)
    ingest(settings)
    write(
        settings.inbox / "orders/web/2024-02-12.canonical.csv",
        ORDERS_HEADER
        + "W1002,1,MUG-BLUE,3,9.90,EUR,29.70,cancelled,2024-02-10T12:00:00Z,2024-02-12T09:00:00Z\n",
    )
    ingest(settings)
    assert rows(settings, "SELECT status FROM core.order_lines WHERE order_id = 'W1002'") == [("cancelled",)]
    assert rows(settings, "SELECT count(*) FROM core.order_lines") == [(5,)]


def test_corrected_file_replaces_its_earlier_version(tmp_path):
    settings = make_home(tmp_path)
    ingest(settings)
    path = settings.inbox / "stock_snapshots/wh1/2024-02-11.csv"
    # the corrected export drops TEE-M and fixes MUG-RED's count
    write(
        path,
        "snapshot_date,location_id,sku,on_hand,reserved,counted,counted_at\n"
        "2024-02-11,wh1,MUG-RED,118,0,true,2024-02-11T23:30:00Z\n"
        "2024-02-11,wh1,MUG-BLUE,80,2,false,2024-02-11T23:00:00Z\n",
    )
    report = ingest(settings)
    assert report.replaced_files == ["stock_snapshots/wh1/2024-02-11.csv"]
    assert rows(settings, "SELECT sku, on_hand FROM core.stock_snapshots ORDER BY sku") == [
        ("MUG-BLUE", 80),
        ("MUG-RED", 118),
    ]
    assert rows(settings, "SELECT count(*) FROM raw.stock_snapshots") == [(2,)]
    statuses = rows(
        settings,
        "SELECT status, count(*) FROM ops.ingested_files WHERE source_file = ? GROUP BY ALL ORDER BY 1",
        ["stock_snapshots/wh1/2024-02-11.csv"],
    )
    assert statuses == [("loaded", 1), ("replaced", 1)]


def test_reverting_a_file_to_its_first_content_is_a_change_again(tmp_path):
    settings = make_home(tmp_path)
    path = settings.inbox / "stock_snapshots/wh1/2024-02-11.csv"
    original = path.read_bytes()
    ingest(settings)
    write(path, original.replace(b"MUG-RED,120", b"MUG-RED,7"))
    ingest(settings)
    write(path, original)
    report = ingest(settings)
    assert report.files_ingested == 1
    assert rows(settings, "SELECT on_hand FROM core.stock_snapshots WHERE sku = 'MUG-RED'") == [(120,)]


def test_row_accounting_holds_for_every_file(tmp_path):
    settings = make_home(tmp_path)
    write(
        settings.inbox / "orders/web/2024-02-13.canonical.csv",
        ORDERS_HEADER
        + "W2001,1,MUG-BLUE,1,9.90,EUR,9.90,paid,2024-02-13T09:00:00Z,2024-02-13T09:00:00Z\n"
        + "W2002,1,MUG-BLUE,0,9.90,EUR,9.90,paid,2024-02-13T09:00:00Z,2024-02-13T09:00:00Z\n"
        + "W2003,1,MUG-BLUE,1,9.90\n",
    )
    ingest(settings)
    unbalanced = rows(
        settings,
        "SELECT source_file FROM ops.ingested_files WHERE rows_read <> rows_loaded + rows_quarantined",
    )
    assert unbalanced == []
    assert rows(
        settings,
        "SELECT rows_read, rows_loaded, rows_quarantined FROM ops.ingested_files WHERE source_file LIKE '%02-13%'",
    ) == [(3, 1, 2)]
    # and the raw/quarantine tables agree with the manifest
    assert rows(
        settings,
        """SELECT (SELECT sum(rows_loaded) FROM ops.ingested_files),
                  (SELECT count(*) FROM (SELECT DISTINCT source_file, source_line FROM raw.order_lines)
                   ) + (SELECT sum(n) FROM (SELECT count(DISTINCT (source_file, source_line)) n FROM raw.products
                        UNION ALL SELECT count(*) FROM raw.suppliers UNION ALL SELECT count(*) FROM raw.locations
                        UNION ALL SELECT count(*) FROM raw.channels UNION ALL SELECT count(*) FROM raw.channel_locations
                        UNION ALL SELECT count(*) FROM raw.bundle_components UNION ALL SELECT count(*) FROM raw.channel_listings
                        UNION ALL SELECT count(*) FROM raw.fx_rates UNION ALL SELECT count(*) FROM raw.stock_snapshots
                        UNION ALL SELECT count(*) FROM raw.purchase_orders UNION ALL SELECT count(*) FROM raw.receipts
                        UNION ALL SELECT count(*) FROM raw.returns UNION ALL SELECT count(*) FROM raw.fulfillment_events
                        UNION ALL SELECT count(*) FROM raw.stock_adjustments))""",
    )[0][0] == rows(settings, "SELECT sum(rows_loaded) FROM ops.ingested_files")[0][0]


def test_unknown_file_is_a_message_not_a_crash(tmp_path):
    settings = make_home(tmp_path)
    write(settings.inbox / "mystery/thing.xlsx", b"PK\x03\x04 not really")
    write(settings.inbox / "products/notes.txt", "hello")
    report = ingest(settings)
    assert report.files_failed == 2
    got = rows(
        settings,
        "SELECT source_file, rule FROM ops.ingest_messages WHERE rule = 'unknown_file_format' ORDER BY 1",
    )
    assert got == [("mystery/thing.xlsx", "unknown_file_format"), ("products/notes.txt", "unknown_file_format")]
    assert rows(settings, "SELECT count(*) FROM core.products") == [(4,)]
    # a failed file is not ingested: the next run tries it again and says so again
    again = ingest(settings)
    assert sorted(f.source_file for f in again.files) == ["mystery/thing.xlsx", "products/notes.txt"]
    assert again.files_failed == 2
    assert rows(settings, "SELECT count(*) FROM core.products") == [(4,)]


def test_hidden_and_partial_files_are_ignored(tmp_path):
    settings = make_home(tmp_path)
    write(settings.inbox / "products/.~lock.products.csv#", "x")
    write(settings.inbox / "products/upload.csv.part", "x")
    report = ingest(settings)
    assert report.files_seen == 17


def test_base_currency_amounts_follow_fx_and_its_corrections(tmp_path):
    settings = make_home(tmp_path)
    ingest(settings)
    # A-1 ordered 2024-02-11 in USD: rate of 2024-02-01 (0.92) applies; EUR is rate 1
    assert rows(settings, "SELECT line_amount_base FROM core.order_lines WHERE order_id = 'A-1'") == [
        (pytest.approx(42.0 * 0.92),)
    ]
    assert rows(settings, "SELECT line_amount_base FROM core.order_lines WHERE order_id = 'W1003'") == [(9.9,)]
    write(settings.inbox / "fx_rates/2024-02-10.csv", "rate_date,currency,rate_to_base\n2024-02-10,USD,1.0\n")
    ingest(settings)
    assert rows(settings, "SELECT line_amount_base FROM core.order_lines WHERE order_id = 'A-1'") == [(42.0,)]
    po = rows(settings, "SELECT unit_cost_base FROM core.purchase_orders")[0][0]
    assert po == pytest.approx(4.0 * 0.92)  # PO of 2024-02-01 keeps its date's rate


def test_master_data_in_the_same_batch_resolves_references(tmp_path):
    settings = make_home(tmp_path)
    report = ingest(settings)
    assert report.rows_quarantined == 0  # orders name SKUs that products (same batch) define


def test_order_sku_unknown_once_master_data_exists(tmp_path):
    settings = make_home(tmp_path)
    write(
        settings.inbox / "orders/web/2024-02-14.canonical.csv",
        ORDERS_HEADER + "W3001,1,NOT-LISTED,1,9.90,EUR,9.90,paid,2024-02-14T09:00:00Z,2024-02-14T09:00:00Z\n",
    )
    ingest(settings)
    assert rows(settings, "SELECT source_line, rule FROM quarantine.rows") == [(2, "unknown_sku")]


def _pii_values() -> dict[str, set[str]]:
    """Customer identity values of the committed channel fixtures, per fixture file."""
    out = {}
    for adapter in CHANNEL_ADAPTERS:
        for path in sorted((CHANNEL_SAMPLES).rglob("*")):
            if not path.is_file():
                continue
            if not any(fnmatch.fnmatch(path.name.lower(), g.lower()) for g in adapter.file_globs):
                continue
            read = read_records(path, adapter)
            values = set()
            for col in adapter.pii_columns:
                if col in read.frame.columns:
                    # e-mails, names and street lines; a bare city name ("Hamburg") also
                    # appears legitimately in a store's location id
                    values |= {
                        v.strip()
                        for v in read.frame[col].drop_nulls().to_list()
                        if len(v.strip()) >= 5 and ("@" in v or " " in v.strip())
                    }
            if values:
                out[str(path)] = values
    return out


def test_customer_identity_never_lands(tmp_path):
    settings = make_home(tmp_path, inbox_from=None)
    for channel_dir in sorted((CHANNEL_SAMPLES).iterdir()):
        shutil.copytree(channel_dir, settings.inbox / "orders" / channel_dir.name)
    pii = set().union(*_pii_values().values())
    assert any("@" in v for v in pii), "fixtures should hold customer e-mails"
    report = ingest(settings)
    assert report.files_seen > 0
    with connect(settings.warehouse_path, read_only=True) as con:
        tables = [f"raw.{n}" for n in ENTITIES] + [f"core.{n}" for n in ENTITIES] + ["quarantine.rows", "ops.ingest_messages"]
        leaks = []
        for table in tables:
            text = con.execute(f"SELECT string_agg(CAST(t AS VARCHAR), '\n') FROM {table} t").fetchall()[0][0] or ""
            text = text.lower()
            leaks += [(table, v) for v in pii if v.lower() in text]
    assert leaks == []


def _ingest_crashing(settings, monkeypatch, function: str, entity: str, nth: int) -> None:
    """Ingest with ``engine.<function>`` raising "disk full" on its ``nth`` call for ``entity``."""
    from assets.ingest import engine

    real, calls = getattr(engine, function), []

    def failing(con, ent, *args, **kwargs):
        calls.append(ent.name)
        if ent.name == entity and calls.count(entity) == nth:
            raise RuntimeError("disk full")
        return real(con, ent, *args, **kwargs)

    monkeypatch.setattr(engine, function, failing)
    with pytest.raises(RuntimeError, match="disk full"):
        ingest(settings)


def _first_loads(settings) -> list[str]:
    return [e for (e,) in rows(settings, "SELECT entity FROM ops.first_loads ORDER BY 1")]


def test_a_crash_midway_keeps_the_landed_chunks_and_a_rerun_lands_the_rest(tmp_path, monkeypatch):
    """Chunks commit one by one: a failure in a later chunk rolls back only that chunk. On a
    first load the landed chunks are in raw and the manifest, the entity is marked in
    ops.first_loads (its core is derived once its last chunk lands), and the next run derives
    it and lands the rest."""
    from assets.ingest import engine

    reference = make_home(tmp_path / "reference")
    ingest(reference)
    settings = make_home(tmp_path / "crash")
    monkeypatch.setattr(engine, "CHUNK_ROWS", 1)
    _ingest_crashing(settings, monkeypatch, "_flush", "order_lines", 2)
    landed = rows(settings, "SELECT count(*) FROM ops.ingested_files WHERE entity = 'order_lines'")[0][0]
    assert 0 < landed < rows(reference, "SELECT count(*) FROM ops.ingested_files "
                                       "WHERE entity = 'order_lines'")[0][0]
    assert rows(settings, "SELECT count(*) FROM raw.order_lines")[0][0] > 0
    assert _first_loads(settings) == ["order_lines"]
    # the entities before it are complete: their first loads were derived
    assert _core_rows(settings)["channel_listings"] == _core_rows(reference)["channel_listings"]
    monkeypatch.undo()
    ingest(settings)
    assert _core_rows(settings) == _core_rows(reference)
    assert _first_loads(settings) == []


def test_a_crash_in_a_later_run_leaves_core_the_merge_of_raw(tmp_path, monkeypatch):
    """Once core holds rows, every chunk merges its own keys in its transaction: after a
    crash, core is exactly the winners of what landed. (Two channel folders: two groups,
    two chunks.)"""
    from assets.ingest import engine

    new_orders = {
        "orders/web/2024-02-12.canonical.csv": "W2001,1,MUG-BLUE,1,9.90,EUR,9.90,paid,2024-02-12T08:00:00Z,2024-02-12T08:00:00Z\n",
        "orders/amz/2024-02-13.canonical.csv": "A-2002,1,MUG-RED,2,9.90,EUR,19.80,paid,2024-02-13T08:00:00Z,2024-02-13T08:00:00Z\n",
    }
    reference, settings = make_home(tmp_path / "reference"), make_home(tmp_path / "crash")
    for home in (reference, settings):
        ingest(home)
        for name, line in new_orders.items():
            write(home.inbox / name, ORDERS_HEADER + line)
    ingest(reference)
    monkeypatch.setattr(engine, "CHUNK_ROWS", 1)
    _ingest_crashing(settings, monkeypatch, "_flush", "order_lines", 2)
    assert rows(settings, "SELECT count(*) FROM core.order_lines")[0][0] == rows(
        settings, "SELECT count(*) FROM (SELECT DISTINCT channel_id, order_id, line_id FROM raw.order_lines)")[0][0]
    # orders/amz sorts first: its chunk landed, orders/web's did not
    assert rows(settings, "SELECT order_id FROM core.order_lines WHERE order_id IN ('A-2002', 'W2001')") == [("A-2002",)]
    assert _first_loads(settings) == []
    monkeypatch.undo()
    ingest(settings)
    assert _core_rows(settings) == _core_rows(reference)


def test_a_crash_while_deriving_core_is_finished_by_the_next_run(tmp_path, monkeypatch):
    """The derivation commits piece by piece; a crash between pieces keeps the mark, and the
    next run derives that core again, whole, without reading its files again."""
    from assets.ingest import merge

    reference = make_home(tmp_path / "reference")
    ingest(reference)
    settings = make_home(tmp_path / "crash")
    monkeypatch.setattr(merge, "MERGE_BUCKET_ROWS", 2)
    _ingest_crashing(settings, monkeypatch, "derive_piece", "order_lines", 2)
    assert _first_loads(settings) == ["order_lines"]
    assert rows(settings, "SELECT count(*) FROM core.order_lines")[0][0] < len(
        _core_rows(reference)["order_lines"])
    monkeypatch.undo()
    report = ingest(settings)
    # the order files are not read again (the entities after them land now)
    assert all(f.entity != "order_lines" for f in report.files)
    assert report.core_rows_written["order_lines"] > 0
    assert _core_rows(settings) == _core_rows(reference)
    assert _first_loads(settings) == []


def _core_rows(settings) -> dict[str, list[tuple]]:
    """Every core table's rows, sorted, without the batch id (it differs between homes)."""
    with connect(settings.warehouse_path, read_only=True) as con:
        return {
            name: con.execute(f"SELECT * EXCLUDE (batch_id) FROM core.{name} ORDER BY ALL").fetchall()
            for name in ENTITIES
        }


def test_merging_in_pieces_gives_the_same_core(tmp_path, monkeypatch):
    """A first load (core empty: pieces of raw by key hash) and later batches (pieces of the
    touched keys) split into tiny pieces land exactly what one piece lands."""
    from assets.ingest import merge

    def history(settings):
        ingest(settings)
        write(settings.inbox / "orders/web/2024-02-12.canonical.csv", ORDERS_HEADER
              + "W1002,1,MUG-BLUE,3,9.90,EUR,29.70,cancelled,2024-02-10T12:00:00Z,2024-02-12T09:00:00Z\n")
        path = settings.inbox / "stock_snapshots/wh1/2024-02-11.csv"
        write(path, path.read_bytes().replace(b"MUG-RED,120", b"MUG-RED,118"))
        ingest(settings)
        return _core_rows(settings)

    from assets.ingest import engine

    whole = history(make_home(tmp_path / "whole"))
    monkeypatch.setattr(merge, "MERGE_BUCKET_ROWS", 2)
    monkeypatch.setattr(engine, "CHUNK_ROWS", 1)  # and every file group its own transaction
    pieces = history(make_home(tmp_path / "pieces"))
    assert pieces == whole
    assert sum(len(v) for v in whole.values()) > 20
    # the later export and the corrected file took effect in both
    assert any(r[1] == "W1002" and "cancelled" in r for r in pieces["order_lines"])
    assert any("MUG-RED" in r and 118 in r for r in pieces["stock_snapshots"])


def test_a_warehouse_from_before_keeps_its_core_rows_without_the_primary_key(tmp_path):
    """Core tables created with a PRIMARY KEY (older warehouses) are rebuilt without it."""
    from assets.warehouse import ensure_schema, entity_ddl

    settings = make_home(tmp_path)
    ingest(settings)
    before = _core_rows(settings)
    entity = ENTITIES["products"]
    with connect(settings.warehouse_path) as con:
        con.execute("ALTER TABLE core.products RENAME TO products_now")
        con.execute(entity_ddl(entity)[1].replace("\n)", f",\n  PRIMARY KEY ({', '.join(entity.key)})\n)"))
        con.execute("INSERT INTO core.products SELECT * FROM core.products_now")
        con.execute("DROP TABLE core.products_now")
        assert con.execute("SELECT count(*) FROM duckdb_constraints() WHERE schema_name = 'core' "
                           "AND constraint_type = 'PRIMARY KEY'").fetchone()[0] == 1
        ensure_schema(con)
        assert con.execute("SELECT count(*) FROM duckdb_constraints() WHERE schema_name = 'core' "
                           "AND constraint_type = 'PRIMARY KEY'").fetchone()[0] == 0
    assert _core_rows(settings) == before


def test_ebay_summary_rows_are_skipped_not_quarantined(tmp_path):
    """A multi-item order's summary row is framing, not a bad record: counted in
    rows_skipped, absent from quarantine, and the file's accounting still balances."""
    settings = make_home(tmp_path)
    src = CHANNEL_SAMPLES / "ebay" / "eBay-OrdersReport-2024-03-01.csv"
    write(settings.inbox / "orders" / "ebay" / src.name, src.read_bytes())
    report = ingest(settings)
    assert report.rows_skipped == 2  # the summary row and the empty padding row
    name = f"orders/ebay/{src.name}"
    read, loaded, quarantined, skipped = rows(
        settings, "SELECT rows_read, rows_loaded, rows_quarantined, rows_skipped "
                  "FROM ops.ingested_files WHERE source_file = ?", [name])[0]
    assert (read, skipped) == (7, 2) and loaded + quarantined + skipped == read
    rules = {r for (r,) in rows(settings, "SELECT rule FROM quarantine.rows WHERE source_file = ?", [name])}
    assert "order_summary_row" not in rules and "blank_row" not in rules
