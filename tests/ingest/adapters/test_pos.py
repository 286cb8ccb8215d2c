"""Square Item Sales: per-row zones, currency from the sign, refunds rejected."""

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

from assets.ingest.adapters.pos import ADAPTER

FILE = FIXTURES / "pos" / "items-2024-03-01.csv"


def test_square_sales():
    mapped, read = read_and_map(FILE, ADAPTER)
    assert_accounted(mapped, read)
    assert_canonical(mapped.rows)
    rows = {(r["order_id"], r["line_id"]): r for r in mapped.rows.iter_rows(named=True)}
    assert set(rows) == {("TXN1", "MUG-RED#1"), ("TXN1", "TBL-OAK#1"), ("TXN3", "SCARF-W#1")}
    mug = rows[("TXN1", "MUG-RED#1")]
    assert (mug["quantity"], mug["unit_price"], mug["line_amount"]) == (2, 12.5, 22.5)
    assert mug["currency"] == "USD" and mug["status"] == "delivered"
    assert mug["ordered_at"] == datetime(2024, 3, 1, 15, 15)  # 10:15 EST
    assert mug["ordered_at"] == mug["paid_at"] == mug["shipped_at"] == mug["delivered_at"]
    assert mug["location_id"] == "store_nyc" and mug["customer_key"] is not None
    assert rows[("TXN1", "TBL-OAK#1")]["unit_price"] == 1250.0
    scarf = rows[("TXN3", "SCARF-W#1")]
    assert scarf["currency"] == "EUR"
    assert scarf["ordered_at"] == datetime(2024, 3, 1, 16, 45, 30)  # 17:45:30 CET
    rules = {r["source_line"]: r["rule"] for r in mapped.rejects.to_dicts()}
    assert rules == {4: "not_a_product", 5: "refund_not_demand", 7: "unknown_time_zone"}


REAL = FIXTURES / "pos" / "items-2024-06-01-2024-06-02.csv"


def test_item_detail_export_in_its_real_layout():
    """items-2024-06-01-2024-06-02.csv (README beside it): the newer column set (GTIN,
    Channel, Token), CRLF line ends, a catalogue item without SKU sold twice in one sale, a
    voided item, a custom amount with a blank Itemization Type, an unknown zone, a refund."""
    mapped, read = read_and_map(REAL, ADAPTER)
    assert read == 8
    assert_accounted(mapped, read)
    assert_canonical(mapped.rows)
    sale1, sale2 = datetime(2024, 6, 1, 16, 5, 12), datetime(2024, 6, 1, 17, 40)  # PDT + 7 h
    got = mapped.rows.sort("source_line").select(
        "source_line", "order_id", "line_id", "sku", "quantity", "unit_price", "line_amount",
        "currency", "status", "ordered_at", "shipped_at", "location_id").rows()
    assert got == [
        (2, "Tx7Qm2Lw9Zr4Ab1Cd", "MUG-RED#1", "MUG-RED", 2, 12.5, 22.5, "USD", "delivered",
         sale1, sale1, "store_sf"),
        (3, "Tx7Qm2Lw9Zr4Ab1Cd", "item:Latte|Large#1", "item:Latte|Large", 1, 5.25, 5.25,
         "USD", "delivered", sale1, sale1, "store_sf"),
        (4, "Tx7Qm2Lw9Zr4Ab1Cd", "item:Latte|Large#2", "item:Latte|Large", 1, 5.25, 5.25,
         "USD", "delivered", sale1, sale1, "store_sf"),
        (7, "Tx8Rn3Mx0As5Bc2De", "SCARF-W#1", "SCARF-W", 1, 19.99, 19.99, "USD", "delivered",
         sale2, sale2, "store_sf"),
    ]
    rules = dict(mapped.rejects.select("source_line", "rule").rows())
    assert rules == {5: "voided_item", 6: "not_a_product", 8: "unknown_time_zone",
                     9: "refund_not_demand"}
    assert set(ADAPTER.skip_rules) == {"voided_item", "not_a_product"}


def test_an_unknown_iana_looking_zone_fails_its_row_only():
    text = REAL.read_text()
    mapped, read = read_and_map(REAL, ADAPTER)
    assert "Mars/Olympus_Mons" in text  # an IANA-shaped name Polars would refuse
    assert mapped.rows.height == 4 and read == 8
    message = mapped.rejects.filter(pl.col("rule") == "unknown_time_zone").get_column("message")
    assert message.to_list() and "Mars/Olympus_Mons" in message[0]


def test_line_ids_do_not_shift_when_a_row_is_removed(tmp_path):
    lines = REAL.read_bytes().split(b"\r\n")
    del lines[2]  # the first latte
    shorter = tmp_path / REAL.name
    shorter.write_bytes(b"\r\n".join(lines))
    before, _ = read_and_map(REAL, ADAPTER)
    after, _ = read_and_map(shorter, ADAPTER)
    key = ["order_id", "line_id", "sku"]
    kept = after.rows.select(key).sort(key).rows()
    assert set(kept) <= set(before.rows.select(key).rows())
    assert ("Tx7Qm2Lw9Zr4Ab1Cd", "MUG-RED#1", "MUG-RED") in kept
    assert ("Tx8Rn3Mx0As5Bc2De", "SCARF-W#1", "SCARF-W") in kept


def test_the_writer_speaks_voids_custom_amounts_and_sku_less_items(export_rows, tmp_path):
    """The demo's Square files carry what real ones do: an item without SKU (its listing
    key), a voided item (transaction ids ending in 3) and a custom amount (ending in 7)."""
    rows = export_rows.with_columns(
        order_id=pl.col("order_id").replace({"1005": "1007"}),
        channel_sku=pl.col("channel_sku").replace({"LAMP-1": "item:Desk lamp|Regular"}),
    )
    path = tmp_path / "items-2024-03-06.csv"
    ADAPTER.write(rows, path)
    text = path.read_text()
    assert ",Desk lamp (Voided),1.0,Regular,,,£0.00," in text  # order 1003's first item
    assert ",Custom Amount,1.0,,,,£2.50,£0.00,£2.50," in text
    assert ",Desk lamp,1.0,Regular,,," in text  # the till shows no SKU for it
    mapped, read = read_and_map(path, ADAPTER)
    assert_accounted(mapped, read)
    assert dict(mapped.rejects.group_by("rule").len().rows()) == {
        "voided_item": 1, "not_a_product": 1}
    lamps = mapped.rows.filter(pl.col("channel_sku") == "item:Desk lamp|Regular")
    # voids and custom amounts are not counted: the sale stays #1
    assert lamps.select("order_id", "line_id", "quantity").sort("order_id").rows() == [
        ("1003", "item:Desk lamp|Regular#1", 1), ("1007", "item:Desk lamp|Regular#1", 4)]


def test_other_wordings_of_the_columns_map_like_the_canonical_header():

    text = (
        "date,time,timezone,Item Name,Quantity,Variation Name,SKU,Gross Sales,Net Sales,"
        "Transaction ID,Event Type,Location Name\n"
        "2024-03-01,10:15:00,Berlin,Latte,2,Large,,€7.00,€7.00,T1,Payment,store_hamburg\n"
    )
    mapped = ADAPTER.map(frame_from_csv(text), make_ctx())
    assert mapped.rows.select(
        "order_id", "line_id", "sku", "quantity", "unit_price", "currency", "ordered_at",
        "location_id").rows() == [
        ("T1", "item:Latte|Large#1", "item:Latte|Large", 2, 3.5, "EUR",
         datetime(2024, 3, 1, 9, 15), "store_hamburg")]
