"""eBay Orders report: framing, summary rows, currency signs, site zones."""

from datetime import datetime

import polars as pl
from conftest import (
    FIXTURES,
    assert_accounted,
    assert_canonical,
    frame_from_csv,
    make_ctx,
    read_and_map,
)

from assets.ingest.adapters.ebay import ADAPTER

DIR = FIXTURES / "ebay"


def test_framing_summary_rows_and_footer():
    mapped, read = read_and_map(DIR / "eBay-OrdersReport-2024-03-01.csv", ADAPTER)
    # blank line, header and the two footer lines are not records; the padding row is one,
    # skipped by name
    assert read == 7
    assert_accounted(mapped, read)
    assert_canonical(mapped.rows)
    rules = {r["source_line"]: r["rule"] for r in mapped.rejects.to_dicts()}
    assert rules == {3: "blank_row", 5: "order_summary_row"}
    # the desk lamp has no Custom Label: its listing key is the item number
    lamp = mapped.rows.filter(pl.col("source_line") == 9)
    assert lamp.get_column("channel_sku").to_list() == ["item:110000000004"]


def test_items_of_a_multi_item_order_take_the_summary_fields():
    mapped, _ = read_and_map(DIR / "eBay-OrdersReport-2024-03-01.csv", ADAPTER)
    items = mapped.rows.filter(pl.col("order_id") == "21-11111-33333").sort("line_id")
    assert items.get_column("line_id").to_list() == [
        "110000000002-1000000002", "110000000003-1000000003"
    ]
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


# --- real layouts: Seller Hub Orders report and Selling Manager Sales History --------------

EXPECTED_COLUMNS = ("source_line", "order_id", "line_id", "sku", "quantity", "unit_price",
                    "line_amount", "currency", "status", "ordered_at", "paid_at", "shipped_at")


def _lines(rows: pl.DataFrame) -> list[tuple]:
    return rows.sort("source_line").select(EXPECTED_COLUMNS).rows()


def test_seller_hub_report_in_its_real_layout():
    """eBay-OrdersReport-2024-05-06.csv: the full current header (README beside it), the
    leading bare-comma line, a padding row, a multi-item order whose summary row is
    followed by an item with a blank first cell and an item without Item Number, an
    auction (transaction id 0) without Custom Label, and the footer."""
    mapped, read = read_and_map(DIR / "eBay-OrdersReport-2024-05-06.csv", ADAPTER)
    assert read == 7  # padding row + 6 order rows; the two footer lines are not records
    assert_accounted(mapped, read)
    assert_canonical(mapped.rows)
    may6_noon_pdt = datetime(2024, 5, 6, 19)
    assert _lines(mapped.rows) == [
        (4, "05-11111-00001", "256000000001-2300000000011", "TOWEL-LIN", 2, 12.5, 25.0,
         "USD", "shipped", may6_noon_pdt, may6_noon_pdt, datetime(2024, 5, 7, 19)),
        (6, "05-11111-00002", "256000000002-2300000000021", "TBL-OAK", 1, 1000.0, 1000.0,
         "USD", "paid", may6_noon_pdt, may6_noon_pdt, None),
        # blank Sales Record Number: still an item of its order (found by Order Number)
        (7, "05-11111-00002", "256000000003-2300000000022",
         "item:256000000003|[Colour: Red, Size: M]", 2, 20.5, 41.0,
         "USD", "paid", may6_noon_pdt, may6_noon_pdt, None),
        # no Item Number but a Custom Label and a Transaction ID: an item, not a summary
        (8, "05-11111-00002", "2300000000023", "LAMP-1", 1, 20.0, 20.0,
         "USD", "paid", may6_noon_pdt, may6_noon_pdt, None),
        # 18:40 PDT; the auction's transaction id 0 is unique only with its item number
        (9, "05-11111-00003", "256000000004-0", "item:256000000004", 1, 7.0, 7.0,
         "USD", "placed", datetime(2024, 5, 7, 1, 40), None, None),
    ]
    rules = {r["source_line"]: r["rule"] for r in mapped.rejects.to_dicts()}
    assert rules == {3: "blank_row", 5: "order_summary_row"}
    # the summary's Sold For is the sum of its items: 1,000.00 + 2 × 20.50 + 20.00
    order = mapped.rows.filter(pl.col("order_id") == "05-11111-00002")
    assert round(order.get_column("line_amount").sum(), 2) == 1061.00
    assert order.get_column("ship_postal_prefix").unique().to_list() == ["787"]


def test_a_row_with_a_blank_first_cell_is_not_dropped_as_a_trailer():
    from assets.ingest.reader import read_records

    read = read_records(DIR / "eBay-OrdersReport-2024-05-06.csv", ADAPTER)
    assert 7 in read.frame.get_column("source_line").to_list()


def test_selling_manager_sales_history_us():
    """SalesHistory.csv: Selling Manager's wording (User Id, Sale Price, Paid on Date,
    Order ID), header on line 1, a two-item order with its summary row, the footer."""
    from assets.ingest.adapters.ebay import SALES_HISTORY_ADAPTER

    mapped, read = read_and_map(DIR / "SalesHistory.csv", SALES_HISTORY_ADAPTER)
    assert read == 4
    assert_accounted(mapped, read)
    assert_canonical(mapped.rows)
    feb3, feb5 = datetime(2014, 2, 3, 20), datetime(2014, 2, 5, 20)  # noon PST
    assert _lines(mapped.rows) == [
        # a single-item order has no Order ID: its Sales Record Number is the order
        (3, "812", "180000000001-1100000000101", "MUG-RED", 3, 9.99, 29.97, "USD", "shipped",
         feb3, feb3, datetime(2014, 2, 4, 20)),
        (5, "1000000000813", "180000000002-1100000000102", "LAMP-1", 1, 40.0, 40.0, "USD",
         "paid", feb5, feb5, None),
        (6, "1000000000813", "180000000003-1100000000103", "item:180000000003|Colour: Blue",
         2, 12.0, 24.0, "USD", "paid", feb5, feb5, None),
    ]
    assert mapped.rejects.select("source_line", "rule").rows() == [(4, "order_summary_row")]
    assert mapped.rows.get_column("ship_postal_prefix").to_list() == ["802", "331", "331"]
    assert mapped.rows.get_column("customer_key").null_count() == 0


def test_selling_manager_sales_history_uk_wording():
    from assets.ingest.adapters.ebay import SALES_HISTORY_ADAPTER

    mapped, read = read_and_map(DIR / "SalesHistory-uk.csv", SALES_HISTORY_ADAPTER)
    assert read == 1
    assert_accounted(mapped, read)
    assert _lines(mapped.rows) == [
        (2, "77", "180000000009-1100000000201", "SCARF-W", 1, 18.0, 18.0, "GBP", "shipped",
         datetime(2014, 3, 10, 12), datetime(2014, 3, 10, 12), datetime(2014, 3, 11, 12)),
    ]
    row = mapped.rows.row(0, named=True)
    assert (row["ship_country"], row["ship_postal_prefix"]) == ("GB", "LS1")


def test_the_header_picks_seller_hub_or_selling_manager(tmp_path):
    from pathlib import PurePosixPath

    from assets.ingest.adapters import CHANNEL_ADAPTERS
    from assets.ingest.engine import pick_adapter

    for name, expected in [("eBay-OrdersReport-2024-05-06.csv", "ebay_orders"),
                           ("SalesHistory.csv", "ebay_sales_history"),
                           ("SalesHistory-uk.csv", "ebay_sales_history")]:
        # the same file name for both: only the header tells them apart
        target = tmp_path / name.replace("SalesHistory", "eBay-OrdersReport")
        target.write_bytes((DIR / name).read_bytes())
        rel = PurePosixPath("orders/ebay") / target.name
        assert pick_adapter(target, rel, CHANNEL_ADAPTERS).name == expected, name


def test_seller_hub_wording_variants_map_like_the_canonical_header():
    """Case and the UK/Selling Manager spellings of a column read as the canonical one."""

    text = (
        "Sales record number,Order number,Buyer username,Post to postcode,Post to country,"
        "Item number,Item title,Custom label (SKU),Quantity,Sold for,Sale date,Paid on date,"
        "Dispatched on date,Transaction ID\n"
        "9,01-0-1,u1,LS1 4AB,United Kingdom,1801,Mug,MUG-RED,2,£4.50,Mar-01-24,Mar-01-24,"
        "Mar-02-24,77\n"
    )
    mapped = ADAPTER.map(frame_from_csv(text), make_ctx())
    row = mapped.rows.row(0, named=True)
    assert (row["order_id"], row["line_id"], row["sku"], row["quantity"], row["unit_price"],
            row["currency"], row["status"], row["ship_country"], row["ship_postal_prefix"]) == (
        "01-0-1", "1801-77", "MUG-RED", 2, 4.5, "GBP", "shipped", "GB", "LS1")
    assert row["shipped_at"] == datetime(2024, 3, 2, 12)


def test_the_writer_leaves_custom_label_blank_for_a_listing_key(export_rows, tmp_path):
    rows = export_rows.with_columns(
        channel_sku=pl.col("channel_sku").replace({"LAMP-1": "item:200000000007"}))
    path = tmp_path / "eBay-OrdersReport-2024-03-06.csv"
    ADAPTER.write(rows, path)
    mapped, read = read_and_map(path, ADAPTER)
    assert_accounted(mapped, read)
    lamps = mapped.rows.filter(pl.col("channel_sku") == "item:200000000007")
    assert lamps.select("order_id", "line_id").sort("order_id").rows() == [
        ("1003", "200000000007-1"), ("1005", "200000000007-2")]
    assert '"200000000007","Desk lamp","",' in path.read_text()


def test_identity_columns_are_dropped_in_every_wording():
    """The engine drops identity by the header as written: UK Seller Hub's sentence case
    and Selling Manager's names must be listed too."""
    from assets.ingest.adapters.ebay import PII

    for name in ("Buyer email", "Buyer name", "Post to name", "Post to address 1",
                 "Post to postcode", "Post to phone", "User Id", "Buyer Fullname",
                 "Buyer Full name", "Buyer Phone Number", "Buyer Postcode"):
        assert name in PII, name
