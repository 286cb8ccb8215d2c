"""Square Item Sales: per-row zones, currency from the sign, refunds rejected."""

from datetime import datetime

from conftest import FIXTURES, assert_accounted, assert_canonical, read_and_map

from assets.ingest.adapters.pos import ADAPTER

FILE = FIXTURES / "pos" / "items-2024-03-01.csv"


def test_square_sales():
    mapped, read = read_and_map(FILE, ADAPTER)
    assert_accounted(mapped, read)
    assert_canonical(mapped.rows)
    rows = {(r["order_id"], r["line_id"]): r for r in mapped.rows.iter_rows(named=True)}
    assert set(rows) == {("TXN1", "1"), ("TXN1", "2"), ("TXN3", "1")}
    mug = rows[("TXN1", "1")]
    assert (mug["quantity"], mug["unit_price"], mug["line_amount"]) == (2, 12.5, 22.5)
    assert mug["currency"] == "USD" and mug["status"] == "delivered"
    assert mug["ordered_at"] == datetime(2024, 3, 1, 15, 15)  # 10:15 EST
    assert mug["ordered_at"] == mug["paid_at"] == mug["shipped_at"] == mug["delivered_at"]
    assert mug["location_id"] == "store_nyc" and mug["customer_key"] is not None
    assert rows[("TXN1", "2")]["unit_price"] == 1250.0
    scarf = rows[("TXN3", "1")]
    assert scarf["currency"] == "EUR"
    assert scarf["ordered_at"] == datetime(2024, 3, 1, 16, 45, 30)  # 17:45:30 CET
    rules = {r["source_line"]: r["rule"] for r in mapped.rejects.to_dicts()}
    assert rules == {4: "not_a_product", 5: "refund_not_demand", 7: "unknown_time_zone"}
