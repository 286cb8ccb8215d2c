"""Shopify orders export: forward-filled order fields, content line keys, later updates."""

from datetime import datetime

import polars as pl
from conftest import FIXTURES, assert_accounted, assert_canonical, frame_from_csv, make_ctx, read_and_map

from assets.ingest.adapters.shopify import ADAPTER

DIR = FIXTURES / "shopify"


def test_multi_line_order_takes_order_fields_from_its_first_row():
    mapped, read = read_and_map(DIR / "orders_export_1.csv", ADAPTER)  # UTF-8 BOM, quoted newline
    assert_accounted(mapped, read)
    assert_canonical(mapped.rows)
    order = mapped.rows.filter(pl.col("order_id") == "#1001").sort("source_line")
    assert order.get_column("line_id").to_list() == ["TBL-OAK", "MUG-RED"]
    assert order.get_column("sku").to_list() == ["TBL-OAK", "MUG-RED"]
    # the second row had no currency, times, status or country of its own
    assert order.get_column("currency").to_list() == ["USD", "USD"]
    assert order.get_column("status").to_list() == ["shipped", "shipped"]
    assert order.get_column("ordered_at").to_list() == [datetime(2024, 3, 1, 15, 15)] * 2
    assert order.get_column("customer_key").n_unique() == 1
    assert order.get_column("customer_key")[0] is not None
    # "1,250.00" and the line discount
    assert order.get_column("unit_price").to_list() == [1250.0, 13.0]
    assert order.get_column("line_amount").to_list() == [1240.0, 39.0]
    assert order.get_column("ship_postal_prefix").to_list() == ["100", "100"]  # from "'10001"


def test_status_offsets_and_rejects():
    mapped, _ = read_and_map(DIR / "orders_export_1.csv", ADAPTER)
    by_order = {r["order_id"]: r for r in mapped.rows.iter_rows(named=True)}
    assert by_order["#1002"]["status"] == "placed"
    assert by_order["#1002"]["ordered_at"] == datetime(2024, 3, 1, 11, 0)  # +0100 honoured
    assert by_order["#1002"]["ship_country"] == "FR"
    assert by_order["#1003"]["status"] == "cancelled"
    assert by_order["#1003"]["cancelled_at"] == datetime(2024, 3, 1, 20, 30)
    assert by_order["#1003"]["updated_at"] == datetime(2024, 3, 1, 20, 30)
    rejects = mapped.rejects.to_dicts()
    assert [(r["source_line"], r["rule"]) for r in rejects] == [(7, "quantity_not_a_number")]
    assert "'two'" in rejects[0]["message"] and "Lineitem quantity" in rejects[0]["message"]


def test_a_later_export_updates_the_same_key_with_a_later_updated_at():
    first, _ = read_and_map(DIR / "orders_export_1.csv", ADAPTER)
    later, _ = read_and_map(DIR / "orders_export_2024-03-02.csv", ADAPTER)
    key = ["channel_id", "order_id", "line_id"]
    old = first.rows.filter(pl.col("order_id") == "#1002")
    new = later.rows.filter(pl.col("order_id") == "#1002")
    assert old.select(key).to_dicts() == new.select(key).to_dicts()
    assert new["status"][0] == "shipped" and old["status"][0] == "placed"
    assert new["updated_at"][0] > old["updated_at"][0]
    assert new["shipped_at"][0] == datetime(2024, 3, 2, 15, 45)


def test_partial_fulfilment_uses_the_line_status():
    text = (
        "Name,Email,Financial Status,Fulfillment Status,Fulfilled at,Currency,Created at,"
        "Lineitem quantity,Lineitem price,Lineitem sku,Lineitem fulfillment status\n"
        "#9,a@b.c,paid,partial,2024-03-02 10:00:00 +0000,EUR,2024-03-01 10:00:00 +0000,1,5.00,A,fulfilled\n"
        "#9,,,,,,,1,5.00,B,pending\n"
    )
    rows = ADAPTER.map(frame_from_csv(text), make_ctx()).rows.sort("line_id")
    assert rows.get_column("status").to_list() == ["shipped", "paid"]
    assert rows.get_column("shipped_at").to_list() == [datetime(2024, 3, 2, 10), None]


def test_pii_columns_are_declared():
    for column in ("Email", "Billing Name", "Shipping Address1", "Shipping Zip", "Phone"):
        assert column in ADAPTER.pii_columns
