"""Rules that keep data safe, at the engine (docs/ingestion.md, "Rules that keep data safe"):
no exception escapes a file, a failed file is retried, symlinks and special files are
refused, corrections never delete silently, master data keeps its last good version, the
declared number format, and orders counted in two channels are flagged."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from ingest_testkit import CHANNEL_SAMPLES, ingest, make_home, rows, write

from assets.ingest import engine, reader

PRODUCTS_HEADER = "sku,name,case_pack,moq,is_bundle\n"


def _products(n: int, start: int = 1, bad: dict[int, str] | None = None) -> str:
    lines = []
    for i in range(start, start + n):
        lines.append((bad or {}).get(i, f"P-{i},Product {i},1,1,false"))
    return PRODUCTS_HEADER + "\n".join(lines) + "\n"


def _messages(settings, rel: str | None = None) -> list[tuple]:
    if rel is None:
        return rows(settings, "SELECT source_file, source_line, severity, rule, message FROM ops.ingest_messages")
    return rows(
        settings,
        "SELECT source_line, severity, rule, message FROM ops.ingest_messages WHERE source_file = ?",
        [rel],
    )


def _landed_extra(tmp_path, n: int, toml: str = ""):
    """A fixture home with ``n`` extra products landed from products/extra.csv."""
    settings = make_home(tmp_path)
    if toml:
        from assets.settings import load_settings

        (settings.home / "shelfwise.toml").write_text(toml)
        settings = load_settings(settings.home)
    rel = "products/extra.csv"
    write(settings.inbox / rel, _products(n, 300))
    ingest(settings)
    return settings, rel


def _status(settings, rel: str) -> list[str]:
    return [s for (s,) in rows(settings, "SELECT status FROM ops.ingested_files WHERE source_file = ? ORDER BY ingested_at", [rel])]


# --------------------------------------------------------------------------------------------
# no exception escapes a file; a failed file is retried (#20.2)


def test_a_file_that_could_not_be_read_is_retried_next_run(tmp_path, monkeypatch):
    settings = make_home(tmp_path)
    rel = "products/more.csv"
    write(settings.inbox / rel, _products(3, 100))
    real = Path.read_bytes

    def denied(self):
        if self.name == "more.csv":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", denied)
    report = ingest(settings)  # no exception
    assert report.files_failed == 1
    assert [r for _, _, r, _ in _messages(settings, rel)] == ["permission_denied"]
    assert rows(settings, "SELECT count(*) FROM core.products WHERE sku LIKE 'P-%'") == [(0,)]
    monkeypatch.setattr(Path, "read_bytes", real)
    # the same bytes again: not "already ingested", so read now
    again = ingest(settings)
    assert [f.status for f in again.files] == ["loaded"]
    assert rows(settings, "SELECT count(*) FROM core.products WHERE sku LIKE 'P-%'") == [(3,)]


def test_a_failed_file_is_retried_with_rehash_too(tmp_path):
    settings = make_home(tmp_path)
    rel = "products/more.csv"
    write(settings.inbox / rel, "sku;name\nX;Y\n")
    assert ingest(settings).files_failed == 1
    assert ingest(settings, rehash=True).files_failed == 1  # read again, fails again: said again
    assert [r for _, _, r, _ in _messages(settings, rel)].count("missing_columns") == 2


def test_a_file_deleted_mid_ingest_is_a_message_and_the_run_goes_on(tmp_path, monkeypatch):
    settings = make_home(tmp_path)
    write(settings.inbox / "products/vanishing.csv", _products(2, 200))
    real = engine.read_many

    def delete_then_read(paths, adapter):
        for p in paths:
            if Path(p).name == "vanishing.csv":
                os.remove(p)
        return real(paths, adapter)

    monkeypatch.setattr(engine, "read_many", delete_then_read)
    report = ingest(settings)
    assert report.files_failed == 1
    assert [r for _, _, r, _ in _messages(settings, "products/vanishing.csv")] == ["file_vanished"]
    assert rows(settings, "SELECT count(*) FROM core.products") == [(4,)]  # the others landed


def test_symlinks_and_special_files_are_refused_and_never_read(tmp_path):
    settings = make_home(tmp_path)
    secret = tmp_path / "system-file"
    secret.write_text("root:x:0:0:TOP-SECRET-LINE\n")
    os.symlink(secret, settings.inbox / "products" / "linked.csv")
    os.symlink(tmp_path, settings.inbox / "linked_folder")
    os.mkfifo(settings.inbox / "products" / "pipe.csv")
    report = ingest(settings)  # a FIFO would block a reader forever: it is never opened
    got = {f.source_file: f.rule for f in report.files if f.status == "failed"}
    assert got == {"products/linked.csv": "symlink_refused", "linked_folder": "symlink_refused",
                   "products/pipe.csv": "not_a_regular_file"}
    assert not any("TOP-SECRET" in str(m) for m in _messages(settings))


def test_parquet_with_a_list_column_fails_alone(tmp_path):
    import polars as pl

    settings = make_home(tmp_path)
    path = settings.inbox / "products" / "nested.parquet"
    pl.DataFrame({"sku": ["N-1"], "name": [["a", "b"]], "case_pack": [1], "moq": [1],
                  "is_bundle": [False]}).write_parquet(path)
    report = ingest(settings)
    assert [f.rule for f in report.files if f.status == "failed"] == ["unsupported_column_type"]
    assert rows(settings, "SELECT count(*) FROM core.products") == [(4,)]


# --------------------------------------------------------------------------------------------
# corrections never delete silently (#20.5)


def test_a_header_only_correction_is_held_until_accepted(tmp_path):
    settings, rel = _landed_extra(tmp_path, 10)
    assert rows(settings, "SELECT count(*) FROM core.products WHERE sku LIKE 'P-3%'") == [(10,)]

    write(settings.inbox / rel, PRODUCTS_HEADER)  # re-landed as header only
    report = ingest(settings)
    assert [f.status for f in report.files] == ["held"]
    assert rows(settings, "SELECT count(*) FROM core.products WHERE sku LIKE 'P-3%'") == [(10,)]
    assert rows(settings, "SELECT count(*) FROM raw.products WHERE source_file = ?", [rel]) == [(10,)]
    held = [m for _, _, r, m in _messages(settings, rel) if r == "correction_held"]
    assert held and "--accept-correction products/extra.csv" in held[0]
    # held is not ingested: the next run says so again
    assert [f.status for f in ingest(settings).files] == ["held"]

    accepted = ingest(settings, accept_corrections=[rel])
    assert [f.status for f in accepted.files] == ["loaded"]
    assert rows(settings, "SELECT count(*) FROM raw.products WHERE source_file = ?", [rel]) == [(0,)]


def test_a_correction_losing_more_than_the_set_share_is_held(tmp_path):
    settings, rel = _landed_extra(tmp_path, 10)
    write(settings.inbox / rel, _products(4, 300))  # 60 % fewer rows
    assert [f.status for f in ingest(settings).files] == ["held"]
    write(settings.inbox / rel, _products(6, 300))  # 40 % fewer: a correction like any other
    assert [f.status for f in ingest(settings).files] == ["loaded"]
    assert rows(settings, "SELECT count(*) FROM core.products WHERE sku LIKE 'P-3%'") == [(6,)]


def test_the_share_is_a_setting(tmp_path):
    settings, rel = _landed_extra(tmp_path, 10, "[ingest]\ncorrection_max_loss = 0.1\n")
    write(settings.inbox / rel, _products(8, 300))
    assert [f.status for f in ingest(settings).files] == ["held"]
    ingest(settings, accept_corrections=["extra.csv"])  # a bare name unique in the inbox
    assert rows(settings, "SELECT count(*) FROM core.products WHERE sku LIKE 'P-3%'") == [(8,)]


def test_a_failed_correction_keeps_the_earlier_rows(tmp_path):
    settings, rel = _landed_extra(tmp_path, 5)
    write(settings.inbox / rel, "sku;name\nP-300;x\n")  # unreadable as this format
    assert [f.status for f in ingest(settings).files] == ["failed"]
    assert rows(settings, "SELECT count(*) FROM core.products WHERE sku LIKE 'P-3%'") == [(5,)]
    assert "earlier_version_kept" in [r for _, _, r, _ in _messages(settings, rel)]


def test_master_rows_failing_the_contract_keep_their_previous_version(tmp_path):
    settings, rel = _landed_extra(tmp_path, 10)
    # the correction renames two products and breaks two others
    bad = {301: "P-301,Renamed 301,1,1,false", 302: "P-302,Renamed 302,1,1,false",
           303: "P-303,Product 303,-4,1,false", 304: "P-304,Product 304,x,1,false"}
    write(settings.inbox / rel, _products(10, 300, bad))
    report = ingest(settings)
    assert [f.status for f in report.files] == ["loaded"]
    names = dict(rows(settings, "SELECT sku, name FROM core.products WHERE sku LIKE 'P-3%'"))
    assert len(names) == 10  # nobody removed from core
    assert names["P-301"] == "Renamed 301" and names["P-303"] == "Product 303"
    case_packs = dict(rows(settings, "SELECT sku, case_pack FROM core.products WHERE sku IN ('P-303', 'P-304')"))
    assert case_packs == {"P-303": 1, "P-304": 1}  # the previous good values
    kept = [m for _, _, r, m in _messages(settings, rel) if r == "kept_previous_version"]
    assert kept and "P-303" in kept[0] and "P-304" in kept[0]


def test_a_product_name_starting_with_a_formula_sign_is_data(tmp_path):
    settings = make_home(tmp_path)
    write(settings.inbox / "products/extra.csv",
          PRODUCTS_HEADER + "P-1,=Equals tee,1,1,false\nP-2,@home mug,1,1,false\n=P-3,Mug,1,1,false\n")
    ingest(settings)
    assert sorted(rows(settings, "SELECT sku, name FROM core.products WHERE sku LIKE '%P-%'")) == [
        ("P-1", "=Equals tee"), ("P-2", "@home mug")]
    assert rows(settings, "SELECT rule FROM quarantine.rows") == [("formula_injection",)]


# --------------------------------------------------------------------------------------------
# the declared number format and plausibility (#20.4)

_AMAZON = CHANNEL_SAMPLES / "amazon"


def _amazon_file(price: str) -> str:
    from assets.ingest.adapters.amazon import HEADER

    values = {h: "" for h in HEADER} | {
        "amazon-order-id": "303-1", "purchase-date": "2024-03-01T10:00:00+00:00",
        "last-updated-date": "2024-03-01T10:00:00+00:00", "order-status": "Shipped",
        "sales-channel": "Amazon.de", "sku": "MUG-RED", "item-status": "Shipped",
        "quantity": "1", "currency": "EUR", "item-price": price,
    }
    return "\t".join(HEADER) + "\n" + "\t".join(values[h] for h in HEADER) + "\n"


def test_a_decimal_comma_is_refused_unless_declared(tmp_path):
    settings = make_home(tmp_path)
    rel = "orders/amzde/All-Orders-Report-2024-03-01.txt"
    write(settings.inbox / rel, _amazon_file("12,50"))
    ingest(settings)
    assert rows(settings, "SELECT count(*) FROM raw.order_lines WHERE source_file = ?", [rel]) == [(0,)]
    assert rows(settings, "SELECT count(*) FROM quarantine.rows WHERE source_file = ?", [rel]) == [(1,)]

    (settings.home / "shelfwise.toml").write_text(
        '[ingest.number_format]\namzde = {decimal_mark = ",", thousands_mark = "."}\n')
    from assets.settings import load_settings

    settings = load_settings(settings.home)
    write(settings.inbox / rel, _amazon_file("1.212,50"))
    ingest(settings)
    assert rows(settings, "SELECT unit_price FROM raw.order_lines WHERE source_file = ?", [rel]) == [(1212.5,)]


def test_number_format_setting_is_checked(tmp_path):
    settings = make_home(tmp_path)
    (settings.home / "shelfwise.toml").write_text(
        '[ingest.number_format]\namzde = {decimal_mark = ";"}\n')
    from assets.settings import load_settings

    with pytest.raises(ValueError, match="decimal mark"):
        ingest(load_settings(settings.home))


# --------------------------------------------------------------------------------------------
# an order id in two channels (#20.10), skipped records named (#20.4)


def test_the_same_order_id_in_two_channels_is_flagged(tmp_path):
    settings = make_home(tmp_path)
    src = (settings.inbox / "orders/web/2024-02-10.canonical.csv").read_text()
    write(settings.inbox / "orders/amz/copy-of-web.canonical.csv",
          src.replace("WEB-MUG-RED", "B00TEE").replace("WEB-DUO", "B00TEE").replace(",EUR,", ",USD,"))
    ingest(settings)
    found = [m for f, _, _, r, m in _messages(settings) if r == "order_in_two_channels"]
    assert len(found) == 1 and "W1001 (amz, web)" in found[0]


def test_skipped_records_are_named_with_their_lines(tmp_path):
    settings = make_home(tmp_path)
    src = CHANNEL_SAMPLES / "ebay" / "eBay-OrdersReport-2024-03-01.csv"
    rel = f"orders/ebay/{src.name}"
    write(settings.inbox / rel, src.read_bytes())
    ingest(settings)
    info = [(line, r, m) for line, sev, r, m in _messages(settings, rel) if sev == "info"]
    skipped = rows(settings, "SELECT rows_skipped FROM ops.ingested_files WHERE source_file = ?", [rel])[0][0]
    summary = [i for i in info if i[1] == "order_summary_row"]
    # the summary row and the empty padding row after the header (blank_row) are skipped
    assert len(summary) == 1 and [i[1] for i in info if i[1] == "blank_row"] == ["blank_row"]
    assert skipped == 2
    line, rule, message = summary[0]
    assert f"line(s) {line}" in message
    # lines the format's trailer pattern dropped are named too (not records, not counted)
    assert [r for _, r, _ in info if r == "report_trailer"] == ["report_trailer"]


def test_an_unreadable_time_is_reported_with_the_cell_text(tmp_path):
    settings = make_home(tmp_path)
    src = (CHANNEL_SAMPLES / "shopify" / "orders_export_1.csv").read_text(encoding="utf-8-sig")
    rel = "orders/shop/orders_export_1.csv"
    write(settings.inbox / rel, src.replace("2024-03-01 10:15:00 -0500", "31/31/2024 25:61", 1))
    ingest(settings)
    (message,) = rows(settings, "SELECT message FROM quarantine.rows WHERE source_file = ? AND source_line = 2", [rel])[0]
    assert "ordered_at <blank> is required" in message
    assert "as read: Created at '31/31/2024 25:61'" in message
