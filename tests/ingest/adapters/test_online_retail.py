"""UCI Online Retail: a made-up fixture in the shop's format, and the real files if present."""

from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
from conftest import FIXTURES, SALT, assert_accounted, assert_canonical, read_and_map

from assets.ingest.adapters.base import customer_key
from assets.ingest.adapters.online_retail import ADAPTER

FILE = FIXTURES / "online_retail" / "2011-06-01.csv"
REAL = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "online_retail" / "by-day"


def test_fixture_quirks():
    mapped, read = read_and_map(FILE, ADAPTER)
    assert_accounted(mapped, read)
    assert_canonical(mapped.rows)
    rules = {r["source_line"]: r["rule"] for r in mapped.rejects.to_dicts()}
    assert rules == {
        4: "duplicate_line",  # the first copy (line 3) loads
        6: "not_a_product",  # POST
        8: "cancellation_invoice",
        9: "stock_write_off",
        10: "stock_adjustment",
        11: "not_a_product",  # gift voucher
        13: "quantity_not_a_number",
    }
    rows = {(r["order_id"], r["line_id"]): r for r in mapped.rows.iter_rows(named=True)}
    # the same code billed twice at different prices: two lines, two keys
    assert rows[("580001", "71053")]["quantity"] == 6
    assert rows[("580001", "71053~2")]["quantity"] == 12
    first = rows[("580001", "85123A")]
    assert first["ordered_at"] == datetime(2011, 6, 1, 7, 26)  # 08:26 BST
    assert first["status"] == "shipped" and first["currency"] == "GBP"
    # "17001.0" is customer 17001
    assert first["customer_key"] == customer_key(pl.Series(["17001"]), SALT)[0]
    assert rows[("580002", "22633")]["customer_key"] is None
    assert rows[("580002", "22633")]["ship_country"] == "IE"  # EIRE
    assert rows[("580007", "22727")]["ship_country"] is None  # Channel Islands


@pytest.mark.realdata
def test_real_files_every_record_accounted_for():
    if not REAL.is_dir():
        pytest.skip(f"real Online Retail files not found at {REAL.resolve()}")
    # a December day, the day after clocks went forward, a day with 'A' bad-debt invoices
    days = ["2010-12-01", "2011-03-28", "2011-08-12", "2011-11-09"]
    files = [REAL / f"{d}.csv" for d in days if (REAL / f"{d}.csv").exists()]
    if not files:
        pytest.skip(f"none of {days} found in {REAL.resolve()}")
    seen_rules: set[str] = set()
    for path in files:
        mapped, read = read_and_map(path, ADAPTER)
        assert_accounted(mapped, read)
        assert_canonical(mapped.rows)
        raw = pl.read_csv(path, infer_schema=False)
        assert read == raw.height
        rows = mapped.rows
        assert not rows.get_column("order_id").str.starts_with("C").any()
        assert (rows.get_column("quantity") > 0).all()
        assert rows.select(pl.all().exclude("customer_key", "ship_country", "location_id",
                                            "ship_postal_prefix", "cancelled_at",
                                            "delivered_at", "promised_ship_by",
                                            # optional order-level columns a till export lacks
                                            "fulfilled_by", "order_shipping_amount",
                                            "order_discount_amount", "promised_delivery_date")
                           .null_count()).sum_horizontal().item() == 0
        assert not rows.get_column("sku").is_in(["POST", "DOT", "M", "D", "BANK CHARGES"]).any()
        # the key is unique: duplicates rejected, repeated codes suffixed
        assert rows.select("order_id", "line_id").is_duplicated().sum() == 0
        dupes = raw.height - raw.unique().height
        n_dup = mapped.rejects.filter(pl.col("rule") == "duplicate_line").height
        assert n_dup <= dupes  # a duplicate may also break another rule first
        seen_rules |= set(mapped.rejects.get_column("rule").to_list())
        # UK local time: the first invoice of the day is at 07:xx-09:xx local
        first = rows.get_column("ordered_at").min()
        assert first.date().isoformat() == path.stem
    assert {"cancellation_invoice", "not_a_product", "duplicate_line"} <= seen_rules
