"""eBay Orders report: framing, summary rows, currency signs, site zones."""

from datetime import datetime

import polars as pl
from conftest import FIXTURES, assert_accounted, assert_canonical, read_and_map

from assets.ingest.adapters.ebay import ADAPTER

DIR = FIXTURES / "ebay"


def test_framing_summary_rows_and_footer():
    mapped, read = read_and_map(DIR / "eBay-OrdersReport-2024-03-01.csv", ADAPTER)
    # blank line, header, padding row and the two footer lines are not records
    assert read == 6
    assert_accounted(mapped, read)
    assert_canonical(mapped.rows)
    rules = {r["source_line"]: r["rule"] for r in mapped.rejects.to_dicts()}
    assert rules == {5: "order_summary_row", 9: "sku_missing"}


def test_items_of_a_multi_item_order_take_the_summary_fields():
    mapped, _ = read_and_map(DIR / "eBay-OrdersReport-2024-03-01.csv", ADAPTER)
    items = mapped.rows.filter(pl.col("order_id") == "21-11111-33333").sort("line_id")
    assert items.get_column("line_id").to_list() == ["1000000002", "1000000003"]
    assert items.get_column("unit_price").to_list() == [1250.0, 20.0]  # "£1,250.00"
    assert items.get_column("currency").to_list() == ["GBP", "GBP"]
    assert items.get_column("ship_country").to_list() == ["IE", "IE"]
    assert items.get_column("ship_postal_prefix").to_list() == ["D02", "D02"]
    assert items.get_column("customer_key").n_unique() == 1
    assert items.get_column("customer_key")[0] is not None  # username when no e-mail
    assert items.get_column("status").to_list() == ["paid", "paid"]


def test_times_in_the_site_zone():
    mapped, _ = read_and_map(DIR / "eBay-OrdersReport-2024-03-01.csv", ADAPTER)
    rows = {r["order_id"]: r for r in mapped.rows.iter_rows(named=True)}
    first = rows["21-11111-22222"]
    assert first["ordered_at"] == datetime(2024, 3, 1, 21, 5, 11)  # GMT in March
    assert first["shipped_at"] == datetime(2024, 3, 2, 10)
    assert first["status"] == "shipped"
    assert first["promised_ship_by"] == datetime(2024, 3, 4, 12)  # date only: noon
    summer = rows["21-11111-55555"]
    assert summer["ordered_at"] == datetime(2024, 7, 15, 22, 30)  # BST, zone word ignored
    assert summer["status"] == "placed"


def test_dollar_site_and_count_in_its_own_cell_footer():
    mapped, read = read_and_map(DIR / "eBay-OrdersReport-2024-03-10.csv", ADAPTER)
    assert_accounted(mapped, read)
    row = mapped.rows.row(0, named=True)
    assert row["currency"] == "USD"
    assert row["ordered_at"] == datetime(2024, 3, 11, 1, 0)  # 18:00 PDT (DST from Mar 10)
    assert mapped.rejects.get_column("rule").to_list() == ["report_trailer"]
