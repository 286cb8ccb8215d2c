"""Shopify's real export layout: order-level discounts, refunds, lines without SKU, tips,
stable line keys. Expected rows are written by hand from the fixture (see its README)."""

from datetime import datetime

import polars as pl
from conftest import FIXTURES, assert_accounted, assert_canonical, make_export_rows, read_and_map

from assets.ingest.adapters.shopify import ADAPTER

DIR = FIXTURES / "shopify"
FILE = DIR / "orders_export_2024-03-04.csv"

# order, line id, sku, quantity, unit price, line amount, status, ordered_at (UTC)
EXPECTED = [
    # THIRDOFF 10.00 over three 10.00 lines: 3.34 / 3.33 / 3.33 (the earlier line takes the
    # odd cent); the lines sum to Subtotal 20.00
    ("#2001", "MUG-RED", "MUG-RED", 1, 10.0, 6.66, "shipped", datetime(2024, 3, 4, 14, 30)),
    ("#2001", "MUG-BLUE", "MUG-BLUE", 1, 10.0, 6.67, "shipped", datetime(2024, 3, 4, 14, 30)),
    ("#2001", "MUG-GREEN", "MUG-GREEN", 1, 10.0, 6.67, "shipped", datetime(2024, 3, 4, 14, 30)),
    # 100 % discount: no revenue
    ("#2002", "SCARF-W", "SCARF-W", 1, 25.0, 0.0, "paid", datetime(2024, 3, 4, 15, 0)),
    # refunded, never shipped, no Cancelled at: cancelled
    ("#2003", "SCARF-W", "SCARF-W", 1, 30.0, 30.0, "cancelled", datetime(2024, 3, 4, 16, 0)),
    # refunded after shipping: the sale and its shipment stand
    ("#2004", "LAMP-1", "LAMP-1", 1, 45.0, 45.0, "shipped", datetime(2024, 3, 4, 17, 0)),
    # no SKU: the name key; the tip, gift wrap and gift card lines are skipped
    ("#2005", "name:crew tee - black / s", "name:crew tee - black / s", 2, 15.0, 30.0, "paid",
     datetime(2024, 3, 4, 18, 0)),
    # FREESHIP 4.95 is a shipping discount: Subtotal 25.00 = the goods, nothing to spread
    ("#2006", "MUG-RED", "MUG-RED", 2, 12.5, 25.0, "paid", datetime(2024, 3, 4, 19, 0)),
    # 2.10 already on the napkins + 3.00 code spread over 18.90 / 9.00: 2.03 / 0.97
    ("#2007", "NAP-LIN", "NAP-LIN", 3, 7.0, 16.87, "paid", datetime(2024, 3, 4, 20, 0)),
    ("#2007", "MUG-RED", "MUG-RED", 1, 9.0, 8.03, "paid", datetime(2024, 3, 4, 20, 0)),
    # the same SKU twice: the second line is MUG-RED#2
    ("#2008", "MUG-RED", "MUG-RED", 1, 12.5, 12.5, "paid", datetime(2024, 3, 4, 21, 0)),
    ("#2008", "MUG-RED#2", "MUG-RED", 1, 12.5, 12.5, "paid", datetime(2024, 3, 4, 21, 0)),
]
SUBTOTAL = {"#2001": 20.0, "#2002": 0.0, "#2004": 45.0, "#2005": 63.0 - 5.0 - 3.0 - 25.0,
            "#2006": 25.0, "#2007": 24.90, "#2008": 25.0}


def test_every_line_as_written_by_hand():
    mapped, read = read_and_map(FILE, ADAPTER)
    assert_accounted(mapped, read)
    assert_canonical(mapped.rows)
    got = mapped.rows.select(
        "order_id", "line_id", "sku", "quantity", "unit_price", "line_amount", "status",
        "ordered_at",
    ).sort("order_id", "line_id")
    want = pl.DataFrame(EXPECTED, schema=got.columns, orient="row").sort("order_id", "line_id")
    assert got.to_dicts() == want.to_dicts()
    assert read == 15
    assert mapped.rows.height == 12


def test_lines_sum_to_the_order_subtotal_to_the_cent():
    mapped, _ = read_and_map(FILE, ADAPTER)
    sums = mapped.rows.filter(pl.col("status") != "cancelled").group_by("order_id").agg(
        cents=(pl.col("line_amount") * 100).round(0).cast(pl.Int64).sum()
    )
    for order, cents in sums.iter_rows():
        assert cents == round(SUBTOTAL[order] * 100), order


def test_tips_gift_wrap_and_gift_cards_are_skipped_with_their_reason():
    mapped, _ = read_and_map(FILE, ADAPTER)
    rules = dict(mapped.rejects.select("source_line", "rule").iter_rows())
    assert rules == {9: "tip_line", 10: "gift_wrap_line", 11: "gift_card_line"}
    assert set(rules.values()) <= set(ADAPTER.skip_rules)
    message = mapped.rejects.filter(pl.col("rule") == "tip_line")["message"][0]
    assert "'Tip'" in message and "not a product" in message


def test_refunded_unshipped_is_cancelled_at_no_time_but_keeps_its_figures():
    mapped, _ = read_and_map(FILE, ADAPTER)
    row = mapped.rows.filter(pl.col("order_id") == "#2003").row(0, named=True)
    assert row["status"] == "cancelled"
    assert row["shipped_at"] is None
    assert row["paid_at"] == datetime(2024, 3, 4, 16, 0, 5)


def test_the_demo_writer_speaks_the_variants(tmp_path):
    """Order-level discount codes, tips, refunds before and after shipping, a variant
    without SKU: written as Shopify does, read back to the same figures."""

    rows = make_export_rows().with_columns(
        # #1002 (a number divisible by CODE_EVERY) has a 1.00 discount; 1005's lamp no SKU
        discount_amount=pl.when(pl.col("order_id") == "1002").then(1.0).otherwise(0.0),
        channel_sku=pl.when(pl.col("channel_sku") == "LAMP-1").then(pl.lit("name:desk lamp"))
        .otherwise(pl.col("channel_sku")),
    ).with_columns(
        line_amount=pl.col("quantity") * pl.col("unit_price") - pl.col("discount_amount")
    )
    path = tmp_path / "orders_export_2024-03-06.csv"
    ADAPTER.write(rows, path)
    written = pl.read_csv(path, infer_schema=False)
    first = {r["Name"]: r for r in written.filter(pl.col("Email").is_not_null()).to_dicts()}
    assert (first["1002"]["Discount Code"], first["1002"]["Discount Amount"]) == ("SAVE", "1.00")
    assert first["1002"]["Lineitem discount"] == "0.00"
    assert (first["1004"]["Financial Status"], first["1004"]["Cancelled at"]) == ("refunded", None)
    assert written.filter(pl.col("Lineitem name") == "Tip")["Name"].to_list() == ["1005"]
    lamps = written.filter(pl.col("Lineitem name") == "Desk lamp")
    assert lamps["Lineitem sku"].to_list() == [None] * 2

    mapped, read = read_and_map(path, ADAPTER)
    assert_accounted(mapped, read)
    got = {(r["order_id"], r["line_id"]): r for r in mapped.rows.to_dicts()}
    assert got[("1002", "MUG-RED")]["line_amount"] == 11.5
    assert got[("1004", "SCARF-W")]["status"] == "cancelled"
    assert got[("1005", "name:desk lamp")]["quantity"] == 4
    assert mapped.rejects.select("rule").to_series().to_list() == ["tip_line"]
