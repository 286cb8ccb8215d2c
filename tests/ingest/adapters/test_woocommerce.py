"""WooCommerce orders export ("Default - One Row per Item"): item ids as line keys, statuses,
the product-id fallback, drafts skipped. Expected rows written by hand from the fixture
(data/samples/channels/woocommerce/README.md)."""

from datetime import datetime

import polars as pl
from conftest import (
    FIXTURES,
    SALT,
    assert_accounted,
    assert_canonical,
    make_export_rows,
    read_and_map,
)

from assets.ingest.adapters.base import customer_key
from assets.ingest.adapters.woocommerce import ADAPTER

FILE = FIXTURES / "woocommerce" / "orders-export-2024_03_06_12_00_00.csv"

# line id (item_id), order, sku, quantity, unit price, line amount, status, ordered_at (UTC),
# ship country, postal prefix
EXPECTED = [
    # the spring10 coupon is already in item_total (WooCommerce spreads it over the lines)
    ("86", "4101", "MUG-RED", 2, 12.5, 22.5, "shipped", datetime(2024, 3, 4, 9, 12, 45), "DE", "101"),
    ("87", "4101", "TOWEL-LIN", 3, 14.0, 37.8, "shipped", datetime(2024, 3, 4, 9, 12, 45), "DE", "101"),
    ("91", "4101", "product:520", 1, 20.0, 20.0, "shipped", datetime(2024, 3, 4, 9, 12, 45), "DE", "101"),
    ("92", "4102", "MUG-RED", 1, 12.5, 12.5, "paid", datetime(2024, 3, 4, 17, 40, 2), "DE", "506"),
    ("95", "4102", "TOWEL-LIN", 1, 15.82, 15.82, "paid", datetime(2024, 3, 4, 17, 40, 2), "DE", "506"),
    ("97", "4103", "BOARD-OAK", 1, 24.0, 24.0, "placed", datetime(2024, 3, 5, 8, 5, 30), "IE", "D02"),
    ("99", "4104", "MUG-RED", 1, 12.0, 12.0, "cancelled", datetime(2024, 3, 5, 11, 20), "DE", "101"),
    # refunded in full: not demand (the export does not say whether it had shipped)
    ("101", "4105", "TOWEL-LIN", 2, 12.0, 24.0, "cancelled", datetime(2024, 3, 5, 19, 2, 11), "DE", "803"),
]
COLUMNS = ["line_id", "order_id", "sku", "quantity", "unit_price", "line_amount", "status",
           "ordered_at", "ship_country", "ship_postal_prefix"]


def test_woocommerce_one_row_per_item():
    mapped, read = read_and_map(FILE, ADAPTER)
    assert_accounted(mapped, read)
    assert_canonical(mapped.rows)
    assert read == 10
    got = mapped.rows.select(COLUMNS).sort(pl.col("line_id").cast(pl.Int64))
    assert got.rows() == EXPECTED
    first = mapped.rows.filter(pl.col("line_id") == "86").row(0, named=True)
    assert first["customer_key"] == customer_key(pl.Series(["ines.erfunden@example.org"]), SALT)[0]
    assert first["currency"] == "EUR" and first["channel_sku"] == "MUG-RED"
    assert first["updated_at"] == first["ordered_at"]  # the export has no later lifecycle time
    rejects = sorted((r["source_line"], r["rule"], r["message"]) for r in mapped.rejects.to_dicts())
    assert [(line, rule) for line, rule, _ in rejects] == [
        (10, "checkout_draft"), (11, "quantity_not_a_number")]
    assert "'two'" in rejects[1][2]
    assert "checkout_draft" in ADAPTER.skip_rules  # a draft is counted as skipped, not quarantined


def test_identity_columns_are_declared_and_never_in_the_rows():
    mapped, _ = read_and_map(FILE, ADAPTER)
    text = mapped.rows.write_csv()
    for secret in ("Erfunden", "ines.erfunden@example.org", "Musterweg", "5550117", "10117",
                   "Bitte beim Nachbarn", "For Ann", "Beispiel GmbH"):
        assert secret not in text
    for column in ("billing_email", "billing_phone", "shipping_address_1", "shipping_postcode",
                   "customer_id", "customer_note", "order_notes", "item_meta"):
        assert column in ADAPTER.pii_columns


def test_an_unknown_status_is_refused_with_its_value(tmp_path):
    path = tmp_path / FILE.name
    path.write_text(FILE.read_text(encoding="utf-8").replace(",on-hold,", ",awaiting-pickup,"),
                    encoding="utf-8")
    mapped, read = read_and_map(path, ADAPTER)
    assert_accounted(mapped, read)
    rejects = mapped.rejects.filter(pl.col("rule") == "status_unknown").to_dicts()
    assert [r["source_line"] for r in rejects] == [7]
    assert "'awaiting-pickup'" in rejects[0]["message"]


def test_a_deleted_product_is_refused_and_named(tmp_path):
    """The extension writes SKU ``unknown_product`` and product id 0 for an item whose product
    was deleted: no key can map it, so it is refused with the item's name."""
    path = tmp_path / FILE.name
    text = FILE.read_text(encoding="utf-8").replace(
        ",91,520,Beeswax candle,,", ",91,0,Beeswax candle,unknown_product,")
    path.write_text(text, encoding="utf-8")
    mapped, read = read_and_map(path, ADAPTER)
    assert_accounted(mapped, read)
    rejects = mapped.rejects.filter(pl.col("rule") == "sku_missing").to_dicts()
    assert [r["source_line"] for r in rejects] == [4]
    assert "'Beeswax candle'" in rejects[0]["message"]


def test_a_later_export_of_the_same_item_keeps_its_line_key(tmp_path):
    """Export rows written twice (processing, then completed) give the same line keys: the
    merge keeps the later file's version (same updated_at, later file name)."""
    rows = make_export_rows().filter(pl.col("order_id") == "1001")
    first = tmp_path / "orders-export-2024_03_01_10_00_00.csv"
    later = tmp_path / "orders-export-2024_03_02_10_00_00.csv"
    ADAPTER.write(rows.with_columns(status=pl.lit("paid")), first)
    ADAPTER.write(rows, later)
    a, _ = read_and_map(first, ADAPTER)
    b, _ = read_and_map(later, ADAPTER)
    assert a.rows["line_id"].to_list() == b.rows["line_id"].to_list() == ["1", "2", "3"]
    assert set(a.rows["status"]) == {"paid"} and set(b.rows["status"]) == {"shipped"}
