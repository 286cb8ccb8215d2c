"""Etsy Sold Order Items: MM/DD/YY dates, buyer usernames, SKU fallback."""

from datetime import datetime

import polars as pl
from conftest import FIXTURES, SALT, assert_accounted, assert_canonical, read_and_map

from assets.ingest.adapters.base import customer_key
from assets.ingest.adapters.etsy import ADAPTER

FILE = FIXTURES / "etsy" / "EtsySoldOrderItems2024-3.csv"


def test_etsy_items():
    mapped, read = read_and_map(FILE, ADAPTER)
    assert_accounted(mapped, read)
    assert_canonical(mapped.rows)
    rows = {r["line_id"]: r for r in mapped.rows.iter_rows(named=True)}
    mug = rows["3100000001"]
    assert (mug["quantity"], mug["unit_price"], mug["line_amount"]) == (2, 18.0, 32.4)
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
