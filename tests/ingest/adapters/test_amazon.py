"""Amazon All Orders report: line totals, statuses, MCF and pending-price rejects."""

from datetime import datetime

import pytest
from conftest import (
    FIXTURES,
    assert_accounted,
    assert_canonical,
    frame_from_csv,
    make_ctx,
    read_and_map,
)

from assets.ingest.adapters.amazon import ADAPTER

FILE = FIXTURES / "amazon" / "All-Orders-Report_2024-03-01.txt"


@pytest.fixture(scope="module")
def mapped():
    m, read = read_and_map(FILE, ADAPTER)
    assert_accounted(m, read)
    assert_canonical(m.rows)
    return m


def test_item_price_is_a_line_total(mapped):
    mug = mapped.rows.filter(order_id="028-1111111-0000001", sku="MUG-RED").row(0, named=True)
    assert (mug["quantity"], mug["unit_price"], mug["line_amount"]) == (3, 12.0, 36.0)
    table = mapped.rows.filter(sku="TBL-OAK").row(0, named=True)
    assert table["line_amount"] == 1200.0  # 1234.00 − |-34.00| promotion
    assert table["line_id"] == "TBL-OAK"


def test_statuses_and_times(mapped):
    rows = {r["order_id"]: r for r in mapped.rows.iter_rows(named=True)}
    assert rows["028-1111111-0000001"]["status"] == "delivered"
    assert rows["028-1111111-0000001"]["updated_at"] == datetime(2024, 3, 3, 10)
    lamp = rows["028-2222222-0000002"]
    assert lamp["status"] == "paid"
    assert lamp["ordered_at"] == datetime(2024, 3, 1, 7, 59)  # 23:59 −08:00
    assert lamp["ship_postal_prefix"] == "101"
    assert lamp["customer_key"] is None  # the report carries no buyer identity


def test_cancelled_line_lands_with_zero_quantity(mapped):
    row = mapped.rows.filter(order_id="028-4444444-0000004").row(0, named=True)
    assert row["status"] == "cancelled"
    assert (row["quantity"], row["unit_price"], row["line_amount"]) == (0, 0.0, 0.0)
    assert row["cancelled_at"] == datetime(2024, 3, 1, 12, 15)


def test_rejects_name_rule_line_and_value(mapped):
    rules = {r["source_line"]: (r["rule"], r["message"]) for r in mapped.rejects.to_dicts()}
    assert rules[5][0] == "price_not_reported" and "028-3333333-0000003" in rules[5][1]
    assert rules[7][0] == "mcf_order_not_a_sale" and "Non-Amazon" in rules[7][1]
    assert rules[8][0] == "quantity_not_a_number" and "'x'" in rules[8][1]
    assert set(rules) == {5, 7, 8}


NEWER = FIXTURES / "amazon" / "All-Orders-Report_2024-06-01.txt"


def test_all_orders_report_in_its_newer_layout():
    """All-Orders-Report_2024-06-01.txt (README beside it): the 35-column layout with
    number-of-items, tax-collection-*, address-type; amazon.co.uk, +01:00 offsets; a row
    without seller SKU; one SKU on two rows of one order (one unit shipped, one cancelled)."""
    m, read = read_and_map(NEWER, ADAPTER)
    assert read == 4
    assert_accounted(m, read)
    assert_canonical(m.rows)
    got = m.rows.sort("source_line").select(
        "source_line", "order_id", "line_id", "sku", "quantity", "unit_price", "line_amount",
        "currency", "status", "ordered_at", "cancelled_at", "updated_at").rows()
    towel_at, towel_upd = datetime(2024, 6, 1, 8, 15), datetime(2024, 6, 2, 15, 40)
    mug_at, mug_upd = datetime(2024, 6, 1, 21, 30), datetime(2024, 6, 3, 7)
    assert got == [
        # item-price 25.00 is the line total; the −5.00 promotion comes off it
        (2, "202-1234567-7654321", "TOWEL-LIN", "TOWEL-LIN", 2, 12.5, 20.0, "GBP", "shipped",
         towel_at, None, towel_upd),
        (3, "202-1234567-7654321", "asin:B0TESTTIN2", "asin:B0TESTTIN2", 1, 7.5, 7.5, "GBP",
         "shipped", towel_at, None, towel_upd),
        (4, "202-2222222-3333333", "MUG-RED", "MUG-RED", 1, 12.5, 12.5, "GBP", "shipped",
         mug_at, None, mug_upd),
        (5, "202-2222222-3333333", "MUG-RED#2", "MUG-RED", 0, 0.0, 0.0, "GBP", "cancelled",
         mug_at, mug_upd, mug_upd),
    ]
    assert m.rejects.height == 0


def test_headers_retyped_in_another_case_still_read():

    text = NEWER.read_text()
    header, _, body = text.partition("\n")
    upper = header.upper() + "\n" + body
    m = ADAPTER.map(frame_from_csv(upper, separator="\t"), make_ctx())
    assert m.rows.height == 4


def test_fba_orders_are_fulfilled_by_the_marketplace(mapped):
    # fulfillment-channel "Amazon" is FBA (Amazon ships), "Merchant" is the seller shipping
    by_order = {r["order_id"]: r["fulfilled_by"] for r in mapped.rows.iter_rows(named=True)}
    assert by_order["028-1111111-0000001"] == "marketplace"
    assert by_order["028-2222222-0000002"] == "merchant"
