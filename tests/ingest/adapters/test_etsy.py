"""Etsy Sold Order Items: MM/DD/YY dates, buyer usernames, SKU fallback."""

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
from assets.ingest.adapters.etsy import ADAPTER

FILE = FIXTURES / "etsy" / "EtsySoldOrderItems2024-3.csv"


def test_etsy_items():
    mapped, read = read_and_map(FILE, ADAPTER)
    assert_accounted(mapped, read)
    assert_canonical(mapped.rows)
    rows = {r["line_id"]: r for r in mapped.rows.iter_rows(named=True)}
    mug = rows["3100000001"]
    # the order's 3.60 coupon (on its first line) spread over 36.00 and 1,250.00: 0.10 / 3.50
    assert (mug["quantity"], mug["unit_price"], mug["line_amount"]) == (2, 18.0, 35.9)
    assert rows["3100000002"]["line_amount"] == 1246.5
    assert mug["status"] == "shipped"
    # dates at noon New York time: the UTC date is the date in the file
    assert mug["ordered_at"] == datetime(2024, 3, 1, 17, 0)
    assert mug["shipped_at"] == datetime(2024, 3, 4, 17, 0)
    assert mug["customer_key"] == customer_key(pl.Series(["annex"]), SALT)[0]
    assert rows["3100000002"]["sku"] == "listing-1400000002"  # no SKU on the listing
    assert rows["3100000002"]["unit_price"] == 1250.0
    assert rows["3100000003"]["status"] == "placed"
    assert rows["3100000003"]["ship_country"] == "CA"
    assert rows["3100000004"]["ordered_at"].date().isoformat() == "2024-03-05"  # 3/5/2024
    assert rows["3100000004"]["ship_country"] == "DE"
    rejects = mapped.rejects.to_dicts()
    assert [(r["source_line"], r["rule"]) for r in rejects] == [(6, "date_not_readable")]
    assert "'13/40/24'" in rejects[0]["message"]


US = FIXTURES / "etsy" / "EtsySoldOrderItems2024-4.csv"
UK = FIXTURES / "etsy" / "EtsySoldOrderItems2024-5.csv"

# line id (Transaction ID), order, sku, quantity, unit price, line amount, status,
# ordered_at (UTC: the file's date at noon New York), ship country
EXPECTED_US = [
    # SPRING15: 5.10 on the first line, spread over 20.00 and 14.00: 3.00 / 2.10
    ("4100000001", "3300000001", "MUG-SPK", 1, 20.0, 17.0, "shipped", datetime(2024, 4, 2, 16), "US"),
    ("4100000002", "3300000001", "DISH-RING", 2, 7.0, 11.9, "shipped", datetime(2024, 4, 2, 16), "US"),
    # BIGSAVE 12.00 on a 2.00 first line: 0.46 / 11.54, no line below zero
    ("4100000003", "3300000002", "STICKER-1", 1, 2.0, 1.54, "paid", datetime(2024, 4, 2, 16), "US"),
    ("4100000004", "3300000002", "CLOTH-LIN", 1, 50.0, 38.46, "paid", datetime(2024, 4, 2, 16), "US"),
    ("4100000005", "3300000003", "listing-1500000005", 1, 35.0, 35.0, "shipped",
     datetime(2024, 4, 3, 16), "CA"),
]
EXPECTED_UK = [
    # MAY10: 3.00 over 12.00 and 18.00: 1.20 / 1.80
    ("4200000001", "3400000001", "COAST-OAK", 1, 12.0, 10.8, "shipped", datetime(2024, 5, 6, 16), "GB"),
    ("4200000002", "3400000001", "CANDLE-BW", 3, 6.0, 16.2, "shipped", datetime(2024, 5, 6, 16), "GB"),
    ("4200000003", "3400000002", "CANDLE-BW", 1, 6.0, 6.0, "paid", datetime(2024, 5, 6, 16), "AU"),
]
# Σ quantity × price − the order's coupon, per order
ORDER_TOTALS = {"3300000001": 28.90, "3300000002": 40.00, "3300000003": 35.00,
                "3400000001": 27.00, "3400000002": 6.00}
COLUMNS = ["line_id", "order_id", "sku", "quantity", "unit_price", "line_amount", "status",
           "ordered_at", "ship_country"]


def _check(path, expected):
    mapped, read = read_and_map(path, ADAPTER)
    assert_accounted(mapped, read)
    assert_canonical(mapped.rows)
    assert mapped.rejects.height == 0 and read == len(expected)
    got = mapped.rows.select(COLUMNS).sort("line_id")
    assert got.rows() == expected
    cents = got.group_by("order_id").agg(
        (pl.col("line_amount") * 100).round(0).cast(pl.Int64).sum()
    )
    for order, total in cents.iter_rows():
        assert total == round(ORDER_TOTALS[order] * 100), order
    return mapped


def test_us_export_spreads_the_first_line_coupon_over_the_order():
    _check(US, EXPECTED_US)


def test_uk_header_wording_loads_and_reads_the_delivery_country():
    mapped = _check(UK, EXPECTED_UK)
    first = mapped.rows.filter(pl.col("line_id") == "4200000001").row(0, named=True)
    assert first["shipped_at"] == datetime(2024, 5, 7, 16)  # Date Posted
    assert first["ship_postal_prefix"] == "SW1"  # Delivery Zipcode, prefix only


def test_a_missing_column_names_the_spellings_tried(tmp_path):
    from assets.ingest.reader import read_records

    text = UK.read_text(encoding="utf-8").splitlines()
    header = text[0].split(",")
    gone = header.index("Date Posted")
    lines = [",".join(f for i, f in enumerate(line.split(",")) if i != gone) for line in text]
    path = tmp_path / "EtsySoldOrderItems2024-5.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = read_records(path, ADAPTER)
    assert result.failed
    message = next(m for m in result.messages if m.rule == "missing_columns").message
    assert "Date Shipped (also tried: Date Posted)" in message


def test_header_variants_are_matched_trimmed_and_case_insensitively(tmp_path):
    from assets.ingest.reader import read_records

    text = UK.read_text(encoding="utf-8").replace("Delivery Country", " delivery country ", 1)
    path = tmp_path / "EtsySoldOrderItems2024-5.csv"
    path.write_text(text, encoding="utf-8")
    result = read_records(path, ADAPTER)
    assert not result.failed
    assert "Ship Country" in result.frame.columns and "Ship Name" in result.frame.columns
    assert "Delivery Name" not in result.frame.columns  # identity keeps its canonical name


def test_the_demo_writer_puts_the_coupon_on_the_first_line_and_speaks_uk(tmp_path):

    rows = make_export_rows().with_columns(
        discount_amount=pl.when(pl.col("order_id") == "1001").then(2.0).otherwise(0.0)
    )
    us = tmp_path / "EtsySoldOrderItems_2024-03-06.csv"  # US wording (by its name)
    uk = tmp_path / "EtsySoldOrderItems_2024-03-01.csv"  # UK wording
    ADAPTER.write(rows, us)
    ADAPTER.write(rows, uk)
    assert "Date Shipped" in us.read_text().splitlines()[0]
    assert "Date Posted" in uk.read_text().splitlines()[0]
    written = pl.read_csv(us, infer_schema=False).filter(pl.col("Order ID") == "1001")
    assert written["Discount Amount"].to_list() == ["6.00", "0.00", "0.00"]
    a, _ = read_and_map(us, ADAPTER)
    b, _ = read_and_map(uk, ADAPTER)
    assert a.rows.drop("source_line").equals(b.rows.drop("source_line"))
    order = a.rows.filter(pl.col("order_id") == "1001")
    # 25.00 + 1,234.00 + 59.97 − 6.00, spread pro rata: the lines sum to the order
    assert round(order["line_amount"].sum(), 2) == 1312.97
