"""map(read(write(x))) gives back the canonical fields each format can carry.

Each format loses something by design (documented in docs/formats.md); the expectations
below state exactly what, so a writer or mapper that drops or bends anything else fails.
"""

from __future__ import annotations

import hashlib

import polars as pl
import pytest
from conftest import SALT, assert_accounted, assert_canonical, read_and_map

from assets.ingest.adapters import CHANNEL_ADAPTERS

# formats shelfwise can write (the demo generator's); read-only variants (eBay's older
# Selling Manager export) are tested on their fixtures
WRITABLE = [a for a in CHANNEL_ADAPTERS if a.write is not None]

NAMES = {
    "shopify_orders": "orders_export_2024-03-06.csv",
    "amazon_orders": "All-Orders-Report_2024-03-06.txt",
    "ebay_orders": "eBay-OrdersReport-2024-03-06.csv",
    "etsy_orders": "EtsySoldOrderItems_2024-03-06.csv",
    "square_item_sales": "items-2024-03-06.csv",
    "b2b_purchase_orders": "b2b-orders-2024-03-06.csv",
    "online_retail_invoices": "2024-03-06.csv",
    "woocommerce_orders": "orders-export-2024_03_06_12_00_00.csv",
}

# What each format keeps. statuses: canonical → what comes back (missing: the line is not
# in the file or is rejected). line_id: "same", "sku", "sku#1" (Square's content key) or "item-same" (eBay's
# "<item number>-<transaction id>"). customer: which identity is hashed.
EXPECT = {
    "shopify_orders": dict(
        statuses={"placed": "placed", "paid": "paid", "shipped": "shipped",
                  "delivered": "shipped", "cancelled": "cancelled"},
        # the export has no line item id: the line key is the SKU (see docs/formats.md)
        line_id="sku", customer="customer_email", country=True, postal=True, exact_time=True),
    "amazon_orders": dict(
        # Pending orders carry no item-price: rejected until a later report shows it
        statuses={"paid": "paid", "shipped": "shipped", "delivered": "delivered",
                  "cancelled": "cancelled"},
        line_id="sku", customer=None, country=True, postal=True, exact_time=True),
    "ebay_orders": dict(
        statuses={"placed": "placed", "paid": "paid", "shipped": "shipped",
                  "delivered": "shipped"},
        line_id="item-same", customer="customer_email", country=True, postal=True,
        exact_time=True),
    "etsy_orders": dict(
        statuses={"placed": "placed", "paid": "paid", "shipped": "shipped",
                  "delivered": "shipped"},
        line_id="same", customer="customer_id", country=True, postal=True, exact_time=False),
    "square_item_sales": dict(
        statuses={"placed": "delivered", "paid": "delivered", "shipped": "delivered",
                  "delivered": "delivered"},
        line_id="sku#1", customer="customer_id", country=False, postal=False, exact_time=True),
    "b2b_purchase_orders": dict(
        statuses={s: s for s in ("placed", "paid", "shipped", "delivered", "cancelled")},
        line_id="same", customer="customer_id", country=True, postal=True, exact_time=True),
    "online_retail_invoices": dict(
        statuses={"placed": "shipped", "paid": "shipped", "shipped": "shipped",
                  "delivered": "shipped"},
        line_id="sku", customer="customer_id", country=True, postal=False, exact_time=True),
    "woocommerce_orders": dict(
        statuses={"placed": "placed", "paid": "paid", "shipped": "shipped",
                  "delivered": "shipped", "cancelled": "cancelled"},
        line_id="same", customer="customer_email", country=True, postal=True, exact_time=True),
}


def _key(value: str | None) -> str | None:
    if value is None:
        return None
    return hashlib.sha256(f"{SALT}\x1f{value.strip().lower()}".encode()).hexdigest()[:32]


@pytest.mark.parametrize("adapter", WRITABLE, ids=lambda a: a.name)
def test_write_then_read_round_trips(adapter, export_rows, tmp_path):
    expect = EXPECT[adapter.name]
    path = tmp_path / NAMES[adapter.name]
    adapter.write(export_rows, path)
    mapped, rows_read = read_and_map(path, adapter)
    assert_accounted(mapped, rows_read)
    assert_canonical(mapped.rows)

    sent = export_rows.filter(pl.col("status").is_in(list(expect["statuses"])))
    if expect["line_id"] == "sku":
        sent = sent.with_columns(line_id=pl.col("channel_sku"))
    if expect["line_id"] == "sku#1":  # content key; each SKU once per order here
        sent = sent.with_columns(line_id=pl.col("channel_sku") + "#1")
    got = mapped.rows
    if expect["line_id"] == "item-same":
        assert got.get_column("line_id").str.contains(r"^\d{12}-").all()
        got = got.with_columns(line_id=pl.col("line_id").str.replace(r"^\d{12}-", ""))
    assert got.height == sent.height, (got.select("order_id", "line_id"), sent)
    both = sent.join(got, on=["order_id", "line_id"], how="left", suffix="_got")
    assert both.get_column("status_got").null_count() == 0, "a line did not come back"

    assert both.get_column("channel_sku_got").to_list() == both.get_column("channel_sku").to_list()
    assert both.get_column("sku_got").to_list() == both.get_column("channel_sku").to_list()
    assert (got.get_column("channel_id") == "chan").all()
    assert both.get_column("status_got").to_list() == [
        expect["statuses"][s] for s in both.get_column("status").to_list()
    ]
    assert (got.get_column("currency") == "GBP").all()
    live = both.filter(pl.col("status") != "cancelled")
    assert live.get_column("quantity_got").to_list() == live.get_column("quantity").to_list()
    price_diff = (live.get_column("unit_price_got") - live.get_column("unit_price")).abs()
    assert price_diff.max() < 0.005
    amount_diff = (live.get_column("line_amount_got") - live.get_column("line_amount")).abs()
    assert amount_diff.max() < 0.01

    if expect["exact_time"]:
        assert both.get_column("ordered_at_got").to_list() == both.get_column("ordered_at").to_list()
    else:  # date-only formats keep the business date
        assert (both.get_column("ordered_at_got").dt.date().to_list()
                == both.get_column("ordered_at").dt.date().to_list())
    assert got.get_column("updated_at").null_count() == 0
    assert (got.get_column("updated_at") >= got.get_column("ordered_at")).all()

    if expect["customer"] is None:
        assert got.get_column("customer_key").null_count() == got.height
    else:
        wanted = [_key(v) for v in both.get_column(expect["customer"]).to_list()]
        assert both.get_column("customer_key_got").to_list() == wanted
    if expect["country"]:
        assert both.get_column("ship_country_got").to_list() == both.get_column("ship_country").to_list()
    if expect["postal"]:
        prefixes = [p.replace(" ", "")[:3].upper()
                    for p in both.get_column("ship_postal_code").to_list()]
        assert both.get_column("ship_postal_prefix_got").to_list() == prefixes


@pytest.mark.parametrize("adapter", WRITABLE, ids=lambda a: a.name)
def test_written_file_is_deterministic(adapter, export_rows, tmp_path):
    first, second = tmp_path / "a" / NAMES[adapter.name], tmp_path / "b" / NAMES[adapter.name]
    adapter.write(export_rows, first)
    adapter.write(export_rows.reverse(), second)  # input order must not matter either
    assert first.read_bytes() == second.read_bytes()


@pytest.mark.parametrize("adapter", WRITABLE, ids=lambda a: a.name)
def test_no_identity_reaches_the_rows(adapter, export_rows, tmp_path):
    path = tmp_path / NAMES[adapter.name]
    adapter.write(export_rows, path)
    mapped, _ = read_and_map(path, adapter)
    text = mapped.rows.write_csv()
    for secret in ("ann@example.com", "Ann Example", "1 Test Street", "Leeds", "LS1 4AB",
                   "78701-1234"):
        assert secret not in text
    # and the file really carried them (the format has the column, so it must be PII)
    assert adapter.pii_columns


@pytest.mark.parametrize("adapter", WRITABLE, ids=lambda a: a.name)
def test_file_globs_match_the_generator_names(adapter):
    from fnmatch import fnmatch

    assert any(fnmatch(NAMES[adapter.name], g) for g in adapter.file_globs)
